use crate::db::{Conn, Result};
use chrono::{DateTime, Utc};
use salesops_domain::{Locale, OrgId};
use sea_query::{Expr, ExprTrait, Query};
use uuid::Uuid;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Org {
    #[sqlx(try_from = "Uuid")]
    pub id: OrgId,
    pub slug: String,
    pub name: String,
    pub base_currency: String,
    pub time_zone: String,
    #[sqlx(try_from = "String")]
    pub default_locale: Locale,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

const COLS: [&str; 10] = [
    "id",
    "slug",
    "name",
    "base_currency",
    "time_zone",
    "default_locale",
    "is_default",
    "created_at",
    "updated_at",
    "version",
];

pub async fn insert(c: &mut impl Conn, o: &Org) -> Result<()> {
    let q = Query::insert()
        .into_table("orgs")
        .columns(COLS)
        .values_panic([
            o.id.0.into(),
            o.slug.clone().into(),
            o.name.clone().into(),
            o.base_currency.clone().into(),
            o.time_zone.clone().into(),
            o.default_locale.as_str().into(),
            o.is_default.into(),
            o.created_at.into(),
            o.updated_at.into(),
            o.version.into(),
        ])
        .to_owned();
    c.exec(&q).await?;
    Ok(())
}

/// The organisation a deployment serves by default (the CLI acts on it).
pub async fn default_org(c: &mut impl Conn) -> Result<Option<Org>> {
    let q = Query::select()
        .columns(COLS)
        .from("orgs")
        .and_where(Expr::col("is_default").eq(true))
        .limit(1)
        .to_owned();
    c.opt(&q).await
}

pub async fn get(c: &mut impl Conn, id: OrgId) -> Result<Org> {
    let q = Query::select()
        .columns(COLS)
        .from("orgs")
        .and_where(Expr::col("id").eq(id.0))
        .to_owned();
    c.one(&q).await
}

pub async fn by_slug(c: &mut impl Conn, slug: &str) -> Result<Option<Org>> {
    let q = Query::select()
        .columns(COLS)
        .from("orgs")
        .and_where(Expr::col("slug").eq(slug))
        .to_owned();
    c.opt(&q).await
}

pub async fn rename(c: &mut impl Conn, id: OrgId, name: &str, at: DateTime<Utc>) -> Result<u64> {
    let q = Query::update()
        .table("orgs")
        .value("name", name)
        .value("updated_at", at)
        .value("version", Expr::col("version").add(1))
        .and_where(Expr::col("id").eq(id.0))
        .to_owned();
    c.exec(&q).await
}

/// Takes the organisation's row lock for the rest of the transaction (a
/// version bump): settings changes (pipelines, stage order, defaults) that
/// read, then write, run one after another on PostgreSQL as on SQLite.
pub async fn lock(c: &mut impl Conn, id: OrgId) -> Result<u64> {
    let q = Query::update()
        .table("orgs")
        .value("version", Expr::col("version").add(1))
        .and_where(Expr::col("id").eq(id.0))
        .to_owned();
    c.exec(&q).await
}

/// Every organisation (the jobs run for each).
pub async fn list(c: &mut impl Conn) -> Result<Vec<Org>> {
    let q = Query::select()
        .columns(COLS)
        .from("orgs")
        .order_by("created_at", sea_query::Order::Asc)
        .to_owned();
    c.all(&q).await
}
