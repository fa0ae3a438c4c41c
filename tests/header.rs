//! The checked-in header must be exactly what cbindgen (pinned in Cargo.toml) generates from
//! the rustdoc in src/ffi. `make header` (WSB_BLESS=1) rewrites it.

use std::path::Path;

#[test]
fn header_matches_the_source() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(root)
        .with_config(config)
        .generate()
        .expect("cbindgen failed")
        .write(&mut generated);
    let path = root.join("include/wsbridge.h");
    if std::env::var_os("WSB_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write include/wsbridge.h");
        return;
    }
    let checked_in = std::fs::read(&path).unwrap_or_default();
    if checked_in != generated {
        let old = String::from_utf8_lossy(&checked_in);
        let new = String::from_utf8_lossy(&generated);
        let first = old
            .lines()
            .zip(new.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(old.lines().count().min(new.lines().count()));
        panic!(
            "include/wsbridge.h is out of date (first difference at line {}); run `make header`\n\
             checked in: {:?}\ngenerated:  {:?}",
            first + 1,
            old.lines().nth(first),
            new.lines().nth(first)
        );
    }
}
