//! Fitting what a frame carries into one line of the peer's limit. A reference node fails
//! the whole session on a line longer than it reads, so every list it gets is cut to fit.

use serde_json::Value;

use crate::session::max_sealed_plaintext;

/// Room left in every budget for the frame's own keys and rounding.
const FRAME_SLACK: usize = 256;

/// Bytes of frame JSON that fit in one encrypted line of at most `max_line` bytes (newline
/// included), less room for the frame's own keys.
pub fn json_budget(max_line: usize) -> usize {
    max_sealed_plaintext(max_line).saturating_sub(FRAME_SLACK)
}

/// The longest prefix of `ids` whose JSON array fits in `budget` bytes.
pub fn fit_ids(ids: impl IntoIterator<Item = String>, budget: usize) -> Vec<String> {
    let mut used = 2;
    let mut out = Vec::new();
    for id in ids {
        let cost = id.len() + 3; // quotes and comma
        if used + cost > budget {
            break;
        }
        used += cost;
        out.push(id);
    }
    out
}

/// The objects of `items` (each with its encoded size), in order, that fit in `budget`
/// together. One that can never fit a frame on its own is skipped rather than ending the
/// list, so it cannot hold back every object behind it session after session.
pub fn fit_values(items: impl IntoIterator<Item = (Value, usize)>, budget: usize) -> Vec<Value> {
    let mut used = 2;
    let mut out = Vec::new();
    for (v, len) in items {
        if 2 + len + 1 > budget {
            continue;
        }
        if used + len + 1 > budget {
            break;
        }
        used += len + 1;
        out.push(v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::MAX_ENCRYPTED_LINE;
    use crate::session::sealed_line_len;

    #[test]
    fn fit_ids_stops_before_the_budget_is_exceeded() {
        let ids: Vec<String> = (0..100).map(|i| format!("{i:032}")).collect();
        let fitted = fit_ids(ids.clone(), 400);
        let json = serde_json::to_string(&fitted).expect("json");
        assert!(json.len() <= 400, "{}", json.len());
        // 11 ids of 32 chars: 2 + 11 × 35 = 387 bytes by our count (386 real).
        assert_eq!(fitted.len(), 11);
        assert_eq!(fitted[..], ids[..11]);
    }

    #[test]
    fn fit_values_keeps_the_first_that_fit() {
        let vals: Vec<(Value, usize)> = (0..10).map(|i| (Value::from(i), 100)).collect();
        assert_eq!(fit_values(vals, 350).len(), 3);
    }

    #[test]
    fn a_message_too_large_for_any_frame_does_not_block_the_ones_behind_it() {
        let vals = vec![
            (Value::from(1), 100),
            (Value::from(2), 10_000),
            (Value::from(3), 100),
        ];
        assert_eq!(fit_values(vals, 350), [Value::from(1), Value::from(3)]);
    }

    #[test]
    fn a_full_budget_with_its_frame_keys_fits_a_reference_line() {
        let budget = json_budget(MAX_ENCRYPTED_LINE);
        assert_eq!(budget, 24_289);
        assert!(sealed_line_len(budget + 200) <= MAX_ENCRYPTED_LINE);
        assert_eq!(json_budget(10), 0);
    }
}
