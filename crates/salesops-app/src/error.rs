use salesops_domain::Invalid;
use salesops_store::StoreError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum AppError {
    /// Not signed in, or the credentials are wrong.
    #[error("not signed in")]
    Unauthenticated,
    /// Signed in but not allowed.
    #[error("not allowed")]
    Forbidden,
    /// Does not exist, or the caller may not see it.
    #[error("not found")]
    NotFound,
    #[error("invalid input: {0}")]
    Invalid(Invalid),
    #[error("{0}")]
    Conflict(String),
    /// The record changed since the version the caller sent.
    #[error("the record was changed by someone else; reload it and try again")]
    Stale,
    #[error("too many attempts; try again in {retry_after_secs} s")]
    TooManyAttempts { retry_after_secs: u64 },
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<Invalid> for AppError {
    fn from(e: Invalid) -> Self {
        AppError::Invalid(e)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Stale => AppError::Stale,
            StoreError::Conflict(m) => AppError::Conflict(m),
            StoreError::Reference(_) => AppError::Conflict(
                "a record this refers to was changed or deleted meanwhile; reload and try again"
                    .into(),
            ),
            other => AppError::Internal(other.to_string()),
        }
    }
}

pub type Result<T> = std::result::Result<T, AppError>;
