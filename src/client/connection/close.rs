//! Closing: our close handshake, bounded by the caller's timeout, and the close frame rules.

use super::*;

impl Shared {
    /// Starts the close handshake and waits for it (bounded by `timeout`). The connection is
    /// closed and its socket gone when this returns, whatever the result.
    pub(crate) fn close(&self, code: u16, reason: &str, timeout: Option<Duration>) -> Result<()> {
        let frame = close_frame(code, reason)?;
        let deadline = timeout.map(|t| Instant::now() + t);
        {
            let mut io = lock(&self.io);
            // The I/O thread reads whatever comes now: the close reply, the end of TCP.
            io.read_parked = false;
            self.update_interest(&mut io);
            match &io.phase {
                Phase::Open(ws) if ws.can_write() && !io.closing_locally => {
                    io.closing_locally = true;
                    // No `close_by`: this call enforces its own deadline below, so that it
                    // can tell a completed close handshake from one that timed out.
                    io.close_frame = Some(frame);
                    Self::stop_keepalive(&mut io);
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
            inbox = self.wait_changed(inbox, deadline);
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
}

pub(crate) fn close_frame(code: u16, reason: &str) -> Result<CloseFrame> {
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
