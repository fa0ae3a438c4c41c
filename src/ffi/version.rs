//! The library version, as a function and as macros that must agree with it.

use super::panic::guard;
use std::ffi::c_char;

/// Major version of the header (agrees with wsb_version(); checked by the tests).
pub const WSB_VERSION_MAJOR: u32 = 0;
/// Minor version of the header.
pub const WSB_VERSION_MINOR: u32 = 1;
/// Patch version of the header.
pub const WSB_VERSION_PATCH: u32 = 0;

/// The version of the loaded library, e.g. "0.1.0". Compare it with the WSB_VERSION_* macros to
/// detect a header/library mismatch.
///
/// Returns a static NUL-terminated string: never free it. Thread-safe.
#[no_mangle]
pub extern "C" fn wsb_version() -> *const c_char {
    guard("wsb_version", || {
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macros_agree_with_the_package_version() {
        let v = format!("{WSB_VERSION_MAJOR}.{WSB_VERSION_MINOR}.{WSB_VERSION_PATCH}");
        assert_eq!(v, env!("CARGO_PKG_VERSION"));
        // SAFETY: wsb_version returns a static NUL-terminated string.
        let s = unsafe { std::ffi::CStr::from_ptr(wsb_version()) };
        assert_eq!(s.to_str().unwrap(), v);
    }
}
