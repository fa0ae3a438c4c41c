//! Connection options: defaults chosen for games, and the JSON form the C ABI accepts.
//!
//! Every option is validated here, before tungstenite or the socket layer sees it, so no
//! value a caller can pass reaches a panicking assert further down.
//!
//! Longer than 400 lines only with its unit tests (the messages of every option), which stay
//! beside the parser they check.

use super::proxy::Proxy;
use crate::error::{Error, Result};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::time::Duration;

/// Largest value accepted for the size options: sizes must fit a C# `int` and a 32-bit `size_t`.
pub const MAX_SIZE_OPTION: u64 = i32::MAX as u64;

/// Options for one connection. `Options::default()` holds the documented defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Bound on DNS resolution, TCP connect and the HTTP upgrade together. Default 10 000 ms.
    pub connect_timeout: Duration,
    /// Extra HTTP headers sent with the upgrade request (e.g. `Authorization`).
    pub headers: Vec<(String, String)>,
    /// Subprotocols offered in `Sec-WebSocket-Protocol`; the server must pick one of them.
    pub subprotocols: Vec<String>,
    /// Largest message accepted in either direction. Default 16 MiB.
    pub max_message_size: usize,
    /// Interval between our own keepalive pings; `None` disables them. Default 10 000 ms.
    pub ping_interval: Option<Duration>,
    /// How long the peer may stay silent after a ping before the connection is reported lost.
    /// Default 20 000 ms (the Python `websockets` server's own ping timeout).
    pub pong_timeout: Duration,
    /// Cap on bytes accepted by `send` but not yet written to the socket. Default 8 MiB. Our
    /// pongs count too: while more than this waits, the socket is not read (TCP backpressure on
    /// a peer that pings without reading the answers).
    pub send_queue_max_bytes: usize,
    /// Cap on received bytes waiting for `recv`; past it wsbridge stops reading the socket
    /// and TCP flow control slows the peer down. Default 8 MiB.
    pub recv_queue_max_bytes: usize,
    /// TLS settings for `wss://` URLs.
    pub tls: TlsOptions,
    /// The HTTP proxy to tunnel through (`CONNECT`). `None`: the environment decides (see
    /// `proxy_from_env`).
    pub proxy: Option<Proxy>,
    /// Take the proxy from `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` / `NO_PROXY` when
    /// `proxy` is not set. Default `true`; `false` connects directly whatever the environment
    /// says (a trainer on the LAN, a machine whose proxy variables are meant for other tools).
    pub proxy_from_env: bool,
    /// How long a waiting `recv` or `flush` spins before it sleeps, while recent answers on the
    /// connection came that fast (see `wait.rs`); zero never spins. Default `DEFAULT_SPIN`.
    pub spin_budget: Duration,
    /// Reconnect after a lost link, with backoff (`None`, the default: a lost connection stays
    /// closed). See `reconnect/`.
    pub reconnect: Option<ReconnectOptions>,
}

/// How a connection reconnects (the `reconnect` object in JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconnectOptions {
    /// Delay before the first attempt after a loss. Default 100 ms.
    pub delay: Duration,
    /// Cap on the delay, which doubles after each failed attempt. Default 5000 ms.
    pub max_delay: Duration,
    /// Give up when no connection has been open for this long (`None`: never). Default
    /// 60 000 ms.
    pub give_up: Option<Duration>,
    /// Percentage of each delay that is random (0 to 100), so that games do not all reconnect
    /// at the same instant. Default 50: a delay between half and all of the nominal one.
    pub jitter_percent: u32,
}

impl Default for ReconnectOptions {
    fn default() -> Self {
        ReconnectOptions {
            delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(5000),
            give_up: Some(Duration::from_millis(60_000)),
            jitter_percent: 50,
        }
    }
}

/// The default spin budget, 50 µs: about what a thread pays to sleep in the kernel and be
/// woken again on a virtual machine (40-50 µs), so a spin never burns more than a sleep would
/// cost in latency; a native peer on the same machine or the LAN answers within it, a Python
/// trainer stepping an environment does not (and the spin then stops).
pub const DEFAULT_SPIN: Duration = Duration::from_micros(50);
/// Largest `spin_budget_us` accepted: spinning longer than this only burns CPU.
pub const MAX_SPIN_US: u32 = 10_000;

