//! `limits::MAX_RELAY_OBJECT_BYTES` is computed from the real construction: the largest relay
//! envelope this crate (and so a reference client, which builds the same bytes) can seal fits,
//! and the bound is not loose.

use felund_wire::json::to_ascii_json_string;
use felund_wire::limits::{
    MAX_DISPLAY_NAME_BYTES, MAX_ID_BYTES, MAX_MSG_ID_BYTES, MAX_RELAY_OBJECT_BYTES, MAX_TEXT_BYTES,
};
use felund_wire::{CircleSecret, WireMessage};

fn sealed_len(id_char: char, name: &str, text: &str, created_ts: i64) -> usize {
    let secret = CircleSecret::from_bytes(vec![9; 32]);
    let id = |n: usize| id_char.to_string().repeat(n);
    let msg = WireMessage::new_authored(
        &secret,
        id(MAX_MSG_ID_BYTES),
        id(MAX_ID_BYTES),
        id(MAX_ID_BYTES),
        id(MAX_ID_BYTES),
        name.to_owned(),
        created_ts,
        text.to_owned(),
        [3; 12],
    );
    let envelope = msg.seal_relay_envelope(&secret, [4; 12]);
    to_ascii_json_string(&envelope.to_value())
        .expect("json")
        .len()
}

#[test]
fn the_worst_case_envelope_fits_and_the_bound_is_tight() {
    // Control characters are escaped six-fold, the most any byte grows.
    let worst = sealed_len(
        '\u{1}',
        &"\u{1}".repeat(MAX_DISPLAY_NAME_BYTES),
        &"\u{1}".repeat(MAX_TEXT_BYTES),
        i64::MAX,
    );
    assert!(
        worst <= MAX_RELAY_OBJECT_BYTES,
        "{worst} > {MAX_RELAY_OBJECT_BYTES}"
    );
    assert!(
        worst + 8 >= MAX_RELAY_OBJECT_BYTES,
        "bound {MAX_RELAY_OBJECT_BYTES} is loose: {worst}"
    );
}

#[test]
fn an_ordinary_4096_byte_text_makes_about_17_kb() {
    let len = sealed_len('a', "alice", &"é".repeat(MAX_TEXT_BYTES / 2), 1_795_477_031);
    assert!((16_000..18_500).contains(&len), "{len}");
    assert!(len < MAX_RELAY_OBJECT_BYTES);
}

#[test]
fn the_documented_figure_is_the_constant() {
    // README's felund-relay limits table quotes this number.
    assert_eq!(MAX_RELAY_OBJECT_BYTES, 44_279);
}
