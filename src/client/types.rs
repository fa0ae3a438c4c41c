//! The small types every part of the client shares and callers see: a message's [`Kind`], a
//! connection's [`State`], and the peer's [`CloseStatus`]. In their own file, below both
//! `Connection` (mod.rs) and the files of `connection/` and `frame.rs` that use them.

/// The kind of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// UTF-8 text.
    Text,
    /// Arbitrary bytes.
    Binary,
}

/// The life of a connection, as the caller sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Resolving, connecting TCP, the proxy's CONNECT, the TLS handshake, or waiting for the
    /// HTTP upgrade: the first attempt.
    Connecting,
    /// Open: messages flow both ways.
    Open,
    /// `close` was called and the close handshake is under way.
    Closing,
    /// Closed by either side, failed, or lost (and, with the `reconnect` option, not retried
    /// or given up).
    Closed,
    /// With the `reconnect` option only: the link was lost (or an attempt failed), and
    /// wsbridge waits out the backoff or is connecting again.
    Reconnecting,
}

/// The close code and reason the peer sent (1005 if its close frame had no code, 1006 if the
/// connection ended without a close frame).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseStatus {
    /// Close code.
    pub code: u16,
    /// Close reason (UTF-8, at most 123 bytes).
    pub reason: String,
}
