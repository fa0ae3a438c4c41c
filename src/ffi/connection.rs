//! Connecting, sending, receiving and closing. (Past 400 lines because more than half of it is
//! the rustdoc that cbindgen copies into the header: the manual of these exports.)

use super::handle::{self, wsb_handle};
use super::kind::{kind_arg, kind_code};
use super::result::*;
use super::state::state_code;
use super::{
    boundary, buf_arg, bytes_arg, c_string_buf_arg, opt_str_arg, out_arg, str_arg, timeout_arg,
    write_c_string, write_opt, Failure, FfiResult,
};
use crate::client::{Connection, Options, RecvError};
use std::ffi::c_char;

fn options_arg(json: *const c_char) -> Result<Options, Failure> {
    match opt_str_arg(json, "options_json")? {
        None => Ok(Options::default()),
        Some(s) if s.trim().is_empty() => Ok(Options::default()),
        Some(s) => Ok(Options::from_json(s)?),
    }
}

/// Opens a WebSocket connection and blocks until it is open or has failed.
///
/// - `url`: NUL-terminated UTF-8, `ws://host[:port][/path][?query]`, or `wss://...` for TLS,
///   e.g. `ws://127.0.0.1:8001/env/17`. The host may be a name, an IPv4 address or a bracketed
///   IPv6 address; the port defaults to 80 (ws) or 443 (wss). Copied; not kept. Credentials go
///   in a header (`headers`), or, where a platform cannot set headers, in the query
///   (`wss://host/env/17?token=...`): use wss:// for either, so that they travel encrypted.
///   Messages (wsb_last_error) show the URL with credentials hidden: the values of query
///   parameters whose names look like credentials (`token`, `key`, `secret`, `password`,
///   `auth`, `sig`, ... in any case: `?token=***`) and passwords in user information.
/// - `options_json`: NULL or "" for the defaults, or a JSON object with any of these keys
///   (unknown keys are rejected with their name):
///   - `connect_timeout_ms` (default 10000): bound on DNS, TCP connect, the proxy's CONNECT, the
///     TLS handshake and the HTTP upgrade together.
///   - `headers` (object of strings): extra upgrade request headers, e.g. `Authorization`.
///     A rejected option never quotes its value (it may hold a credential): the message names
///     the option, the type expected and the type found.
///   - `subprotocols` (array of strings): offered in Sec-WebSocket-Protocol.
///   - `max_message_size` (default 16777216): largest message in either direction, in bytes.
///   - `ping_interval_ms` (default 10000, 0 disables): our own keepalive pings.
///   - `pong_timeout_ms` (default 20000): after a ping, a peer that sends nothing for this long
///     is reported as WSB_CONNECTION_LOST.
///   - `send_queue_max_bytes` (default 8388608): bytes accepted by wsb_send but not yet written
///     to the socket; past it wsb_send returns WSB_WOULD_BLOCK. wsbridge's answers to the
///     server's pings count too: while more than this waits to be written, wsbridge stops
///     reading the socket, so a server that pings without reading the answers is slowed down
///     by TCP instead of growing the game's memory: the output then holds at most this cap plus
///     one 131-byte pong (or a single message larger than the cap, accepted into an empty
///     queue).
///   - `recv_queue_max_bytes` (default 8388608): received bytes waiting for wsb_recv; past it
///     wsbridge stops reading and TCP flow control slows the peer down.
///   - `tls` (object; wss:// URLs only): trust settings. By default the server's certificate
///     must chain to the operating system's root certificates (read once per process), or to
///     the bundled Mozilla roots where the system has none, and carry the URL's host name.
///     - `ca_file` (path): a PEM file of the CA certificates to trust instead (a private CA).
///     - `server_name` (string): the name the certificate must carry, when the URL has an IP
///       address or another alias; also sent as SNI.
///     - `accept_invalid_certs` (default false): DEVELOPMENT ONLY. Any certificate is accepted
///       (unknown CA, wrong name, expired): the traffic is encrypted, but anyone on the path can
///       read and change it.
///   - `proxy` (string): an HTTP proxy, `http://[user:password@]host[:port]` (port 80 by
///     default; percent-encode `@`, `:` and `%` in the credentials). wsbridge asks it for a
///     tunnel with CONNECT, with Basic authentication when the URL has credentials.
///   - `proxy_from_env` (default true): without `proxy`, take the proxy from the environment
///     as curl does: `https_proxy`/`HTTPS_PROXY` for wss://, `http_proxy`/`HTTP_PROXY` for
///     ws://, then `all_proxy`/`ALL_PROXY`, except for hosts listed in `no_proxy`/`NO_PROXY`
///     (names match their subdomains; IP addresses and CIDR blocks match IP hosts; `*` matches
///     all). false connects directly whatever the environment says.
///   - `spin_budget_us` (default 50, 0 disables, at most 10000): how long a waiting wsb_recv or
///     wsb_flush spins (asks the kernel whether the socket is ready, without sleeping) before it
///     sleeps. A sleeping thread pays the kernel's wake-up on top of the answer's time, about
///     50 µs on a virtual machine, so a fast peer's answer is caught sooner by a short spin (a
///     64-byte round trip to a native peer on the same machine: about 3x faster). The spin is
///     adaptive, per connection: it runs only while recent answers arrived within the budget;
///     after two or so slower ones the waits sleep at once, spinning only now and then (at most
///     one wait in 16384 once answers stay slow) to notice when answers become fast again, so a
///     game waiting on a slow trainer (hundreds of µs to seconds) burns about no CPU. The
///     default is about the cost of one sleep and wake-up on a virtual machine: a spin that
///     finds no answer burns at most what sleeping at once would have cost in latency. Only
///     on Unix (elsewhere waits always sleep). Timeouts, wsb_close from another thread and
///     the keepalive work the same while a wait spins.
///
///   - `reconnect` (default off): `true` for the defaults below, or an object with any of
///     `delay_ms` (default 100; the first attempt after a loss waits this long),
///     `max_delay_ms` (default 5000; the delay doubles after each failed attempt up to this),
///     `give_up_ms` (default 60000, -1 never: give up when no connection has been open for this
///     long, counted from the loss) and `jitter_percent` (default 50, 0 to 100: that share of
///     each delay is random, so games that lost the same trainer do not all come back at the
///     same instant). With it, wsbridge opens a new connection to the same URL with the same
///     options after the link is lost without a close handshake (reset, EOF, `pong_timeout_ms`),
///     after the peer closes with 1001 (going away), 1006, 1011, 1012 (restart), 1013 (try
///     again later) or 1014, and after a failed attempt: DNS, TCP, timeout, or an upgrade
///     refused with HTTP 5xx, 408 or 429. It does not reconnect after a close with another
///     code (1000 ends the session; 4000-4999 are the application's), a protocol error, a
///     message over `max_message_size`, a TLS failure, an upgrade refused with another status
///     (401, 403, 404 ...), or wsb_close: the connection is then closed and wsb_recv reports
///     why, as without the option. States (wsb_state): WSB_STATE_CONNECTING during the first
///     attempt, WSB_STATE_RECONNECTING while waiting out the backoff or connecting again,
///     WSB_STATE_OPEN, WSB_STATE_CLOSED. Delivery: a message wsb_send accepts while the
///     connection is not open (connecting, reconnecting) is queued, within
///     `send_queue_max_bytes` (past it WSB_WOULD_BLOCK: not queued), and sent in order right
///     after the next handshake completes, before anything sent later; a failed attempt keeps
///     it for the next one. It is never dropped silently: only wsb_close, or giving up (whose
///     message counts them), discards queued messages. Messages that an open connection had
///     accepted before it was lost go with it (as on any connection, TCP cannot tell what the
///     peer read; wsb_flush says when all was handed to the operating system). wsb_recv
///     delivers the messages received before the loss, then waits (WSB_TIMEOUT: nothing yet)
///     and returns WSB_RECONNECTED once each new connection is open, before its messages:
///     the peer may not know this session, so send it what it needs first. When wsbridge gives
///     up, wsb_recv returns the last attempt's error once (WSB_CONNECT_FAILED,
///     WSB_HANDSHAKE_FAILED ...) with a message saying so (how long, how many attempts, the
///     last error, the messages not sent), then WSB_CLOSED. wsb_connect (blocking) returns the
///     first attempt's failure without retrying; wsb_connect_async retries it too.
///
///   Whatever the game does, wsbridge answers the server's pings in the background, so a game
///   that does not call wsb_recv for a while (a loading screen) stays connected.
/// - `out`: receives the handle on WSB_OK; untouched otherwise.
///
/// Returns WSB_OK; WSB_INVALID_ARGUMENT (NULL `url` or `out`, malformed URL, bad option,
/// unreadable `tls.ca_file`, malformed proxy environment variable);
/// WSB_TIMEOUT (the connect timeout expired; the message says at which stage);
/// WSB_CONNECT_FAILED (DNS or TCP failure, or the proxy refused the tunnel, with the reason or
/// the proxy's status line); WSB_TLS_FAILED (certificate rejected or TLS handshake failed, with
/// the host and the reason); WSB_HANDSHAKE_FAILED (the upgrade was refused, with the HTTP status
/// and the start of the body, or its answer was invalid, e.g. a Sec-WebSocket-Extensions header
/// accepting an extension wsbridge did not offer: RFC 6455 4.1); WSB_CONNECTION_LOST (the connection broke during the TLS
/// handshake or the upgrade); WSB_INTERNAL.
///
/// Thread-safe. Release the handle with wsb_close.
#[no_mangle]
pub extern "C" fn wsb_connect(
    url: *const c_char,
    options_json: *const c_char,
    out: *mut wsb_handle,
) -> wsb_result {
    boundary("wsb_connect", || {
        open(url, options_json, out, Connection::connect)
    })
}

