//! Sending: accepting messages into the send queue and writing them to the socket.
//!
//! `send` writes on the caller's thread when the socket takes the bytes at once; what it does
//! not take stays queued (counted against `send_queue_max_bytes`) and the I/O thread writes it
//! when the socket becomes writable. While connecting, messages wait in `Io::pending`.

use super::*;

impl Shared {
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
    pub(super) fn enqueue(&self, io: &mut Io, message: Message, len: usize) -> Result<()> {
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

    pub(super) fn would_block(&self, queued: usize, len: usize) -> Error {
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
    pub(super) fn flush(&self, io: &mut Io) {
        self.write_out(io);
        self.sync_unsent(io);
    }

    /// Publishes "everything accepted was written" for `flush_wait`, when that changes.
    pub(super) fn sync_unsent(&self, io: &mut Io) {
        let unsent = io.queued > 0 && !matches!(io.phase, Phase::Done);
        if unsent != io.unsent {
            io.unsent = unsent;
            lock(&self.inbox).unsent = unsent;
            if !unsent {
                self.changed.notify_all();
            }
        }
    }

    pub(super) fn write_out(&self, io: &mut Io) {
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
}
