//! The JSON API under `/api/v1`.

pub mod activities;
pub mod activity_types;
pub mod analytics;
pub mod auth;
pub mod crm;
pub mod goals;
pub mod imports;
pub mod leads;
pub mod notify;
pub mod pipelines;
pub mod planner;
pub mod prospecting;
pub mod rates;
pub mod reports;
pub mod teams;
pub mod tokens;
pub mod users;

use crate::error::{ApiError, ApiResult};
use axum::http::{HeaderMap, HeaderValue, header};
use serde::{Deserialize, Deserializer};

/// `?limit=&cursor=` of every list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1–200 (default 50).
    #[param(value_type = Option<u64>)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Reads `limit` and `cursor`; 422 naming the parameter when wrong.
pub fn page_params(
    limit: Option<&str>,
    cursor: Option<&str>,
) -> ApiResult<(Option<uuid::Uuid>, u64)> {
    let cursor = crate::extract::decode_cursor(cursor)?;
    let limit =
        match limit {
            None => None,
            Some(l) => Some(l.parse::<u64>().map_err(|_| {
                ApiError::invalid("limit", "must be a whole number between 1 and 200")
            })?),
        };
    let limit = salesops_app::clamp_limit(limit)?;
    Ok((cursor, limit))
}

macro_rules! list_type {
    ($name:ident, $item:ty) => {
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// Pass as `cursor` for the next page; `null` on the last page.
            pub next_cursor: Option<String>,
        }

        impl $name {
            pub fn from_page<T>(p: salesops_app::Page<T>, f: impl FnMut(T) -> $item) -> Self {
                $name {
                    next_cursor: p.next_cursor.map(crate::extract::encode_cursor),
                    items: p.items.into_iter().map(f).collect(),
                }
            }
        }
    };
}
pub(crate) use list_type;

/// `ETag: "<version>"` for a record.
pub fn etag(version: i64) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        h.insert(header::ETAG, v);
    }
    h
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
pub fn double_option<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Parses an id from a path segment; 404 for anything that is not one.
pub fn path_id<T: std::str::FromStr>(s: &str) -> ApiResult<T> {
    s.parse::<T>()
        .map_err(|_| ApiError::App(salesops_app::AppError::NotFound))
}

/// Money as JSON: an exact decimal string and an ISO 4217 currency.
#[derive(Clone, Debug, serde::Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoneyDto {
    /// Decimal string, e.g. "30000.00".
    pub amount: String,
    /// ISO 4217 code, e.g. "EUR".
    pub currency: String,
}

impl From<salesops_domain::Money> for MoneyDto {
    fn from(m: salesops_domain::Money) -> Self {
        MoneyDto {
            amount: m.amount_string(),
            currency: m.currency.code().to_string(),
        }
    }
}

impl From<MoneyDto> for salesops_domain::MoneyJson {
    fn from(m: MoneyDto) -> Self {
        salesops_domain::MoneyJson {
            amount: m.amount,
            currency: m.currency,
        }
    }
}
