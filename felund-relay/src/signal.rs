//! WebRTC signalling rules (docs/protocol.md §10, as the reference aiohttp relay applies them):
//! body validation, the signal types and the TTL rule. Lengths here count characters.

use felund_wire::relay_api::{SignalKind, SignalPost};
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::limits::{
    SIGNAL_ID_MAX, SIGNAL_ID_MIN, SIGNAL_PAYLOAD_MAX, SIGNAL_SESSION_MAX, SIGNAL_SESSION_MIN,
    SIGNAL_TTL_CANDIDATE_S, SIGNAL_TTL_MIN_S, SIGNAL_TTL_OTHER_S,
};

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// A string field of at least `min` (and at most `max`) characters; absent means "".
fn text_field(data: &Map<String, Value>, key: &str, min: usize, max: usize) -> Option<String> {
    match data.get(key) {
        None => Some(String::new()),
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => None,
    }
    .filter(|s| (min..=max).contains(&chars(s)))
}

/// An id field of 8–128 characters, with the reference's message when it is too short.
fn id_field(data: &Map<String, Value>, key: &str) -> Result<String, ApiError> {
    let value = text_field(data, key, SIGNAL_ID_MIN, usize::MAX)
        .ok_or_else(|| ApiError::bad(format!("{key} required (8+ chars)")))?;
    if chars(&value) > SIGNAL_ID_MAX {
        return Err(ApiError::bad(format!(
            "{key} too long (max {SIGNAL_ID_MAX} chars)"
        )));
    }
    Ok(value)
}

/// The longest TTL of a signal type: 60 s for candidates, 120 s for the others.
pub fn max_ttl(kind: SignalKind) -> i64 {
    if kind.is_candidate() {
        SIGNAL_TTL_CANDIDATE_S
    } else {
        SIGNAL_TTL_OTHER_S
    }
}

/// The reference TTL rule: a numeric `ttl_s` is truncated and clamped to `10..=max_ttl`;
/// anything else (absent, text, null) means `max_ttl`.
pub fn effective_ttl(kind: SignalKind, raw: Option<&Value>) -> i64 {
    let max = max_ttl(kind);
    let requested = match raw {
        Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f.trunc() as i64)),
        // JSON booleans are integers to the reference (Python).
        Some(Value::Bool(b)) => Some(i64::from(*b)),
        _ => None,
    };
    requested.map_or(max, |t| t.clamp(SIGNAL_TTL_MIN_S, max))
}

/// Validates a `POST /v1/signal` body in the reference's order; the contract's request, with
/// the effective TTL.
pub fn parse_post(body: &[u8]) -> Result<SignalPost, ApiError> {
    let Ok(Value::Object(data)) = serde_json::from_slice::<Value>(body) else {
        return Err(ApiError::bad("Invalid JSON body"));
    };
    let session_id = text_field(&data, "session_id", SIGNAL_SESSION_MIN, SIGNAL_SESSION_MAX)
        .ok_or_else(|| ApiError::bad("session_id must be a string (8–256 chars)"))?;
    let from_node_id = id_field(&data, "from_node_id")?;
    let to_node_id = id_field(&data, "to_node_id")?;
    let circle_hint = id_field(&data, "circle_hint")?;
    let kind = match data.get("type") {
        Some(Value::String(t)) if SignalKind::parse(t).is_some() => SignalKind::parse(t),
        _ => None,
    };
    let Some(kind) = kind else {
        return Err(ApiError::bad(
            "type must be offer, answer, candidate, media-offer, media-answer, or media-candidate",
        ));
    };
    let payload = text_field(&data, "payload", 0, SIGNAL_PAYLOAD_MAX)
        .ok_or_else(|| ApiError::bad("payload must be a string (max 64 KB)"))?;
    let ttl_s = effective_ttl(kind, data.get("ttl_s"));
    Ok(SignalPost {
        session_id,
        from_node_id,
        to_node_id,
        circle_hint,
        kind,
        payload,
        ttl_s: Some(ttl_s),
    })
}

/// The reference's `since_id` parse: an optionally negative decimal integer (saturating),
/// anything else is 0.
pub fn parse_since_id(text: &str) -> i64 {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    text.parse::<i64>().unwrap_or(if text.starts_with('-') {
        i64::MIN
    } else {
        i64::MAX
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ttl_rule() {
        use SignalKind::*;
        assert_eq!(effective_ttl(Offer, None), 120);
        assert_eq!(effective_ttl(Candidate, None), 60);
        assert_eq!(effective_ttl(MediaCandidate, Some(&json!(1000))), 60);
        assert_eq!(effective_ttl(Answer, Some(&json!(1))), 10);
        assert_eq!(effective_ttl(Answer, Some(&json!(30.9))), 30);
        assert_eq!(effective_ttl(Answer, Some(&json!("30"))), 120);
        assert_eq!(effective_ttl(Answer, Some(&json!(true))), 10);
    }

    #[test]
    fn post_rules() {
        let ok = br#"{"session_id":"sess-0001","from_node_id":"aaaaaaaa","to_node_id":"bbbbbbbb","circle_hint":"cccccccc","type":"offer","payload":"x"}"#;
        let post = parse_post(ok).expect("ok");
        assert_eq!(post.ttl_s, Some(120));
        assert_eq!(
            parse_post(b"nope").expect_err("json").to_string(),
            "Invalid JSON body"
        );
        let bad_type = br#"{"session_id":"sess-0001","from_node_id":"aaaaaaaa","to_node_id":"bbbbbbbb","circle_hint":"cccccccc","type":"x"}"#;
        assert!(parse_post(bad_type)
            .expect_err("type")
            .to_string()
            .starts_with("type must be"));
        let long = format!(
            r#"{{"session_id":"sess-0001","from_node_id":"aaaaaaaa","to_node_id":"bbbbbbbb","circle_hint":"cccccccc","type":"offer","payload":"{}"}}"#,
            "é".repeat(65_537)
        );
        assert_eq!(
            parse_post(long.as_bytes()).expect_err("long").to_string(),
            "payload must be a string (max 64 KB)"
        );
    }

    #[test]
    fn since_id_parse() {
        assert_eq!(parse_since_id("12"), 12);
        assert_eq!(parse_since_id("-3"), -3);
        assert_eq!(parse_since_id("x"), 0);
        assert_eq!(parse_since_id(""), 0);
        assert_eq!(parse_since_id("+3"), 0);
        assert_eq!(parse_since_id("99999999999999999999"), i64::MAX);
    }
}
