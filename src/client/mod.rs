//! The WebSocket client in plain Rust: no C types, no handles, no raw pointers.
//!
//! [`Connection`] is what the C ABI in `crate::ffi` wraps; Rust programs (and the tests) can
//! use it directly.

mod connection;
pub mod error;
mod frame;
pub mod options;
mod proxy;
mod route;
mod stream;
mod tls;
pub mod url;
mod wait;

pub use connection::{RecvError, TooSmall};
pub use error::{Error, ErrorKind, Result};
pub use options::Options;

use crate::runtime::{Cmd, Live};
use connection::Shared;
use route::Route;
use std::sync::Arc;
use std::time::Duration;
use url::Target;

/// The kind of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// UTF-8 text.
    Text,
    /// Arbitrary bytes.
    Binary,
}

/// The life of a connection, as the caller sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Resolving, connecting TCP, the proxy's CONNECT, the TLS handshake, or waiting for the
    /// HTTP upgrade.
    Connecting,
    /// Open: messages flow both ways.
    Open,
    /// `close` was called and the close handshake is under way.
    Closing,
    /// Closed by either side, failed, or lost.
    Closed,
}

/// The close code and reason the peer sent (1005 if its close frame had no code, 1006 if the
/// connection ended without a close frame).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseStatus {
    /// Close code.
    pub code: u16,
    /// Close reason (UTF-8, at most 123 bytes).
    pub reason: String,
}

/// A WebSocket connection. All methods take `&self` and may be called from several threads.
pub struct Connection {
    shared: Arc<Shared>,
    // Dropped after `shared`: the last live connection stops the background threads.
    _live: Live,
}

impl Connection {
    /// Connects and blocks until the connection is open or has failed. The connect timeout
    /// covers DNS resolution, the TCP connect, the proxy's CONNECT, the TLS handshake and the
    /// HTTP upgrade together.
    pub fn connect(url: &str, options: Options) -> Result<Connection> {
        let c = Connection::connect_async(url, options)?;
        c.shared.wait_open()?;
        Ok(c)
    }

    /// Starts connecting and returns at once, in [`State::Connecting`]. Messages sent before
    /// the connection opens are queued and sent in order once it does; if it fails, `recv`
    /// reports the error once.
    pub fn connect_async(url: &str, options: Options) -> Result<Connection> {
        let target = Target::parse(url)?;
        let route = Route::new(&target, &options)?;
        let live = Live::acquire()?;
        let shared = Shared::new(target, options, route, Arc::clone(live.handle()));
        live.handle()
            .send(Cmd::Add(shared.token(), Arc::clone(&shared) as _));
        Ok(Connection {
            shared,
            _live: live,
        })
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.shared.state()
    }

    /// Copies and queues one whole message; returns without waiting for the network.
    ///
    /// Errors: [`ErrorKind::MessageTooBig`] and [`ErrorKind::InvalidUtf8`] leave the connection
    /// untouched; [`ErrorKind::WouldBlock`] means the send queue is at its cap and the message
    /// was not queued (so retrying can never duplicate it); [`ErrorKind::Closed`] after the
    /// connection ended; [`ErrorKind::ConnectionLost`] if writing failed just now.
    pub fn send(&self, data: &[u8], kind: Kind) -> Result<()> {
        self.shared.send(data, kind)
    }

    /// Waits until every message accepted by `send` so far has been written to the socket
    /// (`None`: no limit). [`ErrorKind::Timeout`] if not within `timeout`; [`ErrorKind::Closed`]
    /// if the connection is closing or closed.
    pub fn flush(&self, timeout: Option<Duration>) -> Result<()> {
        self.shared.flush_wait(timeout)
    }

    /// Receives one whole message into `buf`, waiting up to `timeout` (`None`: no limit;
    /// `Some(Duration::ZERO)`: just poll). Returns its length and kind.
    pub fn recv(
        &self,
        buf: &mut [u8],
        timeout: Option<Duration>,
    ) -> std::result::Result<(usize, Kind), RecvError> {
        self.shared.recv(buf, timeout)
    }

    /// The peer's close code and reason, once the connection is closed.
    pub fn close_status(&self) -> Option<CloseStatus> {
        self.shared.close_status()
    }

    /// The subprotocol the server selected, if any.
    pub fn subprotocol(&self) -> Option<String> {
        self.shared.subprotocol()
    }

    /// Flushes queued messages, performs the close handshake within `timeout` (`None`: no
    /// limit) and drops the socket. A `recv` waiting on another thread returns `Closed`.
    pub fn close(&self, code: u16, reason: &str, timeout: Option<Duration>) -> Result<()> {
        self.shared.close(code, reason, timeout)
    }
}

/// Checks a close code and reason without closing anything.
pub fn check_close(code: u16, reason: &str) -> Result<()> {
    connection::close_frame(code, reason).map(|_| ())
}

impl Drop for Connection {
    fn drop(&mut self) {
        if self.shared.state() != State::Closed {
            let _ = self.shared.close(1001, "", Some(Duration::ZERO));
        }
        self.shared.abort("the connection was dropped");
    }
}
