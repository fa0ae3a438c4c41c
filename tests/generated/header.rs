//! include/wsbridge.h: cbindgen over the crate, plus the result codes.
//!
//! cbindgen reads the source without expanding macros, so it cannot see the constants that the
//! `result_codes!` table of src/ffi/result.rs defines. They are written out here as plain Rust
//! (`pub const WSB_OK: wsb_result = 0;` with their rustdoc) into a file that cbindgen parses with
//! the crate: the header gets them exactly as if they had been written by hand.

use std::fmt::Write as _;
use std::path::Path;
use wsbridge::ffi::result::RESULT_CODES;

/// cbindgen's parse of the crate and the result codes (the header and the C# bindings are written
/// from it).
pub fn bindings(root: &Path) -> cbindgen::Bindings {
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    let codes = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("wsbridge-result-codes-{}.rs", std::process::id()));
    std::fs::write(&codes, result_codes_source()).expect("write the result codes for cbindgen");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(&codes)
        .with_crate(root)
        .generate()
        .expect("cbindgen failed");
    let _ = std::fs::remove_file(&codes);
    bindings
}

/// The table's constants as the Rust source they stand for.
fn result_codes_source() -> String {
    let mut out = String::from("// The rows of src/ffi/result.rs's result_codes! table.\n");
    for code in RESULT_CODES {
        for line in code.doc {
            writeln!(out, "#[doc = {line:?}]").unwrap();
        }
        writeln!(out, "pub const {}: wsb_result = {};", code.name, code.value).unwrap();
    }
    out
}
