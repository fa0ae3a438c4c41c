//! The result codes: the one table of every `WSB_*` result, from which the constants, the names
//! returned by `wsb_result_name` (in [`diagnostics`](super::diagnostics)), the mapping from
//! [`ErrorKind`] and the bindings' copies are all made.
//!
//! To add a result code, add one row to the `result_codes!` table below (its rustdoc, its name,
//! the next free value, and `=> ErrorKind::Variant` if a client error maps to it), then run
//! `make generate`: it regenerates include/wsbridge.h, the Unity binding's `NativeMethods.g.cs`
//! and `WsResult.g.cs`, and the Unreal plugin's `WsBridgeResult.h` and `WsBridgeResultChecks.h`
//! from this table (see docs/architecture.md).

#![allow(non_camel_case_types)]

use crate::ErrorKind;

/// The result of a wsbridge function. A fixed-width integer, not a C enum, so its size is the
/// same in every language that binds it. Values are stable; new ones may be added.
pub type wsb_result = u32;

/// One row of the result-code table, for the generators of the header and the bindings
/// (tests/generated/). Not part of the C ABI.
#[doc(hidden)]
#[derive(Debug)]
pub struct ResultCode {
    /// The constant's name, e.g. "WSB_TIMEOUT".
    pub name: &'static str,
    /// Its value.
    pub value: wsb_result,
    /// Its rustdoc, one entry per line (as the compiler gives it: with the space after `///`).
    pub doc: &'static [&'static str],
}

