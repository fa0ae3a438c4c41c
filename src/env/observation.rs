//! Dict and tuple observation spaces (docs/protocol.md, *Dict and tuple observations*): an
//! agent's [`Observation`] is its [`Part`]s, the leaves of the nested spaces in order (one part
//! for a plain space), each a leaf [`Space`].

use super::error::{Error, Result};
use super::space::Space;
use serde_json::Value;

/// Dict and tuple observation spaces nest at most this deep.
pub const MAX_OBSERVATION_DEPTH: usize = 4;
/// An observation space has at most this many parts (leaves of its dict and tuple spaces).
pub const MAX_OBSERVATION_PARTS: usize = 16;

/// One array of an observation: the whole observation for a plain space, or one leaf of a dict
/// or tuple observation space.
#[derive(Debug, Clone)]
pub struct Part {
    /// The leaf's path: dict keys and tuple indices joined by "." ("camera", "sensors.0"); ""
    /// for a plain space. Its array travels as `obs.<path>` (or `obs`).
    pub path: String,
    /// The leaf's space (never a dict or tuple).
    pub space: Space,
}

/// One agent's observation: one part for a plain space, the leaves of a dict or tuple space in
/// order (dict keys sorted, as gymnasium orders them; tuple items in order) otherwise.
#[derive(Debug, Clone)]
pub struct Observation {
    /// The parts, in wire and row order.
    pub parts: Vec<Part>,
}

impl Observation {
    /// Bytes of one agent's observation: its parts' rows one after the other.
    pub fn row_bytes(&self) -> usize {
        self.parts.iter().map(|p| p.space.row_bytes()).sum()
    }

    /// The index of the part at `path`.
    pub fn part(&self, path: &str) -> Option<usize> {
        self.parts.iter().position(|p| p.path == path)
    }

    /// Whether the space is a dict or tuple.
    pub fn is_composite(&self) -> bool {
        !(self.parts.len() == 1 && self.parts[0].path.is_empty())
    }

    pub(super) fn from_json(value: &Value) -> Result<Observation> {
        let mut parts = Vec::new();
        collect_parts(value, "observation_space", "", 0, &mut parts)?;
        Ok(Observation { parts })
    }
}

/// Walks a dict or tuple space down to its leaves.
fn collect_parts(
    value: &Value,
    what: &str,
    path: &str,
    depth: usize,
    parts: &mut Vec<Part>,
) -> Result<()> {
    let kind = value.get("type").and_then(Value::as_str);
    if !matches!(kind, Some("dict" | "tuple")) {
        if parts.len() == MAX_OBSERVATION_PARTS {
            return Err(Error::invalid(format!(
                "{what}: more than {MAX_OBSERVATION_PARTS} parts in a dict or tuple space"
            )));
        }
        let space = Space::from_json(value, what)?;
        parts.push(Part {
            path: path.to_string(),
            space,
        });
        return Ok(());
    }
    let kind = kind.unwrap_or_default();
    if depth == MAX_OBSERVATION_DEPTH {
        return Err(Error::invalid(format!(
            "{what}: dict and tuple spaces nest at most {MAX_OBSERVATION_DEPTH} deep"
        )));
    }
    let map = value.as_object().expect("has a type");
    if let Some(key) = map.keys().find(|k| *k != "type" && *k != "spaces") {
        return Err(Error::invalid(format!(
            "{what}: unknown key \"{key}\" in a {kind} space (keys: type, spaces)"
        )));
    }
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match (kind, map.get("spaces")) {
        ("dict", Some(Value::Object(subs))) if !subs.is_empty() => {
            let mut keys: Vec<&String> = subs.keys().collect();
            keys.sort();
            for key in keys {
                let valid = (1..=64).contains(&key.len())
                    && key
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if !valid {
                    return Err(Error::invalid(format!(
                        "{what}: dict key {key:?} must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -"
                    )));
                }
                collect_parts(
                    &subs[key],
                    &format!("{what}.{key}"),
                    &join(key),
                    depth + 1,
                    parts,
                )?;
            }
            Ok(())
        }
        ("tuple", Some(Value::Array(subs))) if !subs.is_empty() => {
            for (i, sub) in subs.iter().enumerate() {
                let key = i.to_string();
                collect_parts(sub, &format!("{what}.{key}"), &join(&key), depth + 1, parts)?;
            }
            Ok(())
        }
        _ => Err(Error::invalid(format!(
            "{what}: a {kind} space needs \"spaces\": a non-empty {}",
            if kind == "dict" {
                "object of spaces"
            } else {
                "list of spaces"
            }
        ))),
    }
}
