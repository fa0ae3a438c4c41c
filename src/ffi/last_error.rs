//! The calling thread's last error message: left by every export that fails (and by the panic
//! boundary), read by `wsb_last_error` (in [`diagnostics`](super::diagnostics)).

use std::borrow::Cow;
use std::cell::RefCell;

thread_local! {
    static LAST: RefCell<Cow<'static, str>> = const { RefCell::new(Cow::Borrowed("")) };
}

/// Replaces the calling thread's message.
pub(crate) fn set(message: Cow<'static, str>) {
    // `try_with`: during thread teardown the slot may be gone; losing the message is fine.
    let _ = LAST.try_with(|l| *l.borrow_mut() = message);
}

/// Calls `read` with the calling thread's message ("" if there is none, or during thread
/// teardown).
pub(crate) fn with<R>(read: impl FnOnce(&str) -> R) -> R {
    let mut read = Some(read);
    let result = LAST.try_with(|l| (read.take().expect("called once"))(&l.borrow()));
    match result {
        Ok(r) => r,
        Err(_) => (read.take().expect("not called"))(""),
    }
}
