//! Request input, read with the reference relays' semantics: [`Ctx`] gathers what a handler
//! needs (method, routed path, headers, query, body, remote address); the helpers validate
//! JSON fields and query values the way the reference PHP relay does.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, Query, Request};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use serde_json::{Map, Value};

use crate::client::client_ip;
use crate::error::ApiError;
use crate::state::AppState;

/// Everything a handler reads from a request. The body is read through the body limit and the
/// body timeout: an oversized one is refused with 413 without being read whole, a slow one
/// with 408.
#[derive(Debug)]
pub struct Ctx {
    /// The method.
    pub method: Method,
    /// The routed path: the part after `/v1`, without trailing `/` (also the signed path).
    pub path: String,
    /// The request headers.
    pub headers: HeaderMap,
    /// Query parameters (the last of repeated keys wins).
    pub query: HashMap<String, String>,
    /// The raw body.
    pub body: Bytes,
    /// The peer's address, when the server was started with connect info.
    pub remote_ip: Option<IpAddr>,
    /// The client address per-address limits count (see [`client_ip`]).
    pub client: Option<IpAddr>,
}

impl FromRequest<AppState> for Ctx {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let headers = req.headers().clone();
        let query = query_map(req.uri());
        let remote_ip = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip().to_canonical());
        let client = client_ip(&headers, remote_ip, state.config.trust_forwarded_for);
        let read =
            tokio::time::timeout(state.config.timeouts.body, Bytes::from_request(req, state));
        let body = match read.await.map_err(|_| ApiError::RequestTimeout)? {
            Ok(body) => body,
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(ApiError::PayloadTooLarge)
            }
            Err(rejection) => {
                return Err(ApiError::bad(format!(
                    "Could not read request body: {}",
                    rejection.body_text()
                )))
            }
        };
        Ok(Self {
            method,
            path,
            headers,
            query,
            body,
            remote_ip,
            client,
        })
    }
}

impl Ctx {
    /// A header's value if present and valid text (it may be empty).
    pub fn header(&self, name: &str) -> Option<&str> {
        header_str(&self.headers, name)
    }

    /// A query parameter.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }
}

/// A header's value if present and valid text (it may be empty).
pub fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Query parameters of `uri` (percent- and `+`-decoded; the last of repeated keys wins).
pub fn query_map(uri: &Uri) -> HashMap<String, String> {
    Query::<HashMap<String, String>>::try_from_uri(uri)
        .map(|q| q.0)
        .unwrap_or_default()
}

/// The reference's routing rule: drop trailing `/`, drop everything up to and including the
/// last `/v1`, drop leading `/`, then prefix one `/`. `/api/v1/health/` → `/health`.
pub fn route_path(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    let after = match trimmed.rfind("/v1") {
        Some(idx) => &trimmed[idx + 3..],
        None => trimmed,
    };
    format!("/{}", after.trim_start_matches('/'))
}

/// PHP's `(int)` cast of a string: optional leading whitespace and sign, then the longest run
/// of digits (saturating); anything else is 0.
pub fn php_int(text: &str) -> i64 {
    let t = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut value: i64 = 0;
    for b in rest.bytes().take_while(u8::is_ascii_digit) {
        let digit = i64::from(b - b'0');
        value = if negative {
            value.saturating_mul(10).saturating_sub(digit)
        } else {
            value.saturating_mul(10).saturating_add(digit)
        };
    }
    value
}

/// The PHP relay's body rule: an empty body is an empty object, a JSON object is itself, a
/// JSON array has none of the expected keys, anything else (including malformed JSON) is
/// refused with "Request body must be a JSON object".
pub fn json_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(Value::Array(_)) => Ok(Map::new()),
        _ => Err(ApiError::bad("Request body must be a JSON object")),
    }
}

/// A required string field of `min..=max` bytes.
pub fn require_str(
    data: &Map<String, Value>,
    key: &str,
    min: usize,
    max: usize,
) -> Result<String, ApiError> {
    match data.get(key) {
        Some(Value::String(s)) if (min..=max).contains(&s.len()) => Ok(s.clone()),
        _ => Err(ApiError::bad(format!(
            "Field '{key}' must be a string ({min}–{max} chars)"
        ))),
    }
}