/// The body of wsb_connect and wsb_connect_async, which differ only in how they open.
fn open(
    url: *const c_char,
    options_json: *const c_char,
    out: *mut wsb_handle,
    open: fn(&str, Options) -> crate::client::Result<Connection>,
) -> FfiResult {
    crate::client::reap_closes();
    let url = str_arg(url, "url")?;
    let options = options_arg(options_json)?;
    let out = out_arg(out, "out")?;
    *out = handle::CONNECTIONS.insert(open(url, options)?)?;
    Ok(())
}

/// Starts opening a WebSocket connection and returns at once, so a game can connect without
/// freezing a frame.
///
/// Arguments are those of wsb_connect. The handle starts in WSB_STATE_CONNECTING. Messages sent
/// while connecting are queued (within `send_queue_max_bytes`) and sent in order once the
/// connection opens. Watch the outcome with wsb_state (OPEN, or CLOSED on failure) or wsb_recv:
/// if the connection fails, the next wsb_recv reports the failure once (WSB_CONNECT_FAILED,
/// also for an expired connect timeout, whose message says "timed out" and at which stage;
/// WSB_TLS_FAILED; WSB_HANDSHAKE_FAILED ...) with its message, and later calls return
/// WSB_CLOSED. wsb_recv never reports a failed connect as WSB_TIMEOUT, which always means "no
/// message yet".
///
/// Returns WSB_OK (`*out` set), WSB_INVALID_ARGUMENT (URL or options rejected before any
/// network activity), WSB_INTERNAL. Thread-safe. Release the handle with wsb_close, whatever
/// the outcome.
#[no_mangle]
pub extern "C" fn wsb_connect_async(
    url: *const c_char,
    options_json: *const c_char,
    out: *mut wsb_handle,
) -> wsb_result {
    boundary("wsb_connect_async", || {
        open(url, options_json, out, Connection::connect_async)
    })
}

