//! felundd skips relay objects larger than `MAX_RELAY_OBJECT_BYTES` *as the relay sends
//! them*, so the bound must hold for real envelopes after the reference relays re-encode what
//! they store: the largest a client makes (the longest text escaped worst, a 40-character name
//! of emoji) still fits after PHP's `\/` escapes and Python's spaces, and so does the
//! MAC-only shape reference nodes write for chat. (`relay_object_bound.rs` checks the bound
//! itself against the compact worst case.)

use felund_wire::ids::MAX_DISPLAY_NAME_CHARS;
use felund_wire::limits::{MAX_ID_BYTES, MAX_MSG_ID_BYTES, MAX_RELAY_OBJECT_BYTES, MAX_TEXT_BYTES};
use felund_wire::{CircleSecret, WireMessage};

/// A message with every id at its cap.
fn message(text: &str, name: &str) -> (CircleSecret, WireMessage) {
    let secret = CircleSecret::from_bytes(vec![7; 32]);
    let msg = WireMessage::new_authored(
        &secret,
        "m".repeat(MAX_MSG_ID_BYTES),
        secret.circle_id(),
        "c".repeat(MAX_ID_BYTES),
        "a".repeat(MAX_ID_BYTES),
        name.to_string(),
        i64::MAX,
        text.to_string(),
        [9; 12],
    );
    (secret, msg)
}

/// How the reference relays may re-encode a stored object: PHP escapes `/`, Python's
/// `json.dumps` puts a space after `,` and `:` (harmless inside base64, which has neither).
fn as_relays_send_it(json: &str) -> [String; 3] {
    [
        json.to_string(),
        json.replace('/', "\\/"),
        json.replace(',', ", ").replace(':', ": "),
    ]
}

#[test]
fn the_largest_real_envelopes_fit_as_the_reference_relays_send_them() {
    let name = "🎉".repeat(MAX_DISPLAY_NAME_CHARS);
    let worst_texts = [
        "\u{1}".repeat(MAX_TEXT_BYTES),  // 1 byte → `\u0001`
        "🎉".repeat(MAX_TEXT_BYTES / 4), // 4 bytes → surrogate pair
        "é".repeat(MAX_TEXT_BYTES / 2),  // 2 bytes → `\u00e9`
        "\"".repeat(MAX_TEXT_BYTES),     // 1 byte → `\"`
    ];
    for text in &worst_texts {
        assert_eq!(text.len(), MAX_TEXT_BYTES);
        let (secret, msg) = message(text, &name);
        let json = msg
            .seal_relay_envelope(&secret, [3; 12])
            .to_value()
            .to_string();
        for sent in as_relays_send_it(&json) {
            assert!(
                sent.len() <= MAX_RELAY_OBJECT_BYTES,
                "a {}-byte envelope exceeds MAX_RELAY_OBJECT_BYTES ({MAX_RELAY_OBJECT_BYTES})",
                sent.len()
            );
        }
    }
}

#[test]
fn a_mac_only_object_with_the_largest_text_fits_too() {
    let (_, mut msg) = message(
        &"\u{1}".repeat(MAX_TEXT_BYTES),
        &"🎉".repeat(MAX_DISPLAY_NAME_CHARS),
    );
    msg.enc = None;
    msg.schema_version = 1;
    let json = felund_wire::json::to_ascii_json_string(&msg).expect("serialises");
    for sent in as_relays_send_it(&json) {
        assert!(sent.len() <= MAX_RELAY_OBJECT_BYTES, "{}", sent.len());
    }
}