/// TLS settings (the `tls` object in JSON). They apply to `wss://` URLs only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// PEM file of the CA certificates to trust instead of the system's (a private CA).
    pub ca_file: Option<PathBuf>,
    /// The name the server's certificate must carry, instead of the URL's host (connecting by
    /// IP address, or through an alias). Also sent as SNI.
    pub server_name: Option<String>,
    /// Development only: accept any certificate (unknown CA, wrong name, expired). The traffic
    /// is encrypted, but to whoever answers: anyone on the path can read and change it.
    pub accept_invalid_certs: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            connect_timeout: Duration::from_millis(10_000),
            headers: Vec::new(),
            subprotocols: Vec::new(),
            max_message_size: 16 << 20,
            ping_interval: Some(Duration::from_millis(10_000)),
            pong_timeout: Duration::from_millis(20_000),
            send_queue_max_bytes: 8 << 20,
            recv_queue_max_bytes: 8 << 20,
            tls: TlsOptions::default(),
            proxy: None,
            proxy_from_env: true,
            spin_budget: DEFAULT_SPIN,
            reconnect: None,
        }
    }
}

/// The option names accepted in JSON, in documentation order.
pub const OPTION_NAMES: &[&str] = &[
    "connect_timeout_ms",
    "headers",
    "subprotocols",
    "max_message_size",
    "ping_interval_ms",
    "pong_timeout_ms",
    "send_queue_max_bytes",
    "recv_queue_max_bytes",
    "tls",
    "proxy",
    "proxy_from_env",
    "spin_budget_us",
    "reconnect",
];

/// The keys accepted in the `reconnect` object.
pub const RECONNECT_OPTION_NAMES: &[&str] =
    &["delay_ms", "max_delay_ms", "give_up_ms", "jitter_percent"];

/// The keys accepted in the `tls` object.
pub const TLS_OPTION_NAMES: &[&str] = &["ca_file", "server_name", "accept_invalid_certs"];

/// Header names that wsbridge writes itself and a caller may not set.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "connection",
    "upgrade",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
];

impl Options {
    /// Parses the options JSON object. Unknown keys, wrong types and out-of-range values are
    /// rejected with a message that names the option.
    pub fn from_json(json: &str) -> Result<Options> {
        let value: Value = serde_json::from_str(json)
            .map_err(|e| Error::invalid(format!("options are not valid JSON: {e}")))?;
        let Value::Object(map) = value else {
            return Err(Error::invalid(format!(
                "options must be a JSON object, got {}",
                type_name(&value)
            )));
        };
        Options::from_map(map)
    }

    fn from_map(map: Map<String, Value>) -> Result<Options> {
        let mut o = Options::default();
        for (key, value) in map {
            match key.as_str() {
                "connect_timeout_ms" => {
                    o.connect_timeout = millis(&key, field::<u32>(&key, value)?, false)?
                }
                "headers" => o.headers = headers(field(&key, value)?)?,
                "subprotocols" => o.subprotocols = subprotocols(field(&key, value)?)?,
                "max_message_size" => o.max_message_size = size(&key, field(&key, value)?)?,
                "ping_interval_ms" => {
                    let ms = field::<u32>(&key, value)?;
                    o.ping_interval = (ms > 0).then(|| Duration::from_millis(ms.into()));
                }
                "pong_timeout_ms" => {
                    o.pong_timeout = millis(&key, field::<u32>(&key, value)?, false)?
                }
                "send_queue_max_bytes" => o.send_queue_max_bytes = size(&key, field(&key, value)?)?,
                "recv_queue_max_bytes" => o.recv_queue_max_bytes = size(&key, field(&key, value)?)?,
                "tls" => o.tls = tls(field(&key, value)?)?,
                "proxy" => o.proxy = Some(proxy(field(&key, value)?)?),
                "proxy_from_env" => o.proxy_from_env = field(&key, value)?,
                "spin_budget_us" => o.spin_budget = spin(&key, field(&key, value)?)?,
                "reconnect" => o.reconnect = reconnect(value)?,
                _ => {
                    return Err(Error::invalid(format!(
                        "unknown option `{key}` (known options: {})",
                        OPTION_NAMES.join(", ")
                    )))
                }
            }
        }
        Ok(o)
    }
}

