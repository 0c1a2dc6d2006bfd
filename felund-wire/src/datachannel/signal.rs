//! Signalling shapes for the DataChannel transport: who offers, the session id of a pair,
//! and the JSON text carried in a signal's `payload` string.
//!
//! A signal's payload is JSON *inside* a string: `{"sdp":…,"type":"offer"|"answer"}` for
//! descriptions (the SDP without candidates when trickling) and Chrome's candidate object
//! `{"candidate":"candidate:…","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":…}` for
//! candidates, one per signal.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use thiserror::Error;

use crate::limits::MAX_SIGNAL_PAYLOAD_CHARS;
pub use crate::relay_api::SignalKind;

/// The session id every attempt between `a` and `b` uses, in any circle: the two node ids
/// in byte order (JavaScript's order for the ASCII ids nodes use), joined by `:`.
pub fn session_id(a: &str, b: &str) -> String {
    if a <= b {
        format!("{a}:{b}")
    } else {
        format!("{b}:{a}")
    }
}

/// Whether `own` offers to `peer`: the node with the smaller id offers, the larger one only
/// answers (the web client follows the same rule, so two nodes never offer to each other).
pub fn we_offer(own: &str, peer: &str) -> bool {
    own < peer
}

/// Whether this transport reads signals of `kind` (calls use the `media-*` kinds; we ignore
/// them).
pub fn is_datachannel_kind(kind: SignalKind) -> bool {
    matches!(
        kind,
        SignalKind::Offer | SignalKind::Answer | SignalKind::Candidate
    )
}

/// The TTL to ask for, seconds: candidates are useless sooner than descriptions.
pub fn ttl_s(kind: SignalKind) -> i64 {
    if kind.is_candidate() {
        60
    } else {
        120
    }
}

/// Why a payload was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PayloadError {
    /// Longer than any relay stores.
    #[error("signal payload is over {MAX_SIGNAL_PAYLOAD_CHARS} characters")]
    TooLong,
    /// Not the JSON shape of its kind.
    #[error("signal payload is not a {0} object")]
    Shape(&'static str),
}

/// Encodes a description payload (`sdp` first, then `type`, as Chrome writes it).
pub fn description_payload(kind: SignalKind, sdp: &str) -> String {
    // serde_json keeps insertion order only with preserve_order; write the text directly.
    format!(
        r#"{{"sdp":{},"type":{}}}"#,
        Value::String(sdp.to_string()),
        Value::String(kind.as_str().to_string())
    )
}

/// Reads a description payload of `kind`; returns the SDP text.
pub fn parse_description(kind: SignalKind, payload: &str) -> Result<String, PayloadError> {
    if payload.chars().count() > MAX_SIGNAL_PAYLOAD_CHARS {
        return Err(PayloadError::TooLong);
    }
    #[derive(Deserialize)]
    struct Desc {
        sdp: String,
        #[serde(rename = "type")]
        kind: String,
    }
    match serde_json::from_str::<Desc>(payload) {
        Ok(d) if d.kind == kind.as_str() => Ok(d.sdp),
        _ => Err(PayloadError::Shape(kind.as_str())),
    }
}

/// One trickled ICE candidate, as browsers write it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidatePayload {
    /// `candidate:<foundation> <component> <transport> …` (Chrome adds `generation`, `ufrag`,
    /// `network-id`, `network-cost`).
    pub candidate: String,
    /// The media section it belongs to.
    #[serde(rename = "sdpMid", default)]
    pub sdp_mid: Option<String>,
    /// Index of that section.
    #[serde(rename = "sdpMLineIndex", default)]
    pub sdp_mline_index: Option<u32>,
    /// The ICE ufrag it belongs to (may be absent).
    #[serde(
        rename = "usernameFragment",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub username_fragment: Option<String>,
}

impl CandidatePayload {
    /// Reads a candidate payload.
    pub fn parse(payload: &str) -> Result<CandidatePayload, PayloadError> {
        if payload.chars().count() > MAX_SIGNAL_PAYLOAD_CHARS {
            return Err(PayloadError::TooLong);
        }
        serde_json::from_str(payload).map_err(|_| PayloadError::Shape("candidate"))
    }

    /// The candidate line without its `candidate:` prefix (an `a=candidate:` value).
    pub fn line(&self) -> &str {
        self.candidate
            .strip_prefix("candidate:")
            .unwrap_or(&self.candidate)
    }

