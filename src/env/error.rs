//! The env layer's errors: what went wrong ([`ErrorKind`]: a client error, or one of the
//! protocol's own) and the message that states the facts.

use crate::client;
use std::borrow::Cow;
use std::fmt;

/// What went wrong, for the env's callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A WebSocket-level error or a misuse (an invalid argument, a call out of order, a
    /// timeout), as the connection reports them.
    Client(client::ErrorKind),
    /// The trainer broke the env protocol (a malformed or unexpected message). The env closed
    /// the connection with 4400 and the same text.
    TrainerProtocol,
    /// The trainer speaks another protocol version; the message names both.
    VersionMismatch,
    /// The trainer refused this game for good (the upgrade answered with HTTP 401, 403 or 404;
    /// or closed with 4400, 4401, 4404, or another code that says not to retry);
    /// [`Env::close_status`] has the close code and reason. With the `lobby` option, also the
    /// lobby's refusal (HTTP 401, 403, 404; close 4400).
    Refused,
}

/// An error: its kind and a message that states the facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: Cow<'static, str>,
}

impl Error {
    /// An error with a message.
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    pub(super) fn client(kind: client::ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Error::new(ErrorKind::Client(kind), message)
    }

    pub(crate) fn invalid(message: impl Into<Cow<'static, str>>) -> Self {
        Error::client(client::ErrorKind::InvalidArgument, message)
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<client::Error> for Error {
    fn from(e: client::Error) -> Self {
        Error::client(e.kind(), e.message().to_string())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Shorthand for this module.
pub type Result<T> = std::result::Result<T, Error>;
