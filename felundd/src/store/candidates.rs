//! Dial candidates: addresses that someone *named* as a peer of a circle (a PEERS frame,
//! a relay's peer list, an imported state file) but that have not yet completed an
//! encrypted session with us. They are dialled, never listed as members or peers, and
//! never passed on in our own PEERS frames.
//!
//! The table is bounded per circle ([`MAX_CANDIDATES_PER_CIRCLE`]). A candidate that
//! fails [`MAX_CANDIDATE_FAILURES`] times in a row is *exhausted*: no longer dialled,
//! and kept as a tombstone for [`EXHAUSTED_KEEP_S`] so that a relay or peer that names it
//! again cannot restart the attempts. When the table is full a new candidate replaces an
//! exhausted one, or is ignored: candidates already waiting keep their turn, so a flood
//! of fake peers costs each member at most `MAX_CANDIDATES_PER_CIRCLE ×
//! MAX_CANDIDATE_FAILURES` dial attempts per circle per [`EXHAUSTED_KEEP_S`].

use rusqlite::{params, Connection};

use super::StoreResult;

/// Most candidates (waiting or exhausted) kept per circle.
pub const MAX_CANDIDATES_PER_CIRCLE: usize = 32;
/// Consecutive failed sessions after which a candidate is no longer dialled.
pub const MAX_CANDIDATE_FAILURES: i64 = 5;
/// How long an exhausted candidate is remembered (and so not re-added), seconds.
pub const EXHAUSTED_KEEP_S: i64 = 24 * 3600;

/// Where a candidate was learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A PEERS frame from a member.
    PeersFrame,
    /// A relay's peer list.
    Relay,
    /// A reference state file, or an address recorded before candidates existed.
    Import,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::PeersFrame => "peers",
            Source::Relay => "relay",
            Source::Import => "import",
        }
    }
}

/// A candidate to dial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// `host:port`.
    pub addr: String,
    /// The node id it was named with (unverified).
    pub node_id: String,
}

/// Adds `(node_id, addr)` as a candidate of `circle_id` unless it is known already (a
/// known one keeps its failure count) or the circle's table is full of candidates still
/// waiting. Returns whether it was added.
pub fn add(
    conn: &Connection,
    circle_id: &str,
    node_id: &str,
    addr: &str,
    source: Source,
    now: i64,
) -> StoreResult<bool> {
    conn.execute(
        "DELETE FROM dial_candidates WHERE circle_id = ?1 AND failures >= ?2 AND last_change_ts < ?3",
        params![circle_id, MAX_CANDIDATE_FAILURES, now - EXHAUSTED_KEEP_S],
    )?;
    let exists: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM dial_candidates WHERE circle_id = ?1 AND addr = ?2)",
        params![circle_id, addr],
        |r| r.get(0),
    )?;
    if exists {
        return Ok(false);
    }
    if count(conn, circle_id)? >= MAX_CANDIDATES_PER_CIRCLE as u64 {
        let evicted = conn.execute(
            "DELETE FROM dial_candidates WHERE rowid = (
               SELECT rowid FROM dial_candidates WHERE circle_id = ?1 AND failures >= ?2
               ORDER BY last_change_ts LIMIT 1)",
            params![circle_id, MAX_CANDIDATE_FAILURES],
        )?;
        if evicted == 0 {
            return Ok(false);
        }
    }
    conn.execute(
        "INSERT INTO dial_candidates (circle_id, addr, node_id, source, last_change_ts, failures)
         VALUES (?1, ?2, ?3, ?4, ?5, 0)",
        params![circle_id, addr, node_id, source.as_str(), now],
    )?;
    Ok(true)
}

