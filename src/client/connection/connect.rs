//! Connecting: DNS answer to open WebSocket, as steps the I/O thread drives without blocking.
//!
//! TCP connect (each resolved address in turn), the proxy's `CONNECT` tunnel, the TLS
//! handshake, then the HTTP upgrade; all of it under one deadline (`connect_timeout_ms`), with
//! errors that name the stage, the URL and the reason.

use super::*;

impl Shared {
    /// Blocks until the connection is open or has failed (bounded by the connect timeout).
    pub(crate) fn wait_open(&self) -> Result<()> {
        self.wait_open_until(None).map(|_| ())
    }

    /// Blocks until the connection is open (`Ok(true)`), has failed (its error), or `deadline`
    /// passed while it is still connecting (`Ok(false)`); the connect timeout bounds it too.
    pub(crate) fn wait_open_until(&self, deadline: Option<Instant>) -> Result<bool> {
        let mut inbox = self.inbox.lock();
        loop {
            match inbox.state() {
                // Opened, even if the peer has already closed again: what it sent (and its
                // close) is for `recv` to report.
                _ if inbox.opened() => return Ok(true),
                State::Connecting => {}
                _ => {
                    return Err(inbox.take_ending().unwrap_or_else(|| {
                        Error::new(
                            ErrorKind::Closed,
                            format!("connection to {} closed while connecting", self.url()),
                        )
                    }))
                }
            }
            if Instant::now() >= self.connect_deadline {
                // The I/O thread enforces the deadline too; whichever comes first fails it.
                drop(inbox);
                let mut io = lock(&self.io);
                self.check_connect_deadline(&mut io, Instant::now());
                self.poke_if_needed(&mut io);
                drop(io);
                inbox = self.inbox.lock();
                continue;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(false);
            }
            let until = deadline.map_or(self.connect_deadline, |d| d.min(self.connect_deadline));
            inbox = self.inbox.wait(inbox, Some(until));
        }
    }

    pub(super) fn check_connect_deadline(&self, io: &mut Io, now: Instant) {
        let proxied = self.route.proxy.is_some();
        let stage = match io.phase {
            Phase::Idle | Phase::Resolving if proxied => "resolving the proxy's host name",
            Phase::Idle | Phase::Resolving => "resolving the host name",
            Phase::Connecting { .. } if proxied => "connecting TCP to the proxy",
            Phase::Connecting { .. } => "connecting TCP",
            Phase::Tunneling(_) => "waiting for the proxy's answer to CONNECT",
            Phase::Securing(_) => "TLS handshake",
            Phase::Handshaking(_) => "waiting for the HTTP upgrade response",
            _ => return,
        };
        if now >= self.connect_deadline {
            let ms = self.options.connect_timeout.as_millis();
            let err = Error::new(
                ErrorKind::Timeout,
                format!(
                    "connecting to {}{} timed out after {ms} ms ({stage})",
                    self.url(),
                    self.route.via()
                ),
            );
            self.finish(io, Some(err));
        }
    }

    /// Tries the next address, or fails with every reason collected.
    pub(super) fn connect_next(&self, io: &mut Io, mut addrs: Vec<SocketAddr>) {
        while !addrs.is_empty() {
            let addr = addrs.remove(0);
            let attempt = TcpStream::connect(addr).and_then(|mut tcp| {
                self.rt.registry().register(
                    &mut tcp,
                    self.token,
                    Interest::READABLE | Interest::WRITABLE,
                )?;
                Ok(tcp)
            });
            match attempt {
                Ok(tcp) => {
                    io.phase = Phase::Connecting {
                        tcp,
                        addr,
                        rest: addrs,
                    };
                    return;
                }
                Err(e) => io.connect_errors.push(format!("{addr}: {e}")),
            }
        }
        let err = Error::new(
            ErrorKind::ConnectFailed,
            format!(
                "cannot connect to {}{}: {}",
                self.url(),
                self.route.via(),
                io.connect_errors.join("; ")
            ),
        );
        self.finish(io, Some(err));
    }

