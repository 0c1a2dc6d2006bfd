//! Migration from the reference: importing its `state.json` (docs/protocol.md §11).
//!
//! Everything is imported in one transaction, so a failure changes nothing. The file
//! must look like a reference state (an object with a `node` object carrying a
//! `node_id`, and a `circles` object); anything else is refused as foreign. Inside
//! it, malformed items are skipped with a warning, and every message is verified
//! against its circle's secret like any received message — at-rest envelopes are
//! decrypted — so nothing unverified enters the store. Importing twice is harmless.
//!
//! A state file can hold hundreds of thousands of messages, so it is never parsed
//! into one document: a first pass reads everything but the messages (skipping them
//! without building anything), a second pass ([`stream`]) hands the messages over
//! one at a time, and only the first [`BULK_EVENTS`] events are kept for
//! subscribers (the rest are announced as missed). Memory stays near the size of
//! the file, whatever it holds.

mod stream;

use std::collections::HashMap;

use felund_wire::control::AccessMode;
use felund_wire::limits::MAX_ID_BYTES;
use felund_wire::{CircleSecret, WireMessage};
use rusqlite::Connection;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::ingest::{ingest_with, Memo};
use super::{now_ts, Node, Retention};
use crate::error::{NodeError, NodeResult};
use crate::events::NodeEvent;
use crate::limits::BULK_EVENTS;
use crate::model::Circle;
use crate::store::candidates::{self as candidate_sql, Source};
use crate::store::channels::{self as channel_sql, NodeSet};
use crate::store::{
    circles as circle_sql, messages as message_sql, meta, peers as peer_sql, StateStore,
    StoreResult,
};

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// The reference node id, when this node adopts it (it had no history yet).
    pub adopted_node_id: Option<String>,
    /// Circles added.
    pub circles: u64,
    /// Messages added (and kept: see `beyond_retention`).
    pub messages: u64,
    /// Chat messages in the file that this node's retention does not keep (older
    /// than its age limit, or beyond its per-circle cap): not counted in `messages`.
    pub beyond_retention: u64,
    /// Peer addresses taken as dial candidates (they become peers once reached).
    pub peers: u64,
    /// Channels added.
    pub channels: u64,
    /// Skipped items, each explained.
    pub warnings: Vec<String>,
}

fn str_list(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Everything of a reference state but its messages, which the first pass skips
/// without building them (serde skips unknown keys such as `messages`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Head {
    node: Value,
    circles: Value,
    peers: Value,
    circle_members: Value,
    node_display_names: Value,
    channels: Value,
    channel_members: Value,
    channel_requests: Value,
}

impl Head {
    fn map(v: &Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }
}

/// Checks that `bytes` is a reference state file; returns all of it but the messages.
fn parse_state(bytes: &[u8]) -> NodeResult<Head> {
    let foreign = || {
        NodeError::InvalidArgument(
            "not a reference state file: it needs a \"node\" object with a node_id and a \"circles\" object".into(),
        )
    };
    let head: Head = serde_json::from_slice(bytes).map_err(|e| {
        if e.is_data() {
            foreign()
        } else {
            NodeError::InvalidArgument(format!("not a reference state file: not JSON ({e})"))
        }
    })?;
    let node_id = head.node.get("node_id").and_then(Value::as_str);
    if node_id.is_none_or(|id| id.is_empty() || id.len() > MAX_ID_BYTES)
        || !head.circles.is_object()
    {
        return Err(foreign());
    }
    Ok(head)
}

impl Node {
    /// Imports a reference `state.json` into a running node. An adopted identity
    /// takes effect at the next start. See the module docs.
    pub async fn import_reference_state(&self, bytes: Vec<u8>) -> NodeResult<ImportReport> {
        let retention = self.settings().retention;
        let (report, events) =
            import_into(self.store(), bytes, Some(self.node_id()), retention).await?;
        self.publish(events);
        if let Some(id) = &report.adopted_node_id {
            tracing::info!(node_id = %id, "imported the reference identity; it takes effect when felundd restarts");
        }
        Ok(report)
    }
}

/// Imports a reference `state.json` into `store`, before or while a node runs on it
/// (`me`: the running node's id, if any), keeping what `retention` keeps. The events
/// to publish are at most [`BULK_EVENTS`], the last of them a [`NodeEvent::Missed`]
/// if there were more.
pub async fn import_into(
    store: &StateStore,
    bytes: Vec<u8>,
    me: Option<&str>,
    retention: Retention,
) -> NodeResult<(ImportReport, Vec<NodeEvent>)> {
    let head = parse_state(&bytes)?;
    let me = me.map(str::to_string);
    let result = store
        .write(move |conn| {
            let me = match me {
                Some(id) => id,
                None => meta::get(conn, meta::NODE_ID)?.unwrap_or_default(),
            };
            import(conn, &head, &bytes, &me, retention)
        })
        .await;
    // Whatever happened, the import was a burst of allocations.
    crate::memory::after_burst();
    Ok(result?)
}

