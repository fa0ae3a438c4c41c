//! Receiving: reading the socket into the inbox (`pump`), and handing messages out (`recv`).
//!
//! A `recv` that has to wait polls the socket on its own thread (`direct.rs`, `wait.rs`): the
//! I/O thread leaves reading to it meanwhile, so a lockstep round trip costs no thread hop.
//! The read path, one way: `recv` -> `take_message` (the inbox) or `wait_on_socket` (a direct
//! wait, then `pump` on this thread) or `wait_on_inbox` (the I/O thread pumps). Read errors are
//! in `read_error.rs`, the peer's close frame in `close.rs`.

use super::*;

impl Shared {
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
            if deadline.is_some_and(|d| Instant::now() >= d) {
                if !pumped {
                    // A last look at the socket: the I/O thread may not have read it yet.
                    self.pump_from_user();
                    pumped = true;
                    continue;
                }
                return Err(RecvError::Other(Error::new(
                    ErrorKind::Timeout,
                    "no message arrived within the timeout",
                )));
            }
            if self.wait_on_socket(deadline) {
                pumped = true; // it reads the socket once the wait ends
                continue;
            }
            if !pumped {
                self.pump_from_user();
                pumped = true;
                continue;
            }
            self.wait_on_inbox(deadline);
            pumped = false;
        }
    }

    /// Hands out the next message, the ending error, or `Closed`; `None` if there is nothing.
    pub(super) fn take_message(
        &self,
        buf: &mut [u8],
    ) -> Option<std::result::Result<(usize, Kind), RecvError>> {
        let mut inbox = self.inbox.lock();
        match inbox.take(buf, self.options.recv_queue_max_bytes) {
            Some(Ok(taken)) => {
                drop(inbox);
                if taken.resume {
                    self.pump_from_user();
                }
                return Some(Ok((taken.len, taken.kind)));
            }
            Some(Err(too_small)) => return Some(Err(RecvError::TooSmall(too_small))),
            None => {}
        }
        if inbox.failure_held() {
            // The messages received before a read error are all out: fail now, after whatever
            // the application sent in answer to them (see `hold_or_fail`).
            drop(inbox);
            self.fail_held(&mut lock(&self.io));
            inbox = self.inbox.lock();
        }
        if let Some(e) = inbox.take_ending() {
            // For `recv`, a timeout means "no message yet, the connection is fine": a connect
            // that timed out ended the connection, so it is reported as a connect failure.
            let e = match e.kind() {
                ErrorKind::Timeout => Error::new(ErrorKind::ConnectFailed, e.message().to_string()),
                _ => e,
            };
            return Some(Err(e.into()));
        }
        match inbox.state() {
            State::Closed | State::Closing => Some(Err(inbox.closed_error(self.url()).into())),
            State::Connecting | State::Open | State::Reconnecting => None,
        }
    }

    pub(super) fn pump_from_user(&self) {
        let mut io = lock(&self.io);
        self.pump(&mut io);
        self.poke_if_needed(&mut io);
    }

    /// Waits by polling the socket on this thread (see `wait.rs`), then reads what came.
    /// `false` if not possible now (not open, another thread is already polling, no direct
    /// wait on this platform): the caller then waits for the I/O thread instead.
    ///
    /// While this thread polls, the I/O thread is not asked for read readiness at all, so a
    /// message wakes exactly one thread, the one that wants it. Every pump reads until the
    /// socket would block (or the inbox is full, and then there is a message to hand out), so
    /// with the lock held and the inbox empty the socket has nothing unread: polling it cannot
    /// miss data that arrived before.
    pub(super) fn wait_on_socket(&self, deadline: Option<Instant>) -> bool {
        let Some((mut io, wait)) = self.begin_direct(Direction::Read) else {
            return false;
        };
        let must_wait = {
            let inbox = self.inbox.lock();
            inbox.nothing_for_recv() && inbox.state() == State::Open
        };
        if !must_wait {
            self.end_direct(&mut io, Direction::Read);
            return true;
        }
        let mut io = self.wait_direct(io, wait, deadline);
        // Read what came (also a close reply when `close` woke us). Whatever the socket still
        // holds afterwards is found by the next `recv`'s poll, or by the I/O thread when it
        // takes reading back: registering read readiness reports data waiting.
        self.read_after_direct_wait(&mut io);
        self.end_direct(&mut io, Direction::Read);
        true
    }

    /// Reads what the socket has after a direct wait (`pump`), a short read taken as the end of
    /// the data (see `Stream::set_short_read_ends_pump`), and parks reading (`Polls`).
    fn read_after_direct_wait(&self, io: &mut Io) {
        let (bytes, queued) = (io.received(), self.inbox.lock().message_count());
        io.set_short_read_ends_pump(true);
        self.pump(io);
        io.set_short_read_ends_pump(false);
        let partial = io.received() > bytes && self.inbox.lock().message_count() == queued;
        if io.polls.record_direct_read(partial) {
            // The I/O thread must learn when to take reading back (once per run).
            io.poke = true;
        }
    }

    pub(super) fn wait_on_inbox(&self, deadline: Option<Instant>) {
        let inbox = self.inbox.lock();
        if inbox.nothing_for_recv() && matches!(inbox.state(), State::Open | State::Connecting) {
            drop(self.inbox.wait(inbox, deadline));
        }
    }

    /// Reads everything the socket has (up to the receive cap, and while the output is under
    /// the send cap, see `Io::read_held`) and queues the messages.
    pub(super) fn pump(&self, io: &mut Io) {
        self.pump_once(io);
        // The output drained below the cap while reading was held: read on.
        while io.read_held && self.output_has_room(io) {
            io.read_held = false;
            self.pump_once(io);
        }
    }

    /// Whether the unsent output is within `send_queue_max_bytes`, so reading may go on.
    pub(super) fn output_has_room(&self, io: &Io) -> bool {
        io.queued() <= self.options.send_queue_max_bytes
    }

    fn pump_once(&self, io: &mut Io) {
        // Whether a thread waits for the messages this pump queues.
        let mut waiting = false;
        let cap = self.options.recv_queue_max_bytes;
        // At the receive cap, reading stops (and whoever drains the inbox resumes it); while our
        // own close is under way, incoming messages are discarded and there is no cap.
        let capped = !io.closing_locally && matches!(io.phase, Phase::Open(_));
        let mut full = self.inbox.reading_stops(capped, cap);
        while !full {
            let closing = io.closing_locally;
            if !self.output_has_room(io) {
                // The peer does not read what we write (our pongs to its pings among it).
                io.read_held = true;
                break;
            }
            let Phase::Open(ws) = &mut io.phase else {
                break;
            };
            match ws.read() {
                Ok(m @ (Message::Text(_) | Message::Binary(_))) => {
                    if !closing {
                        let (waits, at_cap) = self.inbox.lock().push(m, cap);
                        waiting |= waits;
                        full = at_cap;
                    }
                }
                Ok(Message::Close(frame)) => {
                    if !closing && io.close_by.is_none() {
                        self.peer_closed(io, frame);
                    }
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                    self.finish(io, None);
                    break;
                }
                Err(tungstenite::Error::Protocol(
                    tungstenite::error::ProtocolError::ReceivedAfterClosing,
                )) => {
                    // A frame after the peer's close frame: Python's websockets answers a ping
                    // with a pong while its close is under way (RFC 6455 forbids only data
                    // frames then). The close stands; what follows is discarded until TCP ends.
                    if let Phase::Open(ws) = std::mem::replace(&mut io.phase, Phase::Idle) {
                        io.phase = Phase::Lingering(ws);
                    }
                    if io.close_by.is_none() {
                        Self::linger(io);
                    }
                    break;
                }
                Err(e) => {
                    self.hold_or_fail(io, e);
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
        self.write_out(io);
        self.sync_unsent(io);
        if waiting {
            self.inbox.wake_waiters();
        }
    }
}
