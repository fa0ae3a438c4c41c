//! How [`Env::next`] gets the next event: the loop over the link (connecting, open, waiting out
//! a backoff), the hello when a connection opens, and the lobby's part of it (ask for a slot,
//! take the one it assigns). What happens when a link ends is in `reconnect.rs`; a request
//! that arrives is handled in `request.rs`.

use super::error::{Error, ErrorKind, Result};
use super::event::{Event, EventKind};
use super::lobby;
use super::state::{cut, lock, remaining, Link, Stage};
use super::Env;
use crate::client::{self, Connection, Kind, RecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

impl Env {
    /// With the `lobby` option: the env is looking for a slot (its link is to the lobby).
    fn searching(&self) -> bool {
        self.lobby.as_ref().is_some_and(|l| l.searching)
    }

    pub(super) fn start_connect(&mut self) -> Result<()> {
        self.attempts += 1;
        let url = match &self.lobby {
            Some(l) if l.searching => &l.url,
            _ => &self.url,
        };
        match Connection::connect_async(url, self.options.connection.clone()) {
            Ok(c) => {
                let c = Arc::new(c);
                *lock(&self.shared.current) = Some(Arc::clone(&c));
                self.link = Link::Connecting(c);
                Ok(())
            }
            Err(e) => {
                let e = Error::from(e);
                self.link = Link::Ended(e.clone());
                Err(e)
            }
        }
    }

    /// Waits up to `timeout` (`None`: no limit; zero: just look) for what to do next.
    ///
    /// Errors: `Client(Timeout)` (nothing yet: call again), `TrainerProtocol`,
    /// `VersionMismatch`, `Refused`, `Client(Closed)` (after `Finished`, a fatal error, or
    /// [`Env::close`]), the last connect error when reconnecting gave up, and
    /// `Client(InvalidArgument)` when the previous event was not submitted.
    pub fn next(&mut self, timeout: Option<Duration>) -> Result<Event> {
        if self.shared.is_closed() {
            return Err(Env::closed_error());
        }
        match self.stage {
            Stage::Answer(kind) => {
                return Err(Error::invalid(format!(
                    "the {kind:?} event is not answered yet: call submit before asking for the next event"
                )))
            }
            Stage::Between => {
                let kind = if self.options.repeat_actions {
                    EventKind::Repeat
                } else {
                    EventKind::NoDecision
                };
                self.stage = Stage::Answer(kind);
                return Ok(self.event(kind));
            }
            Stage::AutoReset => {
                self.stage = Stage::Answer(EventKind::Reset);
                let mut event = self.event(EventKind::Reset);
                event.resets = self.resets;
                return Ok(event);
            }
            Stage::Idle => {}
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            if self.shared.is_closed() {
                return Err(Env::closed_error());
            }
            match &self.link {
                Link::Ended(e) => return Err(e.clone()),
                Link::Wait(at) => {
                    let (at, now) = (*at, Instant::now());
                    if let Some(limit) = self.options.reconnect_give_up {
                        if now >= self.down_since + limit {
                            self.give_up(limit);
                            continue;
                        }
                    }
                    if now >= at {
                        self.start_connect()?;
                        continue;
                    }
                    if deadline.is_some_and(|d| now >= d) {
                        return Err(self.timeout(timeout));
                    }
                    // Nothing to wait on while the trainer is away: wait out the backoff.
                    self.shared.sleep_until(deadline.map_or(at, |d| d.min(at)));
                }
                Link::Connecting(c) => match c.wait_open(remaining(deadline)) {
                    Ok(true) if self.searching() => self.lobby_opened(),
                    Ok(true) => return Ok(self.opened()),
                    Ok(false) => return Err(self.timeout(timeout)),
                    Err(e) => self.failed_attempt(e)?,
                },
                Link::Open(c) => {
                    let c = Arc::clone(c);
                    let searching = self.searching();
                    // The wait for a slot counts against `reconnect_give_up`, like a failed
                    // connect: the game has no slot all that time.
                    let give_up = match self.options.reconnect_give_up {
                        Some(limit) if searching => Some((limit, self.down_since + limit)),
                        _ => None,
                    };
                    let until = match (deadline, give_up) {
                        (Some(d), Some((_, g))) => Some(d.min(g)),
                        (d, g) => d.or(g.map(|g| g.1)),
                    };
                    match c.recv(&mut self.inbuf, remaining(until)) {
                        Ok((n, kind)) if searching => self.lobby_answer(&c, n, kind)?,
                        Ok((n, kind)) => return self.request(&c, n, kind),
                        Err(RecvError::TooSmall(t)) => self.inbuf.resize(t.needed, 0),
                        Err(RecvError::Other(e)) if e.kind() == client::ErrorKind::Timeout => {
                            match give_up {
                                Some((limit, at)) if Instant::now() >= at => self.give_up(limit),
                                _ => return Err(self.timeout(timeout)),
                            }
                        }
                        Err(RecvError::Other(e)) if searching => self.lobby_down(&c, e)?,
                        Err(RecvError::Other(e)) => return self.link_down(&c, e),
                    }
                }
            }
        }
    }

    fn timeout(&self, timeout: Option<Duration>) -> Error {
        let ms = timeout.unwrap_or_default().as_millis();
        let (what, shown) = match (&self.link, &self.lobby) {
            (Link::Open(_), Some(l)) if l.searching => ("no slot assigned by the lobby", &l.shown),
            (_, Some(l)) if l.searching => ("not connected to the lobby", &l.shown),
            (Link::Open(_), _) => ("no request from the trainer", &self.shown),
            _ => ("not connected to the trainer", &self.shown),
        };
        Error::client(
            client::ErrorKind::Timeout,
            format!("{what} within {ms} ms ({shown})"),
        )
    }

    /// A connection opened: say hello.
    fn opened(&mut self) -> Event {
        let Link::Connecting(c) = &self.link else {
            unreachable!("opened() follows a connect");
        };
        let c = Arc::clone(c);
        self.retired = None;
        self.connections += 1;
        self.served = false;
        self.down_since = Instant::now();
        self.close_status = None;
        // A send that fails here is reported by the next receive, which reconnects.
        let _ = c.send(self.hello.as_bytes(), Kind::Text);
        self.link = Link::Open(c);
        self.fresh_connection();
        let kind = if self.connections == 1 {
            EventKind::Connected
        } else {
            EventKind::Reconnected
        };
        self.event(kind)
    }

    /// Forgets everything tied to the previous connection.
    pub(super) fn fresh_connection(&mut self) {
        self.stage = Stage::Idle;
        self.same_step = false;
        self.final_infos.iter_mut().for_each(String::clear);
        self.ready.fill(false);
        self.after_answer();
    }

    /// The lobby's connection opened: ask for a slot.
    fn lobby_opened(&mut self) {
        let (Link::Connecting(c), Some(lobby)) = (&self.link, &self.lobby) else {
            unreachable!("lobby_opened() follows a connect to the lobby");
        };
        let c = Arc::clone(c);
        // A send that fails here is reported by the next receive, which retries.
        let _ = c.send(lobby.request().as_bytes(), Kind::Text);
        // What follows is the lobby's to answer: older failures are no longer the news.
        self.last_failure = None;
        self.link = Link::Open(c);
    }

    /// The lobby answered: connect to the slot it assigned (at once).
    fn lobby_answer(&mut self, c: &Arc<Connection>, n: usize, kind: Kind) -> Result<()> {
        let lobby = self.lobby.as_mut().expect("searching implies a lobby");
        match lobby::assignment(&self.inbuf[..n], kind) {
            Ok(url) => {
                lobby.assigned();
                // The lobby closes after an assignment: its close handshake finishes in the
                // background while the env connects to the slot.
                *lock(&self.shared.current) = None;
                self.retired = Some(Arc::clone(c));
                self.shown = crate::client::url::redact(&url);
                self.url = url;
                self.start_connect()
            }
            Err(m) => {
                let err = Error::new(
                    ErrorKind::TrainerProtocol,
                    format!("the lobby at {} broke the lobby protocol: {m}", lobby.shown),
                );
                let _ = c.close(4400, cut(err.message()), Some(Duration::from_millis(1000)));
                *lock(&self.shared.current) = None;
                self.link = Link::Ended(err.clone());
                Err(err)
            }
        }
    }
}
