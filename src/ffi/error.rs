//! The calling thread's last error message.

use super::write_c_string;
use std::borrow::Cow;
use std::cell::RefCell;
use std::ffi::c_char;

thread_local! {
    static LAST: RefCell<Cow<'static, str>> = const { RefCell::new(Cow::Borrowed("")) };
}

pub(crate) fn set(message: Cow<'static, str>) {
    // `try_with`: during thread teardown the slot may be gone; losing the message is fine.
    let _ = LAST.try_with(|l| *l.borrow_mut() = message);
}

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
    let result = std::panic::catch_unwind(|| {
        LAST.try_with(|l| write_c_string(&l.borrow(), buf, cap))
            .unwrap_or_else(|_| write_c_string("", buf, cap))
    });
    result.unwrap_or(0)
}
