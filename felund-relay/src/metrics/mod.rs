//! Operator metrics in the Prometheus text format, served on a listen address of their own
//! (`--metrics-listen`, off by default) so they are never exposed on the public API port.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `felund_relay_http_requests_total` | counter | `method`, `route`, `status` |
//! | `felund_relay_http_request_duration_seconds` | histogram | `method`, `route` |
//! | `felund_relay_rate_limited_requests_total` | counter | `route` (answers 429) |
//! | `felund_relay_websocket_subscribers` | gauge | |
//! | `felund_relay_messages_stored_total` | counter | |
//! | `felund_relay_store_errors_total` | counter | `kind`: `unavailable` (503) or `backend` |
//! | `felund_relay_database_pool_connections` | gauge | `state`: `in_use`, `idle`, `max` (PostgreSQL) |
//!
//! Labels only take values from fixed sets ([`route_label`], [`method_label`], the status
//! codes the relay answers), so no request, however crafted, adds a time series: the
//! exposition stays the same size under any traffic.

mod store;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

pub use store::MeteredStore;

use crate::store::RelayStore;
use crate::subscribers::Subscribers;

/// The routes that get a label of their own; every other path counts as `other`.
const ROUTES: [&str; 7] = [
    "/health",
    "/ready",
    "/register",
    "/peers",
    "/messages",
    "/signal",
    "/relay/ws",
];

/// The `route` label of a routed path (the part after `/v1`): one of the relay's routes, or
/// `other`.
pub fn route_label(routed: &str) -> &'static str {
    ROUTES
        .iter()
        .find(|route| **route == routed)
        .copied()
        .unwrap_or("other")
}

/// The `method` label: the methods the relay serves, or `other`.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::HEAD => "HEAD",
        _ => "other",
    }
}

/// The relay's metrics (one registry per relay, so several relays in one process stay apart).
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    rate_limited: IntCounterVec,
    websockets: IntGauge,
    pub(crate) messages_stored: IntCounter,
    pub(crate) store_errors: IntCounterVec,
    pool: IntGaugeVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// Registers `metric` (names are fixed and distinct, so this cannot fail).
fn registered<M: prometheus::core::Collector + Clone + 'static>(
    registry: &Registry,
    metric: M,
) -> M {
    if let Err(err) = registry.register(Box::new(metric.clone())) {
        tracing::error!(error = %err, "metric not registered");
    }
    metric
}

/// A metric's options; the names and help texts are constants, so they are valid.
fn opts(name: &str, help: &str) -> Opts {
    Opts::new(name, help)
}

impl Metrics {
    /// A fresh registry with every metric at zero.
    pub fn new() -> Arc<Self> {
        let registry = Registry::new();
        // Unwraps below would only fail on invalid names, which are literals.
        let requests = registered(
            &registry,
            IntCounterVec::new(
                opts(
                    "felund_relay_http_requests_total",
                    "HTTP requests answered.",
                ),
                &["method", "route", "status"],
            )
            .expect("valid metric"),
        );
        let latency = registered(
            &registry,
            HistogramVec::new(
                HistogramOpts::new(
                    "felund_relay_http_request_duration_seconds",
                    "Time to answer an HTTP request (a WebSocket: until the upgrade).",
                ),
                &["method", "route"],
            )
            .expect("valid metric"),
        );
        let rate_limited = registered(
            &registry,
            IntCounterVec::new(
                opts(
                    "felund_relay_rate_limited_requests_total",
                    "Requests refused with 429 (per-address and per-node limits, subscriber caps).",
                ),
                &["route"],
            )
            .expect("valid metric"),
        );
        let websockets = registered(
            &registry,
            IntGauge::with_opts(opts(
                "felund_relay_websocket_subscribers",
                "WebSocket push subscribers connected to this instance.",
            ))
            .expect("valid metric"),
        );
        let messages_stored = registered(
            &registry,
            IntCounter::with_opts(opts(
                "felund_relay_messages_stored_total",
                "Messages newly stored by this instance (duplicates not counted).",
            ))
            .expect("valid metric"),
        );
        let store_errors = registered(
            &registry,
            IntCounterVec::new(
                opts(
                    "felund_relay_store_errors_total",
                    "Failed storage operations: unavailable (answered 503) or backend.",
                ),
                &["kind"],
            )
            .expect("valid metric"),
        );
        let pool = registered(
            &registry,
            IntGaugeVec::new(
                opts(
                    "felund_relay_database_pool_connections",
                    "PostgreSQL pool connections of this instance: in_use, idle, max.",
                ),
                &["state"],
            )
            .expect("valid metric"),
        );
        // Both kinds from the start, so a dashboard sees 0 rather than no series.
        for kind in ["unavailable", "backend"] {
            store_errors.with_label_values(&[kind]);
        }
        Arc::new(Self {
            registry,
            requests,
            latency,
            rate_limited,
            websockets,
            messages_stored,
            store_errors,
            pool,
        })
    }

    /// Counts one answered request.
    pub fn request(&self, method: &Method, routed: &str, status: StatusCode, took: Duration) {
        let (method, route) = (method_label(method), route_label(routed));
        self.requests
            .with_label_values(&[method, route, status.as_str()])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(took.as_secs_f64());
        if status == StatusCode::TOO_MANY_REQUESTS {
            self.rate_limited.with_label_values(&[route]).inc();
        }
    }

    /// The exposition: every metric, after reading the gauges from `subscribers` and `store`.
    pub fn render(&self, subscribers: &Subscribers, store: &dyn RelayStore) -> String {
        self.websockets
            .set(i64::try_from(subscribers.live()).unwrap_or(i64::MAX));
        if let Some(pool) = store.pool_usage() {
            for (state, n) in [
                ("in_use", pool.in_use),
                ("idle", pool.idle),
                ("max", pool.max),
            ] {
                self.pool.with_label_values(&[state]).set(i64::from(n));
            }
        }
        let mut out = Vec::new();
        if let Err(err) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %err, "encoding metrics failed");
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// What the metrics endpoint reads.
#[derive(Clone)]
pub struct MetricsState {
    /// The metrics.
    pub metrics: Arc<Metrics>,
    /// For the WebSocket gauge.
    pub subscribers: Arc<Subscribers>,
    /// For the pool gauges.
    pub store: Arc<dyn RelayStore>,
}

/// The metrics listener's application: `GET /metrics`, 404 for anything else.
pub fn app(state: MetricsState) -> Router {
    Router::new()
        .route("/metrics", get(exposition))
        .with_state(state)
}

async fn exposition(State(state): State<MetricsState>) -> Response {
    let text = state
        .metrics
        .render(&state.subscribers, state.store.as_ref());
    ([(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)], text).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_from_fixed_sets() {
        assert_eq!(route_label("/messages"), "/messages");
        assert_eq!(route_label("/relay/ws"), "/relay/ws");
        assert_eq!(route_label("/messages/../../etc"), "other");
        assert_eq!(route_label(""), "other");
        assert_eq!(method_label(&Method::PATCH), "other");
        let custom = Method::from_bytes(b"X-ATTACK").expect("method");
        assert_eq!(method_label(&custom), "other");
    }
}
