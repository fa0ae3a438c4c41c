//! One agent's observation or action space as a game declares it (docs/protocol.md, *Spaces*):
//! box, discrete, multi-discrete and multi-binary, parsed from their JSON and checked; the
//! dtypes arrays travel in ([`Dtype`]); each space's wire dtype and row shape; and the check of
//! an action row against its space. Dict and tuple observations are in `observation.rs`.

use super::error::{Error, Result};
use serde_json::Value;

/// An array's item type on the wire. Always little-endian.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dtype {
    Bool,
    Int8,
    Uint8,
    Int16,
    Uint16,
    Int32,
    Uint32,
    Int64,
    Uint64,
    Float32,
    Float64,
}

const DTYPES: [(Dtype, &str, usize); 11] = [
    (Dtype::Bool, "bool", 1),
    (Dtype::Int8, "int8", 1),
    (Dtype::Uint8, "uint8", 1),
    (Dtype::Int16, "int16", 2),
    (Dtype::Uint16, "uint16", 2),
    (Dtype::Int32, "int32", 4),
    (Dtype::Uint32, "uint32", 4),
    (Dtype::Int64, "int64", 8),
    (Dtype::Uint64, "uint64", 8),
    (Dtype::Float32, "float32", 4),
    (Dtype::Float64, "float64", 8),
];

impl Dtype {
    /// The dtype with this wire name ("float32").
    pub fn from_name(name: &str) -> Option<Dtype> {
        DTYPES.iter().find(|d| d.1 == name).map(|d| d.0)
    }

    /// The wire name ("float32").
    pub fn name(self) -> &'static str {
        DTYPES.iter().find(|d| d.0 == self).map_or("?", |d| d.1)
    }

    /// Bytes per item.
    pub fn size(self) -> usize {
        DTYPES.iter().find(|d| d.0 == self).map_or(1, |d| d.2)
    }
}

/// One agent's observation or action space.
#[derive(Debug, Clone, PartialEq)]
pub enum Space {
    /// `box`: an array of `shape` items of `dtype` (any numeric dtype: `uint8` for images).
    Box { dtype: Dtype, shape: Vec<usize> },
    /// `discrete`: one integer in `[start, start + n)`.
    Discrete { n: i64, start: i64 },
    /// `multi_discrete`: integers, item `i` in `[0, nvec[i])`.
    MultiDiscrete { nvec: Vec<i64> },
    /// `multi_binary`: 0 or 1 in each item of `shape`.
    MultiBinary { shape: Vec<usize> },
}