/// An optional integer field in `min..=max`; absent means `default` (present but `null` is
/// refused, as in the reference).
pub fn optional_int(
    data: &Map<String, Value>,
    key: &str,
    min: i64,
    max: i64,
    default: i64,
) -> Result<i64, ApiError> {
    match data.get(key) {
        None => Ok(default),
        // as_i64 is None for floats (`60.0`), strings and integers beyond i64, as PHP's
        // is_int is false for them.
        Some(v) => v
            .as_i64()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| int_error(key, min, max)),
    }
}

fn int_error(key: &str, min: i64, max: i64) -> ApiError {
    ApiError::bad(format!(
        "Field '{key}' must be an integer between {min} and {max}"
    ))
}

/// A query parameter of `min..=max` bytes, or the PHP relay's error for it.
pub fn require_query_id(ctx: &Ctx, key: &str, min: usize, max: usize) -> Result<String, ApiError> {
    let value = ctx.query(key).unwrap_or("");
    if (min..=max).contains(&value.len()) {
        Ok(value.to_owned())
    } else {
        Err(ApiError::bad(format!(
            "Query param '{key}' is required ({min}–{max} chars)"
        )))
    }
}

/// A `limit`-style query parameter: PHP `(int)` of the value (or `default`), clamped.
pub fn clamped_query_int(ctx: &Ctx, key: &str, default: i64, min: i64, max: i64) -> i64 {
    ctx.query(key).map_or(default, php_int).clamp(min, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_paths_like_the_reference() {
        assert_eq!(route_path("/v1/health"), "/health");
        assert_eq!(route_path("/api/v1/health/"), "/health");
        assert_eq!(route_path("/a/v1/b/v1/messages"), "/messages");
        assert_eq!(route_path("/health"), "/health");
        assert_eq!(route_path("/v1//peers"), "/peers");
        assert_eq!(route_path("/api/v1/"), "/");
        assert_eq!(route_path("/"), "/");
        assert_eq!(route_path("/v1/relay/ws"), "/relay/ws");
    }

    #[test]
    fn php_int_casts() {
        assert_eq!(php_int("42"), 42);
        assert_eq!(php_int("  -7x"), -7);
        assert_eq!(php_int("+3"), 3);
        assert_eq!(php_int("abc"), 0);
        assert_eq!(php_int(""), 0);
        assert_eq!(php_int("99999999999999999999999"), i64::MAX);
        assert_eq!(php_int("-99999999999999999999999"), i64::MIN);
    }

    #[test]
    fn json_objects_like_php() {
        assert!(json_object(b"").expect("empty").is_empty());
        assert!(json_object(b"[1,2]").expect("array").is_empty());
        assert!(json_object(b"{").is_err());
        assert!(json_object(b"\"x\"").is_err());
        assert!(json_object(b"null").is_err());
        assert_eq!(json_object(b"{\"a\":1}").expect("obj").len(), 1);
    }

    #[test]
    fn ints_and_strings() {
        let data: Map<String, Value> =
            serde_json::from_str(r#"{"a":5,"b":5.0,"c":null,"s":"12345678","t":7}"#).expect("json");
        assert_eq!(optional_int(&data, "a", 1, 10, 3).expect("a"), 5);
        assert!(optional_int(&data, "b", 1, 10, 3).is_err());
        assert!(optional_int(&data, "c", 1, 10, 3).is_err());
        assert_eq!(optional_int(&data, "zz", 1, 10, 3).expect("default"), 3);
        assert!(optional_int(&data, "a", 6, 10, 7).is_err());
        assert_eq!(require_str(&data, "s", 8, 128).expect("s"), "12345678");
        assert!(require_str(&data, "s", 9, 128).is_err());
        assert!(require_str(&data, "t", 1, 128).is_err());
    }
}
