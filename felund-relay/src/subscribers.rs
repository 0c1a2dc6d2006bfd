//! Caps on WebSocket subscribers: per circle hint and signing key (unsigned subscribers count
//! as one key of their own, so an outsider can never fill the members' share), per client
//! address, and in total (the descriptors the server set aside for WebSockets).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::client::limit_key;
use crate::error::ApiError;

/// How long a refused subscriber should wait before trying again (seconds).
const RETRY_AFTER_S: i64 = 30;

/// The live subscriber counts of one relay instance.
pub struct Subscribers {
    per_group: Mutex<HashMap<(String, String), u32>>,
    per_address: Mutex<HashMap<IpAddr, u32>>,
    total: Arc<Semaphore>,
    capacity: usize,
    max_per_group: u32,
    max_per_address: u32,
}

/// One admitted subscriber; its counts are released when it is dropped.
pub struct Subscription {
    owner: Arc<Subscribers>,
    group: (String, String),
    address: Option<IpAddr>,
    _slot: OwnedSemaphorePermit,
}

fn full(detail: &str) -> ApiError {
    ApiError::RateLimited {
        detail: detail.to_owned(),
        retry_after_s: RETRY_AFTER_S,
    }
}

/// Adds one to `map[key]` unless it is at `max`.
fn take<K: std::hash::Hash + Eq>(map: &Mutex<HashMap<K, u32>>, key: K, max: u32) -> bool {
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    let count = map.entry(key).or_insert(0);
    if *count >= max {
        return false;
    }
    *count += 1;
    true
}

fn give_back<K: std::hash::Hash + Eq>(map: &Mutex<HashMap<K, u32>>, key: &K) {
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(count) = map.get_mut(key) {
        *count = count.saturating_sub(1);
        if *count == 0 {
            map.remove(key);
        }
    }
}

impl Subscribers {
    /// Caps: `max_per_group` per (hint, key), `max_per_address` per client address, `total`
    /// overall.
    pub fn new(max_per_group: u32, max_per_address: u32, total: usize) -> Arc<Self> {
        Arc::new(Self {
            per_group: Mutex::new(HashMap::new()),
            per_address: Mutex::new(HashMap::new()),
            total: Arc::new(Semaphore::new(total)),
            capacity: total,
            max_per_group,
            max_per_address,
        })
    }

    /// Subscribers connected now.
    pub fn live(&self) -> usize {
        self.capacity.saturating_sub(self.total.available_permits())
    }

    /// Admits a subscriber of `hint` verified with `key` (`""` if unsigned) from `address`,
    /// or refuses with 429 (a cap of its own is full) or 503 (the relay's WebSocket share is).
    pub fn admit(
        self: &Arc<Self>,
        hint: &str,
        key: &str,
        address: Option<IpAddr>,
    ) -> Result<Subscription, ApiError> {
        let slot = Arc::clone(&self.total)
            .try_acquire_owned()
            .map_err(|_| ApiError::Unavailable("relay has no room for more WebSockets".into()))?;
        let address = address.map(limit_key);
        if let Some(addr) = address {
            if !take(&self.per_address, addr, self.max_per_address) {
                return Err(full("Too many WebSocket subscribers from your address"));
            }
        }
        let group = (hint.to_owned(), key.to_owned());
        if !take(&self.per_group, group.clone(), self.max_per_group) {
            if let Some(addr) = address {
                give_back(&self.per_address, &addr);
            }
            return Err(full("Too many WebSocket subscribers for this circle"));
        }
        Ok(Subscription {
            owner: Arc::clone(self),
            group,
            address,
            _slot: slot,
        })
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        give_back(&self.owner.per_group, &self.group);
        if let Some(addr) = &self.address {
            give_back(&self.owner.per_address, addr);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_per_group_and_address_are_released_on_drop() {
        let subs = Subscribers::new(2, 3, 100);
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let b: IpAddr = "192.0.2.2".parse().expect("ip");
        let s1 = subs.admit("hint0001", "", Some(a)).expect("1");
        let _s2 = subs.admit("hint0001", "", Some(a)).expect("2");
        assert!(
            subs.admit("hint0001", "", Some(b)).is_err(),
            "unsigned group full"
        );
        let _k = subs
            .admit("hint0001", "key", Some(b))
            .expect("a key's group is apart");
        let _o = subs.admit("hint0002", "", Some(a)).expect("3rd from a");
        assert!(subs.admit("hint0003", "", Some(a)).is_err(), "address full");
        drop(s1);
        subs.admit("hint0001", "", Some(b)).expect("room again");
    }
}
