//! `host:port` addresses as they appear in invite codes, HELLO `listen_addr` and PEERS entries.

/// Splits `host:port` at the **last** `:` (so `[::1]:9999` gives `[::1]` and 9999).
///
/// Returns `None` unless the host is non-empty and the port is plain decimal digits in
/// 1..=65535. The reference stores `listen_addr` unchecked and a value without a port crashes
/// it (docs/protocol.md §6.8), so every address received from the network goes through this.
pub fn parse_host_port(s: &str) -> Option<(String, u16)> {
    let (host, port) = s.rsplit_once(':')?;
    if host.is_empty() || port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let port: u16 = port.parse().ok()?;
    if port == 0 {
        return None;
    }
    Some((host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::parse_host_port;

    #[test]
    fn splits_at_the_last_colon() {
        assert_eq!(
            parse_host_port("[::1]:9999"),
            Some(("[::1]".to_string(), 9999))
        );
        assert_eq!(
            parse_host_port("10.0.0.5:1"),
            Some(("10.0.0.5".to_string(), 1))
        );
        assert_eq!(parse_host_port("h:65535"), Some(("h".to_string(), 65535)));
    }

    #[test]
    fn refuses_what_the_reference_would_choke_on() {
        for bad in [
            "127.0.0.1",
            ":9999",
            "h:",
            "h:0",
            "h:65536",
            "h:+1",
            "h: 1",
            "h:-1",
            "h:notaport",
            "",
        ] {
            assert_eq!(parse_host_port(bad), None, "{bad:?}");
        }
    }
}
