//! wsbridge: a WebSocket client for games that talk to Python trainers.
//!
//! Four layers, one folder each, over two shared files:
//! - [`client`]: the WebSocket client in plain Rust (connection state machine, options, URL,
//!   proxy, TLS). It knows nothing about C.
//! - `runtime`: the background threads shared by all connections (one I/O thread driving every
//!   socket with `mio`, one DNS thread), started with the first connection and joined after the
//!   last.
//! - [`env`]: the game side of the env protocol (docs/protocol.md) on top of `client`: hello,
//!   reset and step answers, reconnection. Plain Rust too.
//! - [`ffi`]: the C ABI (`include/wsbridge.h` is generated from it by cbindgen). It only
//!   validates arguments, converts types and calls into `client`.
//! - [`error`] (the errors every layer returns) and `sync` (lock helpers) sit below them all.
//!
//! What each may import, and where a new feature goes: docs/architecture.md.

// Only `ffi` makes the header; the annotations keep cbindgen out of the other modules.
/// cbindgen:ignore
pub mod client;
/// cbindgen:ignore
pub mod env;
/// cbindgen:ignore
pub mod error;
pub mod ffi;
/// cbindgen:ignore
mod runtime;
/// cbindgen:ignore
mod sync;

pub use client::{CloseStatus, Connection, Kind, Options, State};
pub use error::{Error, ErrorKind};

/// `true` while wsbridge's background threads are running (for tests and diagnostics).
pub fn background_threads_running() -> bool {
    runtime::threads_running()
}
