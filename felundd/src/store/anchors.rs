//! Anchor announcements per circle and node (`ANCHOR_ANNOUNCE` control events), kept
//! as the reference keeps them: the newest announcement's capabilities win, and every
//! receipt refreshes when the node was last seen announcing.

use felund_wire::control::AnchorAnnounce;
use rusqlite::{params, Connection};

use super::StoreResult;

/// Records `a`, received in `circle_id` at `seen_ts`: its capabilities replace the stored
/// ones only if it was announced later than they were.
pub fn record(
    conn: &Connection,
    circle_id: &str,
    a: &AnchorAnnounce,
    seen_ts: i64,
) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO anchor_records
           (circle_id, node_id, can_anchor, public_reachable, is_mobile, announced_at, last_seen_ts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (circle_id, node_id) DO UPDATE SET
           can_anchor = CASE WHEN excluded.announced_at > announced_at THEN excluded.can_anchor ELSE can_anchor END,
           public_reachable = CASE WHEN excluded.announced_at > announced_at THEN excluded.public_reachable ELSE public_reachable END,
           is_mobile = CASE WHEN excluded.announced_at > announced_at THEN excluded.is_mobile ELSE is_mobile END,
           announced_at = MAX(announced_at, excluded.announced_at),
           last_seen_ts = excluded.last_seen_ts",
    )?;
    stmt.execute(params![
        circle_id,
        a.node_id,
        a.can_anchor,
        a.public_reachable,
        a.is_mobile,
        a.announced_at,
        seen_ts
    ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::schema::test_db as db;

    fn stored(conn: &Connection) -> (bool, i64, i64) {
        conn.query_row(
            "SELECT can_anchor, announced_at, last_seen_ts FROM anchor_records
             WHERE circle_id = 'c' AND node_id = 'n'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("one record")
    }

    #[test]
    fn the_newest_announcement_wins_and_every_receipt_refreshes_last_seen() {
        let conn = db();
        let announce = |can_anchor, announced_at| AnchorAnnounce {
            node_id: "n".into(),
            can_anchor,
            public_reachable: true,
            is_mobile: false,
            announced_at,
        };
        record(&conn, "c", &announce(true, 10), 100).expect("record");
        assert_eq!(stored(&conn), (true, 10, 100));
        // An older announcement arriving later changes nothing but the last-seen time.
        record(&conn, "c", &announce(false, 5), 200).expect("record");
        assert_eq!(stored(&conn), (true, 10, 200));
        record(&conn, "c", &announce(false, 20), 300).expect("record");
        assert_eq!(stored(&conn), (false, 20, 300));
    }
}
