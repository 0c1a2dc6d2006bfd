//! Reading a `/v1/signal` poll answer that may be cut short: the signals are taken one by one
//! as they are parsed, so an answer cut at [`DC_MAX_SIGNAL_ANSWER_BYTES`] (or a list longer
//! than a page) still yields every complete signal before the cut.
//!
//! Why not refuse such an answer whole: the poll cursor only moves past signals that were
//! read, so a refused answer comes back on every poll. Signals are unsigned and anyone may
//! post them to our node id; a few dozen whose JSON escaping inflates them (control
//! characters are written as six bytes each), or a relay that caps its pages by count only,
//! would otherwise stop this node's signalling at that relay for good.
//!
//! The shape read is the contract's [`SignalPollAnswer`]: `ok`, `signals`, `server_time`
//! (read leniently), other keys ignored.
//!
//! [`DC_MAX_SIGNAL_ANSWER_BYTES`]: crate::limits::DC_MAX_SIGNAL_ANSWER_BYTES
//! [`SignalPollAnswer`]: felund_wire::relay_api::SignalPollAnswer

use std::fmt;

use felund_wire::relay_api::lenient;
use felund_wire::relay_api::limits::SIGNAL_POLL_LIMIT;
use serde::de::Visitor;
use serde::de::{DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess};
use serde::Deserialize;
use serde_json::value::RawValue;

/// Most signals taken from one answer (the relays' page).
const PAGE: usize = SIGNAL_POLL_LIMIT as usize;

/// What was read of a poll answer before it ended, was cut, or went wrong.
#[derive(Debug, Default)]
pub(super) struct PageRead<'a> {
    /// Its `ok`.
    pub ok: Option<bool>,
    /// Its `server_time` (a cut answer usually ends before it).
    pub server_time: Option<i64>,
    /// The complete signals, raw, in answer order (at most a page).
    pub signals: Vec<&'a RawValue>,
    /// The list held more than a page; only the page was taken.
    pub overfull: bool,
}

/// Reads `body`; what was read, and whether the whole of it was a well-formed answer.
pub(super) fn read(body: &[u8]) -> (PageRead<'_>, Result<(), serde_json::Error>) {
    let mut page = PageRead::default();
    let mut de = serde_json::Deserializer::from_slice(body);
    let whole = Answer(&mut page)
        .deserialize(&mut de)
        .and_then(|()| de.end());
    (page, whole)
}

/// `bool` or `i64` read leniently (a value of another type reads as absent).
struct Flag(Option<bool>);
struct Int(Option<i64>);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::flag(d).map(Flag)
    }
}

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::int(d).map(Int)
    }
}

/// The answer object, written into the [`PageRead`] as it is parsed.
struct Answer<'p, 'a>(&'p mut PageRead<'a>);

impl<'de: 'a, 'a> DeserializeSeed<'de> for Answer<'_, 'a> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for Answer<'_, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a signal poll answer")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "ok" => self.0.ok = map.next_value::<Flag>()?.0,
                "server_time" => self.0.server_time = map.next_value::<Int>()?.0,
                "signals" => map.next_value_seed(Signals(&mut *self.0))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// The `signals` list: each complete item is kept the moment it is parsed.
struct Signals<'p, 'a>(&'p mut PageRead<'a>);

impl<'de: 'a, 'a> DeserializeSeed<'de> for Signals<'_, 'a> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for Signals<'_, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of signals")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while self.0.signals.len() < PAGE {
            match seq.next_element::<&'a RawValue>()? {
                Some(item) => self.0.signals.push(item),
                None => return Ok(()),
            }
        }
        if seq.next_element::<IgnoredAny>()?.is_some() {
            self.0.overfull = true;
            return Err(A::Error::custom(format!("more than {PAGE} signals")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_answer_reads_whole() {
        let (page, whole) = read(br#"{"ok":true,"signals":[{"id":1},{"id":2}],"server_time":7}"#);
        assert!(whole.is_ok());
        assert_eq!(page.ok, Some(true));
        assert_eq!(page.server_time, Some(7));
        assert_eq!(page.signals.len(), 2);
        assert!(!page.overfull);
    }

    #[test]
    fn a_cut_answer_keeps_the_complete_signals_before_the_cut() {
        let body =
            br#"{"ok":true,"signals":[{"id":1,"payload":"a"},{"id":2,"payload":"b"},{"id":3,"pay"#;
        let (page, whole) = read(body);
        assert!(whole.is_err());
        assert_eq!(page.ok, Some(true));
        let texts: Vec<&str> = page.signals.iter().map(|r| r.get()).collect();
        assert_eq!(
            texts,
            [r#"{"id":1,"payload":"a"}"#, r#"{"id":2,"payload":"b"}"#]
        );
        assert_eq!(page.server_time, None);
    }

    #[test]
    fn a_list_longer_than_a_page_yields_the_page_and_says_so() {
        let items: Vec<String> = (1..=PAGE + 5).map(|i| format!(r#"{{"id":{i}}}"#)).collect();
        let body = format!(r#"{{"ok":true,"signals":[{}]}}"#, items.join(","));
        let (page, whole) = read(body.as_bytes());
        assert!(whole.is_err());
        assert!(page.overfull);
        assert_eq!(page.signals.len(), PAGE);
    }

    #[test]
    fn scalars_of_the_wrong_type_read_as_absent_and_junk_is_an_error() {
        let (page, whole) = read(br#"{"ok":"yes","server_time":"now","signals":[]}"#);
        assert!(whole.is_ok());
        assert_eq!((page.ok, page.server_time), (None, None));
        assert!(read(b"<html>").1.is_err());
        assert!(read(br#"{"ok":true,"signals":{}}"#).1.is_err());
    }
}