/// Reads the state of a connection into `*out_state`: WSB_STATE_CONNECTING, WSB_STATE_OPEN,
/// WSB_STATE_CLOSING, WSB_STATE_CLOSED, or (with the `reconnect` option of wsb_connect)
/// WSB_STATE_RECONNECTING. Never blocks.
///
/// Returns WSB_OK, WSB_INVALID_HANDLE, WSB_INVALID_ARGUMENT (`out_state` NULL). Thread-safe.
#[no_mangle]
pub extern "C" fn wsb_state(h: wsb_handle, out_state: *mut u32) -> wsb_result {
    boundary("wsb_state", || {
        let out = out_arg(out_state, "out_state")?;
        let conn = handle::CONNECTIONS.get(h)?;
        *out = state_code(conn.state());
        Ok(())
    })
}

/// Copies and queues one whole message, and returns without waiting for the network.
///
/// - `data`, `len`: the message; `data` may be NULL when `len` is 0. Copied before returning.
/// - `kind`: WSB_TEXT (must be valid UTF-8) or WSB_BINARY.
///
/// WSB_OK means the message is queued and will be sent, in order, unless the connection is
/// reported lost. While the connection is still connecting, messages wait in the queue.
///
/// Returns WSB_OK; WSB_WOULD_BLOCK (the send queue is at `send_queue_max_bytes`: the message
/// was NOT queued, so retrying later can never duplicate it; a message is always accepted into
/// an empty queue); WSB_MESSAGE_TOO_BIG (over `max_message_size`; connection unchanged);
/// WSB_INVALID_UTF8 (connection unchanged); WSB_INVALID_ARGUMENT (NULL `data` with `len` > 0,
/// `len` above PTRDIFF_MAX, unknown `kind`); WSB_CLOSED (the connection has ended; the message
/// says why); WSB_CONNECTION_LOST (writing to the socket failed just now; with the `reconnect`
/// option of wsb_connect the message is queued for the next connection instead, see there);
/// WSB_INVALID_HANDLE; WSB_INTERNAL.
///
/// Thread-safe, including concurrently with wsb_recv on the same handle. Messages sent from
/// several threads at once go out whole, in the order the calls took the queue.
#[no_mangle]
pub extern "C" fn wsb_send(h: wsb_handle, data: *const u8, len: usize, kind: u32) -> wsb_result {
    boundary("wsb_send", || {
        let data = bytes_arg(data, len, "data")?;
        let kind = kind_arg(kind)?;
        let conn = handle::CONNECTIONS.get(h)?;
        conn.send(data, kind)?;
        Ok(())
    })
}

