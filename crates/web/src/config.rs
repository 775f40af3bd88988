//! How this process serves HTTP (`[web]` in the config file, `JIXIAO_*` variables and
//! flags; the CLI reads them — every process behind a load balancer gets the same
//! file). What the use cases need is the app's `AppConfig`; what all processes share
//! and an administrator changes at run time is in the database's settings
//! (`jixiao_app::settings`).
//!
//! The per-address limits here are counted in each process's memory: behind a load
//! balancer of N processes a client may get up to N times as many. What must hold for
//! the whole site is counted in the database instead (the account lockout, the daily
//! SMS cap per phone number, single use of a CAPTCHA).

use std::net::IpAddr;
use std::str::FromStr;

use serde::Deserialize;

/// How this process serves. `Default` is the embedded demo's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebConfig {
    /// Mark cookies `Secure` (set when jixiao is served over TLS, directly or behind
    /// a proxy). Requests carrying `X-Forwarded-Proto: https` get `Secure` cookies
    /// whatever this says.
    pub secure_cookies: bool,
    /// The largest request body accepted, in bytes (uploads included).
    pub max_body_bytes: usize,
    /// Login attempts allowed per client address per minute, before lockout counts.
    pub login_attempts_per_minute: u32,
    /// Public query-page attempts (case number + password) per client address per
    /// minute, against guessing.
    pub query_attempts_per_minute: u32,
    /// Requests filed on the public form per client address per hour (operators
    /// signed in are not counted).
    pub service_requests_per_hour: u32,
    /// Requests filed on the public form naming one phone number per hour.
    pub service_requests_per_phone_per_hour: u32,
    /// Public forms shown (each with a new CAPTCHA picture) per client address per
    /// minute.
    pub captchas_per_minute: u32,
    /// Open311 reads (GET) per client address per minute.
    pub open311_reads_per_minute: u32,
    /// The reverse proxies (addresses or networks, `10.0.0.1`, `10.0.0.0/8`, `::1`)
    /// whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed: the client's
    /// address and the scheme it used. Empty (the default): the connection's own
    /// address and plain HTTP, whatever the headers say.
    pub trusted_proxies: Vec<Network>,
}

impl Default for WebConfig {
    fn default() -> WebConfig {
        WebConfig {
            secure_cookies: false,
            max_body_bytes: 20 * 1024 * 1024,
            login_attempts_per_minute: 20,
            query_attempts_per_minute: 10,
            service_requests_per_hour: 10,
            service_requests_per_phone_per_hour: 3,
            captchas_per_minute: 30,
            open311_reads_per_minute: 60,
            trusted_proxies: Vec::new(),
        }
    }
}

/// An address or a network (`10.0.0.0/8`), as written in the config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    /// Whether `ip` lies in this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Network {
    type Err = String;
    fn from_str(s: &str) -> Result<Network, String> {
        let bad = || format!("`{s}` is not an IP address or network like 10.0.0.0/8");
        let (addr, prefix) = s.trim().split_once('/').map_or((s.trim(), None), |(a, p)| (a, Some(p)));
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(Network { addr, prefix })
    }
}

impl<'de> Deserialize<'de> for Network {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Network, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_contain_their_addresses() {
        let n: Network = "10.0.0.0/8".parse().unwrap();
        assert!(n.contains("10.1.2.3".parse().unwrap()));
        assert!(!n.contains("11.0.0.1".parse().unwrap()));
        assert!(n.contains("::ffff:10.0.0.9".parse().unwrap()), "IPv4 mapped into IPv6");
        let one: Network = "127.0.0.1".parse().unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()) && !one.contains("127.0.0.2".parse().unwrap()));
        let all: Network = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        let v6: Network = "fd00::/8".parse().unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()) && !v6.contains("fe80::1".parse().unwrap()));
        for bad in ["10.0.0.0/33", "host", "10.0.0/8", ""] {
            assert!(bad.parse::<Network>().is_err(), "{bad}");
        }
    }
}