    /// Advances a TCP connect in progress.
    pub(super) fn drive_connect(&self, io: &mut Io) {
        let Phase::Connecting { tcp, addr, .. } = &io.phase else {
            return;
        };
        let failure = match tcp.take_error() {
            Ok(Some(e)) | Err(e) => Some(e),
            Ok(None) => match tcp.peer_addr() {
                Ok(_) => None,
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return,
                Err(e) => Some(e),
            },
        };
        let addr = *addr;
        let Phase::Connecting { tcp, rest, .. } = std::mem::replace(&mut io.phase, Phase::Idle)
        else {
            unreachable!("phase checked above")
        };
        if let Some(e) = failure {
            io.connect_errors.push(format!("{addr}: {e}"));
            let mut tcp = tcp;
            let _ = self.rt.registry().deregister(&mut tcp);
            return self.connect_next(io, rest);
        }
        let _ = tcp.set_nodelay(true);
        let stream = Stream::new(tcp);
        match &self.route.proxy {
            Some(proxy) => {
                let tunnel = Tunnel::new(stream, proxy, &self.target);
                io.phase = Phase::Tunneling(Box::new(tunnel));
                self.drive_tunnel(io);
            }
            None => self.secure(io, stream),
        }
    }

    /// Advances the proxy's CONNECT exchange.
    pub(super) fn drive_tunnel(&self, io: &mut Io) {
        let Phase::Tunneling(tunnel) = &mut io.phase else {
            return;
        };
        match tunnel.drive() {
            Ok(false) => {}
            Ok(true) => {
                let Phase::Tunneling(tunnel) = std::mem::replace(&mut io.phase, Phase::Idle) else {
                    unreachable!("phase checked above")
                };
                self.secure(io, tunnel.into_stream());
            }
            Err(e) => self.finish(io, Some(e)),
        }
    }

    /// The socket (or tunnel) to the server is up: TLS for wss://, then the HTTP upgrade.
    pub(super) fn secure(&self, io: &mut Io, mut stream: Stream) {
        let Some(tls) = &self.route.tls else {
            return self.upgrade(io, stream);
        };
        match stream.start_tls(Arc::clone(&tls.config), tls.name.clone()) {
            Ok(()) => {
                io.phase = Phase::Securing(Box::new(stream));
                self.drive_tls(io);
            }
            Err(e) => self.finish(io, Some(tls.failure(&self.tls_peer(), &e))),
        }
    }

    /// Advances the TLS handshake.
    pub(super) fn drive_tls(&self, io: &mut Io) {
        let Phase::Securing(stream) = &mut io.phase else {
            return;
        };
        let failure = match stream.handshake_tls() {
            Ok(false) => return,
            Ok(true) => {
                let Phase::Securing(stream) = std::mem::replace(&mut io.phase, Phase::Idle) else {
                    unreachable!("phase checked above")
                };
                return self.upgrade(io, *stream);
            }
            Err(f) => f,
        };
        let peer = self.tls_peer();
        let err = match (failure, &self.route.tls) {
            (TlsFailure::Tls(e), Some(tls)) => tls.failure(&peer, &e),
            (TlsFailure::Tls(e), None) => Error::internal(format!("TLS without a setup: {e}")),
            (TlsFailure::Closed, _) => Error::new(
                ErrorKind::TlsFailed,
                format!(
                    "TLS handshake with {peer} failed: the server closed the connection \
                     mid-handshake; it may not speak TLS on this port (a plain ws:// \
                     endpoint?), or refuse this host name"
                ),
            ),
            (TlsFailure::Io(e), _) => Error::new(
                ErrorKind::ConnectionLost,
                format!(
                    "connection to {} lost during the TLS handshake: {e}",
                    self.url()
                ),
            ),
        };
        self.finish(io, Some(err));
    }

    /// "wss://host:port/path (through proxy ...)": which TLS connection a message is about.
    pub(super) fn tls_peer(&self) -> String {
        format!("{}{}", self.url(), self.route.via())
    }

    /// Starts the HTTP upgrade over the ready stream.
    pub(super) fn upgrade(&self, io: &mut Io, stream: Stream) {
        let request = match self.request() {
            Ok(r) => r,
            Err(e) => return self.finish(io, Some(e)),
        };
        match ClientHandshake::start(stream, request, Some(self.config)) {
            Ok(hs) => self.drive_handshake(io, hs),
            Err(e) => self.finish(io, Some(self.handshake_error(e))),
        }
    }

