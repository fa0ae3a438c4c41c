//! The WebSocket client in plain Rust: no C types, no handles, no raw pointers.
//!
//! [`Connection`] is what the C ABI in `crate::ffi` wraps; Rust programs (and the tests) can
//! use it directly.

pub mod backoff;
mod closing;
mod connection;
mod frame;
pub mod options;
mod proxy;
mod reconnect;
mod route;
// The spin rule is used by the direct waits, which exist on Unix only (wait.rs).
#[cfg(unix)]
mod spin;
mod stream;
mod tls;
mod tunnel;
mod types;
pub mod url;
mod wait;

pub use connection::{RecvError, TooSmall};
// The crate's errors, under the names (and the module path `client::error`) the client has
// always had them.
pub use crate::error::{self, Error, ErrorKind, Result};
pub use options::Options;
pub use types::{CloseStatus, Kind, State};

use crate::runtime::{Cmd, Live};
use connection::Shared;
use reconnect::Supervisor;
use route::Route;
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Target;

/// A WebSocket connection. All methods take `&self` and may be called from several threads.
pub struct Connection {
    link: Link,
    // Dropped after `link`: the last live connection stops the background threads.
    _live: Live,
}

/// One socket for the connection's whole life, or a supervisor that opens a new one after a
/// loss (the `reconnect` option, see `reconnect/`).
enum Link {
    Plain(Arc<Shared>),
    Reconnecting(Arc<Supervisor>),
}

impl Connection {
    /// Connects and blocks until the connection is open or has failed. The connect timeout
    /// covers DNS resolution, the TCP connect, the proxy's CONNECT, the TLS handshake and the
    /// HTTP upgrade together. With the `reconnect` option, a failure of this first attempt is
    /// returned too (not retried); later losses are.
    pub fn connect(url: &str, options: Options) -> Result<Connection> {
        let c = Connection::start(url, options, true)?;
        match &c.link {
            Link::Plain(shared) => shared.wait_open()?,
            Link::Reconnecting(sup) => sup.wait_first_open()?,
        }
        Ok(c)
    }

    /// Starts connecting and returns at once, in [`State::Connecting`]. Messages sent before
    /// the connection opens are queued and sent in order once it does; if it fails, `recv`
    /// reports the error once (with the `reconnect` option, a failed attempt is retried with
    /// backoff, in [`State::Reconnecting`], until `give_up`).
    pub fn connect_async(url: &str, options: Options) -> Result<Connection> {
        Connection::start(url, options, false)
    }

    fn start(url: &str, options: Options, first_only: bool) -> Result<Connection> {
        let target = Target::parse(url)?;
        let route = Route::new(&target, &options)?;
        let live = Live::acquire()?;
        let rt = Arc::clone(live.handle());
        let link = match options.reconnect.clone() {
            None => {
                let shared = Shared::new(target, options, route, Arc::clone(&rt));
                rt.send(Cmd::Add(shared.token(), Arc::clone(&shared) as _));
                Link::Plain(shared)
            }
            Some(policy) => Link::Reconnecting(Supervisor::start(
                target, options, policy, route, rt, first_only,
            )),
        };
        Ok(Connection { link, _live: live })
    }

    /// Waits up to `timeout` (`None`: up to the connect timeout; `Some(Duration::ZERO)`: just
    /// look) for a connection from [`Connection::connect_async`] to open. `Ok(true)`: open (even
    /// if the peer already closed again: `recv` reports that); `Ok(false)`: still connecting;
    /// an error: the connect failed, and this error is reported here instead of by `recv`.
    pub fn wait_open(&self, timeout: Option<Duration>) -> Result<bool> {
        let deadline = timeout.map(|t| Instant::now() + t);
        match &self.link {
            Link::Plain(shared) => shared.wait_open_until(deadline),
            Link::Reconnecting(sup) => sup.wait_open_until(deadline),
        }
    }

    /// The current state.
    pub fn state(&self) -> State {
        match &self.link {
            Link::Plain(shared) => shared.state(),
            Link::Reconnecting(sup) => sup.state(),
        }
    }

    /// Copies and queues one whole message; returns without waiting for the network.
    ///
    /// Errors: [`ErrorKind::MessageTooBig`] and [`ErrorKind::InvalidUtf8`] leave the connection
    /// untouched; [`ErrorKind::WouldBlock`] means the send queue is at its cap and the message
    /// was not queued (so retrying can never duplicate it); [`ErrorKind::Closed`] after the
    /// connection ended; [`ErrorKind::ConnectionLost`] if writing failed just now. With the
    /// `reconnect` option, a message sent while connecting or reconnecting is queued (within
    /// `send_queue_max_bytes`) and sent once a connection is open.
    pub fn send(&self, data: &[u8], kind: Kind) -> Result<()> {
        match &self.link {
            Link::Plain(shared) => shared.send(data, kind),
            Link::Reconnecting(sup) => sup.send(data, kind),
        }
    }

