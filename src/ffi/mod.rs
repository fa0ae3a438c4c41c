//! The C ABI. This layer only validates arguments, converts between C and Rust types, and
//! calls into [`crate::client`]. Every export runs inside the panic boundary of [`panic`]; those
//! that return a `wsb_result` through [`boundary`], which also turns errors into result codes
//! plus a per-thread message.
//!
//! The rustdoc of every `pub` item here is copied by cbindgen into `include/wsbridge.h`; the
//! result codes come from the table in [`result`] (docs/architecture.md says how the header and
//! the bindings' copies are generated).

// Declaration order is header order.
pub mod connection;
pub mod diagnostics;
pub mod handle;
pub mod kind;
mod last_error;
mod panic;
pub mod result;
pub mod shutdown;
pub mod state;
pub mod version;
// The env API (docs/env.md) after the connection API it is built on.
pub mod env;

use crate::Error;
use result::*;
use std::borrow::Cow;
use std::ffi::{c_char, CStr};

/// An error on its way out to C: the result code and the message for `wsb_last_error`.
#[derive(Debug)]
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
        Failure::new(code_of(e.kind()), e.message().to_string())
    }
}

impl From<crate::env::Error> for Failure {
    fn from(e: crate::env::Error) -> Self {
        use crate::env::ErrorKind as K;
        let code = match e.kind() {
            K::Client(k) => code_of(k),
            K::TrainerProtocol => WSB_ENV_PROTOCOL_ERROR,
            K::VersionMismatch => WSB_ENV_VERSION_MISMATCH,
            K::Refused => WSB_ENV_REFUSED,
        };
        Failure::new(code, e.message().to_string())
    }
}

pub(crate) type FfiResult = Result<(), Failure>;

/// Runs the body of an export that returns a `wsb_result`, inside the panic boundary
/// ([`panic::guard`]: a panic becomes `WSB_INTERNAL`): `Ok` becomes `WSB_OK`; a failure sets the
/// calling thread's last error and returns its code.
pub(crate) fn boundary(function: &'static str, body: impl FnOnce() -> FfiResult) -> wsb_result {
    panic::guard(function, || match body() {
        Ok(()) => WSB_OK,
        Err(f) => {
            last_error::set(f.message);
            f.code
        }
    })
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

/// The largest size of any object in memory (`PTRDIFF_MAX`): a length or capacity above it
/// cannot describe a real buffer, and must not reach `slice::from_raw_parts`.
const MAX_BUFFER: usize = isize::MAX as usize;

/// Refuses a length or capacity no real buffer can have (see [`MAX_BUFFER`]).
fn size_arg(size: usize, name: &str, what: &str) -> Result<(), Failure> {
    if size > MAX_BUFFER {
        return Err(Failure::invalid(format!(
            "`{name}`: its {what} is {size}, larger than PTRDIFF_MAX ({MAX_BUFFER}), which no \
             buffer can have; pass the buffer's real size"
        )));
    }
    Ok(())
}

/// A byte buffer argument: NULL is allowed only with a zero length; a length above
/// `PTRDIFF_MAX` is refused.
pub(crate) fn bytes_arg<'a>(ptr: *const u8, len: usize, name: &str) -> Result<&'a [u8], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    size_arg(len, name, "length")?;
    if ptr.is_null() {
        return Err(Failure::invalid(format!(
            "`{name}` is NULL but its length is {len}"
        )));
    }
    // SAFETY: the caller promises `len` readable bytes at `ptr` for the call.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A writable byte buffer argument: NULL is allowed only with a zero capacity; a capacity above
/// `PTRDIFF_MAX` is refused.
pub(crate) fn buf_arg<'a>(ptr: *mut u8, cap: usize, name: &str) -> Result<&'a mut [u8], Failure> {
    if cap == 0 {
        return Ok(&mut []);
    }
    size_arg(cap, name, "capacity")?;
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
