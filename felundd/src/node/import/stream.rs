//! The second pass over a reference state file: its `messages` object handed over
//! one message at a time, so that the file is never held as one parsed document.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::store::{StoreError, StoreResult};

/// Calls `each(msg_id, message)` for every entry of the top-level `messages` object
/// of `bytes`, in file order. A `messages` that is not an object counts as empty,
/// like any other missing part. Stops at the first error `each` returns.
pub(super) fn messages(
    bytes: &[u8],
    mut each: impl FnMut(String, Value) -> StoreResult<()>,
) -> StoreResult<()> {
    let mut failed = None;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = de.deserialize_map(TopLevel {
        each: &mut each,
        failed: &mut failed,
    });
    if let Some(e) = failed {
        return Err(e);
    }
    // The first pass parsed the whole file already, so this cannot fail on syntax.
    parsed.map_err(|e| StoreError::Corrupt(format!("reading the state file's messages: {e}")))
}

/// The callback and the error it stopped with (kept whole rather than as text).
struct TopLevel<'a, F> {
    each: &'a mut F,
    failed: &'a mut Option<StoreError>,
}

impl<'de, F: FnMut(String, Value) -> StoreResult<()>> Visitor<'de> for TopLevel<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a reference state object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "messages" {
                map.next_value_seed(Messages {
                    each: &mut *self.each,
                    failed: &mut *self.failed,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// The `messages` value.
struct Messages<'a, F> {
    each: &'a mut F,
    failed: &'a mut Option<StoreError>,
}

impl<'de, F: FnMut(String, Value) -> StoreResult<()>> DeserializeSeed<'de> for Messages<'_, F> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de, F: FnMut(String, Value) -> StoreResult<()>> Visitor<'de> for Messages<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of messages")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some((id, msg)) = map.next_entry::<String, Value>()? {
            if let Err(e) = (self.each)(id, msg) {
                *self.failed = Some(e);
                return Err(de::Error::custom("stopped"));
            }
        }
        Ok(())
    }

    // Anything else is no messages.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(json: &str) -> Vec<String> {
        let mut ids = Vec::new();
        messages(json.as_bytes(), |id, _| {
            ids.push(id);
            Ok(())
        })
        .expect("streamed");
        ids
    }

    #[test]
    fn messages_come_one_at_a_time_in_file_order_whatever_surrounds_them() {
        let json = r#"{"circles": {"c": {"x": [1, {"messages": {"no": 1}}]}},
                       "messages": {"b": {"text": "x"}, "a": {"text": "y"}},
                       "node": {"node_id": "n"}}"#;
        assert_eq!(collect(json), ["b", "a"]);
    }

    #[test]
    fn a_messages_value_that_is_not_an_object_is_no_messages() {
        for v in ["[]", "[1, {\"a\": 2}]", "null", "3", "\"m\"", "true"] {
            assert!(
                collect(&format!(r#"{{"messages": {v}}}"#)).is_empty(),
                "{v}"
            );
        }
    }

    #[test]
    fn an_error_from_the_callback_stops_the_stream_and_is_returned_whole() {
        let mut seen = 0;
        let err = messages(br#"{"messages": {"a": 1, "b": 2, "c": 3}}"#, |_, _| {
            seen += 1;
            if seen == 2 {
                return Err(StoreError::Closed);
            }
            Ok(())
        })
        .unwrap_err();
        assert!(matches!(err, StoreError::Closed), "{err}");
        assert_eq!(seen, 2);
    }
}
