//! The C ABI. This layer only validates arguments, converts between C and Rust types, and
//! calls into [`crate::client`]; every export runs inside [`boundary`], which turns errors into
//! result codes plus a per-thread message and a panic into `WSB_INTERNAL`.
//!
//! The rustdoc of every `pub` item here is copied by cbindgen into `include/wsbridge.h`.

// Declaration order is header order.
pub mod connection;
pub mod error;
pub mod handle;
pub mod result;
pub mod runtime;
pub mod version;

use crate::client::{Error, ErrorKind};
use result::*;
use std::borrow::Cow;
use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// An error on its way out to C: the result code and the message for `wsb_last_error`.
pub(crate) struct Failure {
    pub code: wsb_result,
    pub message: Cow<'static, str>,
}

impl Failure {
    pub fn new(code: wsb_result, message: impl Into<Cow<'static, str>>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<Cow<'static, str>>) -> Self {
        Failure::new(WSB_INVALID_ARGUMENT, message)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let code = match e.kind() {
            ErrorKind::Timeout => WSB_TIMEOUT,
            ErrorKind::BufferTooSmall => WSB_BUFFER_TOO_SMALL,
            ErrorKind::WouldBlock => WSB_WOULD_BLOCK,
            ErrorKind::Closed => WSB_CLOSED,
            ErrorKind::InvalidArgument => WSB_INVALID_ARGUMENT,
            ErrorKind::InvalidUtf8 => WSB_INVALID_UTF8,
            ErrorKind::MessageTooBig => WSB_MESSAGE_TOO_BIG,
            ErrorKind::ConnectFailed => WSB_CONNECT_FAILED,
            ErrorKind::HandshakeFailed => WSB_HANDSHAKE_FAILED,
            ErrorKind::TlsFailed => WSB_TLS_FAILED,
            ErrorKind::ConnectionLost => WSB_CONNECTION_LOST,
            ErrorKind::ProtocolError => WSB_PROTOCOL_ERROR,
            ErrorKind::Internal => WSB_INTERNAL,
        };
        Failure::new(code, e.message().to_string())
    }
}

pub(crate) type FfiResult = Result<(), Failure>;

/// Runs an export's body: `Ok` becomes `WSB_OK`; a failure sets the calling thread's last error
/// and returns its code; a panic is caught (it must never unwind into C) and becomes
/// `WSB_INTERNAL`.
pub(crate) fn boundary(function: &'static str, body: impl FnOnce() -> FfiResult) -> wsb_result {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => WSB_OK,
        Ok(Err(f)) => {
            error::set(f.message);
            f.code
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            error::set(Cow::Owned(format!(
                "internal error in {function}: {what} (this is a wsbridge bug; please report it)"
            )));
            WSB_INTERNAL
        }
    }
}

/// A required, NUL-terminated UTF-8 string argument.
pub(crate) fn str_arg<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Failure> {
    if ptr.is_null() {
        return Err(Failure::invalid(format!("`{name}` is NULL")));
    }
    // SAFETY: the caller promises a NUL-terminated string that lives for the call.
    let c = unsafe { CStr::from_ptr(ptr) };
    c.to_str()
        .map_err(|e| Failure::invalid(format!("`{name}` is not valid UTF-8: {e}")))
}

/// An optional string argument: NULL gives `None`.
pub(crate) fn opt_str_arg<'a>(ptr: *const c_char, name: &str) -> Result<Option<&'a str>, Failure> {
    if ptr.is_null() {
        Ok(None)
    } else {
        str_arg(ptr, name).map(Some)
    }
}

/// A required output pointer.
pub(crate) fn out_arg<'a, T>(ptr: *mut T, name: &str) -> Result<&'a mut T, Failure> {
    // SAFETY: the caller promises a valid, writable, aligned pointer when it is not NULL.
    unsafe { ptr.as_mut() }.ok_or_else(|| Failure::invalid(format!("`{name}` is NULL")))
}

/// Writes `value` through an optional output pointer (NULL: nothing is written).
pub(crate) fn write_opt<T>(ptr: *mut T, value: T) {
    // SAFETY: the caller promises a valid, writable, aligned pointer when it is not NULL.
    if let Some(p) = unsafe { ptr.as_mut() } {
        *p = value;
    }
}

/// A byte buffer argument: NULL is allowed only with a zero length.
pub(crate) fn bytes_arg<'a>(ptr: *const u8, len: usize, name: &str) -> Result<&'a [u8], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Failure::invalid(format!(
            "`{name}` is NULL but its length is {len}"
        )));
    }
    // SAFETY: the caller promises `len` readable bytes at `ptr` for the call.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A writable byte buffer argument: NULL is allowed only with a zero capacity.
pub(crate) fn buf_arg<'a>(ptr: *mut u8, cap: usize, name: &str) -> Result<&'a mut [u8], Failure> {
    if cap == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() {
        return Err(Failure::invalid(format!(
            "`{name}` is NULL but its capacity is {cap}"
        )));
    }
    // SAFETY: the caller promises `cap` writable bytes at `ptr` for the call.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, cap) })
}

/// A buffer for `write_c_string`: NULL is allowed only with a zero capacity.
pub(crate) fn c_string_buf_arg(ptr: *mut c_char, cap: usize, name: &str) -> Result<(), Failure> {
    if ptr.is_null() && cap > 0 {
        return Err(Failure::invalid(format!(
            "`{name}` is NULL but its capacity is {cap}"
        )));
    }
    Ok(())
}

/// A timeout in milliseconds: -1 waits without limit, 0 does not wait.
pub(crate) fn timeout_arg(ms: i32, name: &str) -> Result<Option<std::time::Duration>, Failure> {
    match ms {
        -1 => Ok(None),
        0.. => Ok(Some(std::time::Duration::from_millis(ms as u64))),
        _ => Err(Failure::invalid(format!(
            "`{name}` is {ms}; use -1 (no limit), 0 (do not wait) or a positive number of milliseconds"
        ))),
    }
}

/// Copies `text` into a C buffer like `snprintf`: at most `cap - 1` bytes and a NUL; returns the
/// full length. `buf` may be NULL when `cap` is 0.
pub(crate) fn write_c_string(text: &str, buf: *mut c_char, cap: usize) -> usize {
    if cap > 0 && !buf.is_null() {
        let n = text.len().min(cap - 1);
        // SAFETY: the caller promises `cap` writable bytes at `buf`; we write `n + 1 <= cap`.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), n);
            *buf.add(n) = 0;
        }
    }
    text.len()
}
