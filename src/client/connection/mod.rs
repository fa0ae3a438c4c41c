//! One WebSocket connection: its state machine, its queues, and the calls users make on it.
//!
//! Threads and locks:
//! - `io` owns the socket and the tungstenite state. It is held only for non-blocking work
//!   (a read until `WouldBlock`, a write, a flush), never across a wait, so `send` on one thread
//!   never stalls behind `recv` waiting on another.
//! - `inbox` holds what `recv` hands out: received messages, the public state, the error that
//!   ended the connection. `changed` is signalled whenever it changes.
//! - Lock order: `io` before `inbox`, never the reverse.
//!
//! Who touches the socket: the caller's thread when it sends, or when `recv` reads what is
//! waiting (and, on Unix, polls the socket itself while it waits, see `wait.rs`); otherwise the
//! runtime's I/O thread, on readiness and timers (connect steps, keepalive, reading while the
//! game is busy elsewhere, flushing a backlog). All of it goes through the same `pump`.
//!
//! This file holds the state (`Phase`, `Io`, `Inbox`, `Shared`) and what every step shares
//! (`finish`, `next`, the errors); the steps themselves are in `connect.rs`, `send.rs`,
//! `receive.rs`, `close.rs` and `keepalive.rs`.

use super::error::{Error, ErrorKind, Result};
use super::frame;
use super::options::Options;
use super::proxy::Tunnel;
use super::route::Route;
use super::stream::{Stream, TlsFailure};
use super::url::Target;
use super::wait::{self, Waker};
use super::{CloseStatus, Kind, State};
use crate::runtime::{Cmd, Driven, Handle, Next};
use crate::sync::{lock, wait_until};
use mio::net::TcpStream;
use mio::{Interest, Token};
use std::collections::VecDeque;
use std::io::{self, Read};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::client::ClientHandshake;
use tungstenite::handshake::{HandshakeError, MidHandshake};
use tungstenite::http::{HeaderName, HeaderValue};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{CloseFrame, WebSocket, WebSocketConfig};
use tungstenite::{Bytes, Message, Utf8Bytes};

/// Per-connection read buffer. Small, because it is allocated for every connection, idle or not.
const READ_BUFFER_SIZE: usize = 16 * 1024;
/// After a `recv` has read the socket itself, the I/O thread leaves reading to the caller's
/// thread for this long: a game in a lockstep loop calls `recv` again well before, so its
/// messages wake only the thread that wants them. If it does not, the I/O thread takes reading
/// back (keepalive answers, receive queue) when this has passed.
const READ_PARK: Duration = Duration::from_millis(50);
/// How long a connection that has been closed (or failed) waits for the peer to close TCP.
const LINGER: Duration = Duration::from_millis(1000);
/// The reason tungstenite puts in its 1002 reply to a close code the protocol forbids.
const FORBIDDEN_CLOSE_CODE_REPLY: &str = "Protocol violation";
/// How much of a refused upgrade's body is quoted in the error message.
const BODY_QUOTE: usize = 200;

type Handshake = MidHandshake<ClientHandshake<Stream>>;

enum Phase {
    /// Created, not yet started by the I/O thread.
    Idle,
    /// Waiting for DNS.
    Resolving,
    /// TCP connect in progress to `addr` (the server's, or the proxy's); `rest` are the
    /// addresses to try next.
    Connecting {
        tcp: TcpStream,
        addr: SocketAddr,
        rest: Vec<SocketAddr>,
    },
    /// Asking the proxy for a tunnel (`CONNECT`) and waiting for its answer.
    Tunneling(Box<Tunnel>),
    /// TLS handshake in progress (`wss://`).
    Securing(Box<Stream>),
    /// HTTP upgrade in progress.
    Handshaking(Box<Handshake>),
    /// Open, or closing (see `Io::close_by`).
    Open(Box<WebSocket<Stream>>),
    /// Failed with a close frame sent: discard input until the peer closes TCP or time runs out.
    Lingering(Box<WebSocket<Stream>>),
    /// Socket gone.
    Done,
}

