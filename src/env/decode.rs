//! Decoding the trainer's requests on the game side (docs/protocol.md, *Message framing*): a
//! `reset`, `step` or `settings` request is read in place (its header parsed into borrowed
//! fields, its arrays left where they are in the received message) and checked against the
//! game's spec; the game's info JSON is checked here too. The reply is built in `encode.rs`.
//!
//! Over 400 lines: the last 177 are unit tests (malformed and mutated requests).

use super::space::Dtype;
use super::spec::Spec;
use crate::client::Kind;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

const MAX_DIMS: usize = 16;

/// An array's shape as sent: up to 16 dimensions, without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shape {
    dims: [u64; MAX_DIMS],
    len: usize,
}

impl Shape {
    fn as_slice(&self) -> &[u64] {
        &self.dims[..self.len]
    }

    fn items(&self) -> Option<u64> {
        self.as_slice()
            .iter()
            .try_fold(1u64, |a, d| a.checked_mul(*d))
    }
}

impl<'de> Deserialize<'de> for Shape {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Shape;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a list of at most {MAX_DIMS} non-negative integers")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
                let mut s = Shape {
                    dims: [0; MAX_DIMS],
                    len: 0,
                };
                while let Some(d) = seq.next_element::<u64>()? {
                    if s.len == MAX_DIMS {
                        return Err(de::Error::custom(format!(
                            "more than {MAX_DIMS} dimensions"
                        )));
                    }
                    s.dims[s.len] = d;
                    s.len += 1;
                }
                Ok(s)
            }
        }
        d.deserialize_seq(V)
    }
}

#[derive(Deserialize)]
struct ArrayDesc<'a> {
    #[serde(borrow)]
    dtype: Cow<'a, str>,
    shape: Shape,
    offset: u64,
}

#[derive(Deserialize)]
struct Arrays<'a> {
    #[serde(borrow, default)]
    action: Option<ArrayDesc<'a>>,
    #[serde(borrow, default)]
    reset: Option<ArrayDesc<'a>>,
}

#[derive(Deserialize)]
struct Header<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    protocol: Option<i64>,
    #[serde(borrow, default)]
    arrays: Option<Arrays<'a>>,
    #[serde(default)]
    seeds: Option<Vec<Option<u64>>>,
    #[serde(default)]
    options: Option<serde_json::Value>,
    #[serde(borrow, default)]
    autoreset: Option<Cow<'a, str>>,
    #[serde(default)]
    settings: Option<serde_json::Value>,
}

/// What is wrong with a trainer's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Bad {
    /// It breaks the protocol; the text says how.
    Protocol(String),
    /// It announces another protocol version.
    Version(i64),
}

fn bad(msg: impl Into<String>) -> Bad {
    Bad::Protocol(msg.into())
}

/// A request, checked against the game's spec. Arrays are byte ranges in the received message.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Request {
    /// `reset`; seeds and options were stored in the caller's buffers.
    Reset,
    /// `settings`: the engine settings (a JSON object) were stored in the caller's buffer.
    Settings,
    /// `step`: where the action rows start; reset flags were stored in the caller's buffer;
    /// whether the trainer asked for same-step autoreset.
    Step {
        action_at: usize,
        resets: usize,
        same_step: bool,
    },
}

