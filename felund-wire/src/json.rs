//! Compact, ASCII-only JSON text, byte-compatible with what the reference writes.
//!
//! The reference serialises with Python's `json.dumps(v, separators=(",", ":"))`, which escapes
//! every character outside printable ASCII (`0x20..=0x7e`) as a lowercase `\uXXXX` escape and
//! characters beyond the Basic Multilingual Plane as a UTF-16 surrogate pair. Receivers must
//! parse JSON rather than compare text, but a few things are only reproducible byte for byte
//! (the plaintext inside a v2 envelope, invite codes, control-event texts), so we write the same
//! bytes.

use std::io;

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter};
use serde_json::Value;

/// A `serde_json` formatter that is compact and escapes like Python's `ensure_ascii`.
///
/// `serde_json` already writes the short escapes (`\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`) and
/// `\u00XX` for the other control characters exactly like Python, so only the fragments it
/// leaves untouched need work: DEL and everything non-ASCII.
#[derive(Debug, Default, Clone, Copy)]
pub struct AsciiFormatter;

impl Formatter for AsciiFormatter {
    fn write_string_fragment<W>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        let mut start = 0;
        for (idx, ch) in fragment.char_indices() {
            if (' '..='~').contains(&ch) {
                continue;
            }
            // `start` and `idx` both come from `char_indices`, so they are in-bounds boundaries.
            writer.write_all(&fragment.as_bytes()[start..idx])?;
            let mut units = [0u16; 2];
            for unit in ch.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            start = idx + ch.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    // Everything else behaves like the compact formatter: no spaces after `,` or `:`.
    fn begin_array_value<W>(&mut self, writer: &mut W, first: bool) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        CompactFormatter.begin_array_value(writer, first)
    }

    fn begin_object_key<W>(&mut self, writer: &mut W, first: bool) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        CompactFormatter.begin_object_key(writer, first)
    }

    fn begin_object_value<W>(&mut self, writer: &mut W) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        CompactFormatter.begin_object_value(writer)
    }
}

/// Serialises any `Serialize` value as compact ASCII JSON, keeping struct fields in declaration
/// order (which is how the reference's key order is reproduced for its fixed-shape objects).
///
/// Fails only if the value cannot be represented as JSON at all (for example a map with
/// non-string keys), exactly like `serde_json::to_string`.
pub fn to_ascii_json_string<T: Serialize + ?Sized>(t: &T) -> Result<String, serde_json::Error> {
    let mut out = Vec::with_capacity(128);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, AsciiFormatter);
    t.serialize(&mut ser)?;
    // The formatter only ever writes ASCII, and serde_json writes valid UTF-8 otherwise.
    String::from_utf8(out).map_err(|e| {
        serde_json::Error::io(io::Error::new(io::ErrorKind::InvalidData, e.utf8_error()))
    })
}

/// Writes a JSON value as compact ASCII JSON, with object keys in the value's own order
/// (sorted, since this crate uses `serde_json`'s default map).
///
/// This equals Python's `json.dumps(v, separators=(",", ":"))` for the same key order.
pub fn to_ascii_json(v: &Value) -> String {
    // A `Value` always has string keys and the sink is an in-memory buffer, so serialisation
    // cannot fail; the fallback only exists to avoid a panic path.
    to_ascii_json_string(v).unwrap_or_else(|_| String::from("null"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escapes_like_python() {
        let v = json!({"a": "Zoë ✨ 🎉", "b": "\"\\\n\r\t\u{8}\u{c}\u{1}\u{7f}/"});
        assert_eq!(
            to_ascii_json(&v),
            r#"{"a":"Zo\u00eb \u2728 \ud83c\udf89","b":"\"\\\n\r\t\b\f\u0001\u007f/"}"#
        );
    }

    #[test]
    fn keys_escape_too_and_struct_order_is_kept() {
        #[derive(Serialize)]
        struct S {
            z: u8,
            a: &'static str,
        }
        assert_eq!(
            to_ascii_json_string(&S { z: 1, a: "é" }).unwrap(),
            r#"{"z":1,"a":"\u00e9"}"#
        );
        assert_eq!(
            to_ascii_json(&json!({"é": [1, null]})),
            r#"{"\u00e9":[1,null]}"#
        );
    }
}
