//! Registration rules (PROTOCOL.md §8 `POST /v1/register`): endpoint validation, capability
//! normalisation and the observed host, as the reference PHP relay applies them.

use std::net::IpAddr;

use axum::http::HeaderMap;
use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::input::header_str;
use crate::limits::{MAX_ENDPOINTS, MAX_FORWARDED_LEN, MAX_HOST_LEN};

const TRANSPORTS: [&str; 2] = ["tcp", "ws"];
const FAMILIES: [&str; 2] = ["ipv4", "ipv6"];
const NATS: [&str; 4] = ["unknown", "open", "restricted", "symmetric"];

/// Validates `endpoints` (absent or `null` means none) and returns them as given.
pub fn validate_endpoints(data: &Map<String, Value>) -> Result<Value, ApiError> {
    let endpoints = match data.get("endpoints") {
        None | Some(Value::Null) => return Ok(Value::Array(Vec::new())),
        Some(Value::Array(items)) => items,
        Some(Value::Object(map)) if map.is_empty() => return Ok(Value::Array(Vec::new())),
        Some(_) => return Err(ApiError::bad("'endpoints' must be an array")),
    };
    if endpoints.len() > MAX_ENDPOINTS {
        return Err(ApiError::bad(format!(
            "Too many endpoints (max {MAX_ENDPOINTS})"
        )));
    }
    for (i, endpoint) in endpoints.iter().enumerate() {
        validate_endpoint(i, endpoint)?;
    }
    Ok(Value::Array(endpoints.clone()))
}

/// A field that must be one of `allowed` when present; absent or `null` means `default`.
fn one_of(ep: &Map<String, Value>, key: &str, allowed: &[&str], default: Option<&str>) -> bool {
    match ep.get(key) {
        None | Some(Value::Null) => default.is_some_and(|d| allowed.contains(&d)),
        Some(Value::String(s)) => allowed.contains(&s.as_str()),
        Some(_) => false,
    }
}

fn validate_endpoint(i: usize, endpoint: &Value) -> Result<(), ApiError> {
    let Some(ep) = endpoint.as_object() else {
        return Err(ApiError::bad(format!("endpoints[{i}] must be an object")));
    };
    if !one_of(ep, "transport", &TRANSPORTS, None) {
        return Err(ApiError::bad(format!(
            "endpoints[{i}].transport must be one of: {}",
            TRANSPORTS.join(", ")
        )));
    }
    match ep.get("host") {
        Some(Value::String(h)) if !h.is_empty() && h.len() <= MAX_HOST_LEN => {}
        _ => return Err(ApiError::bad(format!("endpoints[{i}].host is invalid"))),
    }
    match ep.get("port").and_then(Value::as_i64) {
        Some(port) if (1..=65535).contains(&port) => {}
        _ => {
            return Err(ApiError::bad(format!(
                "endpoints[{i}].port must be 1–65535"
            )))
        }
    }
    if !one_of(ep, "family", &FAMILIES, Some("ipv4")) {
        return Err(ApiError::bad(format!(
            "endpoints[{i}].family must be ipv4 or ipv6"
        )));
    }
    if !one_of(ep, "nat", &NATS, Some("unknown")) {
        return Err(ApiError::bad(format!(
            "endpoints[{i}].nat must be one of: {}",
            NATS.join(", ")
        )));
    }
    Ok(())
}