/// Waits until every message accepted by wsb_send so far has been written to the socket (handed
/// to the operating system), e.g. before a scene change, or to wait for room after
/// WSB_WOULD_BLOCK instead of retrying blindly.
///
/// - `timeout_ms`: 0 only checks, -1 waits without limit, otherwise the longest wait in
///   milliseconds. A connection still connecting counts as not flushed. A wait for room spins
///   briefly before it sleeps, like wsb_recv (option `spin_budget_us` of wsb_connect).
///
/// Returns WSB_OK (nothing is waiting in the send queue); WSB_TIMEOUT (some bytes are still
/// queued, typically because the peer reads slower than the game sends); WSB_CLOSED (the
/// connection is closing or closed: what was still queued will not be sent); WSB_INVALID_ARGUMENT
/// (`timeout_ms` below -1); WSB_INVALID_HANDLE; WSB_INTERNAL. Thread-safe.
#[no_mangle]
pub extern "C" fn wsb_flush(h: wsb_handle, timeout_ms: i32) -> wsb_result {
    boundary("wsb_flush", || {
        let timeout = timeout_arg(timeout_ms, "timeout_ms")?;
        let conn = handle::CONNECTIONS.get(h)?;
        conn.flush(timeout)?;
        Ok(())
    })
}

/// Receives one whole message (never a fragment).
///
/// - `buf`, `cap`: where to copy the message; `buf` may be NULL when `cap` is 0 (to ask for the
///   size of the next message).
/// - `out_len`: receives the message length on WSB_OK, or the size needed on
///   WSB_BUFFER_TOO_SMALL. Required.
/// - `out_kind`: receives WSB_TEXT or WSB_BINARY on WSB_OK and WSB_BUFFER_TOO_SMALL. May be NULL.
/// - `timeout_ms`: 0 polls without waiting, -1 waits without limit, otherwise the longest wait
///   in milliseconds. The call returns as soon as a message arrives. A wait spins for up to
///   `spin_budget_us` (an option of wsb_connect; default 50 µs) before it sleeps, while recent
///   messages on this connection came that fast.
///
/// Returns WSB_OK; WSB_TIMEOUT (no message in time; the connection is fine);
/// WSB_BUFFER_TOO_SMALL (the message stays queued; call again with `*out_len` bytes);
/// WSB_CLOSED once the connection has closed and every message received before was delivered
/// (read the peer's code and reason with wsb_close_status; also returned at once when wsb_close
/// runs on another thread). The error that ended a connection is returned once, after the
/// messages received before it, and WSB_CLOSED afterwards: WSB_CONNECTION_LOST,
/// WSB_PROTOCOL_ERROR, WSB_MESSAGE_TOO_BIG (the peer sent a message over `max_message_size`), or
/// for a handle from wsb_connect_async whose connect failed, that failure (WSB_CONNECT_FAILED,
/// including an expired connect timeout, WSB_TLS_FAILED, WSB_HANDSHAKE_FAILED). Also
/// WSB_INVALID_ARGUMENT (NULL `out_len`, NULL `buf` with `cap` > 0, `cap` above PTRDIFF_MAX,
/// `timeout_ms` below -1), WSB_INVALID_HANDLE, WSB_INTERNAL. With the `reconnect` option of
/// wsb_connect: WSB_RECONNECTED once per new connection (no message copied; see the option),
/// WSB_TIMEOUT while reconnecting, and a lost link is not reported as an error unless it is
/// not retried or wsbridge gives up.
///
/// A WSB_PROTOCOL_ERROR or WSB_MESSAGE_TOO_BIG takes effect when this call reports it: until
/// then the connection stays open (nothing more is read), so what wsb_send queued meanwhile
/// (answers to the messages received before the error) is sent before wsbridge's close frame
/// (1002, 1007 or 1009). wsb_close before that sends the error's close code too.
///
/// Thread-safe: may wait on one thread while others send; if several threads receive on one
/// handle, each message goes to exactly one of them.
#[no_mangle]
pub extern "C" fn wsb_recv(
    h: wsb_handle,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
    out_kind: *mut u32,
    timeout_ms: i32,
) -> wsb_result {
    boundary("wsb_recv", || {
        let out_len = out_arg(out_len, "out_len")?;
        let buf = buf_arg(buf, cap, "buf")?;
        let timeout = timeout_arg(timeout_ms, "timeout_ms")?;
        let conn = handle::CONNECTIONS.get(h)?;
        let set_kind = |kind| write_opt(out_kind, kind_code(kind));
        match conn.recv(buf, timeout) {
            Ok((n, kind)) => {
                *out_len = n;
                set_kind(kind);
                Ok(())
            }
            Err(RecvError::TooSmall(t)) => {
                *out_len = t.needed;
                set_kind(t.kind);
                Err(t.error.into())
            }
            Err(RecvError::Other(e)) => Err(e.into()),
        }
    })
}