/// The phases before the connection is open, as a pattern: `match phase { connecting!() => }`.
macro_rules! connecting {
    () => {
        Phase::Idle
            | Phase::Resolving
            | Phase::Connecting { .. }
            | Phase::Tunneling(_)
            | Phase::Securing(_)
            | Phase::Handshaking(_)
    };
}

mod close;
mod connect;
mod keepalive;
mod receive;
mod send;

pub(super) use close::close_frame;

struct Io {
    phase: Phase,
    /// Messages accepted while connecting, already encoded as frames, sent in order once open.
    pending: Vec<u8>,
    /// Why earlier addresses failed, for the final error message.
    connect_errors: Vec<String>,
    /// Our keepalive: when to send the next ping.
    next_ping: Option<Instant>,
    /// Our keepalive: deadline for any byte from the peer, and the receive count at the ping.
    silence_deadline: Option<(Instant, u64)>,
    /// A close by the peer, or after an error, is under way: be Done by then (our own close
    /// is timed by `close` itself).
    close_by: Option<Instant>,
    /// `true` when the close was started by `close()`: incoming messages are then discarded.
    closing_locally: bool,
    /// Our close frame, sent once the send queue has drained.
    close_frame: Option<CloseFrame>,
    /// The I/O thread must look at this connection again (timers changed, or it finished).
    poke: bool,
    /// What `Inbox::unsent` was last set to.
    unsent: bool,
    /// A `recv` is polling the socket on its own thread: it reads, the I/O thread does not.
    reader_polls: bool,
    /// A `recv` read the socket itself recently (at `last_direct_read`): the I/O thread is not
    /// asked for read readiness until `READ_PARK` has passed without another one.
    read_parked: bool,
    last_direct_read: Instant,
    /// A `flush` polls the socket for room on its own thread and writes itself: the I/O
    /// thread does not watch writes meanwhile.
    writer_polls: bool,
    /// What the socket is registered for with the I/O thread once open (`None`: nothing).
    interest: Option<Interest>,
}

/// What a caller's thread waits on the socket for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Read,
    Write,
}

impl Io {
    /// Whether a caller's thread polls the socket for this direction.
    fn polls(&mut self, direction: Direction) -> &mut bool {
        match direction {
            Direction::Read => &mut self.reader_polls,
            Direction::Write => &mut self.writer_polls,
        }
    }

    /// Bytes accepted by `send` and not yet handed to the socket.
    fn queued(&self) -> usize {
        match &self.phase {
            Phase::Open(ws) | Phase::Lingering(ws) => ws.get_ref().pending(),
            Phase::Done => 0,
            _ => self.pending.len(),
        }
    }

    /// `true` when everything accepted has been handed to the socket.
    fn drained(&self) -> bool {
        match &self.phase {
            Phase::Open(ws) | Phase::Lingering(ws) => ws.get_ref().drained(),
            Phase::Done => true,
            _ => self.pending.is_empty(),
        }
    }
}

struct Inbox {
    state: State,
    messages: VecDeque<Message>,
    bytes: usize,
    /// Reading stopped because `bytes` reached the cap; whoever drains the queue resumes it.
    paused: bool,
    /// The error that ended the connection, reported once by `recv` (or by a blocking connect).
    ending: Option<Error>,
    /// Why later calls get `Closed`.
    closed_because: Option<String>,
    peer_close: Option<CloseStatus>,
    subprotocol: Option<String>,
    /// The upgrade succeeded (the connection may have closed since).
    opened: bool,
    /// Mirror of `!Io::drained()`, for `flush` to wait on (updated only when it changes).
    unsent: bool,
    /// The socket is closed (`Phase::Done`): what `close` waits for.
    socket_gone: bool,
    /// Threads waiting on `changed`: a change nobody waits for costs no system call.
    waiters: usize,
}

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
    inbox: Mutex<Inbox>,
    changed: Condvar,
    fd: AtomicI32,
    waker: Waker,
}

/// What `recv` returns when the caller's buffer is too small.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooSmall {
    /// Bytes needed for the next message.
    pub needed: usize,
    /// Its kind.
    pub kind: Kind,
    /// The message stating both sizes.
    pub error: Error,
}

