//! Errors: [`ApiError`] renders the reference relays' JSON error bodies (with CORS headers);
//! [`RelayError`] is for starting and stopping the server.

use axum::http::header::{HeaderName, HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use felund_wire::relay_api::ErrorAnswer;
use serde::Serialize;

use crate::store::StoreError;

/// `Access-Control-Allow-Headers` of every response.
pub const CORS_ALLOW_HEADERS: &str =
    "Content-Type, X-Felund-Node, X-Felund-Ts, X-Felund-Nonce, X-Felund-Signature";
/// `Access-Control-Allow-Methods` of every response.
pub const CORS_ALLOW_METHODS: &str = "GET, POST, DELETE, OPTIONS";

/// Sets the three CORS headers the reference relays put on every response.
pub fn set_cors_headers(headers: &mut HeaderMap) {
    headers.insert(
        HeaderName::from_static("access-control-allow-origin"),
        HeaderValue::from_static("*"),
    );
    headers.insert(
        HeaderName::from_static("access-control-allow-methods"),
        HeaderValue::from_static(CORS_ALLOW_METHODS),
    );
    headers.insert(
        HeaderName::from_static("access-control-allow-headers"),
        HeaderValue::from_static(CORS_ALLOW_HEADERS),
    );
}

/// A JSON response with the given status and CORS headers.
pub fn json_response<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut response = (status, bytes).into_response();
            let headers = response.headers_mut();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            set_cors_headers(headers);
            response
        }
        Err(err) => ApiError::Internal(format!("could not encode response: {err}")).into_response(),
    }
}

/// Everything a handler can refuse a request with.
///
/// Signature failures render `{"ok":false,"code":CODE}`; everything else renders
/// `{"ok":false,"detail":MESSAGE}`, as the reference relays do.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401 `INVALID_SIGNATURE`: headers missing, no key stored for the node, or a bad signature.
    #[error("INVALID_SIGNATURE")]
    InvalidSignature,
    /// 400 `EXPIRED_TIMESTAMP`: `X-Felund-Ts` more than 300 s away from server time.
    #[error("EXPIRED_TIMESTAMP")]
    ExpiredTimestamp,
    /// 409 `NONCE_REPLAY`: the nonce was used in the last 300 s.
    #[error("NONCE_REPLAY")]
    NonceReplay,
    /// 400 with a detail message (validation failures, malformed JSON).
    #[error("{0}")]
    BadRequest(String),
    /// 404 with a detail message (unknown method and path).
    #[error("{0}")]
    NotFound(String),
    /// 413: the request body is larger than the configured limit.
    #[error("Request body too large")]
    PayloadTooLarge,
    /// 413 with a detail message: one part of the request is too large.
    #[error("{0}")]
    TooLarge(String),
    /// 409 with a detail message: the request conflicts with what is registered.
    #[error("{0}")]
    Conflict(String),
    /// 408: the request body did not arrive in time.
    #[error("Request body not received in time")]
    RequestTimeout,
    /// 429 with a detail message and a `Retry-After` header.
    #[error("{detail}")]
    RateLimited {
        /// The detail message.
        detail: String,
        /// `Retry-After`, seconds.
        retry_after_s: i64,
    },
    /// 503 `{"ok":false,"detail":"database unavailable"}`: the storage backend is unavailable
    /// (busy, locked, cannot be opened, connection lost); the message is only logged.
    #[error("{0}")]
    Unavailable(String),
    /// 500: an unexpected failure; the detail sent to the client is generic.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// A 400 with `detail`.
    pub fn bad(detail: impl Into<String>) -> Self {
        Self::BadRequest(detail.into())
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidSignature => StatusCode::UNAUTHORIZED,
            Self::ExpiredTimestamp | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NonceReplay => StatusCode::CONFLICT,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::PayloadTooLarge | Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let code = match &self {
            Self::InvalidSignature => Some("INVALID_SIGNATURE"),
            Self::ExpiredTimestamp => Some("EXPIRED_TIMESTAMP"),
            Self::NonceReplay => Some("NONCE_REPLAY"),
            _ => None,
        };
        if let Some(code) = code {
            let body = ErrorAnswer {
                ok: false,
                code: Some(code.into()),
                detail: None,
            };
            return json_response(status, &body);
        }
        let detail = match &self {
            Self::Internal(msg) => {
                tracing::error!(error = %msg, "internal error");
                "Internal server error".to_string()
            }
            Self::Unavailable(msg) => {
                tracing::error!(error = %msg, "storage unavailable");
                "database unavailable".to_string()
            }
            other => other.to_string(),
        };
        let body = ErrorAnswer {
            ok: false,
            code: None,
            detail: Some(detail.into()),
        };
        let mut response = json_response(status, &body);
        if let Self::RateLimited { retry_after_s, .. } = self {
            if let Ok(value) = HeaderValue::from_str(&retry_after_s.to_string()) {
                response.headers_mut().insert(RETRY_AFTER, value);
            }
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(msg) => Self::Unavailable(msg),
            other => Self::Internal(other.to_string()),
        }
    }
}

/// Failures starting or running the server.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// Binding or serving failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// Opening or preparing the store failed.
    #[error("store error: {0}")]
    Store(#[from] StoreError),
    /// A background task panicked or was cancelled.
    #[error("task failed: {0}")]
    Task(String),
}
