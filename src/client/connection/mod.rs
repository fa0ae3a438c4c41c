//! One WebSocket connection: its state machine, its queues, and the calls users make on it.
//!
//! Threads and locks:
//! - `io` (`phase::Io`) owns the socket and the tungstenite state. It is held only for
//!   non-blocking work (a read until `WouldBlock`, a write, a flush), never across a wait, so
//!   `send` on one thread never stalls behind `recv` waiting on another.
//! - `inbox` (`inbox::Inbox`) holds what `recv` hands out: received messages, the public
//!   state, the error that ended the connection; callers' threads wait on it.
//! - Lock order: `io` before `inbox`, never the reverse.
//!
//! Who touches the socket: the caller's thread when it sends, or when `recv` reads what is
//! waiting (and, on Unix, polls the socket itself while it waits: `direct.rs`); otherwise the
//! runtime's I/O thread, on readiness and timers (connect steps, keepalive, reading while the
//! game is busy elsewhere, flushing a backlog). All reading goes through the same `pump`.
//!
//! Files: this one holds `Shared` (the connection) and what every step shares (`finish`,
//! `next`, the errors, the I/O thread's entry points). Below it, the state, in types whose
//! fields only their own file touches (except `Io`, the state machine's record): `phase.rs`
//! (`Phase`, `Io`), `inbox.rs` (`Inbox`), `polls.rs` (`Direct`, `Polls`: who reads and writes
//! the socket). Above it, the steps, each an `impl Shared` block: `connect.rs`, `send.rs`,
//! `receive.rs`, `read_error.rs`, `close.rs`, `keepalive.rs`, and `direct.rs` (waiting on the
//! socket on a caller's thread).

use super::frame;
use super::options::Options;
use super::route::Route;
use super::stream::{Stream, TlsFailure};
use super::tunnel::Tunnel;
use super::types::{CloseStatus, Kind, State};
use super::url::Target;
use crate::error::{Error, ErrorKind, Result};
use crate::runtime::{Cmd, Driven, Handle, Next};
use crate::sync::lock;
use inbox::Inbox;
use mio::net::TcpStream;
use mio::{Interest, Token};
use phase::{connecting, Handshake, Io, Phase};
use polls::{Direct, Direction};
use std::io::{self, Read};
use std::net::{Shutdown, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::client::ClientHandshake;
use tungstenite::handshake::HandshakeError;
use tungstenite::http::{HeaderName, HeaderValue};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tungstenite::{Bytes, Message, Utf8Bytes};

/// Per-connection read buffer. Small, because it is allocated for every connection, idle or not.
const READ_BUFFER_SIZE: usize = 16 * 1024;
/// How long a connection that has been closed (or failed) waits for the peer to close TCP.
const LINGER: Duration = Duration::from_millis(1000);
/// The reason tungstenite puts in its 1002 reply to a close code the protocol forbids.
const FORBIDDEN_CLOSE_CODE_REPLY: &str = "Protocol violation";
/// How much of a refused upgrade's body is quoted in the error message.
const BODY_QUOTE: usize = 200;

mod close;
mod connect;
mod direct;
mod inbox;
mod keepalive;
mod phase;
mod polls;
mod read_error;
mod receive;
mod send;

pub(super) use close::close_frame;
pub use inbox::{RecvError, TooSmall};

/// The part of a connection shared between the caller's threads and the I/O thread.
pub(crate) struct Shared {
    target: Target,
    options: Options,
    /// Proxy and TLS, decided when the connection was created.
    route: Route,
    config: WebSocketConfig,
    token: Token,
    rt: Arc<Handle>,
    connect_deadline: Instant,
    io: Mutex<Io>,
    inbox: Inbox,
    direct: Direct,
}

impl Shared {
    pub(crate) fn new(
        target: Target,
        options: Options,
        route: Route,
        rt: Arc<Handle>,
    ) -> Arc<Shared> {
        let config = WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER_SIZE)
            .write_buffer_size(0)
            // Our own accounting (`queued`) caps the send queue; tungstenite's must never fire.
            .max_write_buffer_size(usize::MAX)
            .max_message_size(Some(options.max_message_size))
            .max_frame_size(Some(options.max_message_size));
        let token = rt.token();
        let direct = Direct::new(options.spin_budget);
        Arc::new(Shared {
            connect_deadline: Instant::now() + options.connect_timeout,
            target,
            options,
            route,
            config,
            token,
            rt,
            io: Mutex::new(Io::new()),
            inbox: Inbox::new(),
            direct,
        })
    }

    pub(crate) fn token(&self) -> Token {
        self.token
    }

    /// The URL for messages, credentials hidden (`url::redact`): every message that names the
    /// connection goes through here.
    fn url(&self) -> &str {
        &self.target.shown
    }

    pub(crate) fn state(&self) -> State {
        self.inbox.state()
    }

    pub(crate) fn close_status(&self) -> Option<CloseStatus> {
        self.inbox.close_status()
    }

    /// Why the connection ended: the error that ended it (the same before and after `recv`
    /// reported it, so the supervisor that asks after a caller took it still learns the truth)
    /// and the close status; `None` while it has not ended.
    pub(crate) fn ending(&self) -> Option<(Option<Error>, CloseStatus)> {
        let status = self.close_status()?;
        Some((self.inbox.lock().cause().cloned(), status))
    }

    /// Whether the connection opened at some point (it may have ended since).
    pub(crate) fn was_opened(&self) -> bool {
        self.inbox.lock().opened()
    }

    /// Whether received messages wait for `recv`.
    pub(crate) fn has_messages(&self) -> bool {
        self.inbox.lock().message_count() > 0
    }

    pub(crate) fn subprotocol(&self) -> Option<String> {
        self.inbox.subprotocol()
    }

    /// Drops the socket and makes the connection Closed; `ending` is reported once by `recv`.
    fn finish(&self, io: &mut Io, ending: Option<Error>) {
        if matches!(io.phase, Phase::Done) {
            return;
        }
        self.direct.forget_socket();
        let phase = std::mem::replace(&mut io.phase, Phase::Done);
        self.deregister(phase);
        io.pending.clear();
        io.stop_keepalive();
        io.close_by = None;
        io.poke = true;
        self.inbox.socket_closed(ending);
        self.direct.wake();
    }

    /// Gives the peer `LINGER` to close TCP after the close frames, then the socket goes.
    fn linger(io: &mut Io) {
        io.stop_keepalive();
        io.close_by = Some(Instant::now() + LINGER);
        io.poke = true;
    }

    fn deregister(&self, phase: Phase) {
        let reg = self.rt.registry();
        let _ = match phase {
            Phase::Connecting { mut tcp, .. } => reg.deregister(&mut tcp),
            Phase::Tunneling(mut t) => reg.deregister(t.stream_mut().tcp_mut()),
            Phase::Securing(mut s) => reg.deregister(s.tcp_mut()),
            Phase::Handshaking(mut hs) => reg.deregister(hs.get_mut().get_mut().tcp_mut()),
            // Registered or not (see `update_interest`): a failed deregister changes nothing.
            Phase::Open(mut ws) | Phase::Lingering(mut ws) => {
                reg.deregister(ws.get_mut().tcp_mut())
            }
            Phase::Idle | Phase::Resolving | Phase::Done => Ok(()),
        };
    }

    fn poke_if_needed(&self, io: &mut Io) {
        if std::mem::take(&mut io.poke) {
            self.rt.send(Cmd::Poke(self.token));
        }
    }

    fn next(&self, io: &mut Io) -> Next {
        io.poke = false;
        let at = match &io.phase {
            Phase::Done => return Next::Done,
            connecting!() => Some(self.connect_deadline),
            Phase::Open(_) => [
                io.close_by,
                io.next_ping,
                io.silence_deadline.map(|s| s.0),
                io.polls.reads_back_at(),
            ]
            .into_iter()
            .flatten()
            .min(),
            Phase::Lingering(_) => io.close_by,
        };
        Next::Wait(at)
    }

    fn lost(&self, what: &str) -> Error {
        Error::new(
            ErrorKind::ConnectionLost,
            format!("connection to {} lost: {what}", self.url()),
        )
    }

    fn closed_error(&self) -> Error {
        self.inbox.lock().closed_error(self.url())
    }
}

