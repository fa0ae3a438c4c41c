//! HTTP proxy settings: the `proxy` option's URL and the conventional environment variables.
//! Settings only, no I/O: the `CONNECT` exchange through the proxy is in `tunnel.rs`.
//!
//! Which proxy, as curl decides it:
//! - the `proxy` option, used as given;
//! - else, unless `proxy_from_env` is false: `https_proxy`/`HTTPS_PROXY` for `wss://`,
//!   `http_proxy`/`HTTP_PROXY` for `ws://`, then `all_proxy`/`ALL_PROXY`; the lower-case name
//!   wins, an empty value counts as unset. `HTTP_PROXY` is ignored when `REQUEST_METHOD` is set
//!   (a CGI environment, where a client could set it through a `Proxy:` header: "httpoxy");
//! - `no_proxy`/`NO_PROXY` lists hosts reached directly: entries separated by commas or
//!   spaces; `*` alone matches every host; a name matches itself and its subdomains (a leading
//!   dot is ignored, so `.example.com` matches `example.com` too); an IP address or CIDR block
//!   (`10.0.0.0/8`, `::1`) matches a URL whose host is such an IP address. Host names are not
//!   resolved for the comparison, and ports in entries are not supported (as in curl).
//!
//! Only `http://` proxies (plain HTTP to the proxy, then `CONNECT`) are supported, with Basic
//! authentication from the URL's user information.
//!
//! Longer than 400 lines only with its unit tests (URL forms, `NO_PROXY` matching, variable
//! precedence), which stay beside the rules they check.

use super::url::{redact, Target, MASK};
use crate::error::{Error, Result};
use std::fmt;
use std::net::IpAddr;

/// An HTTP proxy, and where the setting came from (for messages).
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    /// Host name or IP address, without IPv6 brackets.
    pub host: String,
    /// The host when it is an IP literal: no DNS resolution needed.
    pub ip: Option<IpAddr>,
    pub port: u16,
    user: Option<String>,
    password: Option<String>,
    /// "option `proxy`" or "environment variable HTTPS_PROXY".
    source: String,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Proxy {
    /// Parses `http://[user[:password]@]host[:port][/]` (the scheme may be left out; the port
    /// defaults to 80). `source` says where the text came from, for messages.
    pub fn parse(text: &str, source: &str) -> Result<Proxy> {
        let bad = |why: &str| {
            Error::invalid(format!(
                "{source}: invalid proxy URL {:?}: {why}",
                redact(text)
            ))
        };
        let rest = match text.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some((scheme, _)) => {
                return Err(bad(&format!(
                    "only http:// proxies are supported, not {scheme}://"
                )))
            }
            None => text,
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (userinfo, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        if hostport.contains(['/', '?', '#']) {
            return Err(bad("a proxy URL has no path or query"));
        }
        let (user, password) = match userinfo {
            None => (None, None),
            Some(u) => {
                let (user, password) = match u.split_once(':') {
                    Some((user, pass)) => (user, Some(pass)),
                    None => (u, None),
                };
                let user = percent_decode(user).ok_or_else(|| bad("bad %-escape in the user"))?;
                let password = password
                    .map(|p| percent_decode(p).ok_or_else(|| bad("bad %-escape in the password")))
                    .transpose()?;
                (Some(user), password)
            }
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| bad("unclosed [ in the host"))?;
            (host, after.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let ip = host.parse::<IpAddr>().ok();
        if hostport.starts_with('[') && !matches!(ip, Some(IpAddr::V6(_))) {
            return Err(bad("the bracketed host is not an IPv6 address"));
        }
        let port = match port {
            None => 80,
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 => n,
                _ => return Err(bad(&format!("port {p:?} is not a number from 1 to 65535"))),
            },
        };
        Ok(Proxy {
            host: host.to_ascii_lowercase(),
            ip,
            port,
            user,
            password,
            source: source.to_string(),
        })
    }

    /// The proxy URL with the password masked ([`MASK`]).
    pub fn shown(&self) -> String {
        let user = match (&self.user, &self.password) {
            (Some(u), Some(_)) => format!("{u}:{MASK}@"),
            (Some(u), None) => format!("{u}@"),
            _ => String::new(),
        };
        let host = match self.ip {
            Some(IpAddr::V6(_)) => format!("[{}]", self.host),
            _ => self.host.clone(),
        };
        format!("http://{user}{host}:{}", self.port)
    }

    /// "proxy http://u:***@host:port (environment variable HTTPS_PROXY)".
    pub fn describe(&self) -> String {
        format!("proxy {} ({})", self.shown(), self.source)
    }

    /// The user of the proxy's Basic authentication, if the URL names one.
    pub(super) fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The `Proxy-Authorization` value (Basic), if the URL names a user.
    pub(super) fn authorization(&self) -> Option<String> {
        let user = self.user.as_deref()?;
        let pair = format!("{user}:{}", self.password.as_deref().unwrap_or(""));
        Some(format!(
            "Basic {}",
            data_encoding::BASE64.encode(pair.as_bytes())
        ))
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

// -------------------------------------------------------------------------------------------
// Choosing the proxy
// -------------------------------------------------------------------------------------------

/// The proxy to use for `target`: the `proxy` option, else the environment (read through
/// `env`) unless `from_env` is false.
pub fn select(
    target: &Target,
    option: Option<&Proxy>,
    from_env: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Proxy>> {
    if let Some(p) = option {
        return Ok(Some(p.clone()));
    }
    if !from_env {
        return Ok(None);
    }
    let cgi = env("REQUEST_METHOD").is_some();
    let names: &[&'static str] = match (target.secure, cgi) {
        (true, _) => &["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"],
        (false, false) => &["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"],
        (false, true) => &["http_proxy", "all_proxy", "ALL_PROXY"],
    };
    let set = |name: &&'static str| {
        env(name)
            .filter(|v| !v.trim().is_empty())
            .map(|v| (*name, v))
    };
    let Some((name, value)) = names.iter().find_map(set) else {
        return Ok(None);
    };
    if let Some((_, list)) = ["no_proxy", "NO_PROXY"].iter().find_map(set) {
        if no_proxy_matches(&list, &target.host, target.ip) {
            return Ok(None);
        }
    }
    Proxy::parse(value.trim(), &format!("environment variable {name}"))
        .map_err(|e| {
            Error::invalid(format!(
                "{}; fix it, or set the option `proxy_from_env` to false to ignore the \
                 proxy environment variables",
                e.message()
            ))
        })
        .map(Some)
}

/// Whether a `NO_PROXY` list names `host` (see the module documentation).
pub fn no_proxy_matches(list: &str, host: &str, ip: Option<IpAddr>) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    list.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let entry = entry.strip_prefix('.').unwrap_or(entry);
            let entry = entry.trim_start_matches('[').trim_end_matches(']');
            let entry = entry.trim_end_matches('.').to_ascii_lowercase();
            match ip {
                Some(ip) => ip_matches(&entry, ip),
                None => {
                    !entry.is_empty()
                        && (host == entry
                            || host
                                .strip_suffix(entry.as_str())
                                .is_some_and(|h| h.ends_with('.')))
                }
            }
        })
}

