//! The byte stream under a WebSocket: a non-blocking TCP socket that counts what it receives.
//!
//! The receive counter is how keepalive tells a silent peer from a slow one: any byte that
//! arrives after our ping proves the peer is alive, even mid-way through a large message.

use mio::net::TcpStream;
use std::io::{self, Read, Write};

/// A connected, non-blocking socket.
#[derive(Debug)]
pub struct Stream {
    tcp: TcpStream,
    received: u64,
}

impl Stream {
    pub fn new(tcp: TcpStream) -> Self {
        Stream { tcp, received: 0 }
    }

    /// Bytes received so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    pub fn tcp_mut(&mut self) -> &mut TcpStream {
        &mut self.tcp
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.tcp.read(buf)?;
        self.received += n as u64;
        Ok(n)
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tcp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}
