//! What an env does when a link ends or a connect fails: finished (1000), refused for good, or
//! retried with a backoff that doubles; giving up after `reconnect_give_up`; and, with a lobby,
//! leaving a slot that is gone for good to ask the lobby for another one.

use super::error::{Error, ErrorKind, Result};
use super::event::{Event, EventKind};
use super::spec::PROTOCOL_VERSION;
use super::state::{lock, Link, REFUSING_CLOSE_CODES};
use super::Env;
use crate::client::{self, CloseStatus, Connection};
use std::time::{Duration, Instant};

impl Env {
    /// The link ended with `e`: finished, refused for good, or reconnect.
    pub(super) fn link_down(&mut self, c: &Connection, e: client::Error) -> Result<Event> {
        *lock(&self.shared.current) = None;
        if self.shared.is_closed() {
            return Err(Env::closed_error());
        }
        let status = match (e.kind(), c.close_status()) {
            (client::ErrorKind::Closed, Some(s)) => s,
            _ => CloseStatus {
                code: 1006,
                reason: e.message().to_string(),
            },
        };
        self.close_status = Some(status.clone());
        let (code, reason) = (status.code, status.reason.as_str());
        let closed = e.kind() == client::ErrorKind::Closed;
        let mut event = self.event(EventKind::Disconnected);
        event.close_code = code;
        event.cause = Some(e.kind());
        self.fresh_connection();
        if closed && code == 1000 {
            self.link = Link::Ended(Error::client(
                client::ErrorKind::Closed,
                format!(
                    "training finished: the trainer closed the connection with 1000 {reason:?}"
                ),
            ));
            event.kind = EventKind::Finished;
            event.cause = None;
            return Ok(event);
        }
        let fatal = if closed && code == 4400 && reason.contains("protocol version") {
            Some(Error::new(
                ErrorKind::VersionMismatch,
                format!(
                    "the trainer does not speak this game's protocol version {PROTOCOL_VERSION}: \
                     it closed the connection with 4400 {reason:?}"
                ),
            ))
        } else if closed && REFUSING_CLOSE_CODES.contains(&code) {
            Some(Error::new(
                ErrorKind::Refused,
                format!(
                    "the trainer at {} refused this game: {code} {reason}",
                    self.shown
                ),
            ))
        } else if e.kind() == client::ErrorKind::MessageTooBig {
            Some(e.into())
        } else {
            None
        };
        // With a lobby, a slot that no longer exists (4404) or that another game holds (4409)
        // is left for good: the env asks the lobby for another one.
        let leave = self.lobby.is_some() && closed && matches!(code, 4404 | 4409);
        if let Some(err) = fatal.filter(|_| !leave) {
            self.link = Link::Ended(err.clone());
            return Err(err);
        }
        // A connection the trainer used is retried at once; one it dropped before any request
        // (4409: the slot is still held) backs off like a failed attempt.
        let mut at = Instant::now();
        if !self.served {
            at += self.backoff.next_delay();
        }
        self.link = Link::Wait(at);
        self.down_since = Instant::now();
        if let Some(lobby) = &mut self.lobby {
            lobby.slot_lost();
        }
        if leave {
            self.back_to_lobby(at);
        }
        Ok(event)
    }

