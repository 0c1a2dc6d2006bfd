//! The HTTP surface: one router per endpoint group behind an edge layer that answers
//! preflights, routes by the reference's path rule, refuses oversized bodies early and puts
//! CORS headers on every response.

mod health;
mod messages;
mod middleware;
mod presence;
mod signal;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::routing::get;
use axum::Router;
use felund_wire::relay_api::paths;

use crate::error::ApiError;
use crate::state::AppState;

/// The complete application: every endpoint, the 404 fallback and the edge layer.
pub fn app(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    let metrics = Arc::clone(&state.metrics);
    let api = Router::new()
        .route(paths::HEALTH, get(health::health))
        .route(paths::READY, get(health::ready))
        .route(
            paths::REGISTER,
            axum::routing::post(presence::register).delete(presence::unregister),
        )
        .route(paths::PEERS, get(presence::peers))
        .route(paths::MESSAGES, get(messages::pull).post(messages::push))
        .route(paths::SIGNAL, get(signal::poll).post(signal::post))
        .route(paths::WS, get(crate::ws::subscribe))
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state);
    // The edge layer must run before routing (it rewrites the path), so it wraps the API
    // router from outside instead of being one of its layers.
    let edge = middleware::Edge { max_body, metrics };
    Router::new()
        .fallback_service(api)
        .layer(axum::middleware::from_fn_with_state(edge, middleware::edge))
}

/// 404 for every unknown method and path, like the reference (`Not found: GET /x`).
async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::NotFound(format!("Not found: {method} {}", uri.path()))
}
