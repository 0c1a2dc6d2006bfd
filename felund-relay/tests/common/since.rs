//! A client of the reference `since` cursor, following one of the reference clients' rules for
//! the next cursor, pulling unsigned (as the web client does) through one or more instances.

use std::collections::HashSet;

use super::{msg_ids, Relay};

/// How a reference client takes its next `since` from a pull answer's `server_time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// The reference Python client (TUI): `since = server_time` when that is larger.
    Python,
    /// The reference web client: `since = max(since, server_time - 1)`.
    Web,
}

impl Rule {
    /// Both rules.
    pub const BOTH: [Rule; 2] = [Rule::Python, Rule::Web];

    /// The cursor after an answer with `server_time`.
    pub fn next(self, since: i64, server_time: i64) -> i64 {
        match self {
            Rule::Python if server_time > since => server_time,
            Rule::Python => since,
            Rule::Web => since.max(server_time - 1),
        }
    }
}

/// A reader of one circle: its cursor and every msg_id it received, in order.
#[derive(Debug)]
pub struct SinceReader {
    pub rule: Rule,
    pub hint: String,
    pub limit: u32,
    pub since: i64,
    pub got: Vec<String>,
    pub pulls: usize,
}

impl SinceReader {
    /// A reader starting at `since=0`, asking for `limit` messages a pull (both reference
    /// clients ask for 200).
    pub fn new(rule: Rule, hint: &str, limit: u32) -> Self {
        Self {
            rule,
            hint: hint.to_owned(),
            limit,
            since: 0,
            got: Vec::new(),
            pulls: 0,
        }
    }

    /// One pull from `relay`; returns how many messages it brought. A pull that brought
    /// messages must move the cursor forward (otherwise the client would get the same page
    /// again forever).
    pub async fn pull(&mut self, relay: &Relay) -> usize {
        let reply = relay
            .get(&format!(
                "/v1/messages?circle_hint={}&since={}&limit={}",
                self.hint, self.since, self.limit
            ))
            .await;
        assert_eq!(reply.status, 200, "{:?}", reply.json);
        let ids = msg_ids(&reply.json);
        let server_time = reply.json["server_time"].as_i64().expect("server_time");
        let next = self.rule.next(self.since, server_time);
        assert!(
            ids.is_empty() || next > self.since,
            "{:?}: the cursor stalled at {} after a page of {}",
            self.rule,
            self.since,
            ids.len()
        );
        self.since = next;
        self.pulls += 1;
        let n = ids.len();
        self.got.extend(ids);
        n
    }

    /// Pulls, taking the instances in turn, until a pull brings nothing (as a client's next
    /// rounds would); at most `max_pulls` pulls.
    pub async fn drain(&mut self, relays: &[&Relay], max_pulls: usize) {
        for turn in 0..max_pulls {
            if self.pull(relays[turn % relays.len()]).await == 0 {
                return;
            }
        }
        panic!(
            "{:?}: still receiving after {max_pulls} pulls ({} messages)",
            self.rule,
            self.got.len()
        );
    }

    /// Asserts that the reader received exactly `expected`, each once.
    pub fn assert_exactly(&self, expected: &HashSet<String>) {
        let distinct: HashSet<String> = self.got.iter().cloned().collect();
        assert_eq!(
            self.got.len(),
            distinct.len(),
            "{:?}: {} duplicates",
            self.rule,
            self.got.len() - distinct.len()
        );
        let missing = expected.difference(&distinct).count();
        assert_eq!(
            missing,
            0,
            "{:?}: {missing} of {} messages lost",
            self.rule,
            expected.len()
        );
        assert_eq!(&distinct, expected, "{:?}: unexpected messages", self.rule);
    }
}
