use crate::db::{Conn, Count, Result, StoreError};
use chrono::{DateTime, Utc};
use salesops_domain::{OrgId, Segment, TeamId, UserId};
use sea_query::{Expr, ExprTrait, Order, Query};
use uuid::Uuid;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Team {
    #[sqlx(try_from = "Uuid")]
    pub org_id: OrgId,
    #[sqlx(try_from = "Uuid")]
    pub id: TeamId,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub segment: Segment,
    pub manager_id: Option<Uuid>,
    pub parent_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

const COLS: [&str; 9] = [
    "org_id",
    "id",
    "name",
    "segment",
    "manager_id",
    "parent_id",
    "created_at",
    "updated_at",
    "version",
];

pub async fn insert(c: &mut impl Conn, t: &Team) -> Result<()> {
    let q = Query::insert()
        .into_table("teams")
        .columns(COLS)
        .values_panic([
            t.org_id.0.into(),
            t.id.0.into(),
            t.name.clone().into(),
            t.segment.as_str().into(),
            t.manager_id.into(),
            t.parent_id.into(),
            t.created_at.into(),
            t.updated_at.into(),
            t.version.into(),
        ])
        .to_owned();
    c.exec(&q).await?;
    Ok(())
}

pub async fn get(c: &mut impl Conn, org: OrgId, id: TeamId) -> Result<Team> {
    let q = Query::select()
        .columns(COLS)
        .from("teams")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("id").eq(id.0))
        .to_owned();
    c.one(&q).await
}

/// Teams ordered by id after the cursor; `only`: restrict to these ids.
pub async fn list(
    c: &mut impl Conn,
    org: OrgId,
    only: Option<&[TeamId]>,
    segment: Option<Segment>,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Team>> {
    let mut q = Query::select();
    q.columns(COLS)
        .from("teams")
        .and_where(Expr::col("org_id").eq(org.0));
    if let Some(ids) = only {
        q.and_where(Expr::col("id").is_in(ids.iter().map(|t| t.0).collect::<Vec<_>>()));
    }
    if let Some(s) = segment {
        q.and_where(Expr::col("segment").eq(s.as_str()));
    }
    if let Some(a) = after {
        q.and_where(Expr::col("id").gt(a));
    }
    q.order_by("id", Order::Asc).limit(limit);
    c.all(&q).await
}

#[derive(Clone, Debug, Default)]
pub struct Patch {
    pub name: Option<String>,
    pub segment: Option<Segment>,
    pub manager_id: Option<Option<Uuid>>,
    pub parent_id: Option<Option<Uuid>>,
}

pub async fn update(
    c: &mut impl Conn,
    org: OrgId,
    id: TeamId,
    expected: Option<i64>,
    p: &Patch,
    at: DateTime<Utc>,
) -> Result<Team> {
    let mut q = Query::update();
    q.table("teams")
        .value("updated_at", at)
        .value("version", Expr::col("version").add(1));
    if let Some(v) = &p.name {
        q.value("name", v.clone());
    }
    if let Some(v) = p.segment {
        q.value("segment", v.as_str());
    }
    if let Some(v) = p.manager_id {
        q.value("manager_id", v);
    }
    if let Some(v) = p.parent_id {
        q.value("parent_id", v);
    }
    q.and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("id").eq(id.0));
    if let Some(v) = expected {
        q.and_where(Expr::col("version").eq(v));
    }
    q.returning(Query::returning().columns(COLS));
    match c.opt::<Team>(&q).await? {
        Some(t) => Ok(t),
        None => {
            get(c, org, id).await?;
            Err(StoreError::Stale)
        }
    }
}

pub async fn delete(c: &mut impl Conn, org: OrgId, id: TeamId) -> Result<()> {
    let q = Query::delete()
        .from_table("teams")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("id").eq(id.0))
        .to_owned();
    match c.exec(&q).await? {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

pub async fn child_count(c: &mut impl Conn, org: OrgId, id: TeamId) -> Result<i64> {
    let q = Query::select()
        .expr_as(Expr::col("id").count(), "n")
        .from("teams")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("parent_id").eq(id.0))
        .to_owned();
    Ok(c.one::<Count>(&q).await?.n)
}

