//! Closing: our close handshake, bounded by the caller's timeout; the peer's close; and the
//! close frame rules.

use super::*;

impl Shared {
    /// Starts the close handshake and waits for it (bounded by `timeout`). The connection is
    /// closed and its socket gone when this returns, whatever the result.
    pub(crate) fn close(&self, code: u16, reason: &str, timeout: Option<Duration>) -> Result<()> {
        let frame = close_frame(code, reason)?;
        let deadline = timeout.map(|t| Instant::now() + t);
        self.begin_close(frame, None);
        self.wait_close(timeout, deadline)
    }

    /// Starts the close handshake and returns at once: the I/O thread finishes it, and drops
    /// the connection at `timeout` (`None`: no limit) if the peer has not answered by then,
    /// recording a `Timeout` ending (see `on_timer`). `wait_gone` waits for the end.
    pub(crate) fn close_in_background(
        &self,
        code: u16,
        reason: &str,
        timeout: Option<Duration>,
    ) -> Result<()> {
        let frame = close_frame(code, reason)?;
        self.begin_close(frame, timeout.map(|t| Instant::now() + t));
        Ok(())
    }

    /// Waits until the socket is gone, or `deadline`; `true` if it is gone.
    pub(crate) fn wait_gone(&self, deadline: Option<Instant>) -> bool {
        let mut inbox = self.inbox.lock();
        while !inbox.socket_gone() {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return false;
            }
            inbox = self.inbox.wait(inbox, deadline);
        }
        true
    }

    /// Sends our close frame (after the queued messages) or abandons a connect; `close_by`:
    /// the I/O thread's deadline for the handshake (`None`: the caller waits itself).
    fn begin_close(&self, frame: CloseFrame, close_by: Option<Instant>) {
        {
            let mut io = lock(&self.io);
            // The I/O thread reads whatever comes now: the close reply, the end of TCP.
            io.polls.unpark_reads();
            self.update_interest(&mut io);
            // A read error `recv` has not reported yet: that failure, with its code, is the close.
            self.fail_held(&mut io);
            match &io.phase {
                Phase::Open(ws) if ws.can_write() && !io.closing_locally => {
                    io.closing_locally = true;
                    // Without `close_by`, `close` enforces its own deadline (`wait_close`), so
                    // that it can tell a completed close handshake from one that timed out.
                    io.close_by = close_by;
                    io.close_frame = Some(frame);
                    io.stop_keepalive();
                    self.inbox.closing();
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
                    self.inbox.set_closed_because(format!(
                        "connection to {} was closed while connecting",
                        self.url()
                    ));
                }
                Phase::Done => {}
            }
            io.poke = true;
            self.poke_if_needed(&mut io);
        }
        self.direct.wake();
    }

    /// The second half of `close`: waits for the handshake until `deadline`, then drops the
    /// connection.
    fn wait_close(&self, timeout: Option<Duration>, deadline: Option<Instant>) -> Result<()> {
        let mut inbox = self.inbox.lock();
        while !inbox.socket_gone() {
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
            inbox = self.inbox.wait(inbox, deadline);
        }
        Ok(())
    }

    /// The peer's close frame arrived (not in answer to ours): tungstenite queued our reply;
    /// the connection is Closed for its users and waits for TCP to end.
    pub(super) fn peer_closed(&self, io: &mut Io, frame: Option<CloseFrame>) {
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
        // tungstenite answers a close code the protocol forbids (e.g. 999, 1005) with 1002 and
        // hands us that reply instead of the peer's frame.
        let forbidden = status.code == 1002 && status.reason == FORBIDDEN_CLOSE_CODE_REPLY;
        let because = if forbidden {
            format!(
                "connection to {}: protocol violation by the peer: its close frame carried a \
                 close code the protocol forbids; closed the connection with 1002",
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
        // The peer's code is then unknown (tungstenite kept only its reply): report none
        // (1005), never our own reply as the peer's.
        let status = match forbidden {
            true => CloseStatus {
                code: 1005,
                reason: String::new(),
            },
            false => status,
        };
        Self::linger(io);
        let ending = forbidden.then(|| Error::new(ErrorKind::ProtocolError, because.clone()));
        self.inbox.peer_closed(status, because, ending);
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