/// What a JSON option value must be, for messages.
trait Expected: DeserializeOwned {
    const WHAT: &'static str;
}

impl Expected for u32 {
    const WHAT: &'static str = "a whole number from 0 to 4294967295";
}

impl Expected for u64 {
    const WHAT: &'static str = "a whole number";
}

impl Expected for bool {
    const WHAT: &'static str = "true or false";
}

impl Expected for String {
    const WHAT: &'static str = "a string";
}

impl Expected for Vec<String> {
    const WHAT: &'static str = "an array of strings";
}

impl Expected for Map<String, Value> {
    const WHAT: &'static str = "an object";
}

/// Converts an option's value. A value of the wrong type is refused naming the type expected
/// and the type found, never quoting the value: options such as `headers` and `proxy` hold
/// credentials (a number is shown, it cannot be one).
fn field<T: Expected>(key: &str, value: Value) -> Result<T> {
    let found = found(&value);
    serde_json::from_value(value)
        .map_err(|_| Error::invalid(format!("option `{key}` must be {}, got {found}", T::WHAT)))
}

/// The type of a JSON value for messages (its value only for a number), e.g. "a string",
/// "the number -1", "an array whose element 2 is a number".
fn found(value: &Value) -> String {
    match value {
        Value::Number(n) => format!("the number {n}"),
        Value::Array(items) => match items.iter().position(|v| !v.is_string()) {
            Some(i) => format!("an array whose element {i} is {}", type_name(&items[i])),
            None => "an array of strings".to_string(),
        },
        other => type_name(other).to_string(),
    }
}

fn millis(key: &str, ms: u32, zero_ok: bool) -> Result<Duration> {
    if ms == 0 && !zero_ok {
        return Err(Error::invalid(format!(
            "option `{key}` must be at least 1 millisecond"
        )));
    }
    if ms > i32::MAX as u32 {
        return Err(Error::invalid(format!(
            "option `{key}` must be at most {} milliseconds, got {ms}",
            i32::MAX
        )));
    }
    Ok(Duration::from_millis(ms.into()))
}

fn spin(key: &str, us: u32) -> Result<Duration> {
    if us > MAX_SPIN_US {
        return Err(Error::invalid(format!(
            "option `{key}` must be at most {MAX_SPIN_US} microseconds (0 disables the spin), \
             got {us}"
        )));
    }
    Ok(Duration::from_micros(us.into()))
}

fn size(key: &str, n: u64) -> Result<usize> {
    if n == 0 || n > MAX_SIZE_OPTION {
        return Err(Error::invalid(format!(
            "option `{key}` must be between 1 and {MAX_SIZE_OPTION} bytes, got {n}"
        )));
    }
    usize::try_from(n).map_err(|_| Error::invalid(format!("option `{key}` does not fit in size_t")))
}

fn headers(map: Map<String, Value>) -> Result<Vec<(String, String)>> {
    let mut out = Vec::with_capacity(map.len());
    for (name, value) in map {
        let Value::String(value) = value else {
            return Err(Error::invalid(format!(
                "option `headers`: the value of header `{name}` must be a string, got {}",
                type_name(&value)
            )));
        };
        if tungstenite::http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            // Quoted only up to the first character a name cannot hold: a whole header line
            // put in by mistake ("Authorization: Bearer ...") must not end up in a log.
            let valid = name
                .find(|c: char| !(c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)))
                .unwrap_or(name.len());
            let what = match name[valid..].chars().next() {
                Some(c) => format!("`{}` followed by {c:?}", &name[..valid]),
                None => "empty".to_string(),
            };
            return Err(Error::invalid(format!(
                "option `headers`: a header name is not a valid HTTP header name ({what}, which a \
                 header name cannot contain; the value goes in the JSON value)"
            )));
        }
        if tungstenite::http::HeaderValue::from_str(&value).is_err() {
            return Err(Error::invalid(format!(
                "option `headers`: the value of header `{name}` is not a valid HTTP header value \
                 (control characters such as CR or LF are not allowed)"
            )));
        }
        if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(Error::invalid(format!(
                "option `headers`: `{name}` is set by wsbridge itself and cannot be overridden{}",
                if name.eq_ignore_ascii_case("sec-websocket-protocol") {
                    " (use the `subprotocols` option)"
                } else {
                    ""
                }
            )));
        }
        out.push((name, value));
    }
    Ok(out)
}