#[derive(sqlx::FromRow)]
struct IdRow {
    id: Uuid,
}

pub async fn add_member(c: &mut impl Conn, org: OrgId, team: TeamId, user: UserId) -> Result<()> {
    let q = Query::insert()
        .into_table("team_members")
        .columns(["org_id", "team_id", "user_id"])
        .values_panic([org.0.into(), team.0.into(), user.0.into()])
        .on_conflict(
            sea_query::OnConflict::columns(["org_id", "team_id", "user_id"])
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    c.exec(&q).await?;
    Ok(())
}

pub async fn remove_member(
    c: &mut impl Conn,
    org: OrgId,
    team: TeamId,
    user: UserId,
) -> Result<u64> {
    let q = Query::delete()
        .from_table("team_members")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("team_id").eq(team.0))
        .and_where(Expr::col("user_id").eq(user.0))
        .to_owned();
    c.exec(&q).await
}

pub async fn clear_members(c: &mut impl Conn, org: OrgId, team: TeamId) -> Result<u64> {
    let q = Query::delete()
        .from_table("team_members")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("team_id").eq(team.0))
        .to_owned();
    c.exec(&q).await
}

pub async fn members(c: &mut impl Conn, org: OrgId, team: TeamId) -> Result<Vec<UserId>> {
    let q = Query::select()
        .expr_as(Expr::col("user_id"), "id")
        .from("team_members")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("team_id").eq(team.0))
        .order_by("user_id", Order::Asc)
        .to_owned();
    Ok(c.all::<IdRow>(&q)
        .await?
        .into_iter()
        .map(|r| UserId(r.id))
        .collect())
}

/// The teams a user belongs to.
pub async fn of_user(c: &mut impl Conn, org: OrgId, user: UserId) -> Result<Vec<TeamId>> {
    let q = Query::select()
        .expr_as(Expr::col("team_id"), "id")
        .from("team_members")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("user_id").eq(user.0))
        .order_by("team_id", Order::Asc)
        .to_owned();
    Ok(c.all::<IdRow>(&q)
        .await?
        .into_iter()
        .map(|r| TeamId(r.id))
        .collect())
}

/// The teams a user manages.
pub async fn managed_by(c: &mut impl Conn, org: OrgId, user: UserId) -> Result<Vec<TeamId>> {
    let q = Query::select()
        .column("id")
        .from("teams")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("manager_id").eq(user.0))
        .order_by("id", Order::Asc)
        .to_owned();
    Ok(c.all::<IdRow>(&q)
        .await?
        .into_iter()
        .map(|r| TeamId(r.id))
        .collect())
}

#[derive(sqlx::FromRow)]
struct Membership {
    team_id: Uuid,
    user_id: Uuid,
}

/// Memberships of the given teams and/or users (one statement for a whole page).
pub async fn memberships(
    c: &mut impl Conn,
    org: OrgId,
    teams: Option<&[TeamId]>,
    users: Option<&[UserId]>,
) -> Result<Vec<(TeamId, UserId)>> {
    let mut q = Query::select();
    q.columns(["team_id", "user_id"])
        .from("team_members")
        .and_where(Expr::col("org_id").eq(org.0));
    if let Some(t) = teams {
        q.and_where(Expr::col("team_id").is_in(t.iter().map(|x| x.0).collect::<Vec<_>>()));
    }
    if let Some(u) = users {
        q.and_where(Expr::col("user_id").is_in(u.iter().map(|x| x.0).collect::<Vec<_>>()));
    }
    q.order_by("team_id", Order::Asc)
        .order_by("user_id", Order::Asc);
    Ok(c.all::<Membership>(&q)
        .await?
        .into_iter()
        .map(|m| (TeamId(m.team_id), UserId(m.user_id)))
        .collect())
}
