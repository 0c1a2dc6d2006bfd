//! Registration rules (docs/protocol.md §9.3 `POST /v1/register`): the request bodies read into the
//! relay contract's types, endpoint validation, capability normalisation and the observed
//! host, as the reference PHP relay applies them.

use std::net::IpAddr;

use axum::http::HeaderMap;
use felund_wire::relay_api::{
    Capabilities, Endpoint, Family, Nat, ObservedHost, RegisterRequest, Transport,
    UnregisterRequest,
};
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::input::{header_str, json_object, optional_int, require_str};
use crate::limits::{
    ID_MAX_LEN, ID_MIN_LEN, MAX_ENDPOINTS, MAX_FORWARDED_LEN, MAX_HOST_LEN, TTL_DEFAULT_S,
    TTL_MAX_S, TTL_MIN_S,
};

/// Reads a `POST /v1/register` body with the PHP relay's rules, in its order (node_id,
/// circle_hint, ttl_s, endpoints, capabilities, signing_key), into the contract's request:
/// endpoints with their defaults filled in and anything else in them dropped, capabilities
/// reduced, the key lowercase.
pub fn parse_register(body: &[u8]) -> Result<RegisterRequest, ApiError> {
    let data = json_object(body)?;
    let node_id = require_str(&data, "node_id", ID_MIN_LEN, ID_MAX_LEN)?;
    let circle_hint = require_str(&data, "circle_hint", ID_MIN_LEN, ID_MAX_LEN)?;
    let ttl_s = optional_int(&data, "ttl_s", TTL_MIN_S, TTL_MAX_S, TTL_DEFAULT_S)?;
    let endpoints = validate_endpoints(&data)?;
    let capabilities = normalize_capabilities(&data)?;
    let signing_key = match data.get("signing_key") {
        None | Some(Value::Null) => None,
        Some(Value::String(key)) if is_hex_key(key) => Some(key.to_ascii_lowercase()),
        Some(_) => {
            return Err(ApiError::bad(
                "Field 'signing_key' must be a 64-char hex string",
            ))
        }
    };
    Ok(RegisterRequest {
        node_id,
        circle_hint,
        endpoints,
        capabilities,
        ttl_s,
        signing_key,
    })
}

/// Reads a `DELETE /v1/register` body with the PHP relay's rules.
pub fn parse_unregister(body: &[u8]) -> Result<UnregisterRequest, ApiError> {
    let data = json_object(body)?;
    Ok(UnregisterRequest {
        node_id: require_str(&data, "node_id", ID_MIN_LEN, ID_MAX_LEN)?,
        circle_hint: require_str(&data, "circle_hint", ID_MIN_LEN, ID_MAX_LEN)?,
    })
}

/// Validates `endpoints` (absent or `null` means none) and returns them as the contract's
/// [`Endpoint`]s.
pub fn validate_endpoints(data: &Map<String, Value>) -> Result<Vec<Endpoint>, ApiError> {
    let endpoints = match data.get("endpoints") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(Value::Object(map)) if map.is_empty() => return Ok(Vec::new()),
        Some(_) => return Err(ApiError::bad("'endpoints' must be an array")),
    };
    if endpoints.len() > MAX_ENDPOINTS {
        return Err(ApiError::bad(format!(
            "Too many endpoints (max {MAX_ENDPOINTS})"
        )));
    }
    endpoints
        .iter()
        .enumerate()
        .map(|(i, endpoint)| validate_endpoint(i, endpoint))
        .collect()
}

/// A field that must be one of `allowed` when present; absent or `null` means `default`.
fn one_of<T: Copy>(
    ep: &Map<String, Value>,
    key: &str,
    allowed: &[T],
    name: fn(T) -> &'static str,
    default: Option<T>,
) -> Option<T> {
    match ep.get(key) {
        None | Some(Value::Null) => default,
        Some(Value::String(s)) => allowed.iter().copied().find(|v| name(*v) == s),
        Some(_) => None,
    }
}

/// The wire names of `values`, as a relay's errors list them.
fn listed<T: Copy>(values: &[T], name: fn(T) -> &'static str) -> String {
    values
        .iter()
        .map(|v| name(*v))
        .collect::<Vec<_>>()
        .join(", ")
}

