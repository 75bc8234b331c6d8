//! The server's error type for HTTP handlers: clients' mistakes keep their
//! status and words; internal failures get a generic message and are logged.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::registry::RegistryError;

/// An error of an HTTP handler.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A registry error.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A store error.
    #[error(transparent)]
    Store(#[from] lodge_core::StoreError),
    /// No valid device token.
    #[error("This device is not enrolled here, or was removed.")]
    Unauthorized,
    /// A device of another role.
    #[error("A {0} device cannot do this; use an admin device.")]
    Forbidden(lodge_core::Role),
    /// Too many failed enrolments from this address (or everywhere).
    #[error("Too many enrolment attempts failed. Wait {retry_after_secs} s, check the code, and try again.")]
    TooManyAttempts {
        /// Seconds until one more attempt is allowed.
        retry_after_secs: u64,
    },
    /// A phone's code names a person the site does not have.
    #[error("There is no person {person} in this site. Add them under People first, or pick someone who exists.")]
    UnknownPerson {
        /// The person named.
        person: lodge_core::PersonId,
    },
    /// A task failed.
    #[error("a server task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, message) = match &self {
            AppError::Registry(RegistryError::BadCode | RegistryError::BadActor(_) | RegistryError::PersonRequired(_))
            | AppError::UnknownPerson { .. } => (StatusCode::BAD_REQUEST, self.to_string()),
            AppError::Registry(RegistryError::ActorInUse { .. }) => (StatusCode::CONFLICT, self.to_string()),
            AppError::TooManyAttempts { retry_after_secs } => {
                let retry = [(axum::http::header::RETRY_AFTER, retry_after_secs.to_string())];
                let body = Json(serde_json::json!({ "error": self.to_string(), "retry_after_secs": retry_after_secs }));
                return (StatusCode::TOO_MANY_REQUESTS, retry, body).into_response();
            }
            AppError::Unauthorized => (StatusCode::UNAUTHORIZED, self.to_string()),
            AppError::Forbidden(_) => (StatusCode::FORBIDDEN, self.to_string()),
            AppError::Registry(RegistryError::UnknownSite(_) | RegistryError::UnknownDevice(_)) => (StatusCode::NOT_FOUND, self.to_string()),
            _ => {
                tracing::error!(error = %self, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, "The server failed; it was logged.".to_owned())
            }
        };
        (status, Json(serde_json::json!({ "error": message }))).into_response()
    }
}
