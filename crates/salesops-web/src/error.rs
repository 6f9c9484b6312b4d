//! Every error the API returns is `application/problem+json` (RFC 9457).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use salesops_app::AppError;
use salesops_domain::{FieldError, Invalid};
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// One entry per invalid field (422).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemField {
    pub field: String,
    pub message: String,
}

/// An API failure, mapped onto a status and a problem document.
#[derive(Debug)]
pub enum ApiError {
    App(AppError),
    BadRequest(String),
    Unauthorized(String),
    UnsupportedMediaType,
    PayloadTooLarge,
    PreconditionRequired,
    InvalidFields(Vec<FieldError>),
    Conflict(String),
    /// A state-changing request with the session cookie but without its CSRF token.
    CsrfFailed,
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError::App(e)
    }
}

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> Self {
        ApiError::InvalidFields(e.0)
    }
}

impl ApiError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ApiError::InvalidFields(vec![FieldError::new(field, message)])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::App(e) => match e {
                AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
                AppError::Forbidden => StatusCode::FORBIDDEN,
                AppError::NotFound => StatusCode::NOT_FOUND,
                AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
                AppError::Conflict(_) => StatusCode::CONFLICT,
                AppError::Stale => StatusCode::PRECONDITION_FAILED,
                AppError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
                AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            ApiError::InvalidFields(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::CsrfFailed => StatusCode::FORBIDDEN,
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status();
        let (slug, detail, errors): (&str, String, Vec<FieldError>) = match self {
            ApiError::App(e) => match e {
                AppError::Unauthenticated => ("unauthenticated", "sign in, or send a valid API token".into(), vec![]),
                AppError::Forbidden => ("forbidden", "your role does not allow this".into(), vec![]),
                AppError::NotFound => ("not-found", "no such record, or you may not see it".into(), vec![]),
                AppError::Invalid(i) => ("invalid-fields", "some fields are invalid".into(), i.0.clone()),
                AppError::Conflict(m) => ("conflict", m.clone(), vec![]),
                AppError::Stale => (
                    "stale-version",
                    "the record was changed by someone else since you read it; reload it and apply your change again".into(),
                    vec![],
                ),
                AppError::TooManyAttempts { retry_after_secs } => (
                    "too-many-attempts",
                    format!("too many failed sign-ins; try again in {retry_after_secs} seconds"),
                    vec![],
                ),
                AppError::Internal(_) => ("internal", "an internal error occurred; it has been logged".into(), vec![]),
            },
            ApiError::BadRequest(m) => ("malformed-request", m.clone(), vec![]),
            ApiError::Unauthorized(m) => ("unauthenticated", m.clone(), vec![]),
            ApiError::UnsupportedMediaType => (
                "unsupported-media-type",
                "send the body as application/json".into(),
                vec![],
            ),
            ApiError::PayloadTooLarge => ("payload-too-large", "the request body is too large".into(), vec![]),
            ApiError::PreconditionRequired => (
                "precondition-required",
                "send If-Match with the version you read, so that no concurrent change is overwritten".into(),
                vec![],
            ),
            ApiError::InvalidFields(f) => ("invalid-fields", "some fields are invalid".into(), f.clone()),
            ApiError::Conflict(m) => ("conflict", m.clone(), vec![]),
            ApiError::CsrfFailed => (
                "csrf",
                "requests made with the session cookie must send its CSRF token in X-CSRF-Token".into(),
                vec![],
            ),
        };
        Problem {
            kind: format!("urn:salesops:problem:{slug}"),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail,
            errors: errors
                .into_iter()
                .map(|e| ProblemField {
                    field: e.field,
                    message: e.message,
                })
                .collect(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::App(AppError::Internal(m)) = &self {
            tracing::error!(error = %m, "internal error");
        }
        let status = self.status();
        let mut resp = (
            status,
            serde_json::to_vec(&self.problem()).unwrap_or_default(),
        )
            .into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let ApiError::App(AppError::TooManyAttempts { retry_after_secs }) = self {
            h.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"salesops\""),
            );
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
