//! What a game declares once (docs/protocol.md, `hello`): its name, its agents and their
//! observation and action spaces, parsed from the spec JSON and checked, and the `hello` built
//! from them. The spaces themselves are in `space.rs` and `observation.rs`.

use super::error::{Error, Result};
use super::observation::Observation;
use super::space::Space;
use serde_json::{Map, Value};

/// The protocol version this library speaks (the `protocol` key of `hello`).
pub const PROTOCOL_VERSION: i64 = 1;

/// A game's declaration: its name, its number of agents, one agent's observation and action
/// spaces.
#[derive(Debug, Clone)]
pub struct Spec {
    /// A name for the trainer's logs ("" for none).
    pub name: String,
    /// Agents the game simulates (one row each in every message).
    pub agents: usize,
    /// One agent's observation space: its parts (one for a plain space; the leaves of a dict
    /// or tuple space).
    pub observation: Observation,
    /// One agent's action space.
    pub action: Space,
    observation_json: Value,
    action_json: Value,
    /// One agent's action shape on the wire, computed once (checked on every step).
    pub(crate) action_shape: Vec<usize>,
    /// The game handles a `Reset` event that resets only some agents (those
    /// [`super::Env::must_reset`] flags), so the env offers the trainer same-step autoreset
    /// (docs/protocol.md, *Autoreset modes*). Spec key `partial_reset`, default false.
    pub partial_reset: bool,
}

/// The keys of the spec JSON object.
pub const SPEC_KEYS: &[&str] = &[
    "name",
    "agents",
    "observation_space",
    "action_space",
    "partial_reset",
];

impl Spec {
    /// Parses `{"name": ..., "agents": K, "observation_space": {...}, "action_space": {...}}`
    /// (spaces as in docs/protocol.md; `name` optional, `agents` default 1).
    pub fn from_json(json: &str) -> Result<Spec> {
        let value: Value = serde_json::from_str(json)
            .map_err(|e| Error::invalid(format!("the spec is not valid JSON: {e}")))?;
        let Value::Object(map) = value else {
            return Err(Error::invalid(format!(
                "the spec must be a JSON object, not {value}"
            )));
        };
        Spec::from_map(map)
    }

