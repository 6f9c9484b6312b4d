//! Sessions, API tokens and failed sign-ins. Secrets are stored only as
//! SHA-256 hashes; the caller hashes them.

use crate::db::{Conn, Result, StoreError};
use chrono::{DateTime, Utc};
use salesops_domain::{ApiTokenId, OrgId, UserId};
use sea_query::{Expr, ExprTrait, Order, Query};
use uuid::Uuid;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Session {
    #[sqlx(try_from = "Uuid")]
    pub org_id: OrgId,
    pub id_hash: Vec<u8>,
    #[sqlx(try_from = "Uuid")]
    pub user_id: UserId,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

const SESSION_COLS: [&str; 6] = [
    "org_id",
    "id_hash",
    "user_id",
    "csrf_token",
    "created_at",
    "expires_at",
];

pub async fn insert_session(c: &mut impl Conn, s: &Session) -> Result<()> {
    let q = Query::insert()
        .into_table("sessions")
        .columns(SESSION_COLS)
        .values_panic([
            s.org_id.0.into(),
            s.id_hash.clone().into(),
            s.user_id.0.into(),
            s.csrf_token.clone().into(),
            s.created_at.into(),
            s.expires_at.into(),
        ])
        .to_owned();
    c.exec(&q).await?;
    Ok(())
}

/// A session that has not expired at `now`.
pub async fn live_session(
    c: &mut impl Conn,
    id_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<Session>> {
    let q = Query::select()
        .columns(SESSION_COLS)
        .from("sessions")
        .and_where(Expr::col("id_hash").eq(id_hash.to_vec()))
        .and_where(Expr::col("expires_at").gt(now))
        .to_owned();
    c.opt(&q).await
}

pub async fn delete_session(c: &mut impl Conn, id_hash: &[u8]) -> Result<u64> {
    let q = Query::delete()
        .from_table("sessions")
        .and_where(Expr::col("id_hash").eq(id_hash.to_vec()))
        .to_owned();
    c.exec(&q).await
}

/// Ends every session of a user (password change, deactivation).
pub async fn delete_user_sessions(c: &mut impl Conn, org: OrgId, user: UserId) -> Result<u64> {
    let q = Query::delete()
        .from_table("sessions")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("user_id").eq(user.0))
        .to_owned();
    c.exec(&q).await
}

pub async fn purge_expired_sessions(c: &mut impl Conn, now: DateTime<Utc>) -> Result<u64> {
    let q = Query::delete()
        .from_table("sessions")
        .and_where(Expr::col("expires_at").lte(now))
        .to_owned();
    c.exec(&q).await
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ApiToken {
    #[sqlx(try_from = "Uuid")]
    pub org_id: OrgId,
    #[sqlx(try_from = "Uuid")]
    pub id: ApiTokenId,
    #[sqlx(try_from = "Uuid")]
    pub user_id: UserId,
    pub name: String,
    pub token_hash: Vec<u8>,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

const TOKEN_COLS: [&str; 10] = [
    "org_id",
    "id",
    "user_id",
    "name",
    "token_hash",
    "prefix",
    "created_at",
    "last_used_at",
    "expires_at",
    "revoked_at",
];

pub async fn insert_token(c: &mut impl Conn, t: &ApiToken) -> Result<()> {
    let q = Query::insert()
        .into_table("api_tokens")
        .columns(TOKEN_COLS)
        .values_panic([
            t.org_id.0.into(),
            t.id.0.into(),
            t.user_id.0.into(),
            t.name.clone().into(),
            t.token_hash.clone().into(),
            t.prefix.clone().into(),
            t.created_at.into(),
            t.last_used_at.into(),
            t.expires_at.into(),
            t.revoked_at.into(),
        ])
        .to_owned();
    c.exec(&q).await?;
    Ok(())
}

pub async fn token_by_hash(c: &mut impl Conn, hash: &[u8]) -> Result<Option<ApiToken>> {
    let q = Query::select()
        .columns(TOKEN_COLS)
        .from("api_tokens")
        .and_where(Expr::col("token_hash").eq(hash.to_vec()))
        .to_owned();
    c.opt(&q).await
}

pub async fn get_token(c: &mut impl Conn, org: OrgId, id: ApiTokenId) -> Result<ApiToken> {
    let q = Query::select()
        .columns(TOKEN_COLS)
        .from("api_tokens")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("id").eq(id.0))
        .to_owned();
    c.one(&q).await
}

/// Tokens of one user (or of everybody), newest last, after the cursor.
pub async fn list_tokens(
    c: &mut impl Conn,
    org: OrgId,
    user: Option<UserId>,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<ApiToken>> {
    let mut q = Query::select();
    q.columns(TOKEN_COLS)
        .from("api_tokens")
        .and_where(Expr::col("org_id").eq(org.0));
    if let Some(u) = user {
        q.and_where(Expr::col("user_id").eq(u.0));
    }
    if let Some(a) = after {
        q.and_where(Expr::col("id").gt(a));
    }
    q.order_by("id", Order::Asc).limit(limit);
    c.all(&q).await
}

/// Marks a token revoked (idempotent: the first revocation time is kept).
pub async fn revoke_token(
    c: &mut impl Conn,
    org: OrgId,
    id: ApiTokenId,
    at: DateTime<Utc>,
) -> Result<ApiToken> {
    let q = Query::update()
        .table("api_tokens")
        .value("revoked_at", Expr::col("revoked_at").if_null(at))
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("id").eq(id.0))
        .returning(Query::returning().columns(TOKEN_COLS))
        .to_owned();
    c.opt(&q).await?.ok_or(StoreError::NotFound)
}

/// Revokes every token of a user (deactivation).
pub async fn revoke_user_tokens(
    c: &mut impl Conn,
    org: OrgId,
    user: UserId,
    at: DateTime<Utc>,
) -> Result<u64> {
    let q = Query::update()
        .table("api_tokens")
        .value("revoked_at", at)
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("user_id").eq(user.0))
        .and_where(Expr::col("revoked_at").is_null())
        .to_owned();
    c.exec(&q).await
}

pub async fn touch_token(
    c: &mut impl Conn,
    org: OrgId,
    id: ApiTokenId,
    at: DateTime<Utc>,
) -> Result<u64> {
    let q = Query::update()
        .table("api_tokens")
        .value("last_used_at", at)
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("id").eq(id.0))
        .to_owned();
    c.exec(&q).await
}

