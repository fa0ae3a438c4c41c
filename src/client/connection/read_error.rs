//! Read errors: holding one back until `recv` has handed out the messages received before it,
//! and failing the connection with the close code the error calls for.

use super::*;

impl Shared {
    /// A read error ends the connection, but only once `recv` reports it (or `close` runs):
    /// the messages received intact before it are delivered first, and what the application
    /// sends until then (answers to them) goes out before our close frame. Meanwhile the error
    /// waits in the inbox (`Inbox::hold`) and reading stops. A lost connection (nothing can be sent
    /// any more) and one closing on our side fail at once.
    pub(super) fn hold_or_fail(&self, io: &mut Io, e: tungstenite::Error) {
        use tungstenite::error::ProtocolError::ResetWithoutClosingHandshake;
        let lost = matches!(
            e,
            tungstenite::Error::Io(_) | tungstenite::Error::Protocol(ResetWithoutClosingHandshake)
        );
        if lost || io.closing_locally {
            return self.fail_read(io, e);
        }
        // Nothing is read any more: a pong could not arrive.
        io.stop_keepalive();
        self.inbox.hold(e);
    }

    /// Fails the connection with the read error `hold_or_fail` held back, if any.
    pub(super) fn fail_held(&self, io: &mut Io) {
        if let Some(e) = self.inbox.take_held() {
            if matches!(io.phase, Phase::Open(_)) {
                self.fail_read(io, e);
            }
            self.poke_if_needed(io);
        }
    }

    /// A read error ended the connection: classify it, and send the close code it calls for.
    pub(super) fn fail_read(&self, io: &mut Io, e: tungstenite::Error) {
        use tungstenite::error::{CapacityError, ProtocolError};
        let (kind, code, what) = match e {
            tungstenite::Error::Capacity(CapacityError::MessageTooLong { size, max_size }) => (
                ErrorKind::MessageTooBig,
                CloseCode::Size,
                format!(
                    "received a message of {size} bytes, larger than max_message_size \
                     ({max_size} bytes); closed the connection with 1009"
                ),
            ),
            tungstenite::Error::Capacity(c) => (
                ErrorKind::MessageTooBig,
                CloseCode::Size,
                format!("{c}; closed the connection with 1009"),
            ),
            tungstenite::Error::Utf8(_) => (
                ErrorKind::ProtocolError,
                CloseCode::Invalid,
                "received a text message that is not valid UTF-8; closed the connection with 1007"
                    .to_string(),
            ),
            tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
                let err = self.lost("the peer closed TCP without a close handshake");
                return self.finish(io, Some(err));
            }
            tungstenite::Error::Io(e) => {
                let err = self.lost(&e.to_string());
                return self.finish(io, Some(err));
            }
            tungstenite::Error::Protocol(p) => (
                ErrorKind::ProtocolError,
                CloseCode::Protocol,
                format!("protocol violation by the peer: {p}; closed the connection with 1002"),
            ),
            other => (
                ErrorKind::ProtocolError,
                CloseCode::Protocol,
                format!("protocol violation by the peer: {other}; closed the connection with 1002"),
            ),
        };
        let err = Error::new(kind, format!("connection to {}: {what}", self.url()));
        let Phase::Open(mut ws) = std::mem::replace(&mut io.phase, Phase::Idle) else {
            unreachable!("fail_read is only called while open")
        };
        let _ = ws.close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from_static(""),
        }));
        if ws.get_ref().drained() {
            // Half-close only with nothing left to write: answers sent before the error (and
            // our close frame behind them) must still go out; the peer ends TCP either way.
            let _ = ws.get_ref().tcp().shutdown(Shutdown::Write);
        }
        io.phase = Phase::Lingering(ws);
        Self::linger(io);
        self.inbox.mark_closed(Some(err));
        self.direct.forget_socket();
        self.direct.wake();
    }
}
