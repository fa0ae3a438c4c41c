//! Random trainer messages for the env's game side: raw bytes, or a step or reset request
//! built from random parts (dtypes, shapes, offsets, seeds, options), checked against specs of
//! every action space. `check_request` must accept or refuse with a reason, never panic, and an
//! accepted step's actions must lie inside the message.

#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use wsbridge::env::{check_request, Spec};

const ACTIONS: [&str; 5] = [
    r#"{"type": "discrete", "n": 3, "start": -1}"#,
    r#"{"type": "multi_discrete", "nvec": [2, 3]}"#,
    r#"{"type": "multi_binary", "n": [2, 2]}"#,
    r#"{"type": "box", "shape": [2, 1], "dtype": "float32", "low": -1, "high": 1}"#,
    r#"{"type": "box", "shape": [3], "dtype": "uint8", "low": 0, "high": 255}"#,
];
const DTYPES: [&str; 12] = [
    "bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64", "x",
];

#[derive(Arbitrary, Debug)]
enum Message {
    Raw(Vec<u8>),
    Step {
        dtype: u8,
        shape: Vec<u16>,
        offset: u32,
        reset_offset: u32,
        reset_len: u8,
        header_len_delta: i8,
        payload: Vec<u8>,
    },
    Reset {
        seeds: Vec<Option<u64>>,
        options: String,
        protocol: Option<i64>,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    action: u8,
    agents: u8,
    text: bool,
    ready: u8,
    message: Message,
}

fuzz_target!(|input: Input| {
    let agents = 1 + input.agents as usize % 4;
    let spec = Spec::from_json(&format!(
        r#"{{"agents": {agents}, "action_space": {},
            "observation_space": {{"type": "discrete", "n": 2}}}}"#,
        ACTIONS[input.action as usize % ACTIONS.len()]
    ))
    .expect("a valid spec");
    let ready: Vec<bool> = (0..agents).map(|i| input.ready >> i & 1 == 1).collect();
    let bytes = match input.message {
        Message::Raw(b) => b,
        Message::Step { dtype, shape, offset, reset_offset, reset_len, header_len_delta, payload } => {
            let header = format!(
                r#"{{"type":"step","arrays":{{"action":{{"dtype":"{}","shape":{shape:?},"offset":{offset}}},"reset":{{"dtype":"bool","shape":[{reset_len}],"offset":{reset_offset}}}}}}}"#,
                DTYPES[dtype as usize % DTYPES.len()]
            );
            let len = (header.len() as i64 + header_len_delta as i64).max(0) as u32;
            let mut m = len.to_le_bytes().to_vec();
            m.extend_from_slice(header.as_bytes());
            m.extend_from_slice(&payload);
            m
        }
        Message::Reset { seeds, options, protocol } => {
            let mut header = serde_json::json!({"type": "reset", "seeds": seeds, "options": {"o": options}});
            if let Some(p) = protocol {
                header["protocol"] = p.into();
            }
            header.to_string().into_bytes()
        }
    };
    match check_request(&spec, &bytes, input.text, &ready) {
        Ok(kind) => assert!(kind == "reset" || kind == "step"),
        Err(reason) => assert!(!reason.is_empty()),
    }
});