impl Driven for Shared {
    fn start(&self, rt: &Arc<Handle>) -> Next {
        let mut io = lock(&self.io);
        if let Phase::Idle = io.phase {
            let (host, ip, port) = self.route.dial(&self.target);
            match ip {
                Some(ip) => self.connect_next(&mut io, vec![SocketAddr::new(ip, port)]),
                None => {
                    io.phase = Phase::Resolving;
                    rt.resolve(self.token, host.to_string(), port);
                }
            }
        }
        self.next(&mut io)
    }

    fn ready(&self, _rt: &Arc<Handle>, readable: bool, writable: bool) -> Next {
        let mut io = lock(&self.io);
        match &mut io.phase {
            Phase::Connecting { .. } => self.drive_connect(&mut io),
            Phase::Tunneling(_) => self.drive_tunnel(&mut io),
            Phase::Securing(_) => self.drive_tls(&mut io),
            Phase::Handshaking(_) => {
                let Phase::Handshaking(hs) = std::mem::replace(&mut io.phase, Phase::Idle) else {
                    unreachable!("phase checked above")
                };
                self.drive_handshake(&mut io, *hs);
            }
            Phase::Open(_) | Phase::Lingering(_) => {
                if readable && !io.polls.polling(Direction::Read) {
                    self.pump(&mut io);
                }
                if writable {
                    self.flush(&mut io);
                }
            }
            Phase::Idle | Phase::Resolving | Phase::Done => {}
        }
        self.next(&mut io)
    }

    fn timer(&self, _rt: &Arc<Handle>, now: Instant) -> Next {
        let mut io = lock(&self.io);
        self.on_timer(&mut io, now);
        self.next(&mut io)
    }

    fn resolved(&self, _rt: &Arc<Handle>, addrs: io::Result<Vec<SocketAddr>>) -> Next {
        let mut io = lock(&self.io);
        if let Phase::Resolving = io.phase {
            let (host, ..) = self.route.dial(&self.target);
            let host = match &self.route.proxy {
                Some(p) => format!("`{host}` of the {}", p.describe()),
                None => format!("`{host}`"),
            };
            match addrs {
                Ok(addrs) if !addrs.is_empty() => self.connect_next(&mut io, addrs),
                Ok(_) => {
                    let err = Error::new(
                        ErrorKind::ConnectFailed,
                        format!(
                            "cannot connect to {}: host {host} resolved to no address",
                            self.url()
                        ),
                    );
                    self.finish(&mut io, Some(err));
                }
                Err(e) => {
                    let err = Error::new(
                        ErrorKind::ConnectFailed,
                        format!(
                            "cannot connect to {}: cannot resolve host {host}: {e}",
                            self.url()
                        ),
                    );
                    self.finish(&mut io, Some(err));
                }
            }
        }
        self.next(&mut io)
    }

    fn abort(&self, why: &str) {
        Shared::abort(self, why)
    }
}
