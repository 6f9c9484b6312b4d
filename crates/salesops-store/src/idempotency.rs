//! Stored results of POST requests that carried an `Idempotency-Key`.

use crate::db::{Conn, Result};
use chrono::{DateTime, Utc};
use salesops_domain::{OrgId, UserId};
use sea_query::{Expr, ExprTrait, OnConflict, Query};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Record {
    pub request_hash: Vec<u8>,
    pub status_code: Option<i32>,
    pub response_body: Option<Vec<u8>>,
    pub content_type: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Claims the key; `true` when this call may run the request: the key is new,
/// or an earlier claim was abandoned (never completed, older than
/// `abandoned_before`: its request was cut off). `false` when a request with
/// this key was seen and is finished or still running.
pub async fn claim(
    c: &mut impl Conn,
    org: OrgId,
    user: UserId,
    key: &str,
    request_hash: &[u8],
    at: DateTime<Utc>,
    abandoned_before: DateTime<Utc>,
) -> Result<bool> {
    let q = Query::insert()
        .into_table("idempotency_keys")
        .columns([
            "org_id",
            "user_id",
            "idem_key",
            "request_hash",
            "created_at",
        ])
        .values_panic([
            org.0.into(),
            user.0.into(),
            key.into(),
            request_hash.to_vec().into(),
            at.into(),
        ])
        .on_conflict(
            OnConflict::columns(["org_id", "user_id", "idem_key"])
                .update_columns(["request_hash", "created_at"])
                .action_and_where(
                    Expr::col(("idempotency_keys", "status_code"))
                        .is_null()
                        .and(Expr::col(("idempotency_keys", "created_at")).lt(abandoned_before)),
                )
                .to_owned(),
        )
        .to_owned();
    Ok(c.exec(&q).await? == 1)
}

pub async fn get(c: &mut impl Conn, org: OrgId, user: UserId, key: &str) -> Result<Option<Record>> {
    let q = Query::select()
        .columns([
            "request_hash",
            "status_code",
            "response_body",
            "content_type",
            "created_at",
        ])
        .from("idempotency_keys")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("user_id").eq(user.0))
        .and_where(Expr::col("idem_key").eq(key))
        .to_owned();
    c.opt(&q).await
}

pub async fn complete(
    c: &mut impl Conn,
    org: OrgId,
    user: UserId,
    key: &str,
    status: u16,
    body: &[u8],
    content_type: Option<&str>,
) -> Result<u64> {
    let q = Query::update()
        .table("idempotency_keys")
        .value("status_code", i32::from(status))
        .value("response_body", body.to_vec())
        .value("content_type", content_type.map(str::to_string))
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("user_id").eq(user.0))
        .and_where(Expr::col("idem_key").eq(key))
        .to_owned();
    c.exec(&q).await
}

/// Forgets a claim whose request failed on the server, so a retry runs again.
pub async fn release(c: &mut impl Conn, org: OrgId, user: UserId, key: &str) -> Result<u64> {
    let q = Query::delete()
        .from_table("idempotency_keys")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("user_id").eq(user.0))
        .and_where(Expr::col("idem_key").eq(key))
        .to_owned();
    c.exec(&q).await
}

pub async fn purge(c: &mut impl Conn, before: DateTime<Utc>) -> Result<u64> {
    let q = Query::delete()
        .from_table("idempotency_keys")
        .and_where(Expr::col("created_at").lt(before))
        .to_owned();
    c.exec(&q).await
}