/// Reads the close code and reason the peer sent, once the connection is closed.
///
/// - `out_code`: receives the code: what the peer sent, 1005 if its close frame had no code (or
///   a code the protocol forbids on the wire, such as 1005 or 999: wsb_recv then reported
///   WSB_PROTOCOL_ERROR), or 1006 if the connection ended without the peer's close frame (lost,
///   failed, or closed by wsb_close on another thread before the reply). Required.
/// - `reason`, `reason_cap`: receive the reason as NUL-terminated UTF-8, truncated like
///   snprintf; `reason` may be NULL when `reason_cap` is 0.
/// - `out_reason_len`: receives the full reason length without the NUL. May be NULL.
///
/// Returns WSB_OK; WSB_WOULD_BLOCK (the connection is not closed yet); WSB_INVALID_ARGUMENT;
/// WSB_INVALID_HANDLE; WSB_INTERNAL. Thread-safe. The handle must still be open: read this
/// after wsb_recv returned WSB_CLOSED and before wsb_close.
#[no_mangle]
pub extern "C" fn wsb_close_status(
    h: wsb_handle,
    out_code: *mut u16,
    reason: *mut c_char,
    reason_cap: usize,
    out_reason_len: *mut usize,
) -> wsb_result {
    boundary("wsb_close_status", || {
        let out_code = out_arg(out_code, "out_code")?;
        c_string_buf_arg(reason, reason_cap, "reason")?;
        let conn = handle::CONNECTIONS.get(h)?;
        let Some(status) = conn.close_status() else {
            return Err(Failure::new(
                WSB_WOULD_BLOCK,
                "the connection is not closed yet, so there is no close status",
            ));
        };
        *out_code = status.code;
        let n = write_c_string(&status.reason, reason, reason_cap);
        write_opt(out_reason_len, n);
        Ok(())
    })
}

