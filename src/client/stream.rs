//! The byte stream under a WebSocket: a non-blocking TCP socket, with TLS on it for `wss://`,
//! that counts what it receives.
//!
//! The receive counter is how keepalive tells a silent peer from a slow one: any byte that
//! arrives after our ping proves the peer is alive, even mid-way through a large message.
//!
//! With TLS, reads and writes never block and never stall each other:
//! - `read` hands out decrypted bytes rustls already holds, and only reads the socket when it
//!   holds none; it returns `WouldBlock` only once the socket itself said so. So reading
//!   "until `WouldBlock`" drains both the socket and rustls's buffers, and polling the socket
//!   afterwards cannot miss data that was already received.
//! - `write` encrypts into rustls's buffer (64 KiB) and pushes what the socket takes; `flush`
//!   succeeds only once every encrypted byte is in the socket.

use mio::net::TcpStream;
use rustls::ClientConnection;
use std::io::{self, Read, Write};

/// A connected, non-blocking socket, with TLS once `start_tls` was called.
#[derive(Debug)]
pub struct Stream {
    tcp: TcpStream,
    tls: Option<Box<ClientConnection>>,
    received: u64,
}

/// Why a TLS handshake did not complete.
#[derive(Debug)]
pub enum TlsFailure {
    /// Rejected by rustls or by the server (certificate, alert, not TLS at all ...).
    Tls(rustls::Error),
    /// The server closed the connection mid-handshake.
    Closed,
    /// The socket failed.
    Io(io::Error),
}

impl Stream {
    pub fn new(tcp: TcpStream) -> Self {
        Stream {
            tcp,
            tls: None,
            received: 0,
        }
    }

    /// Bytes received so far (on the wire, TLS records included).
    pub fn received(&self) -> u64 {
        self.received
    }

    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    pub fn tcp_mut(&mut self) -> &mut TcpStream {
        &mut self.tcp
    }

    /// Puts TLS on the socket; `handshake_tls` then drives the handshake.
    pub fn start_tls(&mut self, setup: &super::tls::Setup) -> Result<(), rustls::Error> {
        let conn = ClientConnection::new(std::sync::Arc::clone(&setup.config), setup.name.clone())?;
        self.tls = Some(Box::new(conn));
        Ok(())
    }

    /// Advances the TLS handshake as far as the socket allows: `Ok(true)` once it is complete,
    /// `Ok(false)` to be called again when the socket is ready.
    pub fn handshake_tls(&mut self) -> Result<bool, TlsFailure> {
        let Some(tls) = self.tls.as_mut() else {
            return Ok(true);
        };
        loop {
            match push(tls, &mut self.tcp) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(TlsFailure::Io(e)),
            }
            if !tls.is_handshaking() {
                return Ok(true);
            }
            match tls.read_tls(&mut self.tcp) {
                Ok(0) => return Err(TlsFailure::Closed),
                Ok(n) => self.received += n as u64,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(TlsFailure::Io(e)),
            }
            if let Err(e) = tls.process_new_packets() {
                // Tell the server why (rustls queued an alert), as far as the socket takes it.
                let _ = push(tls, &mut self.tcp);
                return Err(TlsFailure::Tls(e));
            }
        }
    }
}

/// Writes rustls's encrypted output to the socket until none is left (or `WouldBlock`).
fn push(tls: &mut ClientConnection, tcp: &mut TcpStream) -> io::Result<()> {
    while tls.wants_write() {
        match tls.write_tls(tcp) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(tls) = self.tls.as_mut() else {
            let n = self.tcp.read(buf)?;
            self.received += n as u64;
            return Ok(n);
        };
        loop {
            match tls.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // TCP closed without a TLS close_notify. The WebSocket close handshake, not
                // TLS, says whether the stream ended cleanly (tungstenite reports a reset
                // without it), and many servers skip close_notify: treat it as end of stream.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) => return Err(e),
            }
            // rustls holds no plaintext: read the socket (this is where WouldBlock comes from).
            match tls.read_tls(&mut self.tcp) {
                Ok(n) => self.received += n as u64,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            if let Err(e) = tls.process_new_packets() {
                let _ = push(tls, &mut self.tcp);
                return Err(io::Error::new(io::ErrorKind::InvalidData, e));
            }
            // Answers rustls owes the server (a key update); the next write or flush retries.
            match push(tls, &mut self.tcp) {
                Err(e) if e.kind() != io::ErrorKind::WouldBlock => return Err(e),
                _ => {}
            }
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Some(tls) = self.tls.as_mut() else {
            return self.tcp.write(buf);
        };
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let n = tls.writer().write(buf)?;
            if n > 0 {
                match push(tls, &mut self.tcp) {
                    Err(e) if e.kind() != io::ErrorKind::WouldBlock => return Err(e),
                    _ => return Ok(n),
                }
            }
            if !tls.wants_write() {
                return Err(io::ErrorKind::WriteZero.into());
            }
            // rustls's buffer is full: make room, or report WouldBlock.
            push(tls, &mut self.tcp)?;
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if let Some(tls) = self.tls.as_mut() {
            tls.writer().flush()?;
            push(tls, &mut self.tcp)?;
        }
        self.tcp.flush()
    }
}
