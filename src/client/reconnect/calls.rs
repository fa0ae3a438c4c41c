//! What callers do on a reconnecting connection: its state, waiting for it to open, sending
//! (held while it is not open), receiving (with the `Reconnected` news), flushing and closing.
//! The supervisor that decides when to reconnect is in `mod.rs`.

use super::*;

impl Supervisor {
    pub(crate) fn state(&self) -> State {
        let s = self.lock();
        match s.phase {
            Phase::Linked => match s.link.state() {
                _ if s.opened => s.link.state(),
                State::Connecting | State::Open if !s.ever_open && s.attempts <= 1 => {
                    State::Connecting
                }
                State::Closing => State::Closing,
                _ => State::Reconnecting,
            },
            Phase::Waiting(_) => State::Reconnecting,
            Phase::Ended => State::Closed,
        }
    }

    /// Blocks until the first attempt opened (`Connection::connect`); its failure is the error.
    pub(crate) fn wait_first_open(&self) -> Result<()> {
        let link = Arc::clone(&self.lock().link);
        link.wait_open()?;
        lock(&self.st).first_only = false;
        Ok(())
    }

    pub(crate) fn wait_open_until(&self, deadline: Option<Instant>) -> Result<bool> {
        loop {
            let s = self.lock();
            match s.phase {
                Phase::Linked if s.opened => return Ok(true),
                Phase::Linked => {
                    let link = Arc::clone(&s.link);
                    drop(s);
                    match link.wait_open_until(deadline) {
                        Ok(false) => return Ok(false),
                        Ok(true) => continue,
                        Err(e) if self.moved_on(&link, e.clone()) => continue,
                        Err(e) => return Err(e),
                    }
                }
                Phase::Waiting(_) => {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return Ok(false);
                    }
                    drop(self.wait(s, deadline));
                }
                Phase::Ended => {
                    let mut s = s;
                    return Err(s.ending.take().unwrap_or_else(|| self.closed_error(&s)));
                }
            }
        }
    }

    pub(crate) fn send(&self, data: &[u8], kind: Kind) -> Result<()> {
        frame::check_outgoing(data, kind, self.options.max_message_size)?;
        loop {
            let link = {
                let mut s = self.lock();
                match s.phase {
                    Phase::Linked if s.opened => Arc::clone(&s.link),
                    Phase::Linked | Phase::Waiting(_) => return self.hold(&mut s, data, kind),
                    Phase::Ended if s.ending.is_some() || s.closed_because.is_some() => {
                        return Err(self.closed_error(&s))
                    }
                    Phase::Ended => Arc::clone(&s.link),
                }
            };
            match link.send(data, kind) {
                Err(e) if matches!(e.kind(), ErrorKind::Closed | ErrorKind::ConnectionLost) => {
                    if self.moved_on(&link, e.clone()) {
                        continue;
                    }
                    return Err(e);
                }
                other => return other,
            }
        }
    }

    pub(super) fn hold(&self, s: &mut Sup, data: &[u8], kind: Kind) -> Result<()> {
        let cap = self.options.send_queue_max_bytes;
        if s.held_bytes > 0 && s.held_bytes + data.len() > cap {
            return Err(Error::new(
                ErrorKind::WouldBlock,
                format!(
                    "send queue full while reconnecting to {}: {} bytes wait for the new \
                     connection, a {}-byte message would exceed send_queue_max_bytes ({cap}); \
                     the message was not queued",
                    self.url(),
                    s.held_bytes,
                    data.len()
                ),
            ));
        }
        s.held.push((kind, data.to_vec()));
        s.held_bytes += data.len();
        Ok(())
    }

    /// `link` failed a caller with `error`: whether the connection has moved on to another
    /// socket or phase (so the call should look again) rather than ended with it.
    pub(super) fn moved_on(&self, link: &Arc<Shared>, error: Error) -> bool {
        let mut s = lock(&self.st);
        if Arc::ptr_eq(&s.link, link) {
            self.update(&mut s, Some(error));
        }
        !(matches!(s.phase, Phase::Ended) && Arc::ptr_eq(&s.link, link) && s.ending.is_none())
    }

    pub(crate) fn recv(
        &self,
        buf: &mut [u8],
        timeout: Option<Duration>,
    ) -> std::result::Result<(usize, Kind), RecvError> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let link = {
                let mut s = self.lock();
                match s.events.front() {
                    Some(Event::News(_)) => {
                        let Some(Event::News(news)) = s.events.pop_front() else {
                            unreachable!("front checked")
                        };
                        return Err(news.into());
                    }
                    Some(Event::Drain(old)) => {
                        let old = Arc::clone(old);
                        drop(s);
                        match old.recv(buf, Some(Duration::ZERO)) {
                            Ok(got) => return Ok(got),
                            Err(RecvError::TooSmall(t)) => return Err(RecvError::TooSmall(t)),
                            // Its end (the loss) is not the connection's: what follows is.
                            Err(RecvError::Other(_)) => {
                                let mut s = lock(&self.st);
                                if matches!(s.events.front(), Some(Event::Drain(d)) if Arc::ptr_eq(d, &old))
                                {
                                    s.events.pop_front();
                                }
                                continue;
                            }
                        }
                    }
                    None => {}
                }
                match s.phase {
                    Phase::Linked if s.opened => Arc::clone(&s.link),
                    Phase::Linked => {
                        let link = Arc::clone(&s.link);
                        drop(s);
                        match link.wait_open_until(deadline) {
                            Ok(true) => continue,
                            Ok(false) => return Err(self.timeout().into()),
                            Err(e) => {
                                if self.moved_on(&link, e.clone()) {
                                    continue;
                                }
                                return Err(e.into());
                            }
                        }
                    }
                    Phase::Waiting(_) => {
                        if deadline.is_some_and(|d| Instant::now() >= d) {
                            drop(s);
                            return Err(self.timeout().into());
                        }
                        drop(self.wait(s, deadline));
                        continue;
                    }
                    Phase::Ended => {
                        if let Some(e) = s.ending.take() {
                            return Err(e.into());
                        }
                        if s.closed_because.is_some() {
                            return Err(self.closed_error(&s).into());
                        }
                        Arc::clone(&s.link)
                    }
                }
            };
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            match link.recv(buf, left) {
                Err(RecvError::Other(e))
                    if e.kind() != ErrorKind::Timeout && self.moved_on(&link, e.clone()) =>
                {
                    continue
                }
                other => return other,
            }
        }
    }

    /// `recv`'s timeout while not open, with where the reconnect stands.
    pub(super) fn timeout(&self) -> Error {
        let s = self.lock();
        let next = match s.phase {
            Phase::Waiting(at) => format!(
                ", next attempt in {} ms",
                at.saturating_duration_since(Instant::now()).as_millis()
            ),
            _ => String::new(),
        };
        Error::new(
            ErrorKind::Timeout,
            format!(
                "no message arrived within the timeout (not connected to {}: attempt {}{next})",
                self.url(),
                s.attempts
            ),
        )
    }

    pub(crate) fn flush(&self, timeout: Option<Duration>) -> Result<()> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let link = {
                let s = self.lock();
                match s.phase {
                    Phase::Linked if s.opened => Arc::clone(&s.link),
                    Phase::Ended => return Err(self.closed_error(&s)),
                    Phase::Linked | Phase::Waiting(_) => {
                        if deadline.is_some_and(|d| Instant::now() >= d) {
                            let ms = timeout.unwrap_or_default().as_millis();
                            return Err(Error::new(
                                ErrorKind::Timeout,
                                format!(
                                    "not connected to {} within {ms} ms: {} queued message{} \
                                     wait for the connection",
                                    self.url(),
                                    s.held.len(),
                                    if s.held.len() == 1 { "" } else { "s" }
                                ),
                            ));
                        }
                        drop(self.wait(s, deadline));
                        continue;
                    }
                }
            };
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            match link.flush_wait(left) {
                Err(e) if e.kind() == ErrorKind::Closed && self.moved_on(&link, e.clone()) => {
                    continue
                }
                other => return other,
            }
        }
    }

    pub(crate) fn close_status(&self) -> Option<CloseStatus> {
        let s = self.lock();
        match s.phase {
            Phase::Ended => Some(s.link.close_status().unwrap_or(CloseStatus {
                code: 1006,
                reason: String::new(),
            })),
            _ => None,
        }
    }

    pub(crate) fn subprotocol(&self) -> Option<String> {
        let s = self.lock();
        s.opened.then(|| s.link.subprotocol()).flatten()
    }

    /// Ends reconnecting (the caller closes): the socket to close, if one is connecting or
    /// open, or ended by itself (it is then only released).
    pub(super) fn stop(&self, why: String) -> Option<Arc<Shared>> {
        let mut s = lock(&self.st);
        let link = match s.phase {
            Phase::Linked => Some(Arc::clone(&s.link)),
            Phase::Waiting(_) => None,
            Phase::Ended => s.closed_because.is_none().then(|| Arc::clone(&s.link)),
        };
        if !matches!(s.phase, Phase::Ended) {
            s.closed_because = Some(why);
        }
        s.phase = Phase::Ended;
        s.held.clear();
        s.held_bytes = 0;
        self.changed.notify_all();
        self.rt.send(Cmd::Poke(self.token));
        link
    }

    pub(crate) fn close(&self, code: u16, reason: &str, timeout: Option<Duration>) -> Result<()> {
        crate::client::connection::close_frame(code, reason)?;
        self.stop_then(|link| link.close(code, reason, timeout))
    }

    pub(crate) fn close_in_background(
        &self,
        code: u16,
        reason: &str,
        timeout: Option<Duration>,
    ) -> Result<()> {
        self.stop_then(|link| link.close_in_background(code, reason, timeout))
    }

    /// Stops the supervisor (no attempt after this) and hands the link it had, if one is
    /// linked, to `close`.
    fn stop_then(&self, close: impl FnOnce(Arc<Shared>) -> Result<()>) -> Result<()> {
        let why = format!("connection to {} was closed", self.url());
        self.stop(why).map_or(Ok(()), close)
    }

    /// The socket a background close waits for (`None`: none is open).
    pub(crate) fn current(&self) -> Option<Arc<Shared>> {
        Some(Arc::clone(&lock(&self.st).link))
    }

    /// The connection is dropped: no more attempts, the socket goes at once.
    pub(crate) fn drop_now(&self, why: &str) {
        let link = {
            let mut s = lock(&self.st);
            s.phase = Phase::Ended;
            Arc::clone(&s.link)
        };
        self.rt.send(Cmd::Poke(self.token));
        if link.state() != State::Closed {
            let _ = link.close(1001, "", Some(Duration::ZERO));
        }
        link.abort(why);
    }
}
