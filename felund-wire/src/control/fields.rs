//! Typed reads of control-event fields. Absent and `null` both read as "not given".

use serde_json::{Map, Value};

/// A field was present with a type the event does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct WrongType;

/// An optional string field.
pub(super) fn opt_str(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, WrongType> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(WrongType),
    }
}

/// An optional string field, empty when not given.
pub(super) fn str_or_empty(obj: &Map<String, Value>, key: &str) -> Result<String, WrongType> {
    opt_str(obj, key).map(Option::unwrap_or_default)
}

/// An optional integer field, 0 when not given (the reference's `int(x or 0)`); floats and
/// strings are refused rather than coerced.
pub(super) fn int_or_zero(obj: &Map<String, Value>, key: &str) -> Result<i64, WrongType> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(0),
        Some(v) => v.as_i64().ok_or(WrongType),
    }
}

/// Python truthiness, which is what the reference's `bool(x)` applies to capability flags.
pub(super) fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}