    fn from_map(mut map: Map<String, Value>) -> Result<Spec> {
        if let Some(key) = map.keys().find(|k| !SPEC_KEYS.contains(&k.as_str())) {
            return Err(Error::invalid(format!(
                "unknown spec key \"{key}\" (keys: {})",
                SPEC_KEYS.join(", ")
            )));
        }
        let name = match map.remove("name") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s,
            Some(other) => {
                return Err(Error::invalid(format!(
                    "spec \"name\" must be a string, not {other}"
                )))
            }
        };
        let agents = match map.get("agents") {
            None => 1,
            Some(v) => v
                .as_u64()
                .filter(|n| (1..=1 << 20).contains(n))
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "spec \"agents\" must be an integer from 1 to 1048576, not {v}"
                    ))
                })? as usize,
        };
        let partial_reset = match map.get("partial_reset") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(Error::invalid(format!(
                    "spec \"partial_reset\" must be true or false, not {other}"
                )))
            }
        };
        let observation_json = map
            .remove("observation_space")
            .ok_or_else(|| Error::invalid("the spec needs \"observation_space\""))?;
        let observation = Observation::from_json(&observation_json)?;
        if let Some(kind @ ("dict" | "tuple")) = map
            .get("action_space")
            .and_then(|v| v.get("type"))
            .and_then(Value::as_str)
        {
            return Err(Error::invalid(format!(
                "action_space: {kind} spaces are for observations only (protocol version 1)"
            )));
        }
        let action_json = map
            .remove("action_space")
            .ok_or_else(|| Error::invalid("the spec needs \"action_space\""))?;
        let action = Space::from_json(&action_json, "action_space")?;
        let action_shape = action.wire().1;
        Ok(Spec {
            name,
            agents,
            observation,
            action,
            observation_json,
            action_json,
            action_shape,
            partial_reset,
        })
    }

    /// The `hello` message (text).
    pub fn hello(&self) -> String {
        let mut m = Map::new();
        m.insert("type".into(), "hello".into());
        m.insert("protocol".into(), PROTOCOL_VERSION.into());
        m.insert("agents".into(), self.agents.into());
        if !self.name.is_empty() {
            m.insert("name".into(), self.name.clone().into());
        }
        m.insert("observation_space".into(), self.observation_json.clone());
        m.insert("action_space".into(), self.action_json.clone());
        // The autoreset modes this game answers (docs/protocol.md, *Autoreset modes*).
        let modes: &[&str] = if self.partial_reset {
            &["next_step", "same_step"]
        } else {
            &["next_step"]
        };
        m.insert("autoreset".into(), modes.into());
        // The env acknowledges engine settings (docs/protocol.md, *Engine settings*).
        m.insert("settings".into(), true.into());
        Value::Object(m).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::super::space::Dtype;
    use super::*;

    fn spec(obs: &str, act: &str) -> Result<Spec> {
        Spec::from_json(&format!(
            r#"{{"name": "t", "agents": 2, "observation_space": {obs}, "action_space": {act}}}"#
        ))
    }

    #[test]
    fn every_space_maps_to_its_wire_dtype_and_shape() {
        let s = spec(
            r#"{"type": "box", "shape": [84, 84, 3], "dtype": "uint8", "low": 0, "high": 255}"#,
            r#"{"type": "multi_discrete", "nvec": [3, 4]}"#,
        )
        .unwrap();
        assert_eq!(
            s.observation.parts[0].space.wire(),
            (Dtype::Uint8, vec![84, 84, 3])
        );
        assert_eq!(s.observation.row_bytes(), 84 * 84 * 3);
        assert_eq!(s.action.wire(), (Dtype::Int64, vec![2]));
        let d = Space::from_json(
            &serde_json::json!({"type": "discrete", "n": 3, "start": -1}),
            "a",
        )
        .unwrap();
        assert_eq!(d.wire(), (Dtype::Int64, vec![]));
        assert!(d.check_action(&(-1i64).to_le_bytes()).is_ok());
        assert!(d
            .check_action(&2i64.to_le_bytes())
            .unwrap_err()
            .contains("outside Discrete(3, start=-1)"));
        let b = Space::from_json(
            &serde_json::json!({"type": "multi_binary", "n": [2, 3]}),
            "a",
        )
        .unwrap();
        assert_eq!(b.wire(), (Dtype::Int8, vec![2, 3]));
        assert_eq!(
            b.check_action(&[0, 1, 1, 0, 2, 0]).unwrap_err(),
            "action item 4 is 2, not 0 or 1"
        );
        let hello: Value = serde_json::from_str(&s.hello()).unwrap();
        assert_eq!(hello["protocol"], 1);
        assert_eq!(hello["agents"], 2);
        assert_eq!(hello["action_space"]["nvec"], serde_json::json!([3, 4]));
    }

    #[test]
    fn bad_specs_are_named() {
        let act = r#"{"type": "discrete", "n": 2}"#;
        let err = |obs: &str| spec(obs, act).unwrap_err().message().to_string();
        assert!(err(r#"{"type": "sphere"}"#)
            .contains("observation_space: unknown space type \"sphere\""));
        assert!(
            err(r#"{"type": "box", "shape": [2], "dtype": "bool", "low": 0, "high": 1}"#)
                .contains("box dtype \"bool\" is not a numeric protocol dtype")
        );
        assert!(
            err(r#"{"type": "box", "shape": [2], "dtype": "float32", "low": [0], "high": 1}"#)
                .contains("box \"low\": a list of 1 items where the shape has 2")
        );
        assert!(
            err(r#"{"type": "box", "shape": [2], "dtype": "float32", "high": 1}"#)
                .contains("needs \"low\"")
        );
        assert!(spec(act, r#"{"type": "discrete", "n": 0}"#)
            .unwrap_err()
            .message()
            .contains("at least 1"));
        assert!(Spec::from_json("[]")
            .unwrap_err()
            .message()
            .contains("must be a JSON object"));
        assert!(Spec::from_json(r#"{"agent": 1}"#)
            .unwrap_err()
            .message()
            .contains("unknown spec key \"agent\""));
    }

    #[test]
    fn dict_and_tuple_observations_are_their_leaves_in_order() {
        let b = r#"{"type": "box", "shape": [2], "dtype": "float32", "low": 0, "high": 1}"#;
        let d = r#"{"type": "discrete", "n": 3}"#;
        let obs = format!(
            r#"{{"type": "dict", "spaces": {{"z": {b}, "a": {{"type": "tuple", "spaces": [{d}, {b}]}}}}}}"#
        );
        let s = spec(&obs, d).unwrap();
        let paths: Vec<&str> = s
            .observation
            .parts
            .iter()
            .map(|p| p.path.as_str())
            .collect();
        assert_eq!(paths, ["a.0", "a.1", "z"]);
        assert!(s.observation.is_composite());
        assert_eq!(s.observation.row_bytes(), 8 + 8 + 8);
        assert_eq!(s.observation.part("a.1"), Some(1));
        assert!(!spec(b, d).unwrap().observation.is_composite());
        let err = |obs: &str, act: &str| spec(obs, act).unwrap_err().message().to_string();
        assert!(err(d, &obs).contains("action_space: dict spaces are for observations only"));
        let mut deep = b.to_string();
        for _ in 0..5 {
            deep = format!(r#"{{"type": "tuple", "spaces": [{deep}]}}"#);
        }
        assert!(
            err(&deep, d).contains("nest at most 4 deep"),
            "{}",
            err(&deep, d)
        );
        let wide = format!(
            r#"{{"type": "tuple", "spaces": [{}]}}"#,
            vec![b; 17].join(",")
        );
        assert!(err(&wide, d).contains("more than 16 parts"));
        assert!(err(
            r#"{"type": "dict", "spaces": {"a.b": {"type": "discrete", "n": 2}}}"#,
            d
        )
        .contains("dict key \"a.b\" must be 1 to 64 characters"));
        assert!(err(r#"{"type": "tuple", "spaces": []}"#, d).contains("a non-empty list"));
    }
}