/// Events of a bulk change: the first [`BULK_EVENTS`] are kept, the rest counted.
#[derive(Debug, Default)]
struct BulkEvents {
    kept: Vec<NodeEvent>,
    missed: u64,
}

impl BulkEvents {
    fn extend(&mut self, events: Vec<NodeEvent>) {
        for e in events {
            if self.kept.len() < BULK_EVENTS {
                self.kept.push(e);
            } else {
                self.missed += 1;
            }
        }
    }

    fn into_events(mut self) -> Vec<NodeEvent> {
        if self.missed > 0 {
            self.kept.push(NodeEvent::Missed { count: self.missed });
        }
        self.kept
    }
}

/// Whether this node has any history of its own (then its identity is kept).
fn has_history(conn: &Connection) -> StoreResult<bool> {
    Ok(circle_sql::count(conn)? > 0 || message_sql::count(conn)? > 0)
}

/// The whole import, inside one transaction: `head` from the first pass, the
/// messages streamed from `bytes`.
fn import(
    conn: &Connection,
    head: &Head,
    bytes: &[u8],
    me: &str,
    retention: Retention,
) -> StoreResult<(ImportReport, Vec<NodeEvent>)> {
    let mut r = ImportReport::default();
    let mut events = BulkEvents::default();
    let ref_id = head
        .node
        .get("node_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    adopt_identity(conn, head, &ref_id, me, &mut r)?;
    let identity = r.adopted_node_id.clone().unwrap_or_else(|| me.to_string());
    // Circles first: everything else hangs off them.
    let circles = import_circles(conn, head, &identity, &mut r)?;
    import_candidates(conn, head, &ref_id, &circles, &mut r)?;
    for (nid, name) in Head::map(&head.node_display_names) {
        if let Some(name) = name.as_str().filter(|n| !n.is_empty()) {
            peer_sql::set_display_name(
                conn,
                &nid,
                &felund_wire::ids::truncate_display_name(name),
                0,
            )?;
        }
    }
    import_channels(conn, head, &circles, &mut r)?;

    // Messages: verified like any received message; envelopes at rest decrypted.
    // Chat older than the retention window is not stored at all (the next pruning
    // would only remove it again); control events are kept whatever their age.
    let mut memo = Memo::default();
    let cutoff = retention.cutoff_ts(now_ts());
    stream::messages(bytes, |mid, m| {
        match verified_message(&m, &circles) {
            Ok(msg) if !Retention::keeps(cutoff, &msg.channel_id, msg.created_ts) => {
                r.beyond_retention += 1;
            }
            Ok(msg) => {
                if let Some(e) = ingest_with(conn, &msg, now_ts(), &mut memo)? {
                    r.messages += 1;
                    events.extend(e);
                }
            }
            Err(why) => r.warnings.push(format!("message {mid}: {why}; skipped")),
        }
        Ok(())
    })?;
    if retention.max_per_circle > 0 {
        // The per-circle cap needs the whole circle: apply it before the import commits.
        let dropped = message_sql::prune(conn, i64::MIN, retention.max_per_circle)?;
        r.messages = r.messages.saturating_sub(dropped);
        r.beyond_retention += dropped;
    }
    Ok((r, events.into_events()))
}

/// Adopts the reference identity (and display name) when this node has no history.
fn adopt_identity(
    conn: &Connection,
    head: &Head,
    ref_id: &str,
    me: &str,
    r: &mut ImportReport,
) -> StoreResult<()> {
    let plausible = (8..=MAX_ID_BYTES).contains(&ref_id.len())
        && ref_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !plausible {
        r.warnings.push(format!(
            "node id {ref_id:?} is not a usable identity; this node keeps its own"
        ));
    } else if ref_id != me && !has_history(conn)? {
        meta::set(conn, meta::NODE_ID, ref_id)?;
        r.adopted_node_id = Some(ref_id.to_string());
    }
    if let Some(name) = head
        .node
        .get("display_name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    {
        if meta::get(conn, meta::DISPLAY_NAME)?
            .unwrap_or_default()
            .is_empty()
        {
            meta::set(
                conn,
                meta::DISPLAY_NAME,
                &felund_wire::ids::truncate_display_name(name),
            )?;
        }
    }
    Ok(())
}

/// The circles whose secret matches their id, by id.
fn import_circles(
    conn: &Connection,
    head: &Head,
    identity: &str,
    r: &mut ImportReport,
) -> StoreResult<HashMap<String, Circle>> {
    let mut circles = HashMap::new();
    for (cid, c) in Head::map(&head.circles) {
        let secret = c
            .get("secret_hex")
            .and_then(Value::as_str)
            .and_then(|h| CircleSecret::from_hex(h).ok());
        let Some(secret) = secret.filter(|s| s.circle_id() == cid) else {
            r.warnings.push(format!(
                "circle {cid}: secret missing or does not match its id; skipped"
            ));
            continue;
        };
        let name: String = c
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .chars()
            .take(40)
            .collect();
        let circle = Circle {
            circle_id: cid.clone(),
            secret,
            name,
            joined_ts: now_ts(),
            bootstrap_peer: String::new(),
        };
        if circle_sql::insert(conn, &circle)? {
            r.circles += 1;
            // It comes with the history of a node that has synced.
            circle_sql::mark_synced(conn, &cid, now_ts())?;
        }
        circle_sql::add_member(conn, &cid, identity)?;
        channel_sql::create(
            conn,
            &cid,
            "general",
            AccessMode::Public,
            identity,
            now_ts(),
            "",
        )?;
        channel_sql::add(conn, NodeSet::Members, &cid, "general", identity)?;
        circles.insert(cid, circle);
    }
    Ok(circles)
}

/// The reference made members of whoever a PEERS frame named, so its members and
/// peers are only dial candidates here: they become members by completing a session
/// (or by authoring one of the imported messages).
fn import_candidates(
    conn: &Connection,
    head: &Head,
    ref_id: &str,
    circles: &HashMap<String, Circle>,
    r: &mut ImportReport,
) -> StoreResult<()> {
    let peers = Head::map(&head.peers);
    for (cid, members) in Head::map(&head.circle_members) {
        if !circles.contains_key(&cid) {
            continue;
        }
        for nid in str_list(&members) {
            let Some(addr) = peers
                .get(&nid)
                .and_then(|p| p.get("addr"))
                .and_then(Value::as_str)
            else {
                continue;
            };
            if nid == ref_id || felund_wire::frame::parse_host_port(addr).is_none() {
                continue;
            }
            if candidate_sql::add(conn, &cid, &nid, addr, Source::Import, now_ts())? {
                r.peers += 1;
            }
        }
    }
    Ok(())
}

fn import_channels(
    conn: &Connection,
    head: &Head,
    circles: &HashMap<String, Circle>,
    r: &mut ImportReport,
) -> StoreResult<()> {
    for (cid, chans) in Head::map(&head.channels) {
        if !circles.contains_key(&cid) {
            continue;
        }
        for (chid, ch) in chans.as_object().cloned().unwrap_or_default() {
            if !felund_wire::ids::is_valid_channel_id(&chid) {
                r.warnings
                    .push(format!("channel {chid}: invalid id; skipped"));
                continue;
            }
            let mode = AccessMode::parse_lenient(
                ch.get("access_mode")
                    .and_then(Value::as_str)
                    .unwrap_or("public"),
            );
            let by = ch
                .get("created_by")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let ts = ch.get("created_ts").and_then(Value::as_i64).unwrap_or(0);
            let hash = ch
                .get("key_hash")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if channel_sql::create(conn, &cid, &chid, mode, by, ts, hash)? {
                r.channels += 1;
            }
        }
    }
    for (sets, set) in [
        (&head.channel_members, NodeSet::Members),
        (&head.channel_requests, NodeSet::Requests),
    ] {
        for (cid, chans) in Head::map(sets) {
            if !circles.contains_key(&cid) {
                continue;
            }
            for (chid, nodes) in chans.as_object().cloned().unwrap_or_default() {
                if channel_sql::get(conn, &cid, &chid)?.is_none() {
                    continue;
                }
                for n in str_list(&nodes) {
                    channel_sql::add(conn, set, &cid, &chid, &n)?;
                }
            }
        }
    }
    Ok(())
}

/// A stored reference message, strictly validated and verified against its circle.
fn verified_message(m: &Value, circles: &HashMap<String, Circle>) -> Result<WireMessage, String> {
    let mut msg = WireMessage::from_value(m).map_err(|e| e.to_string())?;
    let circle = circles
        .get(&msg.circle_id)
        .ok_or("its circle is not in the file")?;
    if msg.enc.is_some() {
        // At rest the reference blanks text and display_name of enveloped messages.
        let (name, text) = msg.open_enc(&circle.secret).map_err(|e| e.to_string())?;
        msg.display_name = name;
        msg.text = text;
        msg.mac = msg.compute_mac(&circle.secret);
        Ok(msg)
    } else if msg.verify_mac(&circle.secret) {
        Ok(msg)
    } else {
        Err("MAC does not verify".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_files_are_refused_with_a_reason() {
        for bad in [
            &b"not json"[..],
            b"[]",
            b"{}",
            b"{\"node\":{},\"circles\":{}}",
            b"{\"node\":{\"node_id\":\"x\"}}",
        ] {
            let err = parse_state(bad).unwrap_err();
            assert!(
                err.to_string().contains("not a reference state file"),
                "{err}"
            );
        }
        assert!(parse_state(br#"{"node":{"node_id":"abc"},"circles":{}}"#).is_ok());
    }
}
