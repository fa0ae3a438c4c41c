//! What a caller reads after a failure: the calling thread's message (`wsb_last_error`) and the
//! name of a result code (`wsb_result_name`).

use super::panic::guard;
use super::result::{name_of, wsb_result};
use super::{last_error, write_c_string};
use std::ffi::c_char;

/// Copies the calling thread's message for its most recent result other than WSB_OK (like
/// libgit2's per-thread last error). Messages state the facts: the URL, the HTTP status and the
/// start of the body of a refused upgrade, the OS error, the close code and reason, the name of
/// a bad option. Successful calls do not clear it.
///
/// - `buf`: where to write; may be NULL when `cap` is 0.
/// - `cap`: size of `buf` in bytes. At most `cap - 1` bytes are written, then a NUL, like
///   snprintf; the text is UTF-8 and a truncation may cut a multi-byte character.
///
/// Returns the full length of the message in bytes, without the NUL (0 if there is none), so
/// `wsb_last_error(NULL, 0)` asks for the size. Never fails. Thread-safe: each thread has its
/// own message.
#[no_mangle]
pub extern "C" fn wsb_last_error(buf: *mut c_char, cap: usize) -> usize {
    guard("wsb_last_error", || {
        last_error::with(|message| write_c_string(message, buf, cap))
    })
}

/// The name of a result code, e.g. "WSB_TIMEOUT", or "WSB_UNKNOWN" for a value this version
/// does not define.
///
/// Returns a static NUL-terminated string: never free it. Thread-safe.
#[no_mangle]
pub extern "C" fn wsb_result_name(result: wsb_result) -> *const c_char {
    guard("wsb_result_name", || {
        name_of(result).unwrap_or("WSB_UNKNOWN\0").as_ptr().cast()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::result::RESULT_CODES;
    use std::ffi::CStr;

    fn name(code: wsb_result) -> &'static str {
        // SAFETY: wsb_result_name returns a static NUL-terminated string.
        unsafe { CStr::from_ptr(wsb_result_name(code)) }
            .to_str()
            .unwrap()
    }

    #[test]
    fn every_code_has_its_name() {
        for code in RESULT_CODES {
            assert_eq!(name(code.value), code.name);
        }
        assert_eq!(name(RESULT_CODES.len() as wsb_result), "WSB_UNKNOWN");
    }

    #[test]
    fn the_last_error_is_copied_like_snprintf() {
        last_error::set("abcdef".into());
        assert_eq!(wsb_last_error(std::ptr::null_mut(), 0), 6);
        let mut buf = [1 as c_char; 4];
        assert_eq!(wsb_last_error(buf.as_mut_ptr(), buf.len()), 6);
        // SAFETY: wsb_last_error wrote a NUL-terminated string into `buf`.
        assert_eq!(unsafe { CStr::from_ptr(buf.as_ptr()) }.to_bytes(), b"abc");
    }
}
