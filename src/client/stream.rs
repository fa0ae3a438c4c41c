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
//!
//! Sending goes through one ordered output queue (`out`): data frames that wsbridge encodes
//! itself (`queue`, one masked copy straight from the caller's bytes) and whatever tungstenite
//! writes (pongs, close frames, the upgrade request) leave in the order they were queued.
//! `write` therefore always accepts everything: what the socket does not take at once waits in
//! `out`, `flush` pushes it out (`WouldBlock` while some remains), and `pending` counts it for
//! the send queue cap.

use mio::net::TcpStream;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection};
use std::io::{self, Read, Write};
use std::sync::Arc;

/// A connected, non-blocking socket, with TLS once `start_tls` was called.
#[derive(Debug)]
pub struct Stream {
    tcp: TcpStream,
    tls: Option<Box<ClientConnection>>,
    received: u64,
    /// Bytes queued for sending; `out[sent..]` has not been handed to the socket (or rustls).
    out: Vec<u8>,
    sent: usize,
    /// See `set_short_read_ends_pump`.
    short_read_ends_pump: bool,
    /// The last read was short: report `WouldBlock` once without asking the socket.
    assume_drained: bool,
}

/// An output queue that has grown past this is given back to the allocator once it drains, so a
/// burst of large messages does not pin its memory on an idle connection.
const KEEP_OUT_CAPACITY: usize = 4 << 20;

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
            out: Vec::new(),
            sent: 0,
            short_read_ends_pump: false,
            assume_drained: false,
        }
    }

    /// While set, a read that returns less than asked makes the next read report `WouldBlock`
    /// without a system call (plain TCP only): the socket most likely holds nothing more. For
    /// callers that find leftovers anyway: `recv`'s level-triggered poll, or the I/O thread's
    /// registration, which reports data already waiting.
    pub fn set_short_read_ends_pump(&mut self, on: bool) {
        self.short_read_ends_pump = on;
        self.assume_drained = false;
    }

    /// Bytes queued and not yet handed to the socket (or to rustls).
    pub fn pending(&self) -> usize {
        self.out.len() - self.sent
    }

    /// `true` when nothing waits to be sent: the queue is empty and rustls holds no output.
    pub fn drained(&self) -> bool {
        self.pending() == 0 && !self.tls.as_ref().is_some_and(|t| t.wants_write())
    }

    /// Appends bytes to the output queue through `fill`, which must only append; then hands
    /// what it can to the socket. An error is fatal for the connection (never `WouldBlock`).
    pub fn queue(&mut self, fill: impl FnOnce(&mut Vec<u8>)) -> io::Result<()> {
        if self.sent > 0 && self.sent >= self.out.len() / 2 {
            // Move the unsent tail to the front before the queue grows again.
            self.out.drain(..self.sent);
            self.sent = 0;
        }
        fill(&mut self.out);
        self.push_queued()
    }

    /// Takes over bytes queued before the connection opened (already encoded, in order).
    pub fn queue_encoded(&mut self, bytes: Vec<u8>) -> io::Result<()> {
        if self.pending() > 0 {
            return self.queue(|out| out.extend_from_slice(&bytes));
        }
        self.out = bytes;
        self.sent = 0;
        self.push_queued()
    }

    /// `send_queued` for callers that keep what the socket does not take: only a real error.
    fn push_queued(&mut self) -> io::Result<()> {
        match self.send_queued() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
            other => other,
        }
    }

    /// Hands queued bytes to the socket until it would block. `WouldBlock` if some remain.
    fn send_queued(&mut self) -> io::Result<()> {
        while self.sent < self.out.len() {
            match write_now(&mut self.tcp, &mut self.tls, &self.out[self.sent..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.sent += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.out.clear();
        self.sent = 0;
        if self.out.capacity() > KEEP_OUT_CAPACITY {
            self.out = Vec::new();
        }
        Ok(())
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

    /// Puts TLS on the socket, with a ready client configuration and the name the server's
    /// certificate must carry (both from `tls.rs`); `handshake_tls` then drives the handshake.
    pub fn start_tls(
        &mut self,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
    ) -> Result<(), rustls::Error> {
        let conn = ClientConnection::new(config, name)?;
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
            if std::mem::take(&mut self.assume_drained) {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let n = self.tcp.read(buf)?;
            self.received += n as u64;
            self.assume_drained = self.short_read_ends_pump && n > 0 && n < buf.len();
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

/// Writes `buf` to the socket, through rustls with TLS; `WouldBlock` when nothing was taken.
fn write_now(
    tcp: &mut TcpStream,
    tls: &mut Option<Box<ClientConnection>>,
    buf: &[u8],
) -> io::Result<usize> {
    let Some(tls) = tls.as_mut() else {
        return tcp.write(buf);
    };
    if buf.is_empty() {
        return Ok(0);
    }
    loop {
        let n = tls.writer().write(buf)?;
        if n > 0 {
            match push(tls, tcp) {
                Err(e) if e.kind() != io::ErrorKind::WouldBlock => return Err(e),
                _ => return Ok(n),
            }
        }
        if !tls.wants_write() {
            return Err(io::ErrorKind::WriteZero.into());
        }
        // rustls's buffer is full: make room, or report WouldBlock.
        push(tls, tcp)?;
    }
}

/// For tungstenite: every write is accepted (into the output queue when the socket does not
/// take it at once), so its own buffer never holds anything and order is kept.
impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.queue(|out| out.extend_from_slice(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_queued()?;
        if let Some(tls) = self.tls.as_mut() {
            tls.writer().flush()?;
            push(tls, &mut self.tcp)?;
        }
        self.tcp.flush()
    }
}