/// `entry` is an IP address equal to `ip`, or a CIDR block containing it.
fn ip_matches(entry: &str, ip: IpAddr) -> bool {
    let (addr, bits) = match entry.split_once('/') {
        Some((a, b)) => match b.parse::<u32>() {
            Ok(b) => (a, Some(b)),
            Err(_) => return false,
        },
        None => (entry, None),
    };
    match (addr.parse::<IpAddr>(), ip) {
        (Ok(IpAddr::V4(net)), IpAddr::V4(ip)) => {
            let bits = bits.unwrap_or(32);
            bits <= 32 && prefix(u32::from(net).into(), u32::from(ip).into(), bits, 32)
        }
        (Ok(IpAddr::V6(net)), IpAddr::V6(ip)) => {
            let bits = bits.unwrap_or(128);
            bits <= 128 && prefix(u128::from(net), u128::from(ip), bits, 128)
        }
        _ => false,
    }
}

fn prefix(net: u128, ip: u128, bits: u32, width: u32) -> bool {
    let shift = width - bits;
    shift >= width || (net >> shift) == (ip >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn parses_proxy_urls() {
        let p = Proxy::parse("http://alice:s%40cret@Proxy.Corp:3128/", "option `proxy`").unwrap();
        assert_eq!((p.host.as_str(), p.port), ("proxy.corp", 3128));
        assert_eq!(p.user.as_deref(), Some("alice"));
        assert_eq!(p.password.as_deref(), Some("s@cret"));
        assert_eq!(p.shown(), "http://alice:***@proxy.corp:3128");
        assert_eq!(
            p.authorization().unwrap(),
            format!("Basic {}", data_encoding::BASE64.encode(b"alice:s@cret"))
        );
        assert!(!format!("{p:?}").contains("cret"));
        let p = Proxy::parse("10.0.0.1", "HTTPS_PROXY").unwrap();
        assert_eq!((p.port, p.ip), (80, Some("10.0.0.1".parse().unwrap())));
        assert_eq!(p.shown(), "http://10.0.0.1:80");
        let p = Proxy::parse("http://[::1]:8080", "x").unwrap();
        assert_eq!((p.host.as_str(), p.port), ("::1", 8080));
        assert_eq!(p.shown(), "http://[::1]:8080");
    }

    #[test]
    fn rejects_proxy_urls_without_showing_passwords() {
        for (text, why) in [
            ("socks5://h:1080", "only http:// proxies"),
            ("https://h:443", "only http:// proxies"),
            ("http://h:0", "port \"0\""),
            ("http://h:99999", "port \"99999\""),
            ("http://h/path", "no path"),
            ("http://:3128", "no host"),
            ("http://[nope]:1", "not an IPv6"),
            ("http://u:p%zz@h:1", "%-escape"),
            ("socks5://bob:hunter2@h:1080", "bob:***@h:1080"),
            ("socks5://bob:hun/ter2@h:1080", "bob:***@h:1080"),
            ("socks5://bob:hunter2/?#@h:1080", "bob:***@h:1080"),
            ("http://bob:hunter2@h:port", "bob:***@h:port"),
            ("http://bob:hun/ter2@h/path", "bob:***@h/path"),
        ] {
            let e = Proxy::parse(text, "option `proxy`").unwrap_err();
            assert!(e.message().contains(why), "{text}: {}", e.message());
            assert!(e.message().contains("option `proxy`"), "{}", e.message());
            assert!(!e.message().contains("ter2"), "{}", e.message());
        }
    }

    #[test]
    fn no_proxy_lists_as_curl_reads_them() {
        let m = |list: &str, host: &str| {
            no_proxy_matches(list, host, host.trim_matches(['[', ']']).parse().ok())
        };
        assert!(m("*", "anything.example"));
        assert!(m("example.com", "example.com"));
        assert!(m("example.com", "www.example.com"));
        assert!(m("Example.COM.", "WWW.example.com."));
        assert!(m(".example.com", "example.com"));
        assert!(m(".example.com", "a.b.example.com"));
        assert!(!m("example.com", "notexample.com"));
        assert!(!m("example.com", "example.com.org"));
        assert!(m("foo, bar example.com", "example.com"));
        assert!(!m("*.example.com", "www.example.com"));
        assert!(m("127.0.0.1", "127.0.0.1"));
        assert!(!m("127.0.0.1", "127.0.0.2"));
        assert!(m("127.0.0.0/8", "127.9.9.9"));
        assert!(!m("10.0.0.0/8", "11.0.0.1"));
        assert!(m("0.0.0.0/0", "8.8.8.8"));
        assert!(m("::1", "::1"));
        assert!(m("[::1]", "::1"));
        assert!(m("fd00::/8", "fd12::1"));
        assert!(!m("fd00::/8", "fe80::1"));
        assert!(!m("127.0.0.1", "localhost"));
        assert!(!m("localhost", "127.0.0.1"));
        assert!(!m("", "example.com"));
        assert!(!m(",,", "example.com"));
    }

    fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn chosen(url: &str, vars: &[(&str, &str)]) -> Option<String> {
        let t = Target::parse(url).unwrap();
        select(&t, None, true, &env_of(vars))
            .unwrap()
            .map(|p| p.describe())
    }

    #[test]
    fn environment_variables_by_scheme() {
        let all = [
            ("https_proxy", "http://s:1"),
            ("HTTPS_PROXY", "http://S:2"),
            ("http_proxy", "http://p:3"),
            ("HTTP_PROXY", "http://P:4"),
            ("ALL_PROXY", "http://a:5"),
        ];
        assert_eq!(
            chosen("wss://x/", &all).unwrap(),
            "proxy http://s:1 (environment variable https_proxy)"
        );
        assert_eq!(
            chosen("ws://x/", &all).unwrap(),
            "proxy http://p:3 (environment variable http_proxy)"
        );
        assert!(chosen("ws://x/", &[("HTTP_PROXY", "P:4")])
            .unwrap()
            .contains("HTTP_PROXY"));
        assert!(
            chosen("wss://x/", &[("https_proxy", ""), ("ALL_PROXY", "a:5")])
                .unwrap()
                .contains("ALL_PROXY")
        );
        assert_eq!(chosen("wss://x/", &[("http_proxy", "p:3")]), None);
        // httpoxy: in a CGI environment, HTTP_PROXY may come from a request header.
        assert_eq!(
            chosen(
                "ws://x/",
                &[("HTTP_PROXY", "P:4"), ("REQUEST_METHOD", "GET")]
            ),
            None
        );
        assert_eq!(
            chosen(
                "wss://x.corp/",
                &[("HTTPS_PROXY", "s:1"), ("no_proxy", ".corp")]
            ),
            None
        );
        assert!(chosen("wss://y/", &[("HTTPS_PROXY", "s:1"), ("NO_PROXY", "x")]).is_some());
    }

    #[test]
    fn option_and_opt_out() {
        let t = Target::parse("wss://x/").unwrap();
        let env = env_of(&[("HTTPS_PROXY", "http://s:1")]);
        let opt = Proxy::parse("http://o:9", "option `proxy`").unwrap();
        let p = select(&t, Some(&opt), true, &env).unwrap().unwrap();
        assert_eq!(p.port, 9);
        assert_eq!(select(&t, None, false, &env).unwrap(), None);
        let bad = env_of(&[("ALL_PROXY", "socks5://s:1")]);
        let e = select(&t, None, true, &bad).unwrap_err();
        assert!(
            e.message().contains("environment variable ALL_PROXY"),
            "{}",
            e.message()
        );
        assert!(e.message().contains("`proxy_from_env`"), "{}", e.message());
    }
}
