//! Message kinds: the `WSB_TEXT` and `WSB_BINARY` constants and their conversion to and from
//! [`Kind`].

use super::Failure;
use crate::client::Kind;

/// Message kind: UTF-8 text.
pub const WSB_TEXT: u32 = 1;
/// Message kind: binary.
pub const WSB_BINARY: u32 = 2;

/// A `kind` argument.
pub(crate) fn kind_arg(kind: u32) -> Result<Kind, Failure> {
    match kind {
        WSB_TEXT => Ok(Kind::Text),
        WSB_BINARY => Ok(Kind::Binary),
        other => Err(Failure::invalid(format!(
            "`kind` is {other}; use WSB_TEXT (1) or WSB_BINARY (2)"
        ))),
    }
}

/// The constant of a message kind.
pub(crate) fn kind_code(kind: Kind) -> u32 {
    match kind {
        Kind::Text => WSB_TEXT,
        Kind::Binary => WSB_BINARY,
    }
}