impl Space {
    /// Parses and checks a space's JSON form; `what` names it in errors ("observation_space").
    pub fn from_json(value: &Value, what: &str) -> Result<Space> {
        let bad = |msg: String| Error::invalid(format!("{what}: {msg}"));
        let Value::Object(map) = value else {
            return Err(bad(format!(
                "must be an object with a string \"type\", not {value}"
            )));
        };
        let kind = map.get("type").and_then(Value::as_str).ok_or_else(|| {
            bad("needs a string \"type\" (box, discrete, multi_discrete, multi_binary)".into())
        })?;
        let allowed: &[&str] = match kind {
            "box" => &["type", "shape", "dtype", "low", "high"],
            "discrete" => &["type", "n", "start"],
            "multi_discrete" => &["type", "nvec"],
            "multi_binary" => &["type", "n"],
            other => {
                return Err(bad(format!(
                    "unknown space type \"{other}\" (box, discrete, multi_discrete, multi_binary)"
                )))
            }
        };
        if let Some(key) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(bad(format!(
                "unknown key \"{key}\" in a {kind} space (keys: {})",
                allowed.join(", ")
            )));
        }
        match kind {
            "box" => {
                let name = map.get("dtype").and_then(Value::as_str).unwrap_or("");
                let dtype = Dtype::from_name(name)
                    .filter(|d| *d != Dtype::Bool)
                    .ok_or_else(|| {
                        bad(format!(
                            "box dtype {} is not a numeric protocol dtype (int8, uint8, int16, \
                             uint16, int32, uint32, int64, uint64, float32, float64)",
                            map.get("dtype").unwrap_or(&Value::Null)
                        ))
                    })?;
                let shape = dims(map.get("shape"), "box shape").map_err(bad)?;
                for key in ["low", "high"] {
                    let v = map.get(key).ok_or_else(|| {
                        bad(format!("a box needs \"{key}\" (a number, \"inf\", \"-inf\", or nested lists of the box's shape)"))
                    })?;
                    check_bounds(v, &shape).map_err(|m| bad(format!("box \"{key}\": {m}")))?;
                }
                Ok(Space::Box { dtype, shape })
            }
            "discrete" => {
                let n = integer(map.get("n"), "n").map_err(bad)?;
                let start = match map.get("start") {
                    None => 0,
                    v => integer(v, "start").map_err(bad)?,
                };
                if n < 1 {
                    return Err(bad(format!("discrete \"n\" must be at least 1, not {n}")));
                }
                if start.checked_add(n).is_none() {
                    return Err(bad(format!(
                        "discrete start {start} + n {n} overflows int64"
                    )));
                }
                Ok(Space::Discrete { n, start })
            }
            "multi_discrete" => {
                let nvec = match map.get("nvec") {
                    Some(Value::Array(items)) if !items.is_empty() => items
                        .iter()
                        .map(|v| integer(Some(v), "nvec item"))
                        .collect::<std::result::Result<Vec<_>, _>>()
                        .map_err(bad)?,
                    other => {
                        return Err(bad(format!(
                            "\"nvec\" must be a non-empty list of integers, not {}",
                            other.unwrap_or(&Value::Null)
                        )))
                    }
                };
                if let Some(n) = nvec.iter().find(|n| **n < 1) {
                    return Err(bad(format!(
                        "every \"nvec\" item must be at least 1, not {n}"
                    )));
                }
                Ok(Space::MultiDiscrete { nvec })
            }
            _ => {
                let shape = match map.get("n") {
                    Some(v @ Value::Number(_)) => {
                        vec![dims_item(v, "multi_binary n").map_err(bad)?]
                    }
                    v => dims(v, "multi_binary n").map_err(bad)?,
                };
                if shape.contains(&0) {
                    return Err(bad(format!(
                        "multi_binary \"n\" must be positive, not {shape:?}"
                    )));
                }
                Ok(Space::MultiBinary { shape })
            }
        }
    }

    /// The dtype and per-agent shape of this space's arrays on the wire (observations and
    /// actions alike, docs/protocol.md, *Actions on the wire*).
    pub fn wire(&self) -> (Dtype, Vec<usize>) {
        match self {
            Space::Box { dtype, shape } => (*dtype, shape.clone()),
            Space::Discrete { .. } => (Dtype::Int64, Vec::new()),
            Space::MultiDiscrete { nvec } => (Dtype::Int64, vec![nvec.len()]),
            Space::MultiBinary { shape } => (Dtype::Int8, shape.clone()),
        }
    }

    /// Bytes of one agent's row on the wire.
    pub fn row_bytes(&self) -> usize {
        match self {
            Space::Box { dtype, shape } => shape.iter().product::<usize>() * dtype.size(),
            Space::Discrete { .. } => 8,
            Space::MultiDiscrete { nvec } => 8 * nvec.len(),
            Space::MultiBinary { shape } => shape.iter().product(),
        }
    }

    /// The wire dtype (as [`Space::wire`], without building the shape).
    pub fn wire_dtype(&self) -> Dtype {
        match self {
            Space::Box { dtype, .. } => *dtype,
            Space::Discrete { .. } | Space::MultiDiscrete { .. } => Dtype::Int64,
            Space::MultiBinary { .. } => Dtype::Int8,
        }
    }

    /// Checks one agent's action row (little-endian bytes): integers within their space.
    /// Box actions are not checked (gymnasium does not clip them either).
    pub(crate) fn check_action(&self, row: &[u8]) -> std::result::Result<(), String> {
        let int64 =
            |i: usize| i64::from_le_bytes(row[8 * i..8 * i + 8].try_into().expect("8 bytes"));
        match self {
            Space::Box { .. } => Ok(()),
            Space::Discrete { n, start } => {
                let a = int64(0);
                if a < *start || a - start >= *n {
                    return Err(format!(
                        "action {a} is outside Discrete({n}, start={start})"
                    ));
                }
                Ok(())
            }
            Space::MultiDiscrete { nvec } => {
                for (i, n) in nvec.iter().enumerate() {
                    let a = int64(i);
                    if a < 0 || a >= *n {
                        return Err(format!("action item {i} is {a}, outside [0, {n})"));
                    }
                }
                Ok(())
            }
            Space::MultiBinary { .. } => match row.iter().position(|b| *b > 1) {
                Some(i) => Err(format!("action item {i} is {}, not 0 or 1", row[i] as i8)),
                None => Ok(()),
            },
        }
    }
}

/// Space kinds, for messages.
pub(crate) fn space_name(s: &Space) -> &'static str {
    match s {
        Space::Box { .. } => "box",
        Space::Discrete { .. } => "discrete",
        Space::MultiDiscrete { .. } => "multi_discrete",
        Space::MultiBinary { .. } => "multi_binary",
    }
}

fn integer(v: Option<&Value>, key: &str) -> std::result::Result<i64, String> {
    v.and_then(Value::as_i64).ok_or_else(|| {
        format!(
            "\"{key}\" must be an integer, not {}",
            v.unwrap_or(&Value::Null)
        )
    })
}

fn dims_item(v: &Value, what: &str) -> std::result::Result<usize, String> {
    v.as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| format!("{what} must list non-negative integers, not {v}"))
}

fn dims(v: Option<&Value>, what: &str) -> std::result::Result<Vec<usize>, String> {
    match v {
        Some(Value::Array(items)) => items.iter().map(|i| dims_item(i, what)).collect(),
        other => Err(format!(
            "{what} must be a list of non-negative integers, not {}",
            other.unwrap_or(&Value::Null)
        )),
    }
}

/// A bound is a number, "inf"/"-inf", or nested lists of exactly `shape`.
fn check_bounds(v: &Value, shape: &[usize]) -> std::result::Result<(), String> {
    match v {
        Value::Number(_) => Ok(()),
        Value::String(s) if s == "inf" || s == "-inf" => Ok(()),
        Value::Array(items) => {
            let Some((&n, rest)) = shape.split_first() else {
                return Err("nested deeper than the box's shape".into());
            };
            if items.len() != n {
                return Err(format!(
                    "a list of {} items where the shape has {n}",
                    items.len()
                ));
            }
            items.iter().try_for_each(|i| match i {
                Value::Array(_) => check_bounds(i, rest),
                _ if !rest.is_empty() => Err("not nested as deep as the box's shape".into()),
                _ => check_bounds(i, rest),
            })
        }
        other => Err(format!("{other} is not a number, \"inf\" or \"-inf\"")),
    }
}
