//! The edge layer: preflight, path normalisation, early body-size refusal, CORS, access log
//! and request metrics.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::header::CONTENT_LENGTH;
use axum::http::uri::PathAndQuery;
use axum::http::{Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{set_cors_headers, ApiError};
use crate::input::{header_str, route_path};
use crate::metrics::Metrics;

/// What the edge layer needs.
#[derive(Clone)]
pub(super) struct Edge {
    /// The body limit, bytes.
    pub max_body: usize,
    /// Where each request is counted.
    pub metrics: Arc<Metrics>,
}

/// Runs around every request.
pub(super) async fn edge(State(edge): State<Edge>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let routed = route_path(req.uri().path());
    if method == Method::OPTIONS {
        let mut response = StatusCode::NO_CONTENT.into_response();
        set_cors_headers(response.headers_mut());
        edge.metrics
            .request(&method, &routed, response.status(), started.elapsed());
        return response;
    }
    rewrite_path(req.uri_mut(), &routed);

    let declared = header_str(req.headers(), CONTENT_LENGTH.as_str())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let mut response = match declared {
        Some(len) if len > edge.max_body as u64 => ApiError::PayloadTooLarge.into_response(),
        _ => next.run(req).await,
    };
    set_cors_headers(response.headers_mut());
    edge.metrics
        .request(&method, &routed, response.status(), started.elapsed());
    tracing::debug!(
        %method,
        path = %routed,
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}

/// Replaces the path of `uri` with `path`, keeping the query.
fn rewrite_path(uri: &mut Uri, path: &str) {
    let path_and_query = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    };
    let Ok(pq) = PathAndQuery::try_from(path_and_query) else {
        return;
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(pq);
    if let Ok(new_uri) = Uri::from_parts(parts) {
        *uri = new_uri;
    }
}
