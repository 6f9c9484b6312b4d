//! Exchange rates to the organisation's base currency.

use crate::db::{Conn, Result};
use chrono::{DateTime, NaiveDate, Utc};
use salesops_domain::OrgId;
use sea_query::{Expr, ExprTrait, OnConflict, Order, Query};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RateRow {
    pub currency: String,
    pub valid_from: NaiveDate,
    /// Decimal string: base units per unit of `currency`.
    pub rate: String,
    pub updated_at: DateTime<Utc>,
}

/// Sets the rate of a currency from a date on (replacing one of the same date).
pub async fn upsert(
    c: &mut impl Conn,
    org: OrgId,
    currency: &str,
    valid_from: NaiveDate,
    rate: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    let q = Query::insert()
        .into_table("exchange_rates")
        .columns(["org_id", "currency", "valid_from", "rate", "updated_at"])
        .values_panic([
            org.0.into(),
            currency.into(),
            valid_from.into(),
            rate.into(),
            at.into(),
        ])
        .on_conflict(
            OnConflict::columns(["org_id", "currency", "valid_from"])
                .update_columns(["rate", "updated_at"])
                .to_owned(),
        )
        .to_owned();
    c.exec(&q).await?;
    Ok(())
}

/// Every rate of the organisation, by currency and date.
pub async fn list(c: &mut impl Conn, org: OrgId) -> Result<Vec<RateRow>> {
    let q = Query::select()
        .columns(["currency", "valid_from", "rate", "updated_at"])
        .from("exchange_rates")
        .and_where(Expr::col("org_id").eq(org.0))
        .order_by("currency", Order::Asc)
        .order_by("valid_from", Order::Asc)
        .to_owned();
    c.all(&q).await
}

pub async fn delete(
    c: &mut impl Conn,
    org: OrgId,
    currency: &str,
    valid_from: NaiveDate,
) -> Result<u64> {
    let q = Query::delete()
        .from_table("exchange_rates")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("currency").eq(currency))
        .and_where(Expr::col("valid_from").eq(valid_from))
        .to_owned();
    c.exec(&q).await
}