/// PHP truthiness of a JSON value (`(bool)` cast).
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !(s.is_empty() || s == "0"),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Reduces `capabilities` to `{"relay": bool, "transport": [...]}` (transports `tcp`/`ws`
/// only); absent or `null` means `{"relay":false,"transport":["tcp"]}`.
pub fn normalize_capabilities(data: &Map<String, Value>) -> Result<Value, ApiError> {
    let caps = match data.get("capabilities") {
        None | Some(Value::Null) => return Ok(json!({"relay": false, "transport": ["tcp"]})),
        Some(Value::Object(map)) => map.clone(),
        Some(Value::Array(_)) => Map::new(),
        Some(_) => return Err(ApiError::bad("'capabilities' must be an object")),
    };
    let relay = caps.get("relay").is_some_and(truthy);
    let keep = |v: &Value| v.as_str().is_some_and(|s| TRANSPORTS.contains(&s));
    let transport: Vec<Value> = match caps.get("transport") {
        Some(Value::Array(items)) => items.iter().filter(|v| keep(v)).cloned().collect(),
        Some(Value::Object(map)) => map.values().filter(|v| keep(v)).cloned().collect(),
        _ => vec![Value::from("tcp")],
    };
    Ok(json!({"relay": relay, "transport": transport}))
}

/// True for a 64-character hex string.
pub fn is_hex_key(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `observed_host`: the first `X-Forwarded-For` entry, else `X-Real-IP`, else the peer
/// address, as `{"host","family"}`; `null` when that is empty or longer than a host may be.
/// Headers longer than [`MAX_FORWARDED_LEN`] are ignored.
pub fn observed_host(headers: &HeaderMap, remote_ip: Option<IpAddr>) -> Value {
    let remote = remote_ip.map(|ip| ip.to_string());
    let bounded = |name| header_str(headers, name).filter(|v| v.len() <= MAX_FORWARDED_LEN);
    let raw = bounded("x-forwarded-for")
        .or_else(|| bounded("x-real-ip"))
        .map(str::to_owned)
        .or(remote)
        .unwrap_or_default();
    let host = raw.split(',').next().unwrap_or("").trim();
    if host.is_empty() || host.len() > MAX_HOST_LEN {
        return Value::Null;
    }
    let family = if host.contains(':') { "ipv6" } else { "ipv4" };
    json!({"host": host, "family": family})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(text: &str) -> Map<String, Value> {
        serde_json::from_str(text).expect("json")
    }

    #[test]
    fn endpoints_rules() {
        let ok = obj(r#"{"endpoints":[{"transport":"tcp","host":"1.2.3.4","port":9999}]}"#);
        assert!(validate_endpoints(&ok).is_ok());
        for (body, detail) in [
            (r#"{"endpoints":"x"}"#, "'endpoints' must be an array"),
            (r#"{"endpoints":[1]}"#, "endpoints[0] must be an object"),
            (
                r#"{"endpoints":[{"transport":"udp","host":"h","port":1}]}"#,
                "endpoints[0].transport must be one of: tcp, ws",
            ),
            (
                r#"{"endpoints":[{"transport":"ws","host":"","port":1}]}"#,
                "endpoints[0].host is invalid",
            ),
            (
                r#"{"endpoints":[{"transport":"ws","host":"h","port":0}]}"#,
                "endpoints[0].port must be 1–65535",
            ),
            (
                r#"{"endpoints":[{"transport":"ws","host":"h","port":1.5}]}"#,
                "endpoints[0].port must be 1–65535",
            ),
            (
                r#"{"endpoints":[{"transport":"ws","host":"h","port":1,"family":"x"}]}"#,
                "endpoints[0].family must be ipv4 or ipv6",
            ),
            (
                r#"{"endpoints":[{"transport":"ws","host":"h","port":1,"nat":"x"}]}"#,
                "endpoints[0].nat must be one of: unknown, open, restricted, symmetric",
            ),
        ] {
            let err = validate_endpoints(&obj(body)).expect_err(body);
            assert_eq!(err.to_string(), detail);
        }
    }

    #[test]
    fn capabilities_are_reduced() {
        let caps = normalize_capabilities(&obj(
            r#"{"capabilities":{"relay":1,"transport":["tcp","udp","ws"],"can_anchor":true}}"#,
        ))
        .expect("caps");
        assert_eq!(caps, json!({"relay": true, "transport": ["tcp", "ws"]}));
        let default = normalize_capabilities(&obj("{}")).expect("caps");
        assert_eq!(default, json!({"relay": false, "transport": ["tcp"]}));
        assert!(normalize_capabilities(&obj(r#"{"capabilities":"x"}"#)).is_err());
    }

    #[test]
    fn observed_host_prefers_forwarded_for() {
        let mut headers = HeaderMap::new();
        let ip: IpAddr = "::1".parse().expect("ip");
        assert_eq!(
            observed_host(&headers, Some(ip)),
            json!({"host": "::1", "family": "ipv6"})
        );
        headers.insert("x-forwarded-for", "10.0.0.1, 10.0.0.2".parse().expect("hv"));
        assert_eq!(
            observed_host(&headers, Some(ip)),
            json!({"host": "10.0.0.1", "family": "ipv4"})
        );
        assert_eq!(observed_host(&HeaderMap::new(), None), Value::Null);
    }
}