/// The table's rows become: the `pub const` result codes (with their rustdoc), [`RESULT_CODES`]
/// (the rows as data, for the generators), `name_of` (for `wsb_result_name`) and `code_of` (the
/// mapping from [`ErrorKind`], exhaustive: a new `ErrorKind` does not compile without its row).
macro_rules! result_codes {
    ($( $(#[doc = $doc:literal])* $name:ident = $value:literal $(=> ErrorKind::$kind:ident)?; )*) => {
        $(
            $(#[doc = $doc])*
            pub const $name: wsb_result = $value;
        )*

        /// Every result code, in value order, as data.
        #[doc(hidden)]
        pub const RESULT_CODES: &[ResultCode] = &[
            $( ResultCode { name: stringify!($name), value: $value, doc: &[$($doc),*] }, )*
        ];

        /// The NUL-terminated name of a result code (for `wsb_result_name`).
        pub(crate) fn name_of(code: wsb_result) -> Option<&'static str> {
            match code {
                $( $name => Some(concat!(stringify!($name), "\0")), )*
                _ => None,
            }
        }

        /// The result code of a client error.
        pub(crate) fn code_of(kind: ErrorKind) -> wsb_result {
            match kind {
                $( $( ErrorKind::$kind => $name, )? )*
            }
        }
    };
}

result_codes! {
    /// Success.
    WSB_OK = 0;
    /// Nothing happened within the timeout (no message for wsb_recv; the connect or close did not
    /// complete in time). Not an error for wsb_recv: call again.
    WSB_TIMEOUT = 1 => ErrorKind::Timeout;
    /// The buffer passed to wsb_recv is too small; `*out_len` holds the size needed and the message
    /// stays queued.
    WSB_BUFFER_TOO_SMALL = 2 => ErrorKind::BufferTooSmall;
    /// The send queue is at `send_queue_max_bytes`; the message was NOT queued, so a later retry
    /// can never duplicate it. Also: a close status asked for before the connection closed.
    WSB_WOULD_BLOCK = 3 => ErrorKind::WouldBlock;
    /// The connection is closed (by the peer, by wsb_close on another thread, or after an error
    /// that was already reported once). wsb_last_error says why.
    WSB_CLOSED = 4 => ErrorKind::Closed;
    /// A NULL pointer, an out-of-range value, a malformed URL or option. The message names it.
    WSB_INVALID_ARGUMENT = 5 => ErrorKind::InvalidArgument;
    /// The handle is 0, was closed, or was never issued by this library.
    WSB_INVALID_HANDLE = 6;
    /// A text message is not valid UTF-8. Nothing was sent; the connection is unchanged.
    WSB_INVALID_UTF8 = 7 => ErrorKind::InvalidUtf8;
    /// Outgoing: the message exceeds `max_message_size`, nothing was sent and the connection is
    /// unchanged. Incoming: the peer sent a larger message; the connection was closed with 1009.
    WSB_MESSAGE_TOO_BIG = 8 => ErrorKind::MessageTooBig;
    /// DNS resolution, the TCP connection, or the HTTP proxy's CONNECT failed (the message has the
    /// OS or resolver reason, or the proxy's status line, e.g. 407 for missing proxy credentials).
    WSB_CONNECT_FAILED = 9 => ErrorKind::ConnectFailed;
    /// The server refused or botched the HTTP upgrade (the message has the HTTP status and the
    /// start of the response body, e.g. 404 for an unrouted path).
    WSB_HANDSHAKE_FAILED = 10 => ErrorKind::HandshakeFailed;
    /// The connection broke without a close handshake: reset, EOF, or a peer silent for longer
    /// than `pong_timeout_ms` after a ping.
    WSB_CONNECTION_LOST = 11 => ErrorKind::ConnectionLost;
    /// The peer violated the WebSocket protocol; the connection was closed with 1002 (or 1007 for
    /// invalid UTF-8 in a text message).
    WSB_PROTOCOL_ERROR = 12 => ErrorKind::ProtocolError;
    /// A bug in wsbridge (for instance a caught panic). The message says where.
    WSB_INTERNAL = 13 => ErrorKind::Internal;
    /// The TLS handshake of a wss:// connection failed. The message names the host and the reason:
    /// the server's certificate is signed by an unknown CA (set `tls.ca_file` for a private CA), is
    /// not valid for the host name (`tls.server_name`), has expired or is not valid yet; or the
    /// server aborted the handshake, does not speak TLS on that port, or shares no TLS version with
    /// wsbridge. Retrying does not help: fix the certificate or the options.
    WSB_TLS_FAILED = 14 => ErrorKind::TlsFailed;
    /// An env's trainer broke the env protocol (docs/protocol.md): a malformed message, an unknown
    /// type, arrays of the wrong dtype or shape, a step before a reset, a bad seed. The message
    /// says what; the env closed the connection with 4400 and the same reason, and every later
    /// call on it returns WSB_CLOSED.
    WSB_ENV_PROTOCOL_ERROR = 15;
    /// An env's trainer speaks another version of the env protocol; the message names both
    /// versions. The env is closed for good.
    WSB_ENV_VERSION_MISMATCH = 16;
    /// An env's trainer refused the game for good: it closed the connection with 4400 (protocol
    /// violation), 4401 (token), 4404 (no such slot) or another code that says not to retry. The
    /// message has the code and reason; wsb_env_close_status too.
    WSB_ENV_REFUSED = 17;
    /// Returned by wsb_shutdown only: not yet safe to unload the library. Every connection was
    /// closed and the I/O thread has exited, but wsbridge's DNS thread is still inside
    /// `getaddrinfo` (which has no timeout) for a host name that a connection closed meanwhile was
    /// resolving; the message names the host. The thread exits by itself when the lookup returns
    /// (the answer is dropped): call wsb_shutdown again, which waits for it again.
    WSB_LOOKUP_RUNNING = 18 => ErrorKind::LookupRunning;
    /// Not an error; returned by wsb_recv only, for a connection with the `reconnect` option of
    /// wsb_connect: the link was lost and a new connection is open now. Returned once per new
    /// connection, before its first message (no message is copied). The message says what
    /// ended the previous connection, after how many attempts and how long the new one opened,
    /// and how many messages sent meanwhile went to it. The peer may not know this session:
    /// send what it needs first (a hello) now. Call wsb_recv again for messages.
    WSB_RECONNECTED = 19 => ErrorKind::Reconnected;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_numbered_from_zero_without_gaps() {
        // The bindings index arrays by code (Unreal's EWsBridgeResult casts a code to the enum).
        let values: Vec<wsb_result> = RESULT_CODES.iter().map(|c| c.value).collect();
        let expected: Vec<wsb_result> = (0..RESULT_CODES.len() as wsb_result).collect();
        assert_eq!(values, expected);
    }

    #[test]
    fn every_code_has_a_name_and_a_doc() {
        for code in RESULT_CODES {
            assert!(code.name.starts_with("WSB_"), "{}", code.name);
            assert!(!code.doc.is_empty(), "{} has no rustdoc", code.name);
            assert_eq!(
                name_of(code.value),
                Some(format!("{}\0", code.name).as_str())
            );
        }
        assert_eq!(name_of(RESULT_CODES.len() as wsb_result), None);
    }

    #[test]
    fn client_errors_map_to_their_codes() {
        assert_eq!(code_of(ErrorKind::Timeout), WSB_TIMEOUT);
        assert_eq!(code_of(ErrorKind::TlsFailed), WSB_TLS_FAILED);
        assert_eq!(code_of(ErrorKind::Internal), WSB_INTERNAL);
    }
}
