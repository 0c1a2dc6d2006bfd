//! Who a request comes from: the client address that per-address limits are keyed on.

use std::net::{IpAddr, Ipv6Addr};

use axum::http::HeaderMap;

use crate::input::header_str;
use crate::limits::MAX_FORWARDED_LEN;

/// The client address of a request: the TCP peer, or — only when `trust_forwarded` (behind a
/// reverse proxy that sets it) — the last `X-Forwarded-For` entry (the one the proxy wrote),
/// else `X-Real-IP`. `None` when unknown (in-process calls without connection info).
pub fn client_ip(
    headers: &HeaderMap,
    peer: Option<IpAddr>,
    trust_forwarded: bool,
) -> Option<IpAddr> {
    if trust_forwarded {
        let forwarded = ["x-forwarded-for", "x-real-ip"].iter().find_map(|name| {
            let value = header_str(headers, name).filter(|v| v.len() <= MAX_FORWARDED_LEN)?;
            value.rsplit(',').next()?.trim().parse::<IpAddr>().ok()
        });
        if forwarded.is_some() {
            return forwarded.map(|ip| ip.to_canonical());
        }
    }
    peer.map(|ip| ip.to_canonical())
}

/// The key of an address for limits: IPv4 as is, IPv6 by its /64 (one subscriber's prefix,
/// so that rotating addresses inside it buys nothing).
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn forwarded_headers_count_only_when_trusted() {
        let peer: IpAddr = "127.0.0.1".parse().expect("ip");
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.9, 198.51.100.7"),
        );
        assert_eq!(client_ip(&headers, Some(peer), false), Some(peer));
        assert_eq!(
            client_ip(&headers, Some(peer), true),
            Some("198.51.100.7".parse().expect("ip"))
        );
        headers.insert("x-forwarded-for", HeaderValue::from_static("garbage"));
        assert_eq!(client_ip(&headers, Some(peer), true), Some(peer));
        assert_eq!(client_ip(&HeaderMap::new(), None, true), None);
    }

    #[test]
    fn ipv6_is_keyed_by_its_64_prefix() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().expect("ip");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(limit_key(a), limit_key(b));
        assert_ne!(limit_key(a), limit_key(c));
        let v4: IpAddr = "192.0.2.1".parse().expect("ip");
        assert_eq!(limit_key(v4), v4);
    }
}
