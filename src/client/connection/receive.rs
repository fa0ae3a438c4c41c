//! Receiving: reading the socket into the inbox (`pump`), and handing messages out (`recv`).
//!
//! A `recv` that has to wait polls the socket on its own thread (see `wait.rs`): the I/O thread
//! leaves reading to it meanwhile, so a lockstep round trip costs no thread hop.

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
            State::Closed | State::Closing => Some(Err(self.closed_error_locked(&inbox).into())),
            State::Connecting | State::Open => None,
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
        self.poll_socket(
            Direction::Read,
            deadline,
            |_, me| {
                let inbox = lock(&me.inbox);
                inbox.messages.is_empty() && inbox.ending.is_none() && inbox.state == State::Open
            },
            |io, me| {
                // Read what came (also a close reply when `close` woke us). Whatever the socket
                // still holds afterwards is found by the next `recv`'s poll, or by the I/O thread
                // when it takes reading back: registering read readiness reports data waiting.
                if let Phase::Open(ws) = &mut io.phase {
                    ws.get_mut().set_short_read_ends_pump(true);
                }
                me.pump(io);
                if let Phase::Open(ws) = &mut io.phase {
                    ws.get_mut().set_short_read_ends_pump(false);
                }
                io.last_direct_read = Instant::now();
                if !io.read_parked {
                    // The I/O thread must learn when to take reading back (once per run).
                    io.read_parked = true;
                    io.poke = true;
                }
            },
        )
    }

    pub(super) fn wait_on_inbox(&self, deadline: Option<Instant>) {
        let inbox = lock(&self.inbox);
        if inbox.messages.is_empty()
            && inbox.ending.is_none()
            && matches!(inbox.state, State::Open | State::Connecting)
        {
            drop(self.wait_changed(inbox, deadline));
        }
    }

    /// Reads everything the socket has (up to the receive cap) and queues the messages.
    pub(super) fn pump(&self, io: &mut Io) {
        // Whether a thread waits for the messages this pump queues.
        let mut waiting = false;
        let cap = self.options.recv_queue_max_bytes;
        // At the receive cap, reading stops (and whoever drains the inbox resumes it); while our
        // own close is under way, incoming messages are discarded and there is no cap.
        let mut full = !io.closing_locally && matches!(io.phase, Phase::Open(_)) && {
            let mut inbox = lock(&self.inbox);
            inbox.paused = inbox.bytes >= cap;
            inbox.paused
        };
        while !full {
            let closing = io.closing_locally;
            let Phase::Open(ws) = &mut io.phase else {
                break;
            };
            match ws.read() {
                Ok(m @ (Message::Text(_) | Message::Binary(_))) => {
                    if !closing {
                        let n = kind_of(&m).map_or(0, |(_, d)| d.len());
                        let mut inbox = lock(&self.inbox);
                        inbox.bytes += n;
                        inbox.messages.push_back(m);
                        waiting |= inbox.waiters > 0;
                        inbox.paused = inbox.bytes >= cap;
                        full = inbox.paused;
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
                        Self::linger(io);
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
        if waiting {
            self.changed.notify_all();
        }
    }

    /// A read error ended the connection: classify it, and send the close code it calls for.
    pub(super) fn fail_read(&self, io: &mut Io, e: tungstenite::Error) {
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
        Self::linger(io);
        let mut inbox = lock(&self.inbox);
        Self::mark_closed(&mut inbox, Some(err));
        self.notify(inbox);
        self.fd.store(wait::NO_FD, Ordering::Release);
        self.waker.wake();
    }
}
