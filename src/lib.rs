//! wsbridge: a WebSocket client for games that talk to Python trainers.
//!
//! Three layers, one folder each:
//! - [`client`]: the WebSocket client in plain Rust (connection state machine, options, URL,
//!   errors). It knows nothing about C.
//! - `runtime`: the background threads shared by all connections (one I/O thread driving every
//!   socket with `mio`, one DNS thread), started with the first connection and joined after the
//!   last.
//! - [`ffi`]: the C ABI (`include/wsbridge.h` is generated from it by cbindgen). It only
//!   validates arguments, converts types and calls into `client`.

// Only `ffi` makes the header; the annotations keep cbindgen out of the other modules.
/// cbindgen:ignore
pub mod client;
pub mod ffi;
/// cbindgen:ignore
mod runtime;
/// cbindgen:ignore
mod sync;

pub use client::{CloseStatus, Connection, Error, ErrorKind, Kind, Options, State};

/// `true` while wsbridge's background threads are running (for tests and diagnostics).
pub fn background_threads_running() -> bool {
    runtime::threads_running()
}
