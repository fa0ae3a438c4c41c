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

use super::error::{Error, ErrorKind, Result};
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
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
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

struct Io {
    phase: Phase,
    /// Messages accepted while connecting, written in order once open.
    pending: VecDeque<Message>,
    /// Bytes accepted by `send` and not yet known to be written to the socket.
    queued: usize,
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
    /// Mirror of `Io::queued > 0`, for `flush` to wait on (updated only when it changes).
    unsent: bool,
    /// The socket is closed (`Phase::Done`): what `close` waits for.
    socket_gone: bool,
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
    /// A `recv` is polling the socket itself: the I/O thread leaves reading to it.
    reader: AtomicBool,
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
                pending: VecDeque::new(),
                queued: 0,
                connect_errors: Vec::new(),
                next_ping: None,
                silence_deadline: None,
                close_by: None,
                closing_locally: false,
                close_frame: None,
                poke: false,
                unsent: false,
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
            }),
            changed: Condvar::new(),
            reader: AtomicBool::new(false),
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

    // ---------------------------------------------------------------------------------------
    // Calls made by users
    // ---------------------------------------------------------------------------------------

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

    /// Blocks until the connection is open or has failed (bounded by the connect timeout).
    pub(crate) fn wait_open(&self) -> Result<()> {
        let mut inbox = lock(&self.inbox);
        loop {
            match inbox.state {
                // Opened, even if the peer has already closed again: what it sent (and its
                // close) is for `recv` to report.
                _ if inbox.opened => return Ok(()),
                State::Connecting => {}
                _ => {
                    return Err(inbox.ending.take().unwrap_or_else(|| {
                        Error::new(
                            ErrorKind::Closed,
                            format!("connection to {} closed while connecting", self.url()),
                        )
                    }))
                }
            }
            if Instant::now() >= self.connect_deadline {
                // The I/O thread enforces the deadline too; whichever comes first fails it.
                drop(inbox);
                let mut io = lock(&self.io);
                self.check_connect_deadline(&mut io, Instant::now());
                self.poke_if_needed(&mut io);
                drop(io);
                inbox = lock(&self.inbox);
                continue;
            }
            inbox = wait_until(&self.changed, inbox, Some(self.connect_deadline));
        }
    }

    pub(crate) fn send(&self, data: &[u8], kind: Kind) -> Result<()> {
        let max = self.options.max_message_size;
        if data.len() > max {
            return Err(Error::new(
                ErrorKind::MessageTooBig,
                format!(
                    "message of {} bytes is larger than max_message_size ({max} bytes); \
                     not sent, the connection is unchanged",
                    data.len()
                ),
            ));
        }
        let message = match kind {
            Kind::Binary => Message::Binary(Bytes::copy_from_slice(data)),
            Kind::Text => match std::str::from_utf8(data) {
                Ok(s) => Message::Text(Utf8Bytes::from(s)),
                Err(e) => {
                    return Err(Error::new(
                        ErrorKind::InvalidUtf8,
                        format!(
                            "text message is not valid UTF-8 (invalid byte at offset {}); \
                             not sent, the connection is unchanged",
                            e.valid_up_to()
                        ),
                    ))
                }
            },
        };
        let len = data.len();
        let mut guard = lock(&self.io);
        let io = &mut *guard;
        let result = self.enqueue(io, message, len);
        self.sync_unsent(io);
        self.poke_if_needed(io);
        result
    }

    /// Queues (while connecting) or writes (once open) one message; `io` is locked.
    fn enqueue(&self, io: &mut Io, message: Message, len: usize) -> Result<()> {
        let full = io.queued > 0 && io.queued + len > self.options.send_queue_max_bytes;
        if io.closing_locally {
            return Err(self.closed_error());
        }
        match &mut io.phase {
            connecting!() => {
                if full {
                    return Err(self.would_block(io.queued, len));
                }
                io.pending.push_back(message);
                io.queued += len;
                Ok(())
            }
            Phase::Open(ws) if ws.can_write() => {
                if full {
                    return Err(self.would_block(io.queued, len));
                }
                match ws.write(message) {
                    Ok(()) => {}
                    Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => {
                        let err = self.lost(&format!("sending failed: {e}"));
                        self.finish(io, Some(err.clone()));
                        return Err(err);
                    }
                }
                io.queued += len;
                self.flush(io);
                if matches!(io.phase, Phase::Done) {
                    return Err(lock(&self.inbox)
                        .ending
                        .clone()
                        .unwrap_or_else(|| self.closed_error()));
                }
                Ok(())
            }
            _ => Err(self.closed_error()),
        }
    }

    /// Waits until every message accepted so far has been written to the socket.
    pub(crate) fn flush_wait(&self, timeout: Option<Duration>) -> Result<()> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut inbox = lock(&self.inbox);
        loop {
            if !matches!(inbox.state, State::Connecting | State::Open) {
                return Err(self.closed_error_locked(&inbox));
            }
            if !inbox.unsent {
                return Ok(());
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                let ms = timeout.unwrap_or_default().as_millis();
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!("queued messages were not all written to the socket within {ms} ms"),
                ));
            }
            inbox = wait_until(&self.changed, inbox, deadline);
        }
    }

    pub(crate) fn recv(
        &self,
        buf: &mut [u8],
        timeout: Option<Duration>,
    ) -> std::result::Result<(usize, Kind), RecvError> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut pumped = false;
        loop {
            if let Some(done) = self.take_message(buf) {
                return done;
            }
            if !pumped {
                // Read whatever already waits in the socket; cheap when there is nothing.
                self.pump_from_user();
                pumped = true;
                continue;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(RecvError::Other(Error::new(
                    ErrorKind::Timeout,
                    "no message arrived within the timeout",
                )));
            }
            pumped = false;
            if !self.wait_on_socket(deadline) {
                self.wait_on_inbox(deadline);
            }
        }
    }

    /// Starts the close handshake and waits for it (bounded by `timeout`). The connection is
    /// closed and its socket gone when this returns, whatever the result.
    pub(crate) fn close(&self, code: u16, reason: &str, timeout: Option<Duration>) -> Result<()> {
        let frame = close_frame(code, reason)?;
        let deadline = timeout.map(|t| Instant::now() + t);
        {
            let mut io = lock(&self.io);
            match &io.phase {
                Phase::Open(ws) if ws.can_write() && !io.closing_locally => {
                    io.closing_locally = true;
                    // No `close_by`: this call enforces its own deadline below, so that it
                    // can tell a completed close handshake from one that timed out.
                    io.close_frame = Some(frame);
                    io.next_ping = None;
                    io.silence_deadline = None;
                    self.set_state(State::Closing, |inbox| inbox.paused = false);
                    self.flush(&mut io);
                    self.pump(&mut io);
                }
                // Our close is already under way (another thread), or the peer closed, or the
                // connection failed with a close frame sent: nothing to negotiate, but the
                // linger (bounded, see `LINGER`) lets the peer read our last frame before TCP
                // ends; dropping now could turn it into a reset.
                Phase::Open(_) | Phase::Lingering(_) => {}
                connecting!() => {
                    self.finish(&mut io, None);
                    lock(&self.inbox).closed_because = Some(format!(
                        "connection to {} was closed while connecting",
                        self.url()
                    ));
                }
                Phase::Done => {}
            }
            io.poke = true;
            self.poke_if_needed(&mut io);
        }
        self.waker.wake();
        let mut inbox = lock(&self.inbox);
        while !inbox.socket_gone {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                drop(inbox);
                let mut io = lock(&self.io);
                // Timed out only if our close frame is still unanswered; once the peer's close
                // frame arrived (or the connection had failed), only the end of TCP is missing.
                let timed_out = matches!(&io.phase, Phase::Open(ws) if ws.can_read());
                self.finish(&mut io, None);
                self.poke_if_needed(&mut io);
                if timed_out {
                    let ms = timeout.unwrap_or_default().as_millis();
                    return Err(Error::new(
                        ErrorKind::Timeout,
                        format!(
                            "the close handshake with {} did not complete within {ms} ms; \
                             the connection was dropped",
                            self.url()
                        ),
                    ));
                }
                return Ok(());
            }
            inbox = wait_until(&self.changed, inbox, deadline);
        }
        Ok(())
    }

    /// Drops the connection at once (library shutdown, or a handle dropped without close).
    pub(crate) fn abort(&self, why: &str) {
        let mut io = lock(&self.io);
        if !matches!(io.phase, Phase::Done) {
            let err = Error::new(
                ErrorKind::Closed,
                format!("connection to {}: {why}", self.url()),
            );
            self.finish(&mut io, Some(err));
        }
        self.poke_if_needed(&mut io);
    }

    // ---------------------------------------------------------------------------------------
    // recv helpers
    // ---------------------------------------------------------------------------------------

    /// Hands out the next message, the ending error, or `Closed`; `None` if there is nothing.
    fn take_message(
        &self,
        buf: &mut [u8],
    ) -> Option<std::result::Result<(usize, Kind), RecvError>> {
        let mut inbox = lock(&self.inbox);
        if let Some(front) = inbox.messages.front() {
            let (kind, data) = kind_of(front).expect("only data messages are queued");
            let n = data.len();
            if n > buf.len() {
                return Some(Err(RecvError::TooSmall(TooSmall {
                    needed: n,
                    kind,
                    error: Error::new(
                        ErrorKind::BufferTooSmall,
                        format!(
                            "the next message has {n} bytes but the buffer holds {}; \
                             it stays queued",
                            buf.len()
                        ),
                    ),
                })));
            }
            buf[..n].copy_from_slice(data);
            inbox.messages.pop_front();
            inbox.bytes -= n;
            let resume = inbox.paused && inbox.bytes < self.options.recv_queue_max_bytes;
            if resume {
                inbox.paused = false;
            }
            drop(inbox);
            if resume {
                self.pump_from_user();
            }
            return Some(Ok((n, kind)));
        }
        if let Some(e) = inbox.ending.take() {
            // For `recv`, a timeout means "no message yet, the connection is fine": a connect
            // that timed out ended the connection, so it is reported as a connect failure.
            let e = match e.kind() {
                ErrorKind::Timeout => Error::new(ErrorKind::ConnectFailed, e.message().to_string()),
                _ => e,
            };
            return Some(Err(e.into()));
        }
        match inbox.state {
            State::Closed | State::Closing => Some(Err(RecvError::Other(Error::new(
                ErrorKind::Closed,
                inbox
                    .closed_because
                    .clone()
                    .unwrap_or_else(|| format!("connection to {} is closed", self.url())),
            )))),
            State::Connecting | State::Open => None,
        }
    }

    fn pump_from_user(&self) {
        let mut io = lock(&self.io);
        self.pump(&mut io);
        self.poke_if_needed(&mut io);
    }

    /// Waits by polling the socket on this thread (see `wait.rs`). `false` if not possible now
    /// (not open, another thread is already polling, or no direct wait on this platform).
    fn wait_on_socket(&self, deadline: Option<Instant>) -> bool {
        let fd = self.fd.load(Ordering::Acquire);
        if fd == wait::NO_FD
            || self
                .reader
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
        {
            return false;
        }
        // With the flag set the I/O thread no longer reads; read once more under the lock so
        // nothing it read just before is missed, then poll only if there is still nothing.
        self.pump_from_user();
        let idle = {
            let inbox = lock(&self.inbox);
            inbox.messages.is_empty() && inbox.ending.is_none() && inbox.state == State::Open
        };
        let waited = !idle || self.waker.wait(fd, deadline);
        self.reader.store(false, Ordering::Release);
        // The I/O thread skipped any readiness edge that came while the flag was set: read
        // what it left, or nobody may read it (e.g. a close reply when `close` woke us).
        self.pump_from_user();
        waited
    }

    fn wait_on_inbox(&self, deadline: Option<Instant>) {
        let inbox = lock(&self.inbox);
        if inbox.messages.is_empty()
            && inbox.ending.is_none()
            && matches!(inbox.state, State::Open | State::Connecting)
        {
            drop(wait_until(&self.changed, inbox, deadline));
        }
    }

    // ---------------------------------------------------------------------------------------
    // The machine (called with `io` locked, from any thread)
    // ---------------------------------------------------------------------------------------

    fn set_state(&self, state: State, also: impl FnOnce(&mut Inbox)) {
        let mut inbox = lock(&self.inbox);
        inbox.state = state;
        also(&mut inbox);
        drop(inbox);
        self.changed.notify_all();
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
        io.next_ping = None;
        io.silence_deadline = None;
        io.close_by = None;
        io.poke = true;
        let mut inbox = lock(&self.inbox);
        inbox.socket_gone = true;
        if inbox.state != State::Closed {
            if let Some(e) = ending {
                inbox.closed_because = Some(format!("connection closed: {}", e.message()));
                inbox.ending = Some(e);
            }
            inbox.state = State::Closed;
        }
        drop(inbox);
        self.changed.notify_all();
        self.waker.wake();
    }

    fn deregister(&self, phase: Phase) {
        let reg = self.rt.registry();
        let _ = match phase {
            Phase::Connecting { mut tcp, .. } => reg.deregister(&mut tcp),
            Phase::Tunneling(mut t) => reg.deregister(t.stream_mut().tcp_mut()),
            Phase::Securing(mut s) => reg.deregister(s.tcp_mut()),
            Phase::Handshaking(mut hs) => reg.deregister(hs.get_mut().get_mut().tcp_mut()),
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
            Phase::Open(_) => [io.close_by, io.next_ping, io.silence_deadline.map(|s| s.0)]
                .into_iter()
                .flatten()
                .min(),
            Phase::Lingering(_) => io.close_by,
        };
        Next::Wait(at)
    }

    fn check_connect_deadline(&self, io: &mut Io, now: Instant) {
        let proxied = self.route.proxy.is_some();
        let stage = match io.phase {
            Phase::Idle | Phase::Resolving if proxied => "resolving the proxy's host name",
            Phase::Idle | Phase::Resolving => "resolving the host name",
            Phase::Connecting { .. } if proxied => "connecting TCP to the proxy",
            Phase::Connecting { .. } => "connecting TCP",
            Phase::Tunneling(_) => "waiting for the proxy's answer to CONNECT",
            Phase::Securing(_) => "TLS handshake",
            Phase::Handshaking(_) => "waiting for the HTTP upgrade response",
            _ => return,
        };
        if now >= self.connect_deadline {
            let ms = self.options.connect_timeout.as_millis();
            let err = Error::new(
                ErrorKind::Timeout,
                format!(
                    "connecting to {}{} timed out after {ms} ms ({stage})",
                    self.url(),
                    self.route.via()
                ),
            );
            self.finish(io, Some(err));
        }
    }

    /// Tries the next address, or fails with every reason collected.
    fn connect_next(&self, io: &mut Io, mut addrs: Vec<SocketAddr>) {
        while !addrs.is_empty() {
            let addr = addrs.remove(0);
            let attempt = TcpStream::connect(addr).and_then(|mut tcp| {
                self.rt.registry().register(
                    &mut tcp,
                    self.token,
                    Interest::READABLE | Interest::WRITABLE,
                )?;
                Ok(tcp)
            });
            match attempt {
                Ok(tcp) => {
                    io.phase = Phase::Connecting {
                        tcp,
                        addr,
                        rest: addrs,
                    };
                    return;
                }
                Err(e) => io.connect_errors.push(format!("{addr}: {e}")),
            }
        }
        let err = Error::new(
            ErrorKind::ConnectFailed,
            format!(
                "cannot connect to {}{}: {}",
                self.url(),
                self.route.via(),
                io.connect_errors.join("; ")
            ),
        );
        self.finish(io, Some(err));
    }

    /// Advances a TCP connect in progress.
    fn drive_connect(&self, io: &mut Io) {
        let Phase::Connecting { tcp, addr, .. } = &io.phase else {
            return;
        };
        let failure = match tcp.take_error() {
            Ok(Some(e)) | Err(e) => Some(e),
            Ok(None) => match tcp.peer_addr() {
                Ok(_) => None,
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return,
                Err(e) => Some(e),
            },
        };
        let addr = *addr;
        let Phase::Connecting { tcp, rest, .. } = std::mem::replace(&mut io.phase, Phase::Idle)
        else {
            unreachable!("phase checked above")
        };
        if let Some(e) = failure {
            io.connect_errors.push(format!("{addr}: {e}"));
            let mut tcp = tcp;
            let _ = self.rt.registry().deregister(&mut tcp);
            return self.connect_next(io, rest);
        }
        let _ = tcp.set_nodelay(true);
        let stream = Stream::new(tcp);
        match &self.route.proxy {
            Some(proxy) => {
                let tunnel = Tunnel::new(stream, proxy, &self.target);
                io.phase = Phase::Tunneling(Box::new(tunnel));
                self.drive_tunnel(io);
            }
            None => self.secure(io, stream),
        }
    }

    /// Advances the proxy's CONNECT exchange.
    fn drive_tunnel(&self, io: &mut Io) {
        let Phase::Tunneling(tunnel) = &mut io.phase else {
            return;
        };
        match tunnel.drive() {
            Ok(false) => {}
            Ok(true) => {
                let Phase::Tunneling(tunnel) = std::mem::replace(&mut io.phase, Phase::Idle) else {
                    unreachable!("phase checked above")
                };
                self.secure(io, tunnel.into_stream());
            }
            Err(e) => self.finish(io, Some(e)),
        }
    }

    /// The socket (or tunnel) to the server is up: TLS for wss://, then the HTTP upgrade.
    fn secure(&self, io: &mut Io, mut stream: Stream) {
        let Some(tls) = &self.route.tls else {
            return self.upgrade(io, stream);
        };
        match stream.start_tls(tls) {
            Ok(()) => {
                io.phase = Phase::Securing(Box::new(stream));
                self.drive_tls(io);
            }
            Err(e) => self.finish(io, Some(tls.failure(&self.tls_peer(), &e))),
        }
    }

    /// Advances the TLS handshake.
    fn drive_tls(&self, io: &mut Io) {
        let Phase::Securing(stream) = &mut io.phase else {
            return;
        };
        let failure = match stream.handshake_tls() {
            Ok(false) => return,
            Ok(true) => {
                let Phase::Securing(stream) = std::mem::replace(&mut io.phase, Phase::Idle) else {
                    unreachable!("phase checked above")
                };
                return self.upgrade(io, *stream);
            }
            Err(f) => f,
        };
        let peer = self.tls_peer();
        let err = match (failure, &self.route.tls) {
            (TlsFailure::Tls(e), Some(tls)) => tls.failure(&peer, &e),
            (TlsFailure::Tls(e), None) => Error::internal(format!("TLS without a setup: {e}")),
            (TlsFailure::Closed, _) => Error::new(
                ErrorKind::TlsFailed,
                format!(
                    "TLS handshake with {peer} failed: the server closed the connection \
                     mid-handshake; it may not speak TLS on this port (a plain ws:// \
                     endpoint?), or refuse this host name"
                ),
            ),
            (TlsFailure::Io(e), _) => Error::new(
                ErrorKind::ConnectionLost,
                format!(
                    "connection to {} lost during the TLS handshake: {e}",
                    self.url()
                ),
            ),
        };
        self.finish(io, Some(err));
    }

    /// "wss://host:port/path (through proxy ...)": which TLS connection a message is about.
    fn tls_peer(&self) -> String {
        format!("{}{}", self.url(), self.route.via())
    }

    /// Starts the HTTP upgrade over the ready stream.
    fn upgrade(&self, io: &mut Io, stream: Stream) {
        let fd = wait::fd_of(stream.tcp());
        let request = match self.request() {
            Ok(r) => r,
            Err(e) => return self.finish(io, Some(e)),
        };
        match ClientHandshake::start(stream, request, Some(self.config)) {
            Ok(hs) => self.drive_handshake(io, hs, fd),
            Err(e) => self.finish(io, Some(self.handshake_error(e))),
        }
    }

    fn request(&self) -> Result<tungstenite::handshake::client::Request> {
        let mut request = (&self.target.uri)
            .into_client_request()
            .map_err(|e| Error::invalid(format!("invalid URL {:?}: {e}", self.url())))?;
        let headers = request.headers_mut();
        for (name, value) in &self.options.headers {
            // Validated when the options were parsed.
            let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) else {
                return Err(Error::invalid(format!(
                    "option `headers`: invalid header `{name}`"
                )));
            };
            headers.append(n, v);
        }
        if !self.options.subprotocols.is_empty() {
            let joined = self.options.subprotocols.join(", ");
            let v = HeaderValue::from_str(&joined)
                .map_err(|_| Error::invalid("option `subprotocols`: invalid value"))?;
            headers.insert("Sec-WebSocket-Protocol", v);
        }
        Ok(request)
    }

    fn drive_handshake(&self, io: &mut Io, hs: Handshake, fd: wait::Fd) {
        match hs.handshake() {
            Ok((ws, response)) => {
                let subprotocol = response
                    .headers()
                    .get("Sec-WebSocket-Protocol")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                io.phase = Phase::Open(Box::new(ws));
                self.fd.store(fd, Ordering::Release);
                io.next_ping = self.options.ping_interval.map(|i| Instant::now() + i);
                let pending = std::mem::take(&mut io.pending);
                for m in pending {
                    let Phase::Open(ws) = &mut io.phase else {
                        break;
                    };
                    match ws.write(m) {
                        Ok(()) => {}
                        Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                        }
                        Err(e) => {
                            return self
                                .finish(io, Some(self.lost(&format!("sending failed: {e}"))))
                        }
                    }
                }
                self.set_state(State::Open, |inbox| {
                    inbox.subprotocol = subprotocol;
                    inbox.opened = true;
                });
                self.flush(io);
                self.pump(io);
            }
            Err(HandshakeError::Interrupted(hs)) => io.phase = Phase::Handshaking(Box::new(hs)),
            Err(HandshakeError::Failure(e)) => self.finish(io, Some(self.handshake_error(e))),
        }
    }

    fn handshake_error(&self, e: tungstenite::Error) -> Error {
        match e {
            tungstenite::Error::Http(response) => {
                let status = response.status();
                let body = response
                    .body()
                    .as_deref()
                    .map(|b| {
                        let text = String::from_utf8_lossy(&b[..b.len().min(BODY_QUOTE)]);
                        let text = text.trim();
                        if text.is_empty() {
                            String::new()
                        } else {
                            format!("; body: {text:?}")
                        }
                    })
                    .unwrap_or_default();
                Error::new(
                    ErrorKind::HandshakeFailed,
                    format!(
                        "{} refused the WebSocket upgrade with HTTP {} {}{body}",
                        self.url(),
                        status.as_u16(),
                        status.canonical_reason().unwrap_or("")
                    ),
                )
            }
            tungstenite::Error::Io(e) => self.lost(&format!("during the HTTP upgrade: {e}")),
            tungstenite::Error::Protocol(
                tungstenite::error::ProtocolError::HandshakeIncomplete,
            ) => Error::new(
                ErrorKind::HandshakeFailed,
                format!(
                    "{} closed the connection before answering the HTTP upgrade",
                    self.url()
                ),
            ),
            other => Error::new(
                ErrorKind::HandshakeFailed,
                format!("{} gave an invalid upgrade response: {other}", self.url()),
            ),
        }
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

    fn would_block(&self, queued: usize, len: usize) -> Error {
        Error::new(
            ErrorKind::WouldBlock,
            format!(
                "send queue full: {queued} bytes waiting, a {len}-byte message would exceed \
                 send_queue_max_bytes ({}); the message was not queued",
                self.options.send_queue_max_bytes
            ),
        )
    }

    /// Writes what is queued; sends our close frame once the queue has drained.
    fn flush(&self, io: &mut Io) {
        self.write_out(io);
        self.sync_unsent(io);
    }

    /// Publishes "everything accepted was written" for `flush_wait`, when that changes.
    fn sync_unsent(&self, io: &mut Io) {
        let unsent = io.queued > 0 && !matches!(io.phase, Phase::Done);
        if unsent != io.unsent {
            io.unsent = unsent;
            lock(&self.inbox).unsent = unsent;
            if !unsent {
                self.changed.notify_all();
            }
        }
    }

    fn write_out(&self, io: &mut Io) {
        let (Phase::Open(ws) | Phase::Lingering(ws)) = &mut io.phase else {
            return;
        };
        match ws.flush() {
            Ok(()) => io.queued = 0,
            Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) => {
                let lost = !matches!(io.phase, Phase::Lingering(_));
                self.finish(io, lost.then(|| self.lost(&format!("sending failed: {e}"))));
                return;
            }
        }
        if io.queued == 0 {
            if let Some(frame) = io.close_frame.take() {
                if let Phase::Open(ws) = &mut io.phase {
                    let _ = ws.close(Some(frame));
                }
            }
        }
    }

    /// Reads everything the socket has (up to the receive cap) and queues the messages.
    fn pump(&self, io: &mut Io) {
        let mut got = false;
        loop {
            let closing = io.closing_locally;
            let Phase::Open(ws) = &mut io.phase else {
                break;
            };
            if !closing {
                let mut inbox = lock(&self.inbox);
                if inbox.bytes >= self.options.recv_queue_max_bytes {
                    inbox.paused = true;
                    break;
                }
            }
            match ws.read() {
                Ok(m @ (Message::Text(_) | Message::Binary(_))) => {
                    if !closing {
                        let n = kind_of(&m).map_or(0, |(_, d)| d.len());
                        let mut inbox = lock(&self.inbox);
                        inbox.bytes += n;
                        inbox.messages.push_back(m);
                        got = true;
                    }
                }
                Ok(Message::Close(frame)) => {
                    if !closing && io.close_by.is_none() {
                        // The peer closes: tungstenite queued our reply; wait for TCP to end.
                        let status = match frame {
                            Some(f) => CloseStatus {
                                code: f.code.into(),
                                reason: f.reason.to_string(),
                            },
                            None => CloseStatus {
                                code: 1005,
                                reason: String::new(),
                            },
                        };
                        // tungstenite answers a close code the protocol forbids (e.g. 999,
                        // 1005) with 1002 and hands us that reply instead of the peer's frame.
                        let forbidden =
                            status.code == 1002 && status.reason == FORBIDDEN_CLOSE_CODE_REPLY;
                        let because = if forbidden {
                            format!(
                                "connection to {}: protocol violation by the peer: its close \
                                 frame carried a close code the protocol forbids; closed the \
                                 connection with 1002",
                                self.url()
                            )
                        } else {
                            format!(
                                "{} closed the connection with code {} {:?}",
                                self.url(),
                                status.code,
                                status.reason
                            )
                        };
                        io.close_by = Some(Instant::now() + LINGER);
                        io.next_ping = None;
                        io.silence_deadline = None;
                        io.poke = true;
                        self.set_state(State::Closed, |inbox| {
                            inbox.peer_close = Some(status);
                            if forbidden {
                                inbox.ending =
                                    Some(Error::new(ErrorKind::ProtocolError, because.clone()));
                            }
                            inbox.closed_because = Some(because);
                        });
                    }
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                    self.finish(io, None);
                    break;
                }
                Err(e) => {
                    self.fail_read(io, e);
                    break;
                }
            }
        }
        if let Phase::Lingering(ws) = &mut io.phase {
            let mut sink = [0u8; 4096];
            loop {
                match ws.get_mut().read(&mut sink) {
                    Ok(0) => break self.finish(io, None),
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(_) => break self.finish(io, None),
                }
            }
        }
        self.flush(io);
        if got {
            self.changed.notify_all();
        }
    }

    /// A read error ended the connection: classify it, and send the close code it calls for.
    fn fail_read(&self, io: &mut Io, e: tungstenite::Error) {
        use tungstenite::error::{CapacityError, ProtocolError};
        let (kind, code, what) = match e {
            tungstenite::Error::Capacity(CapacityError::MessageTooLong { size, max_size }) => (
                ErrorKind::MessageTooBig,
                CloseCode::Size,
                format!(
                    "received a message of {size} bytes, larger than max_message_size \
                     ({max_size} bytes); closed the connection with 1009"
                ),
            ),
            tungstenite::Error::Capacity(c) => (
                ErrorKind::MessageTooBig,
                CloseCode::Size,
                format!("{c}; closed the connection with 1009"),
            ),
            tungstenite::Error::Utf8(_) => (
                ErrorKind::ProtocolError,
                CloseCode::Invalid,
                "received a text message that is not valid UTF-8; closed the connection with 1007"
                    .to_string(),
            ),
            tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
                let err = self.lost("the peer closed TCP without a close handshake");
                return self.finish(io, Some(err));
            }
            tungstenite::Error::Io(e) => {
                let err = self.lost(&e.to_string());
                return self.finish(io, Some(err));
            }
            tungstenite::Error::Protocol(p) => (
                ErrorKind::ProtocolError,
                CloseCode::Protocol,
                format!("protocol violation by the peer: {p}; closed the connection with 1002"),
            ),
            other => (
                ErrorKind::ProtocolError,
                CloseCode::Protocol,
                format!("protocol violation by the peer: {other}; closed the connection with 1002"),
            ),
        };
        let err = Error::new(kind, format!("connection to {}: {what}", self.url()));
        let Phase::Open(mut ws) = std::mem::replace(&mut io.phase, Phase::Idle) else {
            unreachable!("fail_read is only called while open")
        };
        let _ = ws.close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from_static(""),
        }));
        let _ = ws.get_ref().tcp().shutdown(Shutdown::Write);
        io.phase = Phase::Lingering(ws);
        io.close_by = Some(Instant::now() + LINGER);
        io.next_ping = None;
        io.silence_deadline = None;
        io.poke = true;
        let mut inbox = lock(&self.inbox);
        inbox.closed_because = Some(format!("connection closed: {}", err.message()));
        inbox.ending = Some(err);
        inbox.state = State::Closed;
        drop(inbox);
        self.fd.store(wait::NO_FD, Ordering::Release);
        self.changed.notify_all();
        self.waker.wake();
    }

    /// Keepalive and deadlines.
    fn on_timer(&self, io: &mut Io, now: Instant) {
        self.check_connect_deadline(io, now);
        if io.close_by.is_some_and(|d| now >= d) {
            return self.finish(io, None);
        }
        let Phase::Open(ws) = &mut io.phase else {
            return;
        };
        let received = ws.get_ref().received();
        if let Some((deadline, at_ping)) = io.silence_deadline {
            if received != at_ping {
                io.silence_deadline = None;
            } else if now >= deadline {
                let ms = self.options.pong_timeout.as_millis();
                let err = self.lost(&format!(
                    "no pong or other data from the peer within {ms} ms of a ping \
                     (pong_timeout_ms)"
                ));
                return self.finish(io, Some(err));
            }
        }
        if let (Some(at), Some(interval)) = (io.next_ping, self.options.ping_interval) {
            if now >= at {
                match ws.write(Message::Ping(Bytes::new())) {
                    Ok(()) => {}
                    Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => {
                        let err = self.lost(&format!("sending a ping failed: {e}"));
                        return self.finish(io, Some(err));
                    }
                }
                if io.silence_deadline.is_none() {
                    io.silence_deadline = Some((now + self.options.pong_timeout, received));
                }
                io.next_ping = Some(now + interval);
                self.flush(io);
            }
        }
    }
}

pub(super) fn close_frame(code: u16, reason: &str) -> Result<CloseFrame> {
    let sendable = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
    if !sendable {
        return Err(Error::invalid(format!(
            "close code {code} cannot be sent: use 1000 (normal), 1001 (going away), \
             1002-1003, 1007-1014, or an application code in 3000-4999"
        )));
    }
    if reason.len() > 123 {
        return Err(Error::invalid(format!(
            "close reason is {} bytes; at most 123 bytes of UTF-8 fit in a close frame",
            reason.len()
        )));
    }
    Ok(CloseFrame {
        code: CloseCode::from(code),
        reason: Utf8Bytes::from(reason),
    })
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
                let fd = wait::fd_of(hs.get_ref().get_ref().tcp());
                self.drive_handshake(&mut io, *hs, fd);
            }
            Phase::Open(_) | Phase::Lingering(_) => {
                if readable && !self.reader.load(Ordering::Acquire) {
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
