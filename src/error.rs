//! Errors as data: a kind that callers branch on, and a message that states the facts.
//!
//! Crate-level, below every layer: the runtime, the client, the env layer and the C ABI all
//! return these (the client re-exports them as `client::Error`, `client::ErrorKind`).

use std::borrow::Cow;
use std::fmt;

/// What went wrong, as a closed set that maps one-to-one onto the C result codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Nothing happened within the time the caller allowed (a receive, a connect, a close).
    Timeout,
    /// The caller's buffer cannot hold the next message; the message stays queued.
    BufferTooSmall,
    /// The send queue is at its cap; the message was not queued.
    WouldBlock,
    /// The connection is closed (by the peer, by us, or after an earlier reported error).
    Closed,
    /// An argument, URL or option is invalid.
    InvalidArgument,
    /// A text message is not valid UTF-8.
    InvalidUtf8,
    /// A message exceeds `max_message_size` (outgoing: rejected; incoming: connection closed 1009).
    MessageTooBig,
    /// DNS resolution or the TCP connection failed.
    ConnectFailed,
    /// The HTTP upgrade was refused or invalid.
    HandshakeFailed,
    /// The TLS handshake failed: the certificate was rejected, or no common TLS parameters.
    TlsFailed,
    /// The connection broke without a close handshake (reset, EOF, silent peer).
    ConnectionLost,
    /// The peer violated the WebSocket protocol.
    ProtocolError,
    /// A bug in wsbridge (a caught panic, a poisoned state).
    Internal,
    /// A DNS lookup (`getaddrinfo`, which has no timeout) still runs on wsbridge's DNS thread
    /// after its runtime stopped: not yet safe to unload the library; wait again.
    LookupRunning,
    /// Not an error: a connection with the `reconnect` option lost its link and opened a new
    /// one; `recv` says so once, before the new connection's first message.
    Reconnected,
}

/// An error: its kind and a human-readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: Cow<'static, str>,
    /// The HTTP status of a refused upgrade (`HandshakeFailed`), for callers that decide by it.
    http_status: Option<u16>,
}

impl Error {
    /// An error with a formatted message.
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Error {
            kind,
            message: message.into(),
            http_status: None,
        }
    }

    /// The same error, carrying the HTTP status the server refused the upgrade with.
    pub(crate) fn with_http_status(mut self, status: u16) -> Self {
        self.http_status = Some(status);
        self
    }

    /// The HTTP status the server refused the upgrade with (`HandshakeFailed` only): 401 for a
    /// missing or wrong token, 404 for an unrouted path, 503 for a trainer at its limit ...
    pub fn http_status(&self) -> Option<u16> {
        self.http_status
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message, stating the facts (URL, status, OS error, option name ...).
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn invalid(message: impl Into<Cow<'static, str>>) -> Self {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    pub(crate) fn internal(message: impl Into<Cow<'static, str>>) -> Self {
        Error::new(ErrorKind::Internal, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Shorthand used throughout the crate.
pub type Result<T> = std::result::Result<T, Error>;
