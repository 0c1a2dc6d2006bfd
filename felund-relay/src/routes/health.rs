//! `GET /v1/health`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use crate::error::json_response;
use crate::limits::API_VERSION;
use crate::state::AppState;

/// `{"ok":true,"version":"0.1.0","time":now}`.
pub(super) async fn health(State(state): State<AppState>) -> Response {
    json_response(
        StatusCode::OK,
        &json!({"ok": true, "version": API_VERSION, "time": state.now()}),
    )
}
