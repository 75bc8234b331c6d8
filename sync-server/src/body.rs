//! The JSON body of a request, refused as the server refuses everything
//! else: a typed `ErrorBody` (kind `bad-request`) with the reason in words,
//! not axum's own plain-text 400 or 422. A body is read whole only up to
//! axum's limit (2 MB), then parsed; nothing is changed by a bad one.

use axum::Json;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::AppError;

/// `Json<T>` with the server's own refusal.
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(AppError::BadBody(rejection.body_text())),
        }
    }
}
