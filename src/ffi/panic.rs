//! The panic boundary of every export: a panic must never unwind into C, whatever the export
//! returns. [`guard`] runs an export's body, and on a panic records the message as the calling
//! thread's last error and returns the [`PanicValue`] of the export's return type.
//! [`boundary`](super::boundary) builds on it for the exports that return a `wsb_result`.

use super::last_error;
use super::result::{wsb_result, WSB_INTERNAL};
use std::borrow::Cow;
use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// What an export returns when its body panicked.
pub(crate) trait PanicValue {
    fn on_panic() -> Self;
}

/// Result codes: `WSB_INTERNAL` (the message from `wsb_last_error` says where).
impl PanicValue for wsb_result {
    fn on_panic() -> Self {
        WSB_INTERNAL
    }
}

/// Lengths (`wsb_last_error`): 0, no message.
impl PanicValue for usize {
    fn on_panic() -> Self {
        0
    }
}

/// Static strings (`wsb_result_name`, `wsb_version`): "", never NULL, so a caller that reads the
/// string without checking cannot crash.
impl PanicValue for *const c_char {
    fn on_panic() -> Self {
        c"".as_ptr()
    }
}

/// Runs the body of the export `function`. A panic is caught: its message becomes the calling
/// thread's last error and the export returns `T::on_panic()`.
pub(crate) fn guard<T: PanicValue>(function: &'static str, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(value) => value,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            last_error::set(Cow::Owned(format!(
                "internal error in {function}: {what} (this is a wsbridge bug; please report it)"
            )));
            T::on_panic()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn last_error() -> String {
        last_error::with(str::to_string)
    }

    #[test]
    fn a_panic_becomes_the_panic_value_of_each_return_type() {
        let code: wsb_result = guard("wsb_a", || panic!("boom {}", 1));
        assert_eq!(code, WSB_INTERNAL);
        assert_eq!(
            last_error(),
            "internal error in wsb_a: boom 1 (this is a wsbridge bug; please report it)"
        );

        let len: usize = guard("wsb_b", || panic!("static message"));
        assert_eq!(len, 0);
        assert!(last_error().starts_with("internal error in wsb_b: static message"));

        let text: *const c_char = guard("wsb_c", || panic!("no string"));
        assert!(!text.is_null());
        // SAFETY: the panic value is a static NUL-terminated string.
        assert_eq!(unsafe { CStr::from_ptr(text) }.to_bytes(), b"");
        assert!(last_error().starts_with("internal error in wsb_c: no string"));
    }

    #[test]
    fn without_a_panic_the_body_s_value_is_returned() {
        assert_eq!(guard("wsb_d", || 7usize), 7);
        assert_eq!(guard::<wsb_result>("wsb_e", || 3), 3);
    }

    /// Every export's body is `boundary("its name", ...)` or `guard("its name", ...)`: nothing
    /// runs outside the boundary, and a panic message names the right function.
    #[test]
    fn every_export_runs_inside_the_boundary() {
        let mut dirs = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ffi")];
        let mut files = Vec::new();
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    files.push(path);
                }
            }
        }
        let mut exports = 0;
        for path in files {
            let source = std::fs::read_to_string(&path).unwrap();
            for (at, _) in source.match_indices("pub extern \"C\" fn ") {
                let signature = &source[at + "pub extern \"C\" fn ".len()..];
                let name = &signature[..signature.find('(').unwrap()];
                let body = signature[signature.find('{').unwrap() + 1..].trim_start();
                let guarded = [format!("boundary(\"{name}\""), format!("guard(\"{name}\"")]
                    .iter()
                    .any(|start| body.starts_with(start.as_str()));
                assert!(
                    guarded,
                    "{}: {name} does not start with boundary(\"{name}\", ..) or guard(\"{name}\", ..)",
                    path.display()
                );
                exports += 1;
            }
        }
        assert!(exports >= 31, "found only {exports} exports");
    }
}
