use crate::db::{Conn, Count, Result, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use salesops_domain::{Locale, OrgId, Role, TeamId, UserId};
use sea_query::{Cond, Expr, ExprTrait, Order, Query, SimpleExpr};
use uuid::Uuid;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct User {
    #[sqlx(try_from = "Uuid")]
    pub org_id: OrgId,
    #[sqlx(try_from = "Uuid")]
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    #[sqlx(try_from = "String")]
    pub locale: Locale,
    pub time_zone: String,
    pub hire_date: Option<NaiveDate>,
    pub leave_date: Option<NaiveDate>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl User {
    /// What the user is found by: name and e-mail.
    pub fn search_text(&self) -> String {
        crate::db::search_text(&[&self.name, &self.email])
    }
}

pub(crate) const COLS: [&str; 14] = [
    "org_id",
    "id",
    "email",
    "name",
    "password_hash",
    "role",
    "locale",
    "time_zone",
    "hire_date",
    "leave_date",
    "active",
    "created_at",
    "updated_at",
    "version",
];

pub async fn insert(c: &mut impl Conn, u: &User) -> Result<()> {
    let q = Query::insert()
        .into_table("users")
        .columns(COLS.iter().copied().chain(["search_text"]))
        .values_panic([
            u.org_id.0.into(),
            u.id.0.into(),
            u.email.clone().into(),
            u.name.clone().into(),
            u.password_hash.clone().into(),
            u.role.as_str().into(),
            u.locale.as_str().into(),
            u.time_zone.clone().into(),
            u.hire_date.into(),
            u.leave_date.into(),
            u.active.into(),
            u.created_at.into(),
            u.updated_at.into(),
            u.version.into(),
            u.search_text().into(),
        ])
        .to_owned();
    c.exec(&q).await?;
    Ok(())
}

pub async fn get(c: &mut impl Conn, org: OrgId, id: UserId) -> Result<User> {
    let q = Query::select()
        .columns(COLS)
        .from("users")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("id").eq(id.0))
        .to_owned();
    c.one(&q).await
}

pub async fn by_email(c: &mut impl Conn, org: OrgId, email: &str) -> Result<Option<User>> {
    let q = Query::select()
        .columns(COLS)
        .from("users")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("email").eq(email))
        .to_owned();
    c.opt(&q).await
}

/// Every account with this e-mail, in any organisation: sign-in resolves the
/// organisation from the address (or from an explicit organisation slug).
pub async fn by_email_any_org(c: &mut impl Conn, email: &str) -> Result<Vec<User>> {
    let q = Query::select()
        .columns(COLS)
        .from("users")
        .and_where(Expr::col("email").eq(email))
        .order_by("org_id", Order::Asc)
        .limit(10)
        .to_owned();
    c.all(&q).await
}

#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only these users and the members of these teams (None: everybody).
    pub visible: Option<(UserId, Vec<TeamId>)>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    pub team: Option<TeamId>,
    /// Case-insensitive match on name or e-mail.
    pub q: Option<String>,
    /// Only these users.
    pub ids: Option<Vec<UserId>>,
}

fn member_of(org: OrgId, teams: Vec<Uuid>) -> SimpleExpr {
    Expr::col("id").in_subquery(
        Query::select()
            .column("user_id")
            .from("team_members")
            .and_where(Expr::col("org_id").eq(org.0))
            .and_where(Expr::col("team_id").is_in(teams))
            .to_owned(),
    )
}

/// Users ordered by id, after the cursor, at most `limit`.
pub async fn list(
    c: &mut impl Conn,
    org: OrgId,
    f: &Filter,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<User>> {
    let mut q = Query::select();
    q.columns(COLS)
        .from("users")
        .and_where(Expr::col("org_id").eq(org.0));
    if let Some((me, teams)) = &f.visible {
        let mut cond = Cond::any().add(Expr::col("id").eq(me.0));
        if !teams.is_empty() {
            cond = cond.add(member_of(org, teams.iter().map(|t| t.0).collect()));
        }
        q.cond_where(cond);
    }
    if let Some(r) = f.role {
        q.and_where(Expr::col("role").eq(r.as_str()));
    }
    if let Some(a) = f.active {
        q.and_where(Expr::col("active").eq(a));
    }
    if let Some(t) = f.team {
        q.and_where(member_of(org, vec![t.0]));
    }
    if let Some(ids) = &f.ids {
        q.and_where(Expr::col("id").is_in(ids.iter().map(|u| u.0).collect::<Vec<_>>()));
    }
    if let Some(text) = &f.q {
        q.and_where(Expr::col("search_text").like(crate::db::like_pattern(text)));
    }
    if let Some(a) = after {
        q.and_where(Expr::col("id").gt(a));
    }
    q.order_by("id", Order::Asc).limit(limit);
    c.all(&q).await
}

pub async fn count(c: &mut impl Conn, org: OrgId) -> Result<i64> {
    let q = Query::select()
        .expr_as(Expr::col("id").count(), "n")
        .from("users")
        .and_where(Expr::col("org_id").eq(org.0))
        .to_owned();
    Ok(c.one::<Count>(&q).await?.n)
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct Patch {
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: Option<Role>,
    pub locale: Option<Locale>,
    pub time_zone: Option<String>,
    pub hire_date: Option<Option<NaiveDate>>,
    pub leave_date: Option<Option<NaiveDate>>,
    pub active: Option<bool>,
    pub password_hash: Option<String>,
    /// Required with `name` or `email`: the new search text.
    pub search_text: Option<String>,
}

/// Applies `p` when the stored version equals `expected` (any version when
/// `None`), bumping the version. `Stale` when someone changed it first.
pub async fn update(
    c: &mut impl Conn,
    org: OrgId,
    id: UserId,
    expected: Option<i64>,
    p: &Patch,
    at: DateTime<Utc>,
) -> Result<User> {
    let mut q = Query::update();
    q.table("users")
        .value("updated_at", at)
        .value("version", Expr::col("version").add(1));
    if let Some(v) = &p.email {
        q.value("email", v.clone());
    }
    if let Some(v) = &p.name {
        q.value("name", v.clone());
    }
    if let Some(v) = p.role {
        q.value("role", v.as_str());
    }
    if let Some(v) = p.locale {
        q.value("locale", v.as_str());
    }
    if let Some(v) = &p.time_zone {
        q.value("time_zone", v.clone());
    }
    if let Some(v) = p.hire_date {
        q.value("hire_date", v);
    }
    if let Some(v) = p.leave_date {
        q.value("leave_date", v);
    }
    if let Some(v) = p.active {
        q.value("active", v);
    }
    if let Some(v) = &p.password_hash {
        q.value("password_hash", v.clone());
    }
    if let Some(v) = &p.search_text {
        q.value("search_text", v.clone());
    }
    q.and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("id").eq(id.0));
    if let Some(v) = expected {
        q.and_where(Expr::col("version").eq(v));
    }
    q.returning(Query::returning().columns(COLS));
    match c.opt::<User>(&q).await? {
        Some(u) => Ok(u),
        None => {
            get(c, org, id).await?;
            Err(StoreError::Stale)
        }
    }
}