/// Decodes and checks one request. `seeds`, `options` and `reset` are the caller's buffers
/// (reused); `ready[i]` says whether agent `i` was reset on this connection.
#[allow(clippy::too_many_arguments)] // the env's reused buffers, one per kind of request
pub(crate) fn parse_request(
    msg: &[u8],
    kind: Kind,
    spec: &Spec,
    ready: &[bool],
    seeds: &mut Vec<Option<u64>>,
    options: &mut String,
    reset: &mut [bool],
    settings: &mut String,
) -> Result<Request, Bad> {
    let (header, payload_at) = match kind {
        Kind::Text => (msg, msg.len()),
        Kind::Binary => {
            if msg.len() < 4 {
                return Err(bad(format!(
                    "a binary message of {} bytes is too short for its 4-byte header length",
                    msg.len()
                )));
            }
            let h = u32::from_le_bytes(msg[..4].try_into().expect("4 bytes")) as usize;
            if h > msg.len() - 4 {
                return Err(bad(format!(
                    "the header length says {h} bytes but the message has {} after it",
                    msg.len() - 4
                )));
            }
            (&msg[4..4 + h], 4 + h)
        }
    };
    let header: Header = serde_json::from_slice(header).map_err(|e| {
        let start = String::from_utf8_lossy(&header[..header.len().min(60)]).into_owned();
        bad(format!(
            "the header is not a valid request ({e}): {start:?}"
        ))
    })?;
    if let Some(v) = header.protocol {
        if v != super::spec::PROTOCOL_VERSION {
            return Err(Bad::Version(v));
        }
    }
    let k = spec.agents;
    match header.kind.as_ref() {
        "reset" => {
            let Some(list) = header.seeds else {
                return Err(bad(format!(
                    "reset: \"seeds\" must list {k} integers or nulls, and is missing"
                )));
            };
            if list.len() != k {
                return Err(bad(format!(
                    "reset: \"seeds\" lists {} entries for {k} agents",
                    list.len()
                )));
            }
            if let Some(s) = list.iter().flatten().find(|s| **s >= 1 << 63) {
                return Err(bad(format!("reset: seed {s} is not in [0, 2^63)")));
            }
            options.clear();
            match header.options {
                None | Some(serde_json::Value::Null) => options.push_str("{}"),
                Some(o @ serde_json::Value::Object(_)) => options.push_str(&o.to_string()),
                Some(other) => {
                    return Err(bad(format!(
                        "reset: \"options\" must be an object, not {other}"
                    )))
                }
            }
            *seeds = list;
            Ok(Request::Reset)
        }
        "step" => {
            let same_step = match header.autoreset.as_deref() {
                None | Some("next_step") => false,
                Some("same_step") if spec.partial_reset => true,
                Some("same_step") => {
                    return Err(bad(
                        "step: the trainer asked for \"same_step\" autoreset, which this game \
                         does not offer (its hello lists only \"next_step\": the spec has no \
                         \"partial_reset\": true)",
                    ))
                }
                Some(other) => {
                    return Err(bad(format!(
                        "step: unknown autoreset mode \"{}\" (\"next_step\" or \"same_step\")",
                        short(other)
                    )))
                }
            };
            let arrays = header.arrays.unwrap_or(Arrays {
                action: None,
                reset: None,
            });
            let dtype = spec.action.wire_dtype();
            let action = array(
                msg,
                payload_at,
                arrays.action,
                "action",
                dtype,
                k,
                &spec.action_shape,
            )?;
            let flags = array(msg, payload_at, arrays.reset, "reset", Dtype::Bool, k, &[])?;
            let mut resets = 0;
            for (i, (flag, byte)) in reset.iter_mut().zip(&msg[flags..flags + k]).enumerate() {
                *flag = match byte {
                    0 => false,
                    1 => true,
                    b => {
                        return Err(bad(format!(
                            "step: reset flag of agent {i} is {b}, not 0 or 1"
                        )))
                    }
                };
                resets += *flag as usize;
            }
            let row = spec.action.row_bytes();
            for (i, (flag, ready)) in reset.iter().zip(ready).enumerate() {
                if !flag && !ready {
                    return Err(bad(format!(
                        "step: agent {i} must be reset on this connection before it steps \
                         (a reset request, or its reset flag)"
                    )));
                }
                if !flag {
                    let at = action + i * row;
                    spec.action
                        .check_action(&msg[at..at + row])
                        .map_err(|m| bad(format!("step: agent {i}: {m}")))?;
                }
            }
            Ok(Request::Step {
                action_at: action,
                resets,
                same_step,
            })
        }
        "settings" => match header.settings {
            Some(o @ serde_json::Value::Object(_)) => {
                settings.clear();
                settings.push_str(&o.to_string());
                Ok(Request::Settings)
            }
            other => Err(bad(format!(
                "settings: \"settings\" must be an object, not {}",
                other.map_or("missing".to_string(), |v| short(&v.to_string()).to_string())
            ))),
        },
        other => Err(bad(format!(
            "unknown message type \"{other}\" (a game answers \"reset\", \"step\" and \"settings\")"
        ))),
    }
}

/// Checks array `name` (dtype, shape `(agents, *row)`, inside the payload); returns where its
/// bytes start in `msg`.
fn array(
    msg: &[u8],
    payload_at: usize,
    desc: Option<ArrayDesc>,
    name: &str,
    dtype: Dtype,
    agents: usize,
    row: &[usize],
) -> Result<usize, Bad> {
    let Some(d) = desc else {
        return Err(bad(format!("step: the message has no \"{name}\" array")));
    };
    if payload_at >= msg.len() && msg.len() < 4 {
        return Err(bad(format!(
            "step: a text message cannot carry the \"{name}\" array"
        )));
    }
    let want = || std::iter::once(agents as u64).chain(row.iter().map(|n| *n as u64));
    if d.dtype != dtype.name() || !d.shape.as_slice().iter().copied().eq(want()) {
        let want: Vec<u64> = want().collect();
        return Err(bad(format!(
            "step: \"{name}\" is {}{:?}, expected {}{want:?} ({agents} agents)",
            d.dtype,
            d.shape.as_slice(),
            dtype.name()
        )));
    }
    let bytes = d
        .shape
        .items()
        .and_then(|n| n.checked_mul(dtype.size() as u64));
    let payload = (msg.len() - payload_at) as u64;
    match bytes.and_then(|b| b.checked_add(d.offset)) {
        Some(end) if end <= payload => Ok(payload_at + d.offset as usize),
        _ => Err(bad(format!(
            "step: \"{name}\" ({} bytes at offset {}) does not fit the {payload}-byte payload",
            bytes.map_or("too many".to_string(), |b| b.to_string()),
            d.offset
        ))),
    }
}

