//! The one error type at the HTTP edge: every failure becomes a status and an
//! `application/problem+json` body (RFC 9457). 5xx bodies say nothing internal; the log says it all.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::model::ModelError;
use crate::store::StoreError;

/// A failed request, ready to be sent.
#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    pub detail: String,
}

impl AppError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            detail: detail.into(),
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            detail: detail.into(),
        }
    }

    /// An internal failure: logged in full, reported to the client without details.
    pub fn internal(context: &str, error: &dyn std::fmt::Display) -> Self {
        tracing::error!(%error, "{context}");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            detail: "internal error; the server log has the details".into(),
        }
    }
}

impl From<ModelError> for AppError {
    fn from(error: ModelError) -> Self {
        Self::bad_request(error.to_string())
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Model(e) => e.into(),
            StoreError::Conflict(message) => Self::new(StatusCode::CONFLICT, message),
            e @ StoreError::IdTakenByOtherKind { .. } => Self {
                status: StatusCode::CONFLICT,
                detail: e.to_string(),
            },
            other => Self::internal("store failure", &other),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = json!({
            "type": "about:blank",
            "title": self.status.canonical_reason().unwrap_or("Error"),
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        (
            self.status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
        )
            .into_response()
    }
}
