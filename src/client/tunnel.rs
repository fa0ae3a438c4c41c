//! The `CONNECT` exchange that opens a tunnel through an HTTP proxy to the server: non-blocking,
//! driven by the connection's I/O steps like the TCP connect and the TLS handshake. Which proxy
//! (the settings) is decided in `proxy.rs`.

use super::proxy::Proxy;
use super::stream::Stream;
use super::url::Target;
use crate::error::{Error, ErrorKind, Result};
use std::io::{self, Read, Write};
use std::net::IpAddr;

/// Largest CONNECT response header accepted.
const MAX_RESPONSE: usize = 16 * 1024;

/// A `CONNECT` in progress over a connected, non-blocking socket to the proxy.
pub(crate) struct Tunnel {
    stream: Stream,
    request: Vec<u8>,
    sent: usize,
    response: Vec<u8>,
    /// "cannot connect to URL through proxy ...": the start of every message.
    context: String,
    /// `host:port` asked for.
    authority: String,
    credentials: Option<String>,
}

impl Tunnel {
    pub fn new(stream: Stream, proxy: &Proxy, target: &Target) -> Tunnel {
        let authority = match target.ip {
            Some(IpAddr::V6(_)) => format!("[{}]:{}", target.host, target.port),
            _ => format!("{}:{}", target.host, target.port),
        };
        let mut request = format!(
            "CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: wsbridge/{}\r\n",
            env!("CARGO_PKG_VERSION")
        );
        if let Some(auth) = proxy.authorization() {
            request.push_str(&format!("Proxy-Authorization: {auth}\r\n"));
        }
        request.push_str("\r\n");
        Tunnel {
            stream,
            request: request.into_bytes(),
            sent: 0,
            response: Vec::new(),
            context: format!(
                "cannot connect to {} through {}",
                target.shown,
                proxy.describe()
            ),
            authority,
            credentials: proxy.user().map(str::to_string),
        }
    }

    pub fn stream_mut(&mut self) -> &mut Stream {
        &mut self.stream
    }

    pub fn into_stream(self) -> Stream {
        self.stream
    }

    /// Sends the request and reads the answer as far as the socket allows. `Ok(true)` once
    /// the proxy answered 2xx: the stream is then a tunnel to the server.
    pub fn drive(&mut self) -> Result<bool> {
        while self.sent < self.request.len() {
            match self.stream.write(&self.request[self.sent..]) {
                Ok(0) => return Err(self.fail("the proxy closed the connection")),
                Ok(n) => self.sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.fail(&format!("sending CONNECT failed: {e}"))),
            }
        }
        let mut chunk = [0u8; 1024];
        loop {
            let n = match self.stream.read(&mut chunk) {
                Ok(0) => {
                    return Err(
                        self.fail("the proxy closed the connection without answering CONNECT")
                    )
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(self.fail(&format!("reading the CONNECT response failed: {e}")))
                }
            };
            self.response.extend_from_slice(&chunk[..n]);
            if let Some(end) = find(&self.response, b"\r\n\r\n") {
                return self.conclude(end + 4).map(|()| true);
            }
            if self.response.len() > MAX_RESPONSE {
                return Err(self.fail(&format!(
                    "the proxy's answer to CONNECT has no end of header within {MAX_RESPONSE} bytes"
                )));
            }
        }
    }

    fn fail(&self, why: &str) -> Error {
        Error::new(ErrorKind::ConnectFailed, format!("{}: {why}", self.context))
    }

    /// The whole response header is in; `end` is where it ends.
    fn conclude(&self, end: usize) -> Result<()> {
        let head = String::from_utf8_lossy(&self.response[..end]);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or("").trim();
        let shown: String = status_line.chars().take(200).collect();
        let code = status_line
            .strip_prefix("HTTP/1.")
            .and_then(|s| s.get(2..5))
            .and_then(|c| c.parse::<u16>().ok())
            .filter(|_| status_line.as_bytes().get(8) == Some(&b' '));
        let Some(code) = code else {
            return Err(self.fail(&format!(
                "the proxy's answer to CONNECT is not an HTTP/1.x response: {shown:?}"
            )));
        };
        if (200..300).contains(&code) {
            let extra = self.response.len() - end;
            if extra > 0 {
                return Err(self.fail(&format!(
                    "the proxy sent {extra} unexpected bytes after \"{shown}\""
                )));
            }
            return Ok(());
        }
        let mut why = format!("it refused CONNECT {} with \"{shown}\"", self.authority);
        // 407 is the standard answer; some proxies (tinyproxy) answer wrong credentials with 401.
        if code == 407 || code == 401 {
            match &self.credentials {
                Some(user) => {
                    why.push_str(&format!("; the credentials of user {user:?} were rejected"))
                }
                None => why.push_str(
                    "; no credentials were given (put them in the proxy URL: \
                     http://user:password@host:port)",
                ),
            }
            let asks = lines
                .filter_map(|l| l.split_once(':'))
                .filter(|(name, _)| name.trim().eq_ignore_ascii_case("proxy-authenticate"))
                .map(|(_, v)| v.trim().chars().take(100).collect::<String>())
                .collect::<Vec<_>>();
            if !asks.is_empty() {
                why.push_str(&format!(
                    "; the proxy asks for: {} (wsbridge supports Basic)",
                    asks.join(", ")
                ));
            }
        }
        Err(self.fail(&why))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