/// Checks one trainer message against `spec` as [`super::Env::next`] does (agents in `ready`
/// were reset on the connection): `Ok` with the request's type, or the reason it breaks the
/// protocol. For fuzzing and tools; nothing is kept.
pub fn check_request(
    spec: &Spec,
    msg: &[u8],
    text: bool,
    ready: &[bool],
) -> Result<&'static str, String> {
    if ready.len() != spec.agents {
        return Err(format!(
            "{} ready flags for {} agents",
            ready.len(),
            spec.agents
        ));
    }
    let (mut seeds, mut options, mut reset) = (Vec::new(), String::new(), vec![false; spec.agents]);
    let mut settings = String::new();
    let kind = if text { Kind::Text } else { Kind::Binary };
    match parse_request(
        msg,
        kind,
        spec,
        ready,
        &mut seeds,
        &mut options,
        &mut reset,
        &mut settings,
    ) {
        Ok(Request::Reset) => Ok("reset"),
        Ok(Request::Settings) => Ok("settings"),
        Ok(Request::Step { action_at, .. }) => {
            let rows = spec.action.row_bytes() * spec.agents;
            assert!(action_at + rows <= msg.len(), "actions beyond the message");
            Ok("step")
        }
        Err(Bad::Version(v)) => Err(format!("protocol version {v}")),
        Err(Bad::Protocol(m)) => Err(m),
    }
}

/// Whether `json` is one JSON object (an agent's info).
pub(crate) fn is_object(json: &str) -> Result<(), String> {
    if !json.trim_start().starts_with('{') {
        return Err(format!(
            "an info must be a JSON object, not {:?}",
            short(json)
        ));
    }
    serde_json::from_str::<de::IgnoredAny>(json)
        .map(|_| ())
        .map_err(|e| format!("an info is not valid JSON ({e}): {:?}", short(json)))
}