/// Candidates of a circle still worth dialling, fewest failures first.
pub fn dialable(conn: &Connection, circle_id: &str) -> StoreResult<Vec<Candidate>> {
    let mut stmt = conn.prepare_cached(
        "SELECT addr, node_id FROM dial_candidates
         WHERE circle_id = ?1 AND failures < ?2
         ORDER BY failures, last_change_ts",
    )?;
    let rows = stmt.query_map(params![circle_id, MAX_CANDIDATE_FAILURES], |r| {
        Ok(Candidate {
            addr: r.get(0)?,
            node_id: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Counts one more failed session with the candidate at `addr` (if it is one).
pub fn record_failure(conn: &Connection, circle_id: &str, addr: &str, now: i64) -> StoreResult<()> {
    conn.execute(
        "UPDATE dial_candidates SET failures = failures + 1, last_change_ts = ?3
         WHERE circle_id = ?1 AND addr = ?2",
        params![circle_id, addr, now],
    )?;
    Ok(())
}

/// Forgets the candidate at `addr`: a session there succeeded and its node is now a peer.
pub fn remove(conn: &Connection, circle_id: &str, addr: &str) -> StoreResult<()> {
    conn.execute(
        "DELETE FROM dial_candidates WHERE circle_id = ?1 AND addr = ?2",
        params![circle_id, addr],
    )?;
    Ok(())
}

/// Candidates held for one circle (waiting and exhausted).
pub fn count(conn: &Connection, circle_id: &str) -> StoreResult<u64> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM dial_candidates WHERE circle_id = ?1",
        [circle_id],
        |r| r.get(0),
    )?;
    Ok(n as u64)
}

/// Candidates still waiting to be dialled, over all circles.
pub fn count_dialable(conn: &Connection) -> StoreResult<u64> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM dial_candidates WHERE failures < ?1",
        [MAX_CANDIDATE_FAILURES],
        |r| r.get(0),
    )?;
    Ok(n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::schema::test_db as db;

    #[test]
    fn a_flood_of_candidates_is_capped_and_waiting_ones_keep_their_place() {
        let conn = db();
        for i in 0..1000 {
            add(
                &conn,
                "c",
                &format!("n{i}"),
                &format!("10.0.0.1:{}", i + 1),
                Source::Relay,
                100,
            )
            .expect("add");
        }
        assert_eq!(
            count(&conn, "c").expect("count"),
            MAX_CANDIDATES_PER_CIRCLE as u64
        );
        let first = dialable(&conn, "c").expect("dialable");
        assert!(
            first.iter().any(|c| c.addr == "10.0.0.1:1"),
            "the first ones stay"
        );
        // Another circle has its own room.
        assert!(add(&conn, "d", "n", "10.0.0.1:1", Source::Relay, 100).expect("add"));
    }

    #[test]
    fn exhausted_candidates_stop_being_dialled_are_not_revived_and_make_room() {
        let conn = db();
        add(&conn, "c", "n", "10.0.0.1:1", Source::PeersFrame, 100).expect("add");
        for _ in 0..MAX_CANDIDATE_FAILURES {
            record_failure(&conn, "c", "10.0.0.1:1", 200).expect("fail");
        }
        assert!(dialable(&conn, "c").expect("dialable").is_empty());
        assert!(!add(&conn, "c", "n", "10.0.0.1:1", Source::Relay, 300).expect("again"));
        assert!(
            dialable(&conn, "c").expect("dialable").is_empty(),
            "not revived"
        );
        for i in 2..=MAX_CANDIDATES_PER_CIRCLE {
            add(
                &conn,
                "c",
                "n",
                &format!("10.0.0.1:{i}"),
                Source::Relay,
                300,
            )
            .expect("add");
        }
        assert!(
            add(&conn, "c", "n", "10.0.0.2:1", Source::Relay, 300).expect("add"),
            "the exhausted one makes room"
        );
        assert_eq!(
            count(&conn, "c").expect("count"),
            MAX_CANDIDATES_PER_CIRCLE as u64
        );
        // A day later an exhausted tombstone is forgotten and the address may return.
        for _ in 0..MAX_CANDIDATE_FAILURES {
            record_failure(&conn, "c", "10.0.0.1:2", 300).expect("fail");
        }
        let later = 300 + EXHAUSTED_KEEP_S + 1;
        assert!(add(&conn, "c", "n", "10.0.0.1:2", Source::Relay, later).expect("add"));
    }

    #[test]
    fn a_successful_session_removes_the_candidate() {
        let conn = db();
        add(&conn, "c", "n", "10.0.0.1:1", Source::Relay, 100).expect("add");
        remove(&conn, "c", "10.0.0.1:1").expect("remove");
        assert_eq!(count(&conn, "c").expect("count"), 0);
    }
}
