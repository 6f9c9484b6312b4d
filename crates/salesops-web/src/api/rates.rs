//! The exchange-rate table.

use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use salesops_app::rates::RateTable;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RateOut {
    pub currency: String,
    pub valid_from: NaiveDate,
    /// Units of the base currency for one unit of `currency` (decimal string).
    pub rate: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RatesOut {
    pub base_currency: String,
    pub items: Vec<RateOut>,
}

impl From<RateTable> for RatesOut {
    fn from(t: RateTable) -> Self {
        RatesOut {
            base_currency: t.base.code().to_string(),
            items: t
                .rates
                .into_iter()
                .map(|(c, d, r)| RateOut {
                    currency: c.code().to_string(),
                    valid_from: d,
                    rate: r.rate.to_string(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateIn {
    /// Decimal string, e.g. "1.0625".
    pub rate: String,
}

fn date(s: &str) -> ApiResult<NaiveDate> {
    s.parse::<NaiveDate>()
        .map_err(|_| ApiError::invalid("valid_from", "must be a date like 2026-01-01"))
}

#[utoipa::path(get, path = "/api/v1/exchange-rates", tag = "exchange-rates", responses((status = 200, body = RatesOut), (status = 401, body = Problem)))]
pub async fn list(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<RatesOut>> {
    Ok(Json(s.app.rate_table(&auth.actor).await?.into()))
}

/// Sets the rate of a currency from a date on (replaces one of the same date).
#[utoipa::path(put, path = "/api/v1/exchange-rates/{currency}/{valid_from}", tag = "exchange-rates", request_body = RateIn,
    params(("currency" = String, Path), ("valid_from" = NaiveDate, Path)),
    responses((status = 200, body = RatesOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn put(
    State(s): State<AppState>,
    auth: Auth,
    Path((currency, valid_from)): Path<(String, String)>,
    ApiJson(b): ApiJson<RateIn>,
) -> ApiResult<Json<RatesOut>> {
    let d = date(&valid_from)?;
    Ok(Json(
        s.app
            .set_rate(&auth.actor, &currency, d, &b.rate)
            .await?
            .into(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/exchange-rates/{currency}/{valid_from}", tag = "exchange-rates",
    params(("currency" = String, Path), ("valid_from" = NaiveDate, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete(
    State(s): State<AppState>,
    auth: Auth,
    Path((currency, valid_from)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let d = date(&valid_from)?;
    s.app.delete_rate(&auth.actor, &currency, d).await?;
    Ok(StatusCode::NO_CONTENT)
}