    /// A connect attempt failed: retry later, or stop for errors that retrying cannot fix.
    pub(super) fn failed_attempt(&mut self, e: client::Error) -> Result<()> {
        *lock(&self.shared.current) = None;
        if self.shared.is_closed() {
            return Err(Env::closed_error());
        }
        if matches!(
            e.kind(),
            client::ErrorKind::InvalidArgument | client::ErrorKind::TlsFailed
        ) {
            let e = Error::from(e);
            self.link = Link::Ended(e.clone());
            return Err(e);
        }
        let status = e.http_status();
        if let Some(lobby) = &self.lobby {
            if lobby.searching {
                // The lobby checks the token as the hub does.
                if let Some(status @ (401 | 403 | 404)) = status {
                    let e = Error::new(
                        ErrorKind::Refused,
                        format!(
                            "the lobby at {} refused this game with HTTP {status}: {}",
                            lobby.shown,
                            e.message()
                        ),
                    );
                    self.link = Link::Ended(e.clone());
                    return Err(e);
                }
                self.last_failure = Some(e);
                self.backoff();
                return Ok(());
            }
            // The assigned slot no longer exists (404, 410), or the reverse proxy in front of
            // the hubs cannot reach its hub (502, 504: the hub is down or cut off, and the lobby
            // knows which hubs are alive): ask the lobby for another one (after the backoff, so
            // that a lobby that keeps assigning it is not asked in a tight loop).
            if matches!(status, Some(404 | 410 | 502 | 504)) {
                self.last_failure = Some(e);
                let at = self.backoff();
                self.back_to_lobby(at);
                return Ok(());
            }
        }
        // The hub checks the token before the upgrade: 401 (or 403 from a proxy) is a wrong or
        // missing token, 404 a slot it does not serve. Retrying cannot fix either; 503 (the hub
        // at its connection limit) and every other status are retried with backoff.
        if let Some(status @ (401 | 403 | 404)) = status {
            let e = Error::new(
                ErrorKind::Refused,
                format!(
                    "the trainer at {} refused this game with HTTP {status}: {}",
                    self.shown,
                    e.message()
                ),
            );
            self.link = Link::Ended(e.clone());
            return Err(e);
        }
        self.last_failure = Some(e);
        let at = self.backoff();
        // The assigned slot has been unreachable for `lobby_return_ms`: ask the lobby for
        // another one (after the same backoff).
        if self
            .lobby
            .as_ref()
            .is_some_and(|l| l.slot_gone_too_long(Instant::now()))
        {
            self.back_to_lobby(at);
        }
        Ok(())
    }

    /// The lobby's connection ended without an assignment: retry with backoff, unless the lobby
    /// refused this game for good.
    pub(super) fn lobby_down(&mut self, c: &Connection, e: client::Error) -> Result<()> {
        *lock(&self.shared.current) = None;
        if self.shared.is_closed() {
            return Err(Env::closed_error());
        }
        let shown = &self
            .lobby
            .as_ref()
            .expect("searching implies a lobby")
            .shown;
        if let (client::ErrorKind::Closed, Some(status)) = (e.kind(), c.close_status()) {
            if REFUSING_CLOSE_CODES.contains(&status.code) {
                let err = Error::new(
                    ErrorKind::Refused,
                    format!(
                        "the lobby at {shown} refused this game: {} {}",
                        status.code, status.reason
                    ),
                );
                self.close_status = Some(status);
                self.link = Link::Ended(err.clone());
                return Err(err);
            }
        }
        if e.kind() == client::ErrorKind::MessageTooBig {
            let err = Error::from(e);
            self.link = Link::Ended(err.clone());
            return Err(err);
        }
        self.last_failure = Some(e);
        self.backoff();
        Ok(())
    }

    /// The next attempt waits out the backoff, which doubles; returns when it is due.
    fn backoff(&mut self) -> Instant {
        let at = Instant::now() + self.backoff.next_delay();
        self.link = Link::Wait(at);
        at
    }

    /// Leaves the assigned slot for good: the next attempt (at `at`) asks the lobby again.
    fn back_to_lobby(&mut self, at: Instant) {
        let lobby = self.lobby.as_mut().expect("only with a lobby");
        lobby.go_back(&self.url);
        self.link = Link::Wait(at);
    }

    pub(super) fn give_up(&mut self, limit: Duration) {
        let (kind, last) = match &self.last_failure {
            // A connect that timed out is a failed connect: Timeout means "nothing yet".
            Some(e) if e.kind() == client::ErrorKind::Timeout => {
                (client::ErrorKind::ConnectFailed, e.message().to_string())
            }
            Some(e) => (e.kind(), e.message().to_string()),
            None => (client::ErrorKind::ConnectFailed, "none".to_string()),
        };
        let (last, what) = match &self.lobby {
            Some(l) if l.searching => {
                let last = match (&self.last_failure, &self.link) {
                    (None, Link::Open(_)) => format!(
                        "none: the lobby had no free slot for env name {:?}",
                        l.env_name()
                    ),
                    _ => last,
                };
                (last, format!("get a slot from the lobby at {}", l.shown))
            }
            _ if self.connections == 0 => (last, format!("connect to {}", self.shown)),
            _ => (last, format!("reconnect to {}", self.shown)),
        };
        // A lobby still holding the env's request hears that it left.
        if let Some(c) = lock(&self.shared.current).take() {
            let _ = c.close(1000, "the game gave up", Some(Duration::ZERO));
        }
        self.link = Link::Ended(Error::client(
            kind,
            format!(
                "gave up trying to {what} after {} s without a connection ({} attempts; \
                 reconnect_give_up_ms); last error: {last}",
                limit.as_secs_f64(),
                self.attempts
            ),
        ));
    }
}