    pub(super) fn request(&self) -> Result<tungstenite::handshake::client::Request> {
        let mut request = (&self.target.uri)
            .into_client_request()
            .map_err(|e| Error::invalid(format!("invalid URL {:?}: {e}", self.url())))?;
        let headers = request.headers_mut();
        for (name, value) in &self.options.headers {
            // Validated when the options were parsed.
            let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) else {
                return Err(Error::invalid(format!(
                    "option `headers`: invalid header `{name}`"
                )));
            };
            headers.append(n, v);
        }
        if !self.options.subprotocols.is_empty() {
            let joined = self.options.subprotocols.join(", ");
            let v = HeaderValue::from_str(&joined)
                .map_err(|_| Error::invalid("option `subprotocols`: invalid value"))?;
            headers.insert("Sec-WebSocket-Protocol", v);
        }
        Ok(request)
    }

    pub(super) fn drive_handshake(&self, io: &mut Io, hs: Handshake) {
        match hs.handshake() {
            Ok((ws, response)) => {
                if let Some(why) = unoffered_extensions(&response) {
                    // RFC 6455 4.1: the client must fail the connection. wsbridge offers no
                    // extension, so the server would send frames we cannot read (deflated).
                    let mut ws = ws;
                    let _ = self.rt.registry().deregister(ws.get_mut().tcp_mut());
                    let err = Error::new(
                        ErrorKind::HandshakeFailed,
                        format!(
                            "{} gave an invalid upgrade response: {why}; connection failed \
                             (RFC 6455 section 4.1)",
                            self.url()
                        ),
                    );
                    return self.finish(io, Some(err));
                }
                let subprotocol = response
                    .headers()
                    .get("Sec-WebSocket-Protocol")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                self.direct.open(ws.get_ref().tcp());
                io.phase = Phase::Open(Box::new(ws));
                io.next_ping = self.options.ping_interval.map(|i| Instant::now() + i);
                let pending = std::mem::take(&mut io.pending);
                let Phase::Open(ws) = &mut io.phase else {
                    unreachable!("just opened")
                };
                if let Err(e) = ws.get_mut().queue_encoded(pending) {
                    return self.finish(io, Some(self.lost(&format!("sending failed: {e}"))));
                }
                self.inbox.open(subprotocol);
                self.flush(io);
                // From now on the I/O thread watches reads, and writes only while output waits.
                self.update_interest(io);
                self.pump(io);
            }
            Err(HandshakeError::Interrupted(hs)) => io.phase = Phase::Handshaking(Box::new(hs)),
            Err(HandshakeError::Failure(e)) => self.finish(io, Some(self.handshake_error(e))),
        }
    }

    pub(super) fn handshake_error(&self, e: tungstenite::Error) -> Error {
        match e {
            tungstenite::Error::Http(response) => {
                let status = response.status();
                let body = response
                    .body()
                    .as_deref()
                    .map(|b| {
                        let text = String::from_utf8_lossy(&b[..b.len().min(BODY_QUOTE)]);
                        let text = text.trim();
                        if text.is_empty() {
                            String::new()
                        } else {
                            format!("; body: {text:?}")
                        }
                    })
                    .unwrap_or_default();
                Error::new(
                    ErrorKind::HandshakeFailed,
                    format!(
                        "{} refused the WebSocket upgrade with HTTP {} {}{body}",
                        self.url(),
                        status.as_u16(),
                        status.canonical_reason().unwrap_or("")
                    ),
                )
                .with_http_status(status.as_u16())
            }
            tungstenite::Error::Io(e) => self.lost(&format!("during the HTTP upgrade: {e}")),
            tungstenite::Error::Protocol(
                tungstenite::error::ProtocolError::HandshakeIncomplete,
            ) => Error::new(
                ErrorKind::HandshakeFailed,
                format!(
                    "{} closed the connection before answering the HTTP upgrade",
                    self.url()
                ),
            ),
            other => Error::new(
                ErrorKind::HandshakeFailed,
                format!("{} gave an invalid upgrade response: {other}", self.url()),
            ),
        }
    }
}

/// Longest extension list quoted in a message.
const EXTENSIONS_QUOTE: usize = 100;

/// Why a `101` answer that names extensions must be refused: wsbridge offers none, so any
/// `Sec-WebSocket-Extensions` header with a value means the server would use one we did not ask
/// for (RFC 6455 4.1). `None` when the answer has no such header (or only empty ones).
pub(super) fn unoffered_extensions(
    response: &tungstenite::handshake::client::Response,
) -> Option<String> {
    let named: Vec<String> = response
        .headers()
        .get_all("Sec-WebSocket-Extensions")
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    if named.is_empty() {
        return None;
    }
    let list: String = named.join(", ").chars().take(EXTENSIONS_QUOTE).collect();
    Some(format!(
        "its Sec-WebSocket-Extensions header accepts {list:?}, an extension wsbridge did not \
         offer (it offers none)"
    ))
}
