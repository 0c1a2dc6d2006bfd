//! Reading a relay's lists and scalars without trusting them: [`RawList`] and [`lenient`].

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// A JSON list of at most `MAX` items, each kept as its raw text borrowed from the input. A
/// longer list is an error, not a truncation: a relay that sends more than was asked for is
/// not answering the question. Serialises as the list of those texts, verbatim.
#[derive(Debug, Default, Clone)]
pub struct RawList<'a, const MAX: usize>(pub Vec<&'a RawValue>);

impl<'de: 'a, 'a, const MAX: usize> Deserialize<'de> for RawList<'a, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ListVisitor<'a, const MAX: usize>(PhantomData<&'a ()>);

        impl<'de: 'a, 'a, const MAX: usize> Visitor<'de> for ListVisitor<'a, MAX> {
            type Value = RawList<'a, MAX>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a list of at most {MAX} items")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<&'a RawValue>()? {
                    if items.len() == MAX {
                        return Err(A::Error::custom(format!("more than {MAX} items")));
                    }
                    items.push(item);
                }
                Ok(RawList(items))
            }
        }

        d.deserialize_seq(ListVisitor(PhantomData))
    }
}

impl<const MAX: usize> Serialize for RawList<'_, MAX> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for item in &self.0 {
            seq.serialize_element(item)?;
        }
        seq.end()
    }
}

/// `deserialize_with` helpers for optional scalars read leniently: a value of another type
/// (or out of range) reads as `None` instead of failing the whole answer, as the relays' own
/// clients read it. Nothing is allocated for what is skipped.
pub mod lenient {
    use super::*;

    /// What a lenient visitor yields for a JSON value of any type.
    struct Lenient<T>(PhantomData<T>);

    macro_rules! skip_everything_else {
        () => {
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(None)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(None)
            }
        };
    }

    impl<'de> Visitor<'de> for Lenient<i64> {
        type Value = Option<i64>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any JSON value (an integer is kept)")
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(i64::try_from(v).ok())
        }
        fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        skip_everything_else!();
    }

    impl<'de> Visitor<'de> for Lenient<bool> {
        type Value = Option<bool>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any JSON value (a boolean is kept)")
        }
        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        skip_everything_else!();
    }

    /// An optional integer: anything but a JSON integer within `i64` reads as `None`.
    pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        d.deserialize_any(Lenient::<i64>(PhantomData))
    }

    /// An optional boolean: anything but `true` or `false` reads as `None`.
    pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        d.deserialize_any(Lenient::<bool>(PhantomData))
    }
}
