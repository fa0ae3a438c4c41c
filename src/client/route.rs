//! How a connection reaches its server: directly or through an HTTP proxy, with or without TLS.
//! Decided once, when the connection is created, so that bad TLS or proxy settings are
//! reported by `connect` itself, before any network activity.

use super::options::{Options, TlsOptions};
use super::proxy::{self, Proxy};
use super::tls;
use super::url::Target;
use crate::error::{Error, Result};
use std::net::IpAddr;

#[derive(Clone)]
pub(crate) struct Route {
    /// The proxy to tunnel through, if any.
    pub proxy: Option<Proxy>,
    /// TLS for `wss://`.
    pub tls: Option<tls::Setup>,
}

impl Route {
    /// Reads the proxy environment variables (unless the options say not to) and builds or
    /// reuses the TLS configuration.
    pub fn new(target: &Target, options: &Options) -> Result<Route> {
        if !target.secure && options.tls != TlsOptions::default() {
            return Err(Error::invalid(format!(
                "option `tls` is set but {:?} is not encrypted; use a wss:// URL",
                target.shown
            )));
        }
        let env = |name: &str| std::env::var(name).ok();
        let proxy = proxy::select(target, options.proxy.as_ref(), options.proxy_from_env, &env)?;
        let tls = match target.secure {
            true => Some(tls::setup(&target.host, &options.tls)?),
            false => None,
        };
        Ok(Route { proxy, tls })
    }

    /// Where the TCP connection goes: the proxy, or the server itself.
    pub fn dial<'a>(&'a self, target: &'a Target) -> (&'a str, Option<IpAddr>, u16) {
        match &self.proxy {
            Some(p) => (&p.host, p.ip, p.port),
            None => (&target.host, target.ip, target.port),
        }
    }

    /// " through proxy http://... (option `proxy`)", or "" without a proxy: for messages.
    pub fn via(&self) -> String {
        match &self.proxy {
            Some(p) => format!(" through {}", p.describe()),
            None => String::new(),
        }
    }
}