    /// The payload text for a candidate line (with or without its `candidate:` prefix) of
    /// media section `0`.
    pub fn encode(line: &str, ufrag: Option<&str>) -> String {
        let candidate = if line.starts_with("candidate:") {
            line.to_string()
        } else {
            format!("candidate:{line}")
        };
        let mut v = json!({"candidate": candidate, "sdpMid": "0", "sdpMLineIndex": 0});
        if let Some(u) = ufrag {
            v["usernameFragment"] = Value::String(u.to_string());
        }
        v.to_string()
    }
}

/// `sdp` with `a=max-message-size:{size}` in its data section, after `a=sctp-port` (or at
/// the section's end). Without the attribute Chrome caps what it sends at 64 KiB, and some
/// stacks leave it out of the SDP they write. An SDP that has it already is returned as is.
pub fn with_max_message_size(sdp: &str, size: usize) -> String {
    if sdp.contains("a=max-message-size:") {
        return sdp.to_string();
    }
    let attr = format!("a=max-message-size:{size}\r\n");
    let mut out = String::with_capacity(sdp.len() + attr.len());
    let mut in_data = false;
    let mut done = false;
    for line in sdp.split_inclusive('\n') {
        if line.starts_with("m=") {
            if in_data && !done {
                out.push_str(&attr);
                done = true;
            }
            in_data = line.contains("webrtc-datachannel");
        }
        out.push_str(line);
        if in_data && !done && line.starts_with("a=sctp-port:") {
            out.push_str(&attr);
            done = true;
        }
    }
    if in_data && !done {
        if !out.ends_with('\n') {
            out.push_str("\r\n");
        }
        out.push_str(&attr);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smaller_node_offers_and_the_session_id_names_the_pair_in_order() {
        let py = "0a1b2c3d4e5f60718293a4b5";
        let web = "f0e1d2c3b4a5968778695a4b3c2d1e0f";
        assert!(we_offer(py, web));
        assert!(!we_offer(web, py));
        assert!(!we_offer(py, py));
        assert_eq!(session_id(py, web), format!("{py}:{web}"));
        assert_eq!(session_id(web, py), format!("{py}:{web}"));
        // A prefix sorts first, as in JavaScript.
        assert!(we_offer("abc", "abcd"));
    }

    #[test]
    fn max_message_size_is_added_to_the_data_section_once() {
        let sdp = "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\na=sctp-port:5000\r\na=setup:actpass\r\n";
        let out = with_max_message_size(sdp, 262_144);
        assert!(out.contains("a=sctp-port:5000\r\na=max-message-size:262144\r\na=setup"));
        assert_eq!(with_max_message_size(&out, 1), out);
        let no_port = "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n";
        assert!(with_max_message_size(no_port, 5).ends_with("a=mid:0\r\na=max-message-size:5\r\n"));
        let audio_only = "v=0\r\nm=audio 9 RTP/AVP 0\r\n";
        assert_eq!(with_max_message_size(audio_only, 5), audio_only);
    }

    #[test]
    fn descriptions_round_trip_with_chromes_key_order() {
        let p = description_payload(SignalKind::Offer, "v=0\r\nx");
        assert_eq!(p, r#"{"sdp":"v=0\r\nx","type":"offer"}"#);
        assert_eq!(
            parse_description(SignalKind::Offer, &p).unwrap(),
            "v=0\r\nx"
        );
        assert!(parse_description(SignalKind::Answer, &p).is_err());
        assert!(parse_description(SignalKind::Offer, "{}").is_err());
        let huge = description_payload(SignalKind::Offer, &"a".repeat(MAX_SIGNAL_PAYLOAD_CHARS));
        assert_eq!(
            parse_description(SignalKind::Offer, &huge),
            Err(PayloadError::TooLong)
        );
    }

    #[test]
    fn a_real_chrome_candidate_reads_and_ours_are_shaped_like_it() {
        let chrome = r#"{"candidate":"candidate:1516776641 1 udp 2113937151 192.0.2.2 35367 typ host generation 0 ufrag KiPB network-cost 999","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"KiPB"}"#;
        let c = CandidatePayload::parse(chrome).unwrap();
        assert_eq!(c.username_fragment.as_deref(), Some("KiPB"));
        assert!(c.line().starts_with("1516776641 1 udp"));
        let ours = CandidatePayload::encode("1 1 udp 2130706431 127.0.0.1 5000 typ host", None);
        let back = CandidatePayload::parse(&ours).unwrap();
        assert_eq!(back.line(), "1 1 udp 2130706431 127.0.0.1 5000 typ host");
        assert_eq!(back.sdp_mid.as_deref(), Some("0"));
        assert!(CandidatePayload::parse("[]").is_err());
        assert!(!is_datachannel_kind(
            SignalKind::parse("media-offer").unwrap()
        ));
    }
}