/// A failed `recv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecvError {
    /// The next message does not fit; it stays queued.
    TooSmall(TooSmall),
    /// Anything else (timeout, closed, the error that ended the connection).
    Other(Error),
}

impl From<Error> for RecvError {
    fn from(e: Error) -> Self {
        RecvError::Other(e)
    }
}

fn kind_of(m: &Message) -> Option<(Kind, &[u8])> {
    match m {
        Message::Text(t) => Some((Kind::Text, t.as_bytes())),
        Message::Binary(b) => Some((Kind::Binary, b)),
        _ => None,
    }
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
        Arc::new(Shared {
            connect_deadline: Instant::now() + options.connect_timeout,
            target,
            options,
            route,
            config,
            token,
            rt,
            io: Mutex::new(Io {
                phase: Phase::Idle,
                pending: Vec::new(),
                connect_errors: Vec::new(),
                next_ping: None,
                silence_deadline: None,
                close_by: None,
                closing_locally: false,
                close_frame: None,
                poke: false,
                unsent: false,
                reader_polls: false,
                read_parked: false,
                last_direct_read: Instant::now(),
                writer_polls: false,
                interest: Some(Interest::READABLE | Interest::WRITABLE),
            }),
            inbox: Mutex::new(Inbox {
                state: State::Connecting,
                messages: VecDeque::new(),
                bytes: 0,
                paused: false,
                ending: None,
                closed_because: None,
                peer_close: None,
                subprotocol: None,
                opened: false,
                unsent: false,
                socket_gone: false,
                waiters: 0,
            }),
            changed: Condvar::new(),
            fd: AtomicI32::new(wait::NO_FD),
            waker: Waker::default(),
        })
    }

    pub(crate) fn token(&self) -> Token {
        self.token
    }

    fn url(&self) -> &str {
        &self.target.url
    }

    pub(crate) fn state(&self) -> State {
        lock(&self.inbox).state
    }

    pub(crate) fn close_status(&self) -> Option<CloseStatus> {
        let inbox = lock(&self.inbox);
        match inbox.state {
            State::Closed => Some(inbox.peer_close.clone().unwrap_or(CloseStatus {
                code: 1006,
                reason: String::new(),
            })),
            _ => None,
        }
    }

    pub(crate) fn subprotocol(&self) -> Option<String> {
        lock(&self.inbox).subprotocol.clone()
    }

    fn set_state(&self, state: State, also: impl FnOnce(&mut Inbox)) {
        let mut inbox = lock(&self.inbox);
        inbox.state = state;
        also(&mut inbox);
        self.notify(inbox);
    }

    /// Waits for `changed` (or `deadline`), counted in `waiters`.
    fn wait_changed<'a>(
        &self,
        mut inbox: MutexGuard<'a, Inbox>,
        deadline: Option<Instant>,
    ) -> MutexGuard<'a, Inbox> {
        inbox.waiters += 1;
        let mut inbox = wait_until(&self.changed, inbox, deadline);
        inbox.waiters -= 1;
        inbox
    }

    /// Releases the inbox after a change and wakes whoever waits for one. Waiters register
    /// under the same lock before they sleep, so none is missed.
    fn notify(&self, inbox: MutexGuard<'_, Inbox>) {
        let waiting = inbox.waiters > 0;
        drop(inbox);
        if waiting {
            self.changed.notify_all();
        }
    }

    /// Waits on the socket on the caller's thread, for reading (`recv`) or for room to write
    /// (`flush`), and lets the I/O thread stop watching that direction meanwhile (see
    /// `wait.rs`). Under the `io` lock, `must_wait` says whether there is anything to wait for
    /// (it may do the work at once); `after` does the work once the wait ends. `false` if no
    /// direct wait is possible now (not open, another thread already waits this way, no wake
    /// descriptor): the caller then waits on the condition variable for the I/O thread.
    fn poll_socket(
        &self,
        direction: Direction,
        deadline: Option<Instant>,
        must_wait: impl FnOnce(&mut Io, &Self) -> bool,
        after: impl FnOnce(&mut Io, &Self),
    ) -> bool {
        let fd = self.fd.load(Ordering::Acquire);
        if fd == wait::NO_FD || !self.waker.available() {
            return false;
        }
        // The flag is up while this thread does the work too (`must_wait`, `after`), so the
        // interest updates inside that work never hand the direction back to the I/O thread
        // for a moment.
        {
            let mut io = lock(&self.io);
            if *io.polls(direction) || !matches!(io.phase, Phase::Open(_)) {
                return false;
            }
            *io.polls(direction) = true;
            let wait = must_wait(&mut io, self);
            if !wait {
                *io.polls(direction) = false;
            }
            self.update_interest(&mut io);
            if !wait {
                self.poke_if_needed(&mut io);
                return true;
            }
        }
        self.waker
            .wait(fd, matches!(direction, Direction::Write), deadline);
        let mut io = lock(&self.io);
        after(&mut io, self);
        *io.polls(direction) = false;
        self.update_interest(&mut io);
        self.poke_if_needed(&mut io);
        true
    }

    /// Registers the open socket with the I/O thread for what it must watch: read readiness
    /// unless a `recv` reads the socket itself (now or lately), write readiness while output
    /// waits and no `flush` writes it itself. A system call only when that changes.
    fn update_interest(&self, io: &mut Io) {
        let read = !io.reader_polls && !io.read_parked;
        let write = !io.writer_polls && !io.drained();
        let want = match (read, write) {
            (true, true) => Some(Interest::READABLE | Interest::WRITABLE),
            (true, false) => Some(Interest::READABLE),
            (false, true) => Some(Interest::WRITABLE),
            (false, false) => None,
        };
        if want == io.interest {
            return;
        }
        let (Phase::Open(ws) | Phase::Lingering(ws)) = &mut io.phase else {
            return;
        };
        let registry = self.rt.registry();
        let tcp = ws.get_mut().tcp_mut();
        let done = match (io.interest, want) {
            (None, Some(i)) => registry.register(tcp, self.token, i),
            (Some(_), Some(i)) => registry.reregister(tcp, self.token, i),
            (Some(_), None) => registry.deregister(tcp),
            (None, None) => Ok(()),
        };
        if done.is_ok() {
            io.interest = want;
        }
    }

    /// Drops the socket and makes the connection Closed; `ending` is reported once by `recv`.
    fn finish(&self, io: &mut Io, ending: Option<Error>) {
        if matches!(io.phase, Phase::Done) {
            return;
        }
        self.fd.store(wait::NO_FD, Ordering::Release);
        let phase = std::mem::replace(&mut io.phase, Phase::Done);
        self.deregister(phase);
        io.pending.clear();
        Self::stop_keepalive(io);
        io.close_by = None;
        io.poke = true;
        io.unsent = false;
        let mut inbox = lock(&self.inbox);
        inbox.socket_gone = true;
        inbox.unsent = false;
        if inbox.state != State::Closed {
            Self::mark_closed(&mut inbox, ending);
        }
        self.notify(inbox);
        self.waker.wake();
    }

    /// Makes the connection Closed for its users; `ending`, if any, is reported once by `recv`
    /// and says why later calls get `Closed`.
    fn mark_closed(inbox: &mut Inbox, ending: Option<Error>) {
        if let Some(e) = ending {
            inbox.closed_because = Some(format!("connection closed: {}", e.message()));
            inbox.ending = Some(e);
        }
        inbox.state = State::Closed;
    }

    /// No more keepalive pings or silence checks (the connection is ending).
    fn stop_keepalive(io: &mut Io) {
        io.next_ping = None;
        io.silence_deadline = None;
    }

    /// Gives the peer `LINGER` to close TCP after the close frames, then the socket goes.
    fn linger(io: &mut Io) {
        Self::stop_keepalive(io);
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
                io.read_parked.then(|| io.last_direct_read + READ_PARK),
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
        self.closed_error_locked(&lock(&self.inbox))
    }

    fn closed_error_locked(&self, inbox: &Inbox) -> Error {
        Error::new(
            ErrorKind::Closed,
            inbox
                .closed_because
                .clone()
                .unwrap_or_else(|| format!("connection to {} is closed", self.url())),
        )
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
                if readable && !io.reader_polls {
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
