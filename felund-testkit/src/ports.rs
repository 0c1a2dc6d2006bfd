//! Loopback ports for servers a test starts itself (a felundd, a reference node, PostgreSQL),
//! which learn their port on the command line and bind it a moment later.
//!
//! The usual trick — bind port 0, read the port, close — hands out a port from the kernel's
//! ephemeral range, the same range every outgoing connection takes its local port from. On a
//! busy test machine a daemon's outgoing connection (a long-lived gossip link, say) can take
//! that port before the server binds it, and the server then fails with "address in use".
//! So ports are picked *outside* the ephemeral range (`/proc/sys/net/ipv4/ip_local_port_range`),
//! where no outgoing connection ever lands, from a random starting point (test processes
//! running side by side rarely meet), never twice in one process, and only after a bind
//! shows the port free.

use std::collections::hash_map::RandomState;
use std::collections::BTreeSet;
use std::hash::{BuildHasher, Hasher};
use std::net::TcpListener;
use std::sync::{Mutex, OnceLock};

/// Lowest port handed out: below it live well-known services (PostgreSQL's 5432, …).
const LOWEST: u16 = 10_000;
/// Linux's default ephemeral range, used when `/proc` does not say.
const DEFAULT_EPHEMERAL: (u16, u16) = (32_768, 60_999);

/// Ports this process has handed out (a stopped daemon's port stays its own for a restart).
static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// A free 127.0.0.1 port outside the ephemeral range, for a server started next.
///
/// # Panics
/// When no port can be found at all (see [`try_free_port`]).
pub fn free_port() -> u16 {
    try_free_port().unwrap_or_else(|e| panic!("{e}"))
}

/// [`free_port`], or why none could be found.
pub fn try_free_port() -> Result<u16, String> {
    static POOL: OnceLock<Vec<u16>> = OnceLock::new();
    let pool = POOL.get_or_init(|| pool(ephemeral_range()));
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|p| p.into_inner());
    if !pool.is_empty() {
        let start = random_index(pool.len());
        for i in 0..pool.len() {
            let port = pool[(start + i) % pool.len()];
            if !handed_out.contains(&port) && TcpListener::bind(("127.0.0.1", port)).is_ok() {
                handed_out.insert(port);
                return Ok(port);
            }
        }
    }
    // No room outside the ephemeral range (an unusual kernel setting): the kernel's pick.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free loopback port: {e}"))?;
    handed_out.insert(port);
    Ok(port)
}

/// The kernel's ephemeral port range (inclusive).
fn ephemeral_range() -> (u16, u16) {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| {
            let mut parts = text.split_whitespace().map(|p| p.parse::<u16>().ok());
            Some((parts.next()??, parts.next()??))
        })
        .unwrap_or(DEFAULT_EPHEMERAL)
}

/// Every port from [`LOWEST`] up that is outside `ephemeral` (inclusive bounds).
fn pool((low, high): (u16, u16)) -> Vec<u16> {
    (LOWEST..=u16::MAX)
        .filter(|p| *p < low || *p > high)
        .collect()
}

/// A random index below `len` (`len` > 0), from the standard library's random hash seed.
fn random_index(len: usize) -> usize {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    (hasher.finish() % len as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_leaves_out_the_ephemeral_range_and_well_known_ports() {
        let pool = pool((32_768, 60_999));
        assert!(pool.iter().all(|p| *p >= LOWEST));
        assert!(pool.iter().all(|p| !(32_768..=60_999).contains(p)));
        assert!(pool.contains(&32_767) && pool.contains(&61_000) && pool.contains(&65_535));
    }

    #[test]
    fn ports_handed_out_are_free_outside_the_ephemeral_range_and_never_repeat() {
        let (low, high) = ephemeral_range();
        let ports: Vec<u16> = (0..50).map(|_| free_port()).collect();
        let distinct: BTreeSet<u16> = ports.iter().copied().collect();
        assert_eq!(distinct.len(), ports.len(), "a port was handed out twice");
        for port in ports {
            if !pool((low, high)).is_empty() {
                assert!(!(low..=high).contains(&port), "{port} is ephemeral");
            }
            TcpListener::bind(("127.0.0.1", port)).expect("a handed-out port is free");
        }
    }
}
