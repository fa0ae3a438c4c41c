//! No import cycles in src/, and each layer imports only what docs/architecture.md allows.
//!
//! Reads every `use` statement and every `crate::`/`super::`/`self::` path in src/ (outside
//! comments and string literals), resolves it to the file that defines the item (through
//! re-exports such as `pub use error::Error` in a `mod.rs`), and builds two graphs: file to file
//! (`client::options` -> `client::proxy`) and layer to layer (`client` -> `runtime`). A cycle in
//! either, or a layer importing one it may not, fails the test. There is no list of allowed
//! exceptions: a type two files share goes into a file below both (docs/architecture.md).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What each layer (a top-level module of src/) may import. The crate root (src/lib.rs) is the
/// public face and may import everything.
const MAY_IMPORT: &[(&str, &[&str])] = &[
    ("sync", &[]),
    ("error", &[]),
    ("runtime", &["error", "sync"]),
    ("client", &["error", "runtime", "sync"]),
    ("env", &["client", "error", "sync"]),
    ("ffi", &["client", "env", "error", "sync"]),
];

type Module = Vec<String>;

fn name(module: &[String]) -> String {
    if module.is_empty() {
        "crate".to_string()
    } else {
        module.join("::")
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    PathSep,
    Punct(char),
}

/// The tokens of a Rust file that matter for paths: identifiers, `::` and punctuation, without
/// comments, string, byte-string and character literals, and lifetimes.
fn tokens(source: &str) -> Vec<Token> {
    let s: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        let next = s.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < s.len() && s[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < s.len() {
                if s[i] == '/' && s.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if s[i] == '*' && s.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('#') || next == Some('"')) && raw_string_at(&s, i) {
            i = skip_raw_string(&s, i + 1);
        } else if c == 'b' && next == Some('r') && raw_string_at(&s, i + 1) {
            i = skip_raw_string(&s, i + 2);
        } else if c == '"' {
            i += 1;
            while i < s.len() && s[i] != '"' {
                i += if s[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{..}') or a lifetime ('a).
            if next == Some('\\') {
                i += 2;
                while i < s.len() && s[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if s.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
                while i < s.len() && (s[i].is_alphanumeric() || s[i] == '_') {
                    i += 1;
                }
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < s.len() && (s[i].is_alphanumeric() || s[i] == '_') {
                i += 1;
            }
            out.push(Token::Ident(s[start..i].iter().collect()));
        } else if c == ':' && next == Some(':') {
            out.push(Token::PathSep);
            i += 2;
        } else {
            if !c.is_whitespace() {
                out.push(Token::Punct(c));
            }
            i += 1;
        }
    }
    out
}

fn raw_string_at(s: &[char], r: usize) -> bool {
    let mut j = r + 1;
    while s.get(j) == Some(&'#') {
        j += 1;
    }
    s.get(j) == Some(&'"') && (r == 0 || !(s[r - 1].is_alphanumeric() || s[r - 1] == '_'))
}

/// Skips `#*"..."#*` starting at the first `#` or `"`; returns the index after it.
fn skip_raw_string(s: &[char], mut i: usize) -> usize {
    let mut hashes = 0;
    while s[i] == '#' {
        hashes += 1;
        i += 1;
    }
    i += 1;
    while i < s.len() {
        if s[i] == '"' && (0..hashes).all(|k| s.get(i + 1 + k) == Some(&'#')) {
            return i + 1 + hashes;
        }
        i += 1;
    }
    i
}

/// One path used by a module: where it is written (the module, inline modules included) and its
/// segments; `reexport` for the `pub use` items of a module's public face.
#[derive(Debug)]
struct Use {
    at: Module,
    path: Vec<String>,
    reexport: bool,
}

/// Expands a use tree (`a::{b, c::{self, d}}`) starting at `tokens[*i]` into full paths.
fn use_tree(tokens: &[Token], i: &mut usize, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let mut path = prefix.to_vec();
    loop {
        match tokens.get(*i) {
            Some(Token::Ident(id)) if id == "self" && !path.is_empty() => {
                *i += 1;
                out.push(path.clone());
                break;
            }
            Some(Token::Ident(id)) => {
                path.push(id.clone());
                *i += 1;
                if tokens.get(*i) == Some(&Token::PathSep) {
                    *i += 1;
                    continue;
                }
                if tokens.get(*i) == Some(&Token::Ident("as".into())) {
                    *i += 2;
                }
                out.push(path.clone());
                break;
            }
            Some(Token::Punct('*')) => {
                *i += 1;
                out.push(path.clone());
                break;
            }
            Some(Token::Punct('{')) => {
                *i += 1;
                while tokens.get(*i) != Some(&Token::Punct('}')) && *i < tokens.len() {
                    use_tree(tokens, i, &path, out);
                    if tokens.get(*i) == Some(&Token::Punct(',')) {
                        *i += 1;
                    }
                }
                *i += 1;
                break;
            }
            Some(Token::PathSep) => *i += 1, // a leading `::`
            _ => break,
        }
    }
}

/// The inline modules (`mod tests { ... }`) and the uses of one file.
fn scan(file_module: &Module, tokens: &[Token]) -> (Vec<Module>, Vec<Use>) {
    let mut inline = Vec::new();
    let mut uses = Vec::new();
    // (inline module name, brace depth inside it)
    let mut scopes: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let current = |scopes: &[(String, usize)]| {
        let mut m = file_module.clone();
        m.extend(scopes.iter().map(|(n, _)| n.clone()));
        m
    };
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            Token::Punct('{') => depth += 1,
            Token::Punct('}') => {
                if scopes.last().is_some_and(|(_, d)| *d == depth) {
                    scopes.pop();
                }
                depth = depth.saturating_sub(1);
            }
            Token::Ident(kw) if kw == "mod" => {
                if let (Some(Token::Ident(n)), Some(Token::Punct('{'))) =
                    (tokens.get(i + 1), tokens.get(i + 2))
                {
                    scopes.push((n.clone(), depth + 1));
                    inline.push(current(&scopes));
                    depth += 1;
                    i += 3;
                    continue;
                }
            }
            Token::Ident(kw) if kw == "use" => {
                // `pub use` / `pub(crate) use` / `pub(super) use`: a re-export.
                let reexport = matches!(tokens.get(i.wrapping_sub(1)), Some(Token::Ident(p)) if p == "pub")
                    || (i >= 4
                        && tokens[i - 1] == Token::Punct(')')
                        && tokens[i - 3] == Token::Punct('(')
                        && tokens[i - 4] == Token::Ident("pub".into()));
                let mut paths = Vec::new();
                i += 1;
                use_tree(tokens, &mut i, &[], &mut paths);
                let at = current(&scopes);
                for path in paths {
                    uses.push(Use {
                        at: at.clone(),
                        path,
                        reexport,
                    });
                }
                continue;
            }
            Token::Ident(first) if first == "crate" || first == "super" || first == "self" => {
                // A path in code: `crate::client::check_close(...)`.
                let after_sep = i > 0 && tokens[i - 1] == Token::PathSep;
                if !after_sep && tokens.get(i + 1) == Some(&Token::PathSep) {
                    let mut path = vec![first.clone()];
                    let mut j = i + 1;
                    while tokens.get(j) == Some(&Token::PathSep) {
                        match tokens.get(j + 1) {
                            Some(Token::Ident(id)) => path.push(id.clone()),
                            _ => break,
                        }
                        j += 2;
                    }
                    uses.push(Use {
                        at: current(&scopes),
                        path,
                        reexport: false,
                    });
                    i = j;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    (inline, uses)
}

struct Crate {
    /// Module -> the file module it is in (itself, or the file holding the inline module).
    modules: BTreeMap<Module, Module>,
    /// (module, name) -> (module of the `pub use`, its path).
    reexports: BTreeMap<(Module, String), (Module, Vec<String>)>,
    uses: Vec<Use>,
}

fn file_module(src: &Path, file: &Path) -> Module {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn read_crate(src: &Path) -> Crate {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut modules = BTreeMap::new();
    let mut all_uses = Vec::new();
    for file in &files {
        let module = file_module(src, file);
        let source = std::fs::read_to_string(file).unwrap();
        let (inline, uses) = scan(&module, &tokens(&source));
        modules.insert(module.clone(), module.clone());
        for m in inline {
            modules.insert(m, module.clone());
        }
        all_uses.extend(uses);
    }
    let mut reexports = BTreeMap::new();
    for u in all_uses.iter().filter(|u| u.reexport) {
        if let Some(last) = u.path.last() {
            reexports.insert((u.at.clone(), last.clone()), (u.at.clone(), u.path.clone()));
        }
    }
    Crate {
        modules,
        reexports,
        uses: all_uses,
    }
}

impl Crate {
    /// The file module that defines what `path`, written in `at`, names; None for other crates.
    fn resolve(&self, at: &Module, path: &[String], hops: usize) -> Option<Module> {
        if hops > 8 {
            return None;
        }
        let (mut base, rest): (Module, &[String]) = match path.first().map(String::as_str) {
            Some("crate") => (Vec::new(), &path[1..]),
            Some("self") => (at.clone(), &path[1..]),
            Some("super") => {
                let mut base = at.clone();
                let mut k = 0;
                while path.get(k).map(String::as_str) == Some("super") {
                    base.pop();
                    k += 1;
                }
                (base, &path[k..])
            }
            Some(first) => {
                let mut child = at.clone();
                child.push(first.to_string());
                if self.modules.contains_key(&child) {
                    (at.clone(), path)
                } else {
                    return None; // std, another crate, or a name imported into scope
                }
            }
            None => return None,
        };
        let mut k = 0;
        while let Some(seg) = rest.get(k) {
            let mut child = base.clone();
            child.push(seg.clone());
            if !self.modules.contains_key(&child) {
                break;
            }
            base = child;
            k += 1;
        }
        if let Some(item) = rest.get(k) {
            if let Some((reexport_at, reexport_path)) =
                self.reexports.get(&(base.clone(), item.clone()))
            {
                if reexport_path.as_slice() != path || reexport_at != at {
                    return self.resolve(reexport_at, reexport_path, hops + 1);
                }
            }
        }
        Some(self.modules[&base].clone())
    }

    /// File -> the files it imports from (re-exports are followed, not counted).
    fn file_graph(&self) -> BTreeMap<String, BTreeSet<String>> {
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for m in self.modules.values() {
            graph.entry(name(m)).or_default();
        }
        for u in self.uses.iter().filter(|u| !u.reexport) {
            let from = &self.modules[&u.at];
            if let Some(to) = self.resolve(&u.at, &u.path, 0) {
                if &to != from {
                    graph.entry(name(from)).or_default().insert(name(&to));
                }
            }
        }
        graph
    }
}

/// The layer of a file: its top-level module (`client::options` -> `client`); None for the root.
fn layer(file: &str) -> Option<&str> {
    (file != "crate").then(|| file.split("::").next().unwrap())
}

fn layer_graph(files: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, tos) in files {
        let Some(a) = layer(from) else { continue };
        graph.entry(a.to_string()).or_default();
        for to in tos {
            match layer(to) {
                Some(b) if b != a => {
                    graph
                        .entry(a.to_string())
                        .or_default()
                        .insert(b.to_string());
                }
                _ => {}
            }
        }
    }
    graph
}

/// The strongly connected components with more than one member: the sets of nodes that import
/// each other in a cycle.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<BTreeSet<String>> {
    let reach = |start: &String| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![start.clone()];
        while let Some(n) = stack.pop() {
            for next in graph.get(&n).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    };
    let reachable: BTreeMap<&String, BTreeSet<String>> =
        graph.keys().map(|n| (n, reach(n))).collect();
    let mut found: Vec<BTreeSet<String>> = Vec::new();
    for n in graph.keys() {
        let scc: BTreeSet<String> = reachable[n]
            .iter()
            .filter(|m| reachable[m].contains(n))
            .cloned()
            .collect();
        if scc.len() > 1 && !found.contains(&scc) {
            found.push(scc);
        }
    }
    found
}

fn src_graphs() -> (
    BTreeMap<String, BTreeSet<String>>,
    BTreeMap<String, BTreeSet<String>>,
) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = read_crate(&src).file_graph();
    let layers = layer_graph(&files);
    (files, layers)
}

fn show(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(", ")
}

type Graph = BTreeMap<String, BTreeSet<String>>;

/// Each cycle as a message naming its edges.
fn describe_cycles(files: &Graph, layers: &Graph) -> Vec<String> {
    let mut found: Vec<(&Graph, BTreeSet<String>)> = Vec::new();
    found.extend(cycles(files).into_iter().map(|c| (files, c)));
    found.extend(cycles(layers).into_iter().map(|c| (layers, c)));
    found
        .iter()
        .map(|(graph, cycle)| {
            let edges: Vec<String> = cycle
                .iter()
                .flat_map(|a| {
                    graph[a]
                        .iter()
                        .filter(|b| cycle.contains(*b))
                        .map(move |b| format!("{a} -> {b}"))
                })
                .collect();
            format!("import cycle between {}: {}", show(cycle), edges.join("; "))
        })
        .collect()
}

#[test]
fn no_import_cycles() {
    let (files, layers) = src_graphs();
    assert!(files.len() > 10, "read too few modules: {files:?}");
    let failures = describe_cycles(&files, &layers);
    assert!(
        failures.is_empty(),
        "{}\n(put what both sides use into a file below both; see docs/architecture.md)",
        failures.join("\n")
    );
}

#[test]
fn a_cycle_is_found_between_files_and_between_layers() {
    // The crate's own graphs, with one import added that closes a cycle: the check must see it.
    let (mut files, _) = src_graphs();
    files
        .get_mut("client::options")
        .expect("src/client/options.rs is read")
        .insert("client::connection".to_string());
    files
        .get_mut("runtime")
        .expect("src/runtime/mod.rs is read")
        .insert("client".to_string());
    let layers = layer_graph(&files);
    let found = describe_cycles(&files, &layers);
    assert!(
        found
            .iter()
            .any(|f| f.contains("client::options -> client::connection")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|f| f.contains("runtime -> client")),
        "{found:?}"
    );
}

#[test]
fn each_layer_imports_only_what_it_may() {
    let (_, layers) = src_graphs();
    let mut failures = Vec::new();
    for (from, tos) in &layers {
        let allowed = MAY_IMPORT
            .iter()
            .find(|(l, _)| l == from)
            .unwrap_or_else(|| panic!("src/{from} is a new layer: add it to MAY_IMPORT in tests/imports.rs and to docs/architecture.md"))
            .1;
        for to in tos {
            if !allowed.contains(&to.as_str()) {
                failures.push(format!(
                    "{from} imports {to}; it may import only {allowed:?}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_reader_sees_uses_paths_and_reexports() {
    let source = r#"
        // use crate::not_this;
        pub use inner::{Thing, Other as Renamed};
        use super::{a::{self, B}, c::*};
        mod tests { use super::*; }
        fn f() { let s = "crate::not_this_either"; crate::x::y(); }
    "#;
    let (inline, uses) = scan(&vec!["m".to_string()], &tokens(source));
    assert_eq!(inline, vec![vec!["m".to_string(), "tests".to_string()]]);
    let paths: Vec<(String, bool)> = uses
        .iter()
        .map(|u| (u.path.join("::"), u.reexport))
        .collect();
    let expect = [
        ("inner::Thing", true),
        ("inner::Other", true),
        ("super::a", false),
        ("super::a::B", false),
        ("super::c", false),
        ("super", false),
        ("crate::x::y", false),
    ];
    let expect: Vec<(String, bool)> = expect.iter().map(|(p, r)| (p.to_string(), *r)).collect();
    assert_eq!(paths, expect);
    assert_eq!(uses[5].at, vec!["m".to_string(), "tests".to_string()]);
}
