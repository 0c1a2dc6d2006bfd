//! `GET /v1/health` (liveness) and `GET /v1/ready` (readiness).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use felund_wire::relay_api::{ErrorAnswer, HealthAnswer, ReadyAnswer};

use crate::error::json_response;
use crate::limits::API_VERSION;
use crate::readiness::{probe, Readiness};
use crate::state::AppState;

/// `{"ok":true,"version":"0.1.0","time":now}`.
pub(super) async fn health(State(state): State<AppState>) -> Response {
    json_response(
        StatusCode::OK,
        &HealthAnswer {
            ok: true,
            version: API_VERSION.into(),
            time: state.now(),
        },
    )
}

/// `{"ok":true,"ready":true,"time":now}` while the database answers (and, on PostgreSQL, the
/// push feed listens); otherwise 503 `{"ok":false,"detail":"database unavailable"}` (or
/// `"push feed unavailable"`). See [`crate::readiness`].
pub(super) async fn ready(State(state): State<AppState>) -> Response {
    let (store, hub) = (state.store.as_ref(), state.hub.as_ref());
    match state.ready.check(|| probe(store, hub)).await {
        Readiness::Ready => json_response(
            StatusCode::OK,
            &ReadyAnswer {
                ok: true,
                ready: true,
                time: state.now(),
            },
        ),
        Readiness::NotReady(why) => json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &ErrorAnswer {
                ok: false,
                code: None,
                detail: Some(why.into()),
            },
        ),
    }
}
