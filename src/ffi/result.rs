//! Result codes, message kinds and connection states.

#![allow(non_camel_case_types)]

use std::ffi::c_char;

/// The result of a wsbridge function. A fixed-width integer, not a C enum, so its size is the
/// same in every language that binds it. Values are stable; new ones may be added.
pub type wsb_result = u32;

/// Success.
pub const WSB_OK: wsb_result = 0;
/// Nothing happened within the timeout (no message for wsb_recv; the connect or close did not
/// complete in time). Not an error for wsb_recv: call again.
pub const WSB_TIMEOUT: wsb_result = 1;
/// The buffer passed to wsb_recv is too small; `*out_len` holds the size needed and the message
/// stays queued.
pub const WSB_BUFFER_TOO_SMALL: wsb_result = 2;
/// The send queue is at `send_queue_max_bytes`; the message was NOT queued, so a later retry
/// can never duplicate it. Also: a close status asked for before the connection closed.
pub const WSB_WOULD_BLOCK: wsb_result = 3;
/// The connection is closed (by the peer, by wsb_close on another thread, or after an error
/// that was already reported once). wsb_last_error says why.
pub const WSB_CLOSED: wsb_result = 4;
/// A NULL pointer, an out-of-range value, a malformed URL or option. The message names it.
pub const WSB_INVALID_ARGUMENT: wsb_result = 5;
/// The handle is 0, was closed, or was never issued by this library.
pub const WSB_INVALID_HANDLE: wsb_result = 6;
/// A text message is not valid UTF-8. Nothing was sent; the connection is unchanged.
pub const WSB_INVALID_UTF8: wsb_result = 7;
/// Outgoing: the message exceeds `max_message_size`, nothing was sent and the connection is
/// unchanged. Incoming: the peer sent a larger message; the connection was closed with 1009.
pub const WSB_MESSAGE_TOO_BIG: wsb_result = 8;
/// DNS resolution, the TCP connection, or the HTTP proxy's CONNECT failed (the message has the
/// OS or resolver reason, or the proxy's status line, e.g. 407 for missing proxy credentials).
pub const WSB_CONNECT_FAILED: wsb_result = 9;
/// The server refused or botched the HTTP upgrade (the message has the HTTP status and the
/// start of the response body, e.g. 404 for an unrouted path).
pub const WSB_HANDSHAKE_FAILED: wsb_result = 10;
/// The connection broke without a close handshake: reset, EOF, or a peer silent for longer
/// than `pong_timeout_ms` after a ping.
pub const WSB_CONNECTION_LOST: wsb_result = 11;
/// The peer violated the WebSocket protocol; the connection was closed with 1002 (or 1007 for
/// invalid UTF-8 in a text message).
pub const WSB_PROTOCOL_ERROR: wsb_result = 12;
/// A bug in wsbridge (for instance a caught panic). The message says where.
pub const WSB_INTERNAL: wsb_result = 13;
/// The TLS handshake of a wss:// connection failed. The message names the host and the reason:
/// the server's certificate is signed by an unknown CA (set `tls.ca_file` for a private CA), is
/// not valid for the host name (`tls.server_name`), has expired or is not valid yet; or the
/// server aborted the handshake, does not speak TLS on that port, or shares no TLS version with
/// wsbridge. Retrying does not help: fix the certificate or the options.
pub const WSB_TLS_FAILED: wsb_result = 14;

/// Message kind: UTF-8 text.
pub const WSB_TEXT: u32 = 1;
/// Message kind: binary.
pub const WSB_BINARY: u32 = 2;

/// Connection state: resolving, connecting TCP, the proxy's CONNECT, the TLS handshake, or
/// waiting for the HTTP upgrade.
pub const WSB_STATE_CONNECTING: u32 = 0;
/// Connection state: open.
pub const WSB_STATE_OPEN: u32 = 1;
/// Connection state: wsb_close is performing the close handshake.
pub const WSB_STATE_CLOSING: u32 = 2;
/// Connection state: closed by either side, failed, or lost. wsb_recv reports why, once.
pub const WSB_STATE_CLOSED: u32 = 3;

/// The name of a result code, e.g. "WSB_TIMEOUT", or "WSB_UNKNOWN" for a value this version
/// does not define.
///
/// Returns a static NUL-terminated string: never free it. Thread-safe.
#[no_mangle]
pub extern "C" fn wsb_result_name(result: wsb_result) -> *const c_char {
    let name: &'static [u8] = match result {
        WSB_OK => b"WSB_OK\0",
        WSB_TIMEOUT => b"WSB_TIMEOUT\0",
        WSB_BUFFER_TOO_SMALL => b"WSB_BUFFER_TOO_SMALL\0",
        WSB_WOULD_BLOCK => b"WSB_WOULD_BLOCK\0",
        WSB_CLOSED => b"WSB_CLOSED\0",
        WSB_INVALID_ARGUMENT => b"WSB_INVALID_ARGUMENT\0",
        WSB_INVALID_HANDLE => b"WSB_INVALID_HANDLE\0",
        WSB_INVALID_UTF8 => b"WSB_INVALID_UTF8\0",
        WSB_MESSAGE_TOO_BIG => b"WSB_MESSAGE_TOO_BIG\0",
        WSB_CONNECT_FAILED => b"WSB_CONNECT_FAILED\0",
        WSB_HANDSHAKE_FAILED => b"WSB_HANDSHAKE_FAILED\0",
        WSB_CONNECTION_LOST => b"WSB_CONNECTION_LOST\0",
        WSB_PROTOCOL_ERROR => b"WSB_PROTOCOL_ERROR\0",
        WSB_INTERNAL => b"WSB_INTERNAL\0",
        WSB_TLS_FAILED => b"WSB_TLS_FAILED\0",
        _ => b"WSB_UNKNOWN\0",
    };
    name.as_ptr().cast()
}