fn tls(map: Map<String, Value>) -> Result<TlsOptions> {
    let mut t = TlsOptions::default();
    for (key, value) in map {
        let name = format!("tls.{key}");
        match key.as_str() {
            "ca_file" => {
                let path: String = field(&name, value)?;
                if path.is_empty() {
                    return Err(Error::invalid("option `tls.ca_file` is an empty path"));
                }
                t.ca_file = Some(PathBuf::from(path));
            }
            "server_name" => {
                let host: String = field(&name, value)?;
                if rustls::pki_types::ServerName::try_from(host.as_str()).is_err() {
                    return Err(Error::invalid(format!(
                        "option `tls.server_name`: {host:?} is not a DNS name or an IP address"
                    )));
                }
                t.server_name = Some(host);
            }
            "accept_invalid_certs" => t.accept_invalid_certs = field(&name, value)?,
            _ => {
                return Err(Error::invalid(format!(
                    "unknown option `{name}` (known keys of `tls`: {})",
                    TLS_OPTION_NAMES.join(", ")
                )))
            }
        }
    }
    Ok(t)
}

/// `true` (the defaults), `false` (off), or an object of `RECONNECT_OPTION_NAMES`.
fn reconnect(value: Value) -> Result<Option<ReconnectOptions>> {
    let map = match value {
        Value::Bool(on) => return Ok(on.then(ReconnectOptions::default)),
        Value::Object(map) => map,
        other => {
            return Err(Error::invalid(format!(
                "option `reconnect` must be true, false or an object (keys: {}), got {}",
                RECONNECT_OPTION_NAMES.join(", "),
                found(&other)
            )))
        }
    };
    let mut r = ReconnectOptions::default();
    for (key, value) in map {
        let name = format!("reconnect.{key}");
        match key.as_str() {
            "delay_ms" => r.delay = millis(&name, field(&name, value)?, false)?,
            "max_delay_ms" => r.max_delay = millis(&name, field(&name, value)?, false)?,
            "give_up_ms" => {
                r.give_up = match value.as_i64() {
                    Some(-1) => None,
                    _ => Some(
                        value
                            .as_u64()
                            .filter(|ms| (1..=i32::MAX as u64).contains(ms))
                            .map(Duration::from_millis)
                            .ok_or_else(|| {
                                Error::invalid(format!(
                                    "option `{name}` must be -1 (never give up) or a number of \
                                     milliseconds from 1 to {}, got {}",
                                    i32::MAX,
                                    found(&value)
                                ))
                            })?,
                    ),
                }
            }
            "jitter_percent" => {
                let p: u32 = field(&name, value)?;
                if p > 100 {
                    return Err(Error::invalid(format!(
                        "option `{name}` must be a percentage from 0 to 100, got {p}"
                    )));
                }
                r.jitter_percent = p;
            }
            _ => {
                return Err(Error::invalid(format!(
                    "unknown option `{name}` (known keys of `reconnect`: {})",
                    RECONNECT_OPTION_NAMES.join(", ")
                )))
            }
        }
    }
    if r.max_delay < r.delay {
        return Err(Error::invalid(format!(
            "option `reconnect.max_delay_ms` ({} ms) is below `reconnect.delay_ms` ({} ms)",
            r.max_delay.as_millis(),
            r.delay.as_millis()
        )));
    }
    Ok(Some(r))
}

fn proxy(url: String) -> Result<Proxy> {
    if url.trim().is_empty() {
        return Err(Error::invalid(
            "option `proxy` is empty; leave it out, and set `proxy_from_env` to false to \
             connect without any proxy",
        ));
    }
    Proxy::parse(url.trim(), "option `proxy`")
}