    /// Waits until every message accepted by `send` so far has been written to the socket
    /// (`None`: no limit). [`ErrorKind::Timeout`] if not within `timeout`; [`ErrorKind::Closed`]
    /// if the connection is closing or closed.
    pub fn flush(&self, timeout: Option<Duration>) -> Result<()> {
        match &self.link {
            Link::Plain(shared) => shared.flush_wait(timeout),
            Link::Reconnecting(sup) => sup.flush(timeout),
        }
    }

    /// Receives one whole message into `buf`, waiting up to `timeout` (`None`: no limit;
    /// `Some(Duration::ZERO)`: just poll). Returns its length and kind. With the `reconnect`
    /// option, [`ErrorKind::Reconnected`] once after each new connection opened, before its
    /// first message.
    pub fn recv(
        &self,
        buf: &mut [u8],
        timeout: Option<Duration>,
    ) -> std::result::Result<(usize, Kind), RecvError> {
        match &self.link {
            Link::Plain(shared) => shared.recv(buf, timeout),
            Link::Reconnecting(sup) => sup.recv(buf, timeout),
        }
    }

    /// The peer's close code and reason, once the connection is closed.
    pub fn close_status(&self) -> Option<CloseStatus> {
        match &self.link {
            Link::Plain(shared) => shared.close_status(),
            Link::Reconnecting(sup) => sup.close_status(),
        }
    }

    /// The subprotocol the server selected, if any.
    pub fn subprotocol(&self) -> Option<String> {
        match &self.link {
            Link::Plain(shared) => shared.subprotocol(),
            Link::Reconnecting(sup) => sup.subprotocol(),
        }
    }

    /// Flushes queued messages, performs the close handshake within `timeout` (`None`: no
    /// limit) and drops the socket. A `recv` waiting on another thread returns `Closed`.
    pub fn close(&self, code: u16, reason: &str, timeout: Option<Duration>) -> Result<()> {
        match &self.link {
            Link::Plain(shared) => shared.close(code, reason, timeout),
            Link::Reconnecting(sup) => sup.close(code, reason, timeout),
        }
    }

    /// Starts the close of [`Connection::close`] and returns at once: the handshake finishes
    /// in the background, within `timeout` (`None`: until the peer ends it). The connection,
    /// and wsbridge's background threads, stay alive until then; [`wait_for_closes`] waits for
    /// them (before unloading the library), and the background threads stop at the first call
    /// of [`reap_closes`] after the last one finished (the C ABI's connect and close functions
    /// call it).
    pub fn close_async(
        self: Arc<Self>,
        code: u16,
        reason: &str,
        timeout: Option<Duration>,
    ) -> Result<()> {
        check_close(code, reason)?;
        let started = match &self.link {
            Link::Plain(shared) => shared.close_in_background(code, reason, timeout),
            Link::Reconnecting(sup) => sup.close_in_background(code, reason, timeout),
        };
        closing::keep(self);
        started
    }

    /// The socket this connection uses now (for the background close's bookkeeping).
    fn socket(&self) -> Option<Arc<Shared>> {
        match &self.link {
            Link::Plain(shared) => Some(Arc::clone(shared)),
            Link::Reconnecting(sup) => sup.current(),
        }
    }
}

impl closing::Closing for Connection {
    fn wait_gone(&self, deadline: Option<Instant>) -> bool {
        self.socket().map_or(true, |s| s.wait_gone(deadline))
    }

    fn timed_out(&self) -> bool {
        self.socket()
            .and_then(|s| s.ending())
            .is_some_and(|(e, _)| e.is_some_and(|e| e.kind() == ErrorKind::Timeout))
    }
}

/// Waits, until `deadline` (`None`: no limit), for the closes started by
/// [`Connection::close_async`], then drops those still under way. Returns how many were
/// waited for, and how many of them did not complete their close handshake in time (dropped
/// here, or by their own timeout).
pub fn wait_for_closes(deadline: Option<Instant>) -> (usize, usize) {
    closing::wait_all(deadline)
}

/// Releases the connections whose background close has finished (their last release stops
/// wsbridge's background threads). Never called on the I/O thread.
pub fn reap_closes() {
    closing::reap()
}

/// Waits, until `deadline` (`None`: no limit), for the DNS lookups wsbridge's background
/// threads were still inside when the last connection was released, for a host that is about to
/// unload the library. [`ErrorKind::LookupRunning`] if one still runs then: the thread exits by
/// itself when `getaddrinfo` returns, and a later call waits again.
pub fn wait_for_lookups(deadline: Option<std::time::Instant>) -> Result<()> {
    crate::runtime::wait_for_lookups(deadline)
}

/// Checks a close code and reason without closing anything.
pub fn check_close(code: u16, reason: &str) -> Result<()> {
    connection::close_frame(code, reason).map(|_| ())
}

impl Drop for Connection {
    fn drop(&mut self) {
        match &self.link {
            Link::Plain(shared) => {
                if shared.state() != State::Closed {
                    let _ = shared.close(1001, "", Some(Duration::ZERO));
                }
                shared.abort("the connection was dropped");
            }
            Link::Reconnecting(sup) => sup.drop_now("the connection was dropped"),
        }
    }
}
