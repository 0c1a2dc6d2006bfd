//! Positions on the reference `since` cursor: how felund-relay makes the reference clients'
//! unchanged cursor lossless.
//!
//! The reference clients page with `since` alone: they ask for the messages stored after
//! `since` and take their next `since` from the answer's `server_time` — the Python client
//! as `since = server_time`, the web client as `since = max(since, server_time - 1)`. A relay
//! that stores messages by the second and answers `server_time = now` loses, for both, every
//! message beyond the first page of a backlog, and (for the Python client) whatever is stored
//! in the second of a pull after it.
//!
//! felund-relay gives every message a **position** (`pos`) and compares `since` with it:
//!
//! - Positions are integers on the scale of server time: a message's `pos` is at least its
//!   storage time (`stored_at`), and at least [`SINCE_POS_STEP`] (2) above the previous
//!   message of its circle. So a circle that receives fewer than one message every two seconds
//!   has `pos == stored_at`, and a burst (even thousands in one second) gets distinct
//!   positions, two apart, that run ahead of the clock until the burst is over.
//! - A circle's **next free position** is `max(time floor, the circle's next_pos)`: the time
//!   floor is the largest server time of any stored batch or `since` pull (so positions never
//!   go below the time of a pull that could not see them, whatever the instance clocks say),
//!   and `next_pos` is the last position of the circle plus [`SINCE_POS_STEP`]. Both only grow.
//! - A `since` pull answers `server_time` = the page's last `pos + 1` when the page is cut
//!   (`more`), else the next free position `- 1` ([`MessagePage::since_server_time`]).
//!
//! Why both clients then get every message exactly once: a cut page ends at `pos = p`, and
//! the next message is at `p + 2` or later; the Python client asks for `pos > p + 1`, the web
//! client for `pos > p`: both resume at that next message, and both cursors moved forward, so
//! no page is ever served twice. After a page that held everything, every message stored
//! later gets at least the next free position `n`, and everything returned was at most
//! `n - 2`: the Python client asks for `pos > n - 1`, the web client for `pos > n - 2`. A
//! `since` pull raises the time floor to its own server time before it reads (waiting for a
//! batch being committed), and reads the page and `n` in one snapshot, so a message committed
//! concurrently is either in the page or gets a position of at least `n`. Clock steps: the
//! time floor never goes back, so after a backward step positions (and `server_time`) stay
//! ahead of the clock until it catches up; nothing is lost either way.
//!
//! The lossless `after_seq` cursor follows the same order (pos increases with seq within a
//! circle) and is unaffected.
//!
//! [`MessagePage::since_server_time`]: super::MessagePage::since_server_time

/// Distance between the positions of two consecutive messages of a circle. Two, not one, so
/// that a cursor at a page's last position `p` can be answered as `p + 1`, which the Python
/// client keeps and the web client turns into `p`: neither repeats nor skips a message.
pub const SINCE_POS_STEP: i64 = 2;

/// The position of the first message of a batch: the circle's next free position.
pub fn first_free(time_floor: i64, circle_next_pos: i64) -> i64 {
    time_floor.max(circle_next_pos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{MessagePage, StoredMessage};

    fn page(positions: &[i64], more: bool, next_pos: i64) -> MessagePage {
        let messages = positions
            .iter()
            .enumerate()
            .map(|(i, &pos)| StoredMessage {
                seq: i as i64 + 1,
                msg_id: format!("m{i}"),
                stored_at: pos,
                pos,
                payload: "{}".into(),
            })
            .collect();
        MessagePage {
            messages,
            more,
            max_seq: positions.len() as i64,
            next_pos,
        }
    }

    /// Pages through `all` (positions, two apart at least) with a client rule, `limit` at a
    /// time, as the relay would; returns what the client received, in order.
    fn drain(all: &[i64], next_pos: i64, limit: usize, rule: fn(i64, i64) -> i64) -> Vec<i64> {
        let (mut since, mut got) = (0, Vec::new());
        for _ in 0..=all.len() + 1 {
            let matching: Vec<i64> = all.iter().copied().filter(|p| *p > since).collect();
            let more = matching.len() > limit;
            let shown = &matching[..matching.len().min(limit)];
            got.extend_from_slice(shown);
            since = rule(since, page(shown, more, next_pos).since_server_time());
            if !more {
                break;
            }
        }
        got
    }

    #[test]
    fn both_reference_rules_get_every_position_once_whatever_the_page_size() {
        let python = |since: i64, t: i64| if t > since { t } else { since };
        let web = |since: i64, t: i64| since.max(t - 1);
        // A burst in one second (positions two apart), then a quiet message.
        let mut all: Vec<i64> = (0..25).map(|i| 1000 + SINCE_POS_STEP * i).collect();
        all.push(2000);
        for limit in [1, 2, 3, 7, 25, 26, 200] {
            assert_eq!(
                drain(&all, 2002, limit, python),
                all,
                "python, limit {limit}"
            );
            assert_eq!(drain(&all, 2002, limit, web), all, "web, limit {limit}");
        }
    }

    #[test]
    fn a_page_that_holds_everything_answers_just_below_the_next_free_position() {
        assert_eq!(page(&[10, 12], false, 14).since_server_time(), 13);
        assert_eq!(page(&[], false, 500).since_server_time(), 499);
        assert_eq!(page(&[10, 12], true, 40).since_server_time(), 13);
        assert_eq!(first_free(100, 90), 100);
        assert_eq!(first_free(100, 130), 130);
    }
}
