//! The service's errors and the HTTP status each maps to: 404 not found, 409 a unique name
//! taken, not enough stock or an order already cancelled, 422 a value a column refuses (scale, range, a missing author),
//! 503 no connection came free in time, the database stopped a statement or refused a
//! transaction it could not serialize (the client may retry), 500 anything else
//! (logged, not shown).

use athanor::{IntegrityKind, RetryError};
use athanor::Error;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// A request's failure.
#[derive(Debug)]
pub enum ApiError {
    /// What the database layer reported.
    Db(Error),
    /// No such row.
    NotFound(String),
    /// The request conflicts with the row's state (not enough stock, already cancelled).
    Conflict(String),
    /// A request the service refuses before it reaches the database.
    BadInput(String),
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError::Db(e)
    }
}

/// `run_retrying` retries the database's serialization failures carried by an `ApiError`.
impl RetryError for ApiError {
    fn athanor_error(&self) -> Option<&Error> {
        match self {
            ApiError::Db(e) => Some(e),
            _ => None,
        }
    }
}

impl ApiError {
    /// The status and the message shown to the client.
    pub fn status(&self) -> (StatusCode, String) {
        match self {
            ApiError::NotFound(what) => (StatusCode::NOT_FOUND, format!("{what} not found")),
            ApiError::Conflict(why) => (StatusCode::CONFLICT, why.clone()),
            ApiError::BadInput(why) => (StatusCode::UNPROCESSABLE_ENTITY, why.clone()),
            ApiError::Db(e) => match e {
                Error::NotFound { what } => (StatusCode::NOT_FOUND, format!("{what} not found")),
                Error::Integrity { kind: IntegrityKind::Unique, .. } => {
                    (StatusCode::CONFLICT, "that name is taken".to_string())
                }
                Error::Integrity { kind: IntegrityKind::ForeignKey, .. } => {
                    (StatusCode::UNPROCESSABLE_ENTITY, "a referenced row does not exist".to_string())
                }
                Error::InvalidValue { .. } => (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
                Error::PoolTimeout { .. } | Error::Timeout { .. } | Error::SerializationFailure { .. } => {
                    (StatusCode::SERVICE_UNAVAILABLE, "the database is busy; try again".to_string())
                }
                _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal error".to_string()),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message) = self.status();
        if status.is_server_error() {
            tracing::error!(error = ?self, "request failed");
        }
        (status, Json(json!({ "error": message }))).into_response()
    }
}