fn short(s: &str) -> &str {
    let mut n = s.len().min(60);
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    &s[..n]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(agents: usize, action: &str) -> Spec {
        Spec::from_json(&format!(
            r#"{{"agents": {agents}, "action_space": {action},
                "observation_space": {{"type": "box", "shape": [3], "dtype": "float32", "low": -1, "high": 1}}}}"#
        ))
        .unwrap()
    }

    /// A step request as the Python package builds it: header padded to 8, arrays 8-aligned.
    fn step(action: &[u8], action_desc: &str, reset: &[u8]) -> Vec<u8> {
        let reset_at = action.len().next_multiple_of(8);
        let mut header = format!(
            r#"{{"type":"step","arrays":{{"action":{action_desc},"reset":{{"dtype":"bool","shape":[{}],"offset":{reset_at}}}}}}}"#,
            reset.len()
        )
        .into_bytes();
        header.resize((header.len() + 4).next_multiple_of(8) - 4, b' ');
        let mut m = (header.len() as u32).to_le_bytes().to_vec();
        m.extend_from_slice(&header);
        let payload = m.len();
        m.extend_from_slice(action);
        m.resize(payload + reset_at, 0);
        m.extend_from_slice(reset);
        m
    }

    fn parse(s: &Spec, msg: &[u8], kind: Kind, ready: &[bool]) -> Result<Request, Bad> {
        let (mut seeds, mut options, mut reset) =
            (Vec::new(), String::new(), vec![false; s.agents]);
        let mut settings = String::new();
        parse_request(
            msg,
            kind,
            s,
            ready,
            &mut seeds,
            &mut options,
            &mut reset,
            &mut settings,
        )
    }

    #[test]
    fn requests_are_checked_against_the_spec() {
        let s = spec(2, r#"{"type": "discrete", "n": 2}"#);
        let desc = r#"{"dtype":"int64","shape":[2],"offset":0}"#;
        let actions: Vec<u8> = [1i64, 0].iter().flat_map(|a| a.to_le_bytes()).collect();
        let ok = step(&actions, desc, &[0, 1]);
        let at = ok.len() - 2 - 16;
        assert_eq!(
            parse(&s, &ok, Kind::Binary, &[true, false]),
            Ok(Request::Step {
                action_at: at,
                resets: 1,
                same_step: false
            })
        );
        let err = |m: &[u8], kind, ready: &[bool]| match parse(&s, m, kind, ready) {
            Err(Bad::Protocol(t)) => t,
            other => panic!("{other:?}"),
        };
        assert!(err(&ok, Kind::Binary, &[false, false])
            .contains("agent 0 must be reset on this connection"));
        let wide = step(
            &actions,
            r#"{"dtype":"int32","shape":[2],"offset":0}"#,
            &[0, 0],
        );
        assert!(err(&wide, Kind::Binary, &[true, true])
            .contains("\"action\" is int32[2], expected int64[2]"));
        let far = step(
            &actions,
            r#"{"dtype":"int64","shape":[2],"offset":4096}"#,
            &[0, 0],
        );
        assert!(err(&far, Kind::Binary, &[true, true]).contains("does not fit"));
        let bad: Vec<u8> = [1i64, 7].iter().flat_map(|a| a.to_le_bytes()).collect();
        let out = step(&bad, desc, &[0, 0]);
        assert!(err(&out, Kind::Binary, &[true, true])
            .contains("agent 1: action 7 is outside Discrete(2"));
        assert!(err(b"not json", Kind::Text, &[true, true])
            .contains("the header is not a valid request"));
        assert!(err(br#"{"type":"dance"}"#, Kind::Text, &[true, true])
            .contains("unknown message type \"dance\""));
        assert!(err(
            br#"{"type":"reset","seeds":[1]}"#,
            Kind::Text,
            &[true, true]
        )
        .contains("lists 1 entries for 2"));
        assert!(
            err(br#"{"type":"step"}"#, Kind::Text, &[true, true]).contains("no \"action\" array")
        );
        assert!(
            err(&[9, 0, 0, 0, b'{'], Kind::Binary, &[true, true]).contains("header length says 9")
        );
        assert_eq!(
            parse(
                &s,
                br#"{"type":"reset","seeds":[1,null],"protocol":2}"#,
                Kind::Text,
                &[true, true]
            ),
            Err(Bad::Version(2))
        );
    }

    #[test]
    fn mutated_requests_are_refused_or_accepted_never_a_panic() {
        // Byte flips, truncations and splices of valid requests, for every space as actions.
        let kinds = [
            r#"{"type": "discrete", "n": 2}"#,
            r#"{"type": "multi_discrete", "nvec": [2, 3]}"#,
            r#"{"type": "multi_binary", "n": [2, 2]}"#,
            r#"{"type": "box", "shape": [2], "dtype": "float32", "low": -1, "high": 1}"#,
        ];
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let (mut accepted, mut refused) = (0, 0);
        for action in kinds {
            let s = spec(3, action);
            let (dtype, shape) = s.action.wire();
            let row = s.action.row_bytes();
            let desc = format!(
                r#"{{"dtype":"{}","shape":{:?},"offset":0}}"#,
                dtype.name(),
                std::iter::once(3).chain(shape).collect::<Vec<_>>()
            );
            let valid = [
                step(&vec![0u8; 3 * row], &desc, &[0, 1, 0]),
                br#"{"type":"reset","seeds":[1,null,3],"options":{"a":[1,{"b":null}]}}"#.to_vec(),
            ];
            for _ in 0..3000 {
                let base = &valid[(next() % 2) as usize];
                let mut m = base.clone();
                for _ in 0..1 + next() % 4 {
                    let at = (next() as usize) % (m.len() + 1);
                    match next() % 4 {
                        0 if at < m.len() => m[at] = next() as u8,
                        1 => m.truncate(at),
                        2 => {
                            let bytes = b"{}[],:\"0123456789-e. ";
                            m.insert(at, bytes[(next() % bytes.len() as u64) as usize])
                        }
                        _ => m
                            .splice(
                                at..at,
                                base[..(next() as usize) % base.len()].iter().copied(),
                            )
                            .for_each(drop),
                    }
                }
                let ready = [next() % 2 == 0, true, next() % 2 == 0];
                match check_request(&s, &m, next() % 3 == 0, &ready) {
                    Ok(_) => accepted += 1,
                    Err(reason) => {
                        assert!(!reason.is_empty());
                        refused += 1
                    }
                }
            }
        }
        assert!(
            accepted > 10 && refused > 1000,
            "{accepted} accepted, {refused} refused"
        );
    }
}