pub async fn record_failure(
    c: &mut impl Conn,
    org: OrgId,
    email: &str,
    ip: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    let q = Query::insert()
        .into_table("login_failures")
        .columns(["org_id", "id", "email", "ip", "at"])
        .values_panic([
            org.0.into(),
            Uuid::now_v7().into(),
            email.into(),
            ip.into(),
            at.into(),
        ])
        .to_owned();
    c.exec(&q).await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct FailureTimes {
    at: DateTime<Utc>,
}

/// Times of the failed sign-ins for an e-mail (`by_ip` false) or an address
/// (`by_ip` true) since `since`, oldest first, at most `limit`.
pub async fn failures_since(
    c: &mut impl Conn,
    key: &str,
    by_ip: bool,
    since: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<DateTime<Utc>>> {
    let col = if by_ip { "ip" } else { "email" };
    let q = Query::select()
        .column("at")
        .from("login_failures")
        .and_where(Expr::col(col).eq(key))
        .and_where(Expr::col("at").gt(since))
        .order_by("at", Order::Desc)
        .limit(limit)
        .to_owned();
    let mut v: Vec<DateTime<Utc>> = c
        .all::<FailureTimes>(&q)
        .await?
        .into_iter()
        .map(|r| r.at)
        .collect();
    v.reverse();
    Ok(v)
}

/// Forgets the failures of an e-mail after a successful sign-in.
pub async fn clear_failures(c: &mut impl Conn, email: &str) -> Result<u64> {
    let q = Query::delete()
        .from_table("login_failures")
        .and_where(Expr::col("email").eq(email))
        .to_owned();
    c.exec(&q).await
}

pub async fn purge_failures(c: &mut impl Conn, before: DateTime<Utc>) -> Result<u64> {
    let q = Query::delete()
        .from_table("login_failures")
        .and_where(Expr::col("at").lt(before))
        .to_owned();
    c.exec(&q).await
}