fn subprotocols(list: Vec<String>) -> Result<Vec<String>> {
    for p in &list {
        let token_ok = !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token_ok {
            // Not quoted: some servers take a token as a subprotocol.
            let why = match p
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(*c)))
            {
                Some(c) => format!("it contains {c:?}"),
                None => "it is empty".to_string(),
            };
            return Err(Error::invalid(format!(
                "option `subprotocols`: an entry is not a valid subprotocol token ({why})"
            )));
        }
    }
    Ok(list)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_object_gives_defaults() {
        assert_eq!(Options::from_json("{}").unwrap(), Options::default());
    }

    #[test]
    fn every_option_parses() {
        let o = Options::from_json(
            r#"{"connect_timeout_ms": 1500, "headers": {"Authorization": "Bearer x"},
                "subprotocols": ["wsb.v1"], "max_message_size": 1024, "ping_interval_ms": 0,
                "pong_timeout_ms": 300, "send_queue_max_bytes": 4096, "recv_queue_max_bytes": 8192}"#,
        )
        .unwrap();
        assert_eq!(o.connect_timeout, Duration::from_millis(1500));
        assert_eq!(o.headers, vec![("Authorization".into(), "Bearer x".into())]);
        assert_eq!(o.subprotocols, vec!["wsb.v1".to_string()]);
        assert_eq!(o.max_message_size, 1024);
        assert_eq!(o.ping_interval, None);
        assert_eq!(o.pong_timeout, Duration::from_millis(300));
        assert_eq!(o.send_queue_max_bytes, 4096);
        assert_eq!(o.recv_queue_max_bytes, 8192);
        assert_eq!(Options::default().spin_budget, DEFAULT_SPIN);
        let o = Options::from_json(r#"{"spin_budget_us": 0}"#).unwrap();
        assert_eq!(o.spin_budget, Duration::ZERO);
        let o = Options::from_json(r#"{"spin_budget_us": 10000}"#).unwrap();
        assert_eq!(o.spin_budget, Duration::from_millis(10));
    }

    #[test]
    fn tls_and_proxy_options_parse() {
        let o = Options::from_json(
            r#"{"tls": {"ca_file": "/etc/ca.pem", "server_name": "trainer.test",
                        "accept_invalid_certs": true},
                "proxy": "http://u:p@proxy:3128", "proxy_from_env": false}"#,
        )
        .unwrap();
        assert_eq!(o.tls.ca_file, Some(PathBuf::from("/etc/ca.pem")));
        assert_eq!(o.tls.server_name.as_deref(), Some("trainer.test"));
        assert!(o.tls.accept_invalid_certs);
        assert_eq!(o.proxy.unwrap().shown(), "http://u:***@proxy:3128");
        assert!(!o.proxy_from_env);
        assert!(Options::default().proxy_from_env);
        assert!(err(r#"{"tls": {"cafile": "x"}}"#).contains("unknown option `tls.cafile`"));
        assert!(err(r#"{"tls": {"ca_file": ""}}"#).contains("`tls.ca_file`"));
        assert!(err(r#"{"tls": {"ca_file": 3}}"#).contains("`tls.ca_file`"));
        assert!(err(r#"{"tls": {"server_name": "a b"}}"#).contains("`tls.server_name`"));
        assert!(
            err(r#"{"tls": {"accept_invalid_certs": 1}}"#).contains("`tls.accept_invalid_certs`")
        );
        assert!(err(r#"{"tls": true}"#).contains("`tls`"));
        assert!(err(r#"{"proxy": ""}"#).contains("`proxy_from_env`"));
        assert!(err(r#"{"proxy": "socks5://x:1"}"#).contains("option `proxy`"));
        assert!(err(r#"{"proxy_from_env": "no"}"#).contains("`proxy_from_env`"));
    }

    #[test]
    fn reconnect_options_parse_and_name_their_errors() {
        assert_eq!(Options::default().reconnect, None);
        let on = Options::from_json(r#"{"reconnect": true}"#).unwrap();
        assert_eq!(on.reconnect, Some(ReconnectOptions::default()));
        let off = Options::from_json(r#"{"reconnect": false}"#).unwrap();
        assert_eq!(off.reconnect, None);
        let o = Options::from_json(
            r#"{"reconnect": {"delay_ms": 20, "max_delay_ms": 400, "give_up_ms": -1,
                              "jitter_percent": 0}}"#,
        )
        .unwrap();
        assert_eq!(
            o.reconnect,
            Some(ReconnectOptions {
                delay: Duration::from_millis(20),
                max_delay: Duration::from_millis(400),
                give_up: None,
                jitter_percent: 0,
            })
        );
        assert!(err(r#"{"reconnect": 1}"#).contains("`reconnect` must be true, false or an object"));
        assert!(err(r#"{"reconnect": {"delay": 1}}"#).contains("unknown option `reconnect.delay`"));
        assert!(err(r#"{"reconnect": {"delay_ms": 0}}"#).contains("`reconnect.delay_ms`"));
        assert!(err(r#"{"reconnect": {"give_up_ms": -2}}"#)
            .contains("`reconnect.give_up_ms` must be -1"));
        assert!(err(r#"{"reconnect": {"jitter_percent": 101}}"#).contains("from 0 to 100, got 101"));
        assert!(
            err(r#"{"reconnect": {"delay_ms": 500, "max_delay_ms": 100}}"#).contains(
                "`reconnect.max_delay_ms` (100 ms) is below `reconnect.delay_ms` (500 ms)"
            )
        );
    }

    fn err(json: &str) -> String {
        Options::from_json(json).unwrap_err().message().to_string()
    }

    #[test]
    fn errors_name_the_option() {
        assert!(err(r#"{"ping_interval": 5}"#).contains("unknown option `ping_interval`"));
        assert!(err(r#"{"connect_timeout_ms": -1}"#).contains("`connect_timeout_ms`"));
        assert!(err(r#"{"connect_timeout_ms": 0}"#).contains("`connect_timeout_ms`"));
        assert!(err(r#"{"max_message_size": "big"}"#).contains("`max_message_size`"));
        assert!(err(r#"{"max_message_size": 4294967296}"#).contains("`max_message_size`"));
        assert!(err(r#"{"headers": {"X-A": 1}}"#).contains("header `X-A`"));
        assert!(err(r#"{"headers": {"Bad Name": "v"}}"#).contains("`Bad` followed by ' '"));
        assert!(err(r#"{"headers": {"X-A": "a\r\nb"}}"#).contains("header `X-A`"));
        assert!(err(r#"{"headers": {"Host": "x"}}"#).contains("`Host`"));
        assert!(err(r#"{"subprotocols": ["a b"]}"#).contains("`subprotocols`"));
        assert!(err(r#"{"spin_budget_us": 10001}"#).contains("`spin_budget_us`"));
        assert!(err(r#"{"spin_budget_us": -1}"#).contains("`spin_budget_us`"));
        assert!(err("[1]").contains("JSON object"));
        assert!(err(r#"{"headers": {"X-A": 1}}"#).contains("header `X-A`"));
    }

    #[test]
    fn values_that_may_hold_secrets_are_never_quoted() {
        for (json, says) in [
            (
                r#"{"headers": ["Authorization: Bearer TOPSECRET"]}"#,
                "option `headers` must be an object, got an array of strings",
            ),
            (
                r#"{"headers": {"Authorization: Bearer TOPSECRET": "x"}}"#,
                "(`Authorization` followed by ':'",
            ),
            (
                r#"{"headers": {"Authorization": ["Bearer TOPSECRET"]}}"#,
                "header `Authorization` must be a string, got an array",
            ),
            (
                r#"{"proxy": {"url": "http://u:TOPSECRET@p:1"}}"#,
                "option `proxy` must be a string, got an object",
            ),
            (
                r#"{"proxy": "http://u:TOP/SECRET@p:1/x"}"#,
                "http://u:***@p:1/x",
            ),
            (
                r#"{"subprotocols": ["v1", "TOPSECRET/="]}"#,
                "not a valid subprotocol token (it contains '/')",
            ),
            (
                r#"{"subprotocols": "TOPSECRET"}"#,
                "must be an array of strings, got a string",
            ),
            (
                r#"{"subprotocols": ["a", 3]}"#,
                "got an array whose element 1 is a number",
            ),
            (
                r#"{"tls": {"server_name": ["TOPSECRET"]}}"#,
                "option `tls.server_name` must be a string, got an array",
            ),
            (
                r#"{"connect_timeout_ms": "TOPSECRET"}"#,
                "must be a whole number from 0 to 4294967295, got a string",
            ),
            (r#"{"max_message_size": -3}"#, "got the number -3"),
            (
                r#"{"proxy_from_env": "TOPSECRET"}"#,
                "must be true or false, got a string",
            ),
        ] {
            let e = err(json);
            assert!(e.contains(says), "{json}: {e}");
            assert!(!e.contains("SECRET"), "{json}: {e}");
        }
        assert!(err("{").contains("not valid JSON"));
    }
}