fn validate_endpoint(i: usize, endpoint: &Value) -> Result<Endpoint, ApiError> {
    let Some(ep) = endpoint.as_object() else {
        return Err(ApiError::bad(format!("endpoints[{i}] must be an object")));
    };
    let Some(transport) = one_of(ep, "transport", &Transport::ALL, Transport::as_str, None) else {
        return Err(ApiError::bad(format!(
            "endpoints[{i}].transport must be one of: {}",
            listed(&Transport::ALL, Transport::as_str)
        )));
    };
    let host = match ep.get("host") {
        Some(Value::String(h)) if !h.is_empty() && h.len() <= MAX_HOST_LEN => h.clone(),
        _ => return Err(ApiError::bad(format!("endpoints[{i}].host is invalid"))),
    };
    let Some(port) = ep
        .get("port")
        .and_then(Value::as_i64)
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p >= 1)
    else {
        return Err(ApiError::bad(format!(
            "endpoints[{i}].port must be 1–65535"
        )));
    };
    let Some(family) = one_of(
        ep,
        "family",
        &Family::ALL,
        Family::as_str,
        Some(Family::Ipv4),
    ) else {
        return Err(ApiError::bad(format!(
            "endpoints[{i}].family must be ipv4 or ipv6"
        )));
    };
    let Some(nat) = one_of(ep, "nat", &Nat::ALL, Nat::as_str, Some(Nat::Unknown)) else {
        return Err(ApiError::bad(format!(
            "endpoints[{i}].nat must be one of: {}",
            listed(&Nat::ALL, Nat::as_str)
        )));
    };
    Ok(Endpoint {
        transport,
        host,
        port,
        family,
        nat,
    })
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
pub fn normalize_capabilities(data: &Map<String, Value>) -> Result<Capabilities, ApiError> {
    let caps = match data.get("capabilities") {
        None | Some(Value::Null) => return Ok(Capabilities::default()),
        Some(Value::Object(map)) => map.clone(),
        Some(Value::Array(_)) => Map::new(),
        Some(_) => return Err(ApiError::bad("'capabilities' must be an object")),
    };
    let relay = caps.get("relay").is_some_and(truthy);
    let keep = |v: &Value| v.as_str().and_then(Transport::parse);
    let transport: Vec<Transport> = match caps.get("transport") {
        Some(Value::Array(items)) => items.iter().filter_map(keep).collect(),
        Some(Value::Object(map)) => map.values().filter_map(keep).collect(),
        _ => vec![Transport::Tcp],
    };
    Ok(Capabilities {
        relay,
        transport,
        can_anchor: None,
    })
}

/// True for a 64-character hex string.
pub fn is_hex_key(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `observed_host`: the first `X-Forwarded-For` entry, else `X-Real-IP`, else the peer
/// address; `None` (`null`) when that is empty or longer than a host may be. Headers longer
/// than [`MAX_FORWARDED_LEN`] are ignored.
pub fn observed_host(headers: &HeaderMap, remote_ip: Option<IpAddr>) -> Option<ObservedHost> {
    let remote = remote_ip.map(|ip| ip.to_string());
    let bounded = |name| header_str(headers, name).filter(|v| v.len() <= MAX_FORWARDED_LEN);
    let raw = bounded("x-forwarded-for")
        .or_else(|| bounded("x-real-ip"))
        .map(str::to_owned)
        .or(remote)
        .unwrap_or_default();
    let host = raw.split(',').next().unwrap_or("").trim();
    if host.is_empty() || host.len() > MAX_HOST_LEN {
        return None;
    }
    Some(ObservedHost {
        host: host.to_owned(),
        family: Family::of_host(host),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(text: &str) -> Map<String, Value> {
        serde_json::from_str(text).expect("json")
    }

    #[test]
    fn endpoints_rules() {
        let ok = obj(r#"{"endpoints":[{"transport":"tcp","host":"1.2.3.4","port":9999,"x":1}]}"#);
        assert_eq!(
            validate_endpoints(&ok).expect("ok"),
            [Endpoint::tcp("1.2.3.4:9999").expect("endpoint")],
            "defaults filled in, unknown keys dropped"
        );
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
        assert_eq!(
            serde_json::to_value(caps).expect("json"),
            json!({"relay": true, "transport": ["tcp", "ws"]})
        );
        let default = normalize_capabilities(&obj("{}")).expect("caps");
        assert_eq!(
            serde_json::to_value(default).expect("json"),
            json!({"relay": false, "transport": ["tcp"]})
        );
        assert!(normalize_capabilities(&obj(r#"{"capabilities":"x"}"#)).is_err());
    }

    #[test]
    fn observed_host_prefers_forwarded_for() {
        let mut headers = HeaderMap::new();
        let ip: IpAddr = "::1".parse().expect("ip");
        let json = |h| serde_json::to_value(h).expect("json");
        assert_eq!(
            json(observed_host(&headers, Some(ip))),
            json!({"host": "::1", "family": "ipv6"})
        );
        headers.insert("x-forwarded-for", "10.0.0.1, 10.0.0.2".parse().expect("hv"));
        assert_eq!(
            json(observed_host(&headers, Some(ip))),
            json!({"host": "10.0.0.1", "family": "ipv4"})
        );
        assert_eq!(observed_host(&HeaderMap::new(), None), None);
    }
}
