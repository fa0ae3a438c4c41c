//! The files generated from the Rust source are checked in; this test regenerates each one and
//! fails if the checked-in copy differs. `make generate` (WSB_BLESS=1) rewrites them.
//!
//! - `include/wsbridge.h`: cbindgen (pinned in Cargo.toml) from the rustdoc in src/ffi, plus the
//!   result codes of the table in src/ffi/result.rs ([`header`]).
//! - The Unity binding's `NativeMethods.g.cs` (every constant and entry point of the header, as
//!   blittable P/Invoke declarations) and `WsResult.g.cs` (the result codes as a public enum)
//!   ([`csharp`], from the same cbindgen parse and the same table).
//! - The Unreal plugin's `WsBridgeResult.h` (EWsBridgeResult) and `WsBridgeResultChecks.h` (its
//!   values checked against wsbridge.h where the engine compiles) ([`unreal`]).

mod csharp;
mod header;
mod unreal;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Every generated file: its path from the repository root and its contents.
fn outputs() -> &'static [(&'static str, Vec<u8>)] {
    static OUTPUTS: OnceLock<Vec<(&'static str, Vec<u8>)>> = OnceLock::new();
    OUTPUTS.get_or_init(|| {
        let bindings = header::bindings(root());
        let mut header = Vec::new();
        bindings.write(&mut header);
        vec![
            ("include/wsbridge.h", header),
            (
                csharp::NATIVE_METHODS,
                csharp::native_methods(&bindings).into_bytes(),
            ),
            (csharp::RESULT_ENUM, csharp::result_enum().into_bytes()),
            (unreal::RESULT_ENUM, unreal::result_enum().into_bytes()),
            (unreal::RESULT_CHECKS, unreal::result_checks().into_bytes()),
        ]
    })
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Compares the checked-in `path` with what the generators make (or writes it, with WSB_BLESS).
fn check(path: &str) {
    let generated = &outputs()
        .iter()
        .find(|(p, _)| *p == path)
        .unwrap_or_else(|| panic!("{path} is not a generated file"))
        .1;
    let file: PathBuf = root().join(path);
    if std::env::var_os("WSB_BLESS").is_some() {
        std::fs::write(&file, generated).unwrap_or_else(|e| panic!("write {path}: {e}"));
        return;
    }
    let checked_in = std::fs::read(&file).unwrap_or_default();
    if checked_in != *generated {
        let old = String::from_utf8_lossy(&checked_in);
        let new = String::from_utf8_lossy(generated);
        let first = old
            .lines()
            .zip(new.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(old.lines().count().min(new.lines().count()));
        panic!(
            "{path} is out of date (first difference at line {}); run `make generate`\n\
             checked in: {:?}\ngenerated:  {:?}",
            first + 1,
            old.lines().nth(first),
            new.lines().nth(first)
        );
    }
}

#[test]
fn header_matches_the_source() {
    check("include/wsbridge.h");
}

#[test]
fn unity_native_methods_match_the_source() {
    check(csharp::NATIVE_METHODS);
}

#[test]
fn unity_result_enum_matches_the_source() {
    check(csharp::RESULT_ENUM);
}

#[test]
fn unreal_result_enum_matches_the_source() {
    check(unreal::RESULT_ENUM);
}

#[test]
fn unreal_result_checks_match_the_source() {
    check(unreal::RESULT_CHECKS);
}

/// "WSB_BUFFER_TOO_SMALL" -> "BufferTooSmall": the bindings' names for the result codes.
fn camel_case(name: &str) -> String {
    let bare = name
        .strip_prefix("WSB_")
        .expect("result codes start with WSB_");
    bare.split('_')
        .map(|word| {
            let lower = word.to_ascii_lowercase();
            let mut chars = lower.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// A row's rustdoc as lines of text, without the space that follows `///`.
fn doc_lines(doc: &[&str]) -> Vec<String> {
    doc.iter()
        .map(|line| {
            line.strip_prefix(' ')
                .unwrap_or(line)
                .trim_end()
                .to_string()
        })
        .collect()
}

#[test]
fn camel_case_names() {
    assert_eq!(camel_case("WSB_OK"), "Ok");
    assert_eq!(camel_case("WSB_BUFFER_TOO_SMALL"), "BufferTooSmall");
    assert_eq!(camel_case("WSB_INVALID_UTF8"), "InvalidUtf8");
}
