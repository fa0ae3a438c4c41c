//! The socket side of a connection, guarded by its `io` lock: where the connection is in its life
//! ([`Phase`]: resolving, connecting, tunnelling, securing, upgrading, open, lingering, done) and
//! the state machine's other fields ([`Io`]: queued output, timers, the close under way).

use super::polls::Polls;
use crate::client::stream::Stream;
use crate::client::tunnel::Tunnel;
use mio::net::TcpStream;
use std::net::SocketAddr;
use std::time::Instant;
use tungstenite::handshake::client::ClientHandshake;
use tungstenite::handshake::MidHandshake;
use tungstenite::protocol::{CloseFrame, WebSocket};

pub(super) type Handshake = MidHandshake<ClientHandshake<Stream>>;

pub(super) enum Phase {
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
pub(super) use connecting;

/// Everything the `io` lock guards. The step files (`connect.rs`, `send.rs`, `receive.rs`,
/// `close.rs`, `keepalive.rs`) are the state machine and work on these fields directly; who reads
/// and writes the open socket (a caller's thread or the I/O thread) is `polls`'s business.
pub(super) struct Io {
    pub phase: Phase,
    /// Messages accepted while connecting, already encoded as frames, sent in order once open.
    pub pending: Vec<u8>,
    /// Why earlier addresses failed, for the final error message.
    pub connect_errors: Vec<String>,
    /// Our keepalive: when to send the next ping.
    pub next_ping: Option<Instant>,
    /// Our keepalive: deadline for any byte from the peer, and the receive count at the ping.
    pub silence_deadline: Option<(Instant, u64)>,
    /// A close by the peer, or after an error, is under way: be Done by then (our own close
    /// is timed by `close` itself).
    pub close_by: Option<Instant>,
    /// `true` when the close was started by `close()`: incoming messages are then discarded.
    pub closing_locally: bool,
    /// Our close frame, sent once the send queue has drained.
    pub close_frame: Option<CloseFrame>,
    /// The I/O thread must look at this connection again (timers changed, or it finished).
    pub poke: bool,
    /// Which thread reads and writes the open socket, and what it is registered for.
    pub polls: Polls,
    /// Reading stopped because more than `send_queue_max_bytes` waits to be written (our
    /// answers to the peer's pings count): a peer that sends without reading what we answer
    /// gets TCP backpressure instead of growing our memory. `flush` resumes it once the output
    /// is back under the cap.
    pub read_held: bool,
}

impl Io {
    pub fn new() -> Io {
        Io {
            phase: Phase::Idle,
            pending: Vec::new(),
            connect_errors: Vec::new(),
            next_ping: None,
            silence_deadline: None,
            close_by: None,
            closing_locally: false,
            close_frame: None,
            poke: false,
            polls: Polls::new(),
            read_held: false,
        }
    }

    /// Bytes accepted by `send` and not yet handed to the socket.
    pub fn queued(&self) -> usize {
        match &self.phase {
            Phase::Open(ws) | Phase::Lingering(ws) => ws.get_ref().pending(),
            Phase::Done => 0,
            _ => self.pending.len(),
        }
    }

    /// `true` when everything accepted has been handed to the socket.
    pub fn drained(&self) -> bool {
        match &self.phase {
            Phase::Open(ws) | Phase::Lingering(ws) => ws.get_ref().drained(),
            Phase::Done => true,
            _ => self.pending.is_empty(),
        }
    }

    /// Bytes received on the open socket so far (0 when not open).
    pub fn received(&self) -> u64 {
        match &self.phase {
            Phase::Open(ws) => ws.get_ref().received(),
            _ => 0,
        }
    }

    /// See `Stream::set_short_read_ends_pump` (only while open).
    pub fn set_short_read_ends_pump(&mut self, on: bool) {
        if let Phase::Open(ws) = &mut self.phase {
            ws.get_mut().set_short_read_ends_pump(on);
        }
    }

    /// No more keepalive pings or silence checks (the connection is ending).
    pub fn stop_keepalive(&mut self) {
        self.next_ping = None;
        self.silence_deadline = None;
    }
}
