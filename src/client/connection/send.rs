//! Sending: accepting messages into the send queue and writing them to the socket.
//!
//! `send` writes on the caller's thread when the socket takes the bytes at once; what it does
//! not take stays queued (counted against `send_queue_max_bytes`) and the I/O thread writes it
//! when the socket becomes writable. While connecting, messages wait in `Io::pending`.

use super::*;

impl Shared {
    pub(crate) fn send(&self, data: &[u8], kind: Kind) -> Result<()> {
        frame::check_outgoing(data, kind, self.options.max_message_size)?;
        let mut guard = lock(&self.io);
        let io = &mut *guard;
        let result = self.enqueue(io, data, kind);
        self.sync_unsent(io);
        self.poke_if_needed(io);
        result
    }

    /// Encodes one message into the send queue (while connecting: into `Io::pending`) and, once
    /// open, hands what the socket takes to it at once; `io` is locked.
    pub(super) fn enqueue(&self, io: &mut Io, data: &[u8], kind: Kind) -> Result<()> {
        let queued = io.queued();
        let full = queued > 0 && queued + data.len() > self.options.send_queue_max_bytes;
        match &mut io.phase {
            _ if io.closing_locally => Err(self.closed_error()),
            connecting!() if full => Err(self.would_block(queued, data.len())),
            connecting!() => {
                frame::encode(&mut io.pending, kind, data);
                Ok(())
            }
            Phase::Open(ws) if ws.can_write() && full => Err(self.would_block(queued, data.len())),
            Phase::Open(ws) if ws.can_write() => {
                if let Err(e) = ws.get_mut().queue(|out| frame::encode(out, kind, data)) {
                    let err = self.lost(&format!("sending failed: {e}"));
                    self.finish(io, Some(err.clone()));
                    return Err(err);
                }
                self.update_interest(io);
                Ok(())
            }
            _ => Err(self.closed_error()),
        }
    }

    /// Waits until every message accepted so far has been written to the socket.
    pub(crate) fn flush_wait(&self, timeout: Option<Duration>) -> Result<()> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut inbox = self.inbox.lock();
        loop {
            if !matches!(inbox.state(), State::Connecting | State::Open) {
                return Err(inbox.closed_error(self.url()));
            }
            if !self.inbox.unsent() {
                return Ok(());
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                let ms = timeout.unwrap_or_default().as_millis();
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!("queued messages were not all written to the socket within {ms} ms"),
                ));
            }
            if inbox.state() == State::Open {
                // Write on this thread while waiting for room; else wait for the I/O thread.
                drop(inbox);
                let wrote = self.write_on_socket(deadline);
                inbox = self.inbox.lock();
                if wrote || !(self.inbox.unsent() && inbox.state() == State::Open) {
                    continue;
                }
            }
            inbox = self.inbox.wait(inbox, deadline);
        }
    }

    /// Waits for room in the socket on this thread and writes the queue itself, like
    /// `wait_on_socket` for reading: no hop through the I/O thread, which stops watching writes
    /// meanwhile. `false` if not possible now (another thread does it already, no direct wait
    /// on this platform): the caller then waits for the I/O thread.
    fn write_on_socket(&self, deadline: Option<Instant>) -> bool {
        let Some((mut io, wait)) = self.begin_direct(Direction::Write) else {
            return false;
        };
        self.flush(&mut io);
        if io.drained() {
            self.end_direct(&mut io, Direction::Write);
            return true;
        }
        let mut io = self.wait_direct(io, wait, deadline);
        self.flush(&mut io);
        self.end_direct(&mut io, Direction::Write);
        true
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

    /// Writes what is queued; sends our close frame once the queue has drained; resumes
    /// reading held back for a full output (`Io::read_held`) once there is room again.
    pub(super) fn flush(&self, io: &mut Io) {
        self.write_out(io);
        self.sync_unsent(io);
        if io.read_held && self.output_has_room(io) {
            io.read_held = false;
            self.pump(io);
        }
    }

    /// Publishes "everything accepted was written" for `flush_wait`, when that changes.
    pub(super) fn sync_unsent(&self, io: &mut Io) {
        self.inbox.set_unsent(!io.drained());
    }

    pub(super) fn write_out(&self, io: &mut Io) {
        let (Phase::Open(ws) | Phase::Lingering(ws)) = &mut io.phase else {
            return;
        };
        match ws.flush() {
            Ok(()) => {}
            Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => {
                let lost = !matches!(io.phase, Phase::Lingering(_));
                self.finish(io, lost.then(|| self.lost(&format!("sending failed: {e}"))));
                return;
            }
        }
        if io.close_frame.is_some() && io.drained() {
            if let (Some(frame), Phase::Open(ws)) = (io.close_frame.take(), &mut io.phase) {
                let _ = ws.close(Some(frame));
            }
        }
        self.update_interest(io);
    }
}
