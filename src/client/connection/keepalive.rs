//! Timers: our own keepalive pings and the silence deadline, the connect deadline, and the end
//! of a linger.

use super::*;

impl Shared {
    /// Keepalive and deadlines.
    pub(super) fn on_timer(&self, io: &mut Io, now: Instant) {
        self.check_connect_deadline(io, now);
        if io.close_by.is_some_and(|d| now >= d) {
            // Our own close in the background (`close_in_background`) still unanswered: say
            // so, for whoever waits for it (`wsb_shutdown`).
            let unanswered =
                io.closing_locally && matches!(&io.phase, Phase::Open(ws) if ws.can_read());
            let err = unanswered.then(|| {
                Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "the close handshake with {} did not complete in time; the connection \
                         was dropped",
                        self.url()
                    ),
                )
            });
            return self.finish(io, err);
        }
        if io.polls.take_reads_back(now) {
            // No `recv` read the socket lately: the I/O thread reads again.
            self.update_interest(io);
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
                // Reading held: the peer may well be sending, but it reads nothing we send.
                let held = match io.read_held {
                    true => format!(
                        "; the peer does not read what we send: more than \
                         send_queue_max_bytes ({}) waited to be written, so its data was \
                         not read",
                        self.options.send_queue_max_bytes
                    ),
                    false => String::new(),
                };
                let err = self.lost(&format!(
                    "no pong or other data from the peer within {ms} ms of a ping \
                     (pong_timeout_ms){held}"
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