/// Copies the subprotocol the server selected (from the `subprotocols` option) as a
/// NUL-terminated string, truncated like snprintf; "" when none was negotiated or the
/// connection is not open yet.
///
/// - `buf`, `cap`: the destination; `buf` may be NULL when `cap` is 0.
/// - `out_len`: receives the full length without the NUL. May be NULL.
///
/// Returns WSB_OK, WSB_INVALID_ARGUMENT, WSB_INVALID_HANDLE, WSB_INTERNAL. Thread-safe.
#[no_mangle]
pub extern "C" fn wsb_subprotocol(
    h: wsb_handle,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> wsb_result {
    boundary("wsb_subprotocol", || {
        c_string_buf_arg(buf, cap, "buf")?;
        let conn = handle::CONNECTIONS.get(h)?;
        let n = write_c_string(&conn.subprotocol().unwrap_or_default(), buf, cap);
        write_opt(out_len, n);
        Ok(())
    })
}

/// Closes a connection and releases its handle.
///
/// Flushes the messages already queued, sends a close frame with `code` and `reason`, and waits
/// for the peer's close reply and the end of TCP, all within `timeout_ms`. A wsb_recv waiting on
/// another thread returns WSB_CLOSED at once. Works in any state: a connection still connecting
/// is abandoned; one that already closed or failed is simply released.
///
/// - `code`: 1000 (normal), 1001 (going away), 1002-1003, 1007-1014, or 3000-4999.
/// - `reason`: NUL-terminated UTF-8, at most 123 bytes; NULL for none. Copied.
/// - `timeout_ms`: -1 waits without limit; 0 sends what the socket takes at once and drops the
///   connection.
///
/// The handle is invalid after this call whatever it returns, except for WSB_INVALID_ARGUMENT
/// and WSB_INVALID_HANDLE, which change nothing. Returns WSB_OK (close handshake completed, or
/// the connection had already ended); WSB_TIMEOUT (it did not complete in time; the connection
/// was dropped); WSB_INVALID_ARGUMENT (bad code, reason or timeout); WSB_INVALID_HANDLE (closing
/// twice lands here, never in a crash); WSB_INTERNAL.
///
/// Thread-safe. Calls made on the same handle by other threads after this one started get
/// WSB_INVALID_HANDLE (or WSB_CLOSED if they were already inside).
///
/// Background threads: when this releases the last connection and no other thread is inside a
/// wsbridge call, wsbridge's threads have been joined when it returns (the next connect starts
/// them again). If another thread is still inside a call on this connection (a wsb_recv that
/// this close woke up), that call releases the connection and joins the threads before it
/// returns. The one thread a close does not wait for is the DNS thread blocked inside
/// `getaddrinfo` (no timeout) for a connection closed while it was resolving its host name: it
/// exits by itself when the lookup returns. Before unloading the library, call wsb_shutdown,
/// which waits for it and returns WSB_LOOKUP_RUNNING while it is not safe yet.
#[no_mangle]
pub extern "C" fn wsb_close(
    h: wsb_handle,
    code: u16,
    reason: *const c_char,
    timeout_ms: i32,
) -> wsb_result {
    boundary("wsb_close", || {
        let reason = opt_str_arg(reason, "reason")?.unwrap_or("");
        let timeout = timeout_arg(timeout_ms, "timeout_ms")?;
        crate::client::check_close(code, reason)?;
        let conn = handle::CONNECTIONS.remove(h)?;
        conn.close(code, reason, timeout)?;
        drop(conn);
        crate::client::reap_closes();
        Ok(())
    })
}

/// Closes a connection and releases its handle without blocking the calling thread (a game's
/// main thread: a level unload, a component destroyed, Dispose): the close of wsb_close
/// (flush the queued messages, the close frame, the peer's reply, the end of TCP) runs in the
/// background, on wsbridge's I/O thread, within `timeout_ms`, after this call returned.
///
/// - `code`, `reason`: as for wsb_close (checked here: a bad one returns WSB_INVALID_ARGUMENT
///   and changes nothing).
/// - `timeout_ms`: how long the close handshake may take in the background; then the
///   connection is dropped. -1: until the peer ends it (wsb_shutdown still bounds it); 0:
///   sends what the socket takes at once and drops the connection.
///
/// The handle is invalid when this returns WSB_OK (calls on it return WSB_INVALID_HANDLE; a
/// wsb_recv waiting on another thread returns WSB_CLOSED at once). The library keeps the
/// connection, and its background threads, alive until the close finishes; the threads stop
/// at the next wsbridge connection call after that (wsb_connect, wsb_connect_async, wsb_close,
/// wsb_close_async) if no connection is left, or at wsb_shutdown, which waits for closes still
/// under way (within its own timeout) and reports those that did not complete in time. Before
/// unloading the library, call wsb_shutdown as always.
///
/// Returns WSB_OK (the close is under way, or the connection had already ended); WSB_INVALID_ARGUMENT
/// (bad code, reason or timeout: nothing changed); WSB_INVALID_HANDLE; WSB_INTERNAL. Never
/// WSB_TIMEOUT: how the handshake ended is not reported to the caller (wsb_shutdown counts the
/// ones it had to wait for or drop). Thread-safe.
#[no_mangle]
pub extern "C" fn wsb_close_async(
    h: wsb_handle,
    code: u16,
    reason: *const c_char,
    timeout_ms: i32,
) -> wsb_result {
    boundary("wsb_close_async", || {
        let reason = opt_str_arg(reason, "reason")?.unwrap_or("");
        let timeout = timeout_arg(timeout_ms, "timeout_ms")?;
        crate::client::check_close(code, reason)?;
        let conn = handle::CONNECTIONS.remove(h)?;
        conn.close_async(code, reason, timeout)?;
        Ok(())
    })
}
