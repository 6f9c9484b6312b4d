//! Prospecting lists, the reps assigned to them, and their cold prospects.

use crate::db::{
    Conn, Count, Result, Table, delete_by_id, get_by_id, like_pattern, update_versioned,
};
use chrono::{DateTime, Utc};
use salesops_domain::{OrgId, ProspectId, ProspectListId, ProspectStatus, TeamId, UserId};
use sea_query::{Cond, Expr, ExprTrait, Func, Order, Query, SimpleExpr};
use uuid::Uuid;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ProspectList {
    #[sqlx(try_from = "Uuid")]
    pub org_id: OrgId,
    #[sqlx(try_from = "Uuid")]
    pub id: ProspectListId,
    pub name: String,
    pub description: Option<String>,
    pub team_id: Option<Uuid>,
    pub script_id: Option<Uuid>,
    pub archived: bool,
    #[sqlx(try_from = "Uuid")]
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

const LIST_COLS: [&str; 11] = [
    "org_id",
    "id",
    "name",
    "description",
    "team_id",
    "script_id",
    "archived",
    "created_by",
    "created_at",
    "updated_at",
    "version",
];
const LISTS: Table = Table {
    name: "prospect_lists",
    cols: &LIST_COLS,
};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Prospect {
    #[sqlx(try_from = "Uuid")]
    pub org_id: OrgId,
    #[sqlx(try_from = "Uuid")]
    pub id: ProspectId,
    #[sqlx(try_from = "Uuid")]
    pub list_id: ProspectListId,
    pub position: i64,
    pub company_name: Option<String>,
    pub contact_name: Option<String>,
    pub job_title: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub city: Option<String>,
    pub postcode: Option<String>,
    pub country: Option<String>,
    pub industry: Option<String>,
    pub notes: Option<String>,
    /// Free fields: a JSON object of text values.
    pub fields: String,
    pub assigned_to: Option<Uuid>,
    #[sqlx(try_from = "String")]
    pub status: ProspectStatus,
    pub disqualify_reason: Option<String>,
    pub lead_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub closed_at: Option<DateTime<Utc>>,
    pub external_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

pub const PROSPECT_COLS: [&str; 28] = [
    "org_id",
    "id",
    "list_id",
    "position",
    "company_name",
    "contact_name",
    "job_title",
    "phone",
    "email",
    "website",
    "city",
    "postcode",
    "country",
    "industry",
    "notes",
    "fields",
    "assigned_to",
    "status",
    "disqualify_reason",
    "lead_id",
    "company_id",
    "contact_id",
    "closed_at",
    "external_id",
    "created_at",
    "updated_at",
    "version",
    "search_text",
];
/// The columns a `Prospect` decodes (all but `search_text`).
const PROSPECT_READ: [&str; 27] = {
    let mut a = [""; 27];
    let mut i = 0;
    while i < 27 {
        a[i] = PROSPECT_COLS[i];
        i += 1;
    }
    a
};
const PROSPECTS: Table = Table {
    name: "prospects",
    cols: &PROSPECT_READ,
};

impl Prospect {
    /// What a prospect is found by: company, contact, e-mail, phone, city.
    pub fn search_text(&self) -> String {
        let o = |x: &Option<String>| x.clone().unwrap_or_default();
        crate::db::search_text(&[
            &o(&self.company_name),
            &o(&self.contact_name),
            &o(&self.email),
            &o(&self.phone),
            &o(&self.city),
        ])
    }

    /// The name a prospect is shown by.
    pub fn display_name(&self) -> String {
        match (&self.company_name, &self.contact_name) {
            (Some(c), Some(p)) => format!("{c} · {p}"),
            (Some(c), None) => c.clone(),
            (None, Some(p)) => p.clone(),
            (None, None) => String::new(),
        }
    }

    fn values(&self) -> Vec<SimpleExpr> {
        vec![
            self.org_id.0.into(),
            self.id.0.into(),
            self.list_id.0.into(),
            self.position.into(),
            self.company_name.clone().into(),
            self.contact_name.clone().into(),
            self.job_title.clone().into(),
            self.phone.clone().into(),
            self.email.clone().into(),
            self.website.clone().into(),
            self.city.clone().into(),
            self.postcode.clone().into(),
            self.country.clone().into(),
            self.industry.clone().into(),
            self.notes.clone().into(),
            self.fields.clone().into(),
            self.assigned_to.into(),
            self.status.as_str().into(),
            self.disqualify_reason.clone().into(),
            self.lead_id.into(),
            self.company_id.into(),
            self.contact_id.into(),
            self.closed_at.into(),
            self.external_id.clone().into(),
            self.created_at.into(),
            self.updated_at.into(),
            self.version.into(),
            self.search_text().into(),
        ]
    }
}

pub async fn insert_list(c: &mut impl Conn, l: &ProspectList) -> Result<()> {
    let q = Query::insert()
        .into_table("prospect_lists")
        .columns(LIST_COLS)
        .values_panic([
            l.org_id.0.into(),
            l.id.0.into(),
            l.name.clone().into(),
            l.description.clone().into(),
            l.team_id.into(),
            l.script_id.into(),
            l.archived.into(),
            l.created_by.0.into(),
            l.created_at.into(),
            l.updated_at.into(),
            l.version.into(),
        ])
        .to_owned();
    c.exec(&q).await.map(|_| ())
}

pub async fn get_list(c: &mut impl Conn, org: OrgId, id: ProspectListId) -> Result<ProspectList> {
    get_by_id(c, &LISTS, org, id.0).await
}

/// Which lists a reader sees: those shared with one of these teams or
/// assigned to one of these users.
#[derive(Clone, Debug)]
pub struct Visible {
    pub teams: Vec<TeamId>,
    pub users: Vec<UserId>,
}

fn visible_lists(org: OrgId, v: &Visible) -> Cond {
    let assigned = Query::select()
        .column("list_id")
        .from("prospect_list_reps")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("user_id").is_in(v.users.iter().map(|u| u.0).collect::<Vec<_>>()))
        .to_owned();
    Cond::any()
        .add(Expr::col("team_id").is_in(v.teams.iter().map(|t| t.0).collect::<Vec<_>>()))
        .add(Expr::col("id").in_subquery(assigned))
}

/// `SELECT id FROM prospect_lists WHERE` the reader sees them.
pub fn visible_list_ids(org: OrgId, v: &Visible) -> sea_query::SelectStatement {
    Query::select()
        .column("id")
        .from("prospect_lists")
        .and_where(Expr::col("org_id").eq(org.0))
        .cond_where(visible_lists(org, v))
        .to_owned()
}

/// Lists, by name (None: all lists).
pub async fn list_lists(
    c: &mut impl Conn,
    org: OrgId,
    visible: Option<&Visible>,
) -> Result<Vec<ProspectList>> {
    let mut q = Query::select();
    q.columns(LIST_COLS)
        .from("prospect_lists")
        .and_where(Expr::col("org_id").eq(org.0));
    if let Some(v) = visible {
        q.cond_where(visible_lists(org, v));
    }
    q.order_by("name", Order::Asc).order_by("id", Order::Asc);
    c.all(&q).await
}

pub async fn update_list(
    c: &mut impl Conn,
    org: OrgId,
    id: ProspectListId,
    expected: Option<i64>,
    changes: Vec<(&'static str, SimpleExpr)>,
    at: DateTime<Utc>,
) -> Result<ProspectList> {
    update_versioned(c, &LISTS, org, id.0, expected, changes, at).await
}

pub async fn delete_list(c: &mut impl Conn, org: OrgId, id: ProspectListId) -> Result<()> {
    delete_by_id(c, "prospect_lists", org, id.0).await
}

/// Takes the list for a change in the current transaction when it is still
/// at `version` (any version when `None`): bumps its version, which also
/// holds the row until the transaction ends. `Stale` when it changed,
/// `NotFound` when it is gone.
pub async fn claim_list(
    c: &mut impl Conn,
    org: OrgId,
    id: ProspectListId,
    version: Option<i64>,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let mut q = Query::update();
    q.table("prospect_lists")
        .value("updated_at", at)
        .value("version", Expr::col("version").add(1))
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("id").eq(id.0));
    if let Some(v) = version {
        q.and_where(Expr::col("version").eq(v));
    }
    if c.exec(&q).await? == 0 {
        get_list(c, org, id).await?;
        return Err(crate::StoreError::Stale);
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Rep {
    #[sqlx(try_from = "Uuid")]
    user_id: UserId,
}

/// The reps assigned to a list.
pub async fn list_reps(c: &mut impl Conn, org: OrgId, list: ProspectListId) -> Result<Vec<UserId>> {
    let q = Query::select()
        .column("user_id")
        .from("prospect_list_reps")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("list_id").eq(list.0))
        .order_by("user_id", Order::Asc)
        .to_owned();
    Ok(c.all::<Rep>(&q)
        .await?
        .into_iter()
        .map(|r| r.user_id)
        .collect())
}

/// Replaces the reps assigned to a list.
pub async fn set_reps(
    c: &mut impl Conn,
    org: OrgId,
    list: ProspectListId,
    reps: &[UserId],
) -> Result<()> {
    let del = Query::delete()
        .from_table("prospect_list_reps")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("list_id").eq(list.0))
        .to_owned();
    c.exec(&del).await?;
    if reps.is_empty() {
        return Ok(());
    }
    let mut q = Query::insert();
    q.into_table("prospect_list_reps")
        .columns(["org_id", "list_id", "user_id"]);
    for r in reps {
        q.values_panic([org.0.into(), list.0.into(), r.0.into()]);
    }
    c.exec(&q).await.map(|_| ())
}

/// How many prospects of a list stand where.
#[derive(Clone, Debug, Default, sqlx::FromRow)]
pub struct ListCounts {
    pub total: i64,
    pub open: i64,
    pub converted: i64,
    pub disqualified: i64,
}

pub async fn list_counts(
    c: &mut impl Conn,
    org: OrgId,
    list: ProspectListId,
) -> Result<ListCounts> {
    let n = |s: ProspectStatus| {
        Expr::case(Expr::col("status").eq(s.as_str()), 1)
            .finally(0)
            .sum()
    };
    let q = Query::select()
        .expr_as(Expr::col("id").count(), "total")
        .expr_as(
            Func::coalesce([n(ProspectStatus::Open), Expr::val(0)]),
            "open",
        )
        .expr_as(
            Func::coalesce([n(ProspectStatus::Converted), Expr::val(0)]),
            "converted",
        )
        .expr_as(
            Func::coalesce([n(ProspectStatus::Disqualified), Expr::val(0)]),
            "disqualified",
        )
        .from("prospects")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("list_id").eq(list.0))
        .to_owned();
    c.one(&q).await
}

/// The next free row position of a list.
pub async fn next_position(c: &mut impl Conn, org: OrgId, list: ProspectListId) -> Result<i64> {
    let q = Query::select()
        .expr_as(
            Func::coalesce([Expr::col("position").max(), Expr::val(0)]).add(1),
            "n",
        )
        .from("prospects")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("list_id").eq(list.0))
        .to_owned();
    Ok(c.one::<Count>(&q).await?.n)
}

pub async fn insert_prospects(c: &mut impl Conn, rows: &[Prospect]) -> Result<()> {
    for chunk in rows.chunks(crate::db::rows_per_insert(PROSPECT_COLS.len())) {
        let mut q = Query::insert();
        q.into_table("prospects").columns(PROSPECT_COLS);
        for p in chunk {
            q.values_panic(p.values());
        }
        c.exec(&q).await?;
    }
    Ok(())
}

pub async fn get_prospect(c: &mut impl Conn, org: OrgId, id: ProspectId) -> Result<Prospect> {
    get_by_id(c, &PROSPECTS, org, id.0).await
}

pub async fn prospect_by_external_id(
    c: &mut impl Conn,
    org: OrgId,
    external_id: &str,
) -> Result<Option<Prospect>> {
    let q = Query::select()
        .columns(PROSPECT_READ)
        .from("prospects")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("external_id").eq(external_id))
        .to_owned();
    c.opt(&q).await
}

/// The prospect a lead was converted from, if any.
pub async fn prospect_of_lead(
    c: &mut impl Conn,
    org: OrgId,
    lead: Uuid,
) -> Result<Option<Prospect>> {
    let q = Query::select()
        .columns(PROSPECT_READ)
        .from("prospects")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("lead_id").eq(lead))
        .to_owned();
    c.opt(&q).await
}

#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub list: Option<ProspectListId>,
    pub status: Option<ProspectStatus>,
    pub assigned_to: Option<UserId>,
    /// Only prospects of the lists the reader sees (None: all).
    pub visible: Option<Visible>,
    pub q: Option<String>,
}

/// Prospects in list order (list, row position, id), after a cursor
/// `(list, position, id)`.
pub async fn list_prospects(
    c: &mut impl Conn,
    org: OrgId,
    f: &Filter,
    after: Option<(Uuid, i64, Uuid)>,
    limit: u64,
) -> Result<Vec<Prospect>> {
    let mut q = Query::select();
    q.columns(PROSPECT_READ)
        .from("prospects")
        .and_where(Expr::col("org_id").eq(org.0));
    if let Some(l) = f.list {
        q.and_where(Expr::col("list_id").eq(l.0));
    }
    if let Some(s) = f.status {
        q.and_where(Expr::col("status").eq(s.as_str()));
    }
    if let Some(u) = f.assigned_to {
        q.and_where(Expr::col("assigned_to").eq(u.0));
    }
    if let Some(v) = &f.visible {
        q.and_where(Expr::col("list_id").in_subquery(visible_list_ids(org, v)));
    }
    if let Some(text) = &f.q {
        q.and_where(Expr::col("search_text").like(like_pattern(text)));
    }
    if let Some((l, p, id)) = after {
        q.cond_where(
            Cond::any()
                .add(Expr::col("list_id").gt(l))
                .add(
                    Cond::all()
                        .add(Expr::col("list_id").eq(l))
                        .add(Expr::col("position").gt(p)),
                )
                .add(
                    Cond::all()
                        .add(Expr::col("list_id").eq(l))
                        .add(Expr::col("position").eq(p))
                        .add(Expr::col("id").gt(id)),
                ),
        );
    }
    q.order_by("list_id", Order::Asc)
        .order_by("position", Order::Asc)
        .order_by("id", Order::Asc)
        .limit(limit);
    c.all(&q).await
}

/// Updates a prospect; the search text is recomputed from the new row.
pub async fn update_prospect(
    c: &mut impl Conn,
    org: OrgId,
    id: ProspectId,
    expected: Option<i64>,
    changes: Vec<(&'static str, SimpleExpr)>,
    at: DateTime<Utc>,
) -> Result<Prospect> {
    let p: Prospect = update_versioned(c, &PROSPECTS, org, id.0, expected, changes, at).await?;
    let q = Query::update()
        .table("prospects")
        .value("search_text", p.search_text())
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("id").eq(id.0))
        .to_owned();
    c.exec(&q).await?;
    Ok(p)
}

pub async fn delete_prospect(c: &mut impl Conn, org: OrgId, id: ProspectId) -> Result<()> {
    delete_by_id(c, "prospects", org, id.0).await
}

/// Opens the prospect a lead came from again (before the lead is deleted):
/// it is no longer converted, and can be worked or deleted.
pub async fn unlink_lead(c: &mut impl Conn, org: OrgId, lead: Uuid) -> Result<()> {
    let q = Query::update()
        .table("prospects")
        .value("lead_id", Option::<Uuid>::None)
        .value("status", ProspectStatus::Open.as_str())
        .value("closed_at", Option::<DateTime<Utc>>::None)
        .value("version", Expr::col("version").add(1))
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("lead_id").eq(lead))
        .to_owned();
    c.exec(&q).await.map(|_| ())
}

/// Clears a company's (`company_id`) or contact's (`contact_id`) link from
/// the prospects it was created from, before it is deleted.
pub async fn unlink_account(
    c: &mut impl Conn,
    org: OrgId,
    col: &'static str,
    id: Uuid,
) -> Result<()> {
    let q = Query::update()
        .table("prospects")
        .value(col, Option::<Uuid>::None)
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col(col).eq(id))
        .to_owned();
    c.exec(&q).await.map(|_| ())
}

/// Prospects of a list still at `open` ahead of (`forward`) or behind a row
/// position: the next one to work.
pub async fn neighbour(
    c: &mut impl Conn,
    org: OrgId,
    list: ProspectListId,
    position: i64,
    forward: bool,
    assigned_to: Option<UserId>,
) -> Result<Option<Prospect>> {
    let mut q = Query::select();
    q.columns(PROSPECT_READ)
        .from("prospects")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("list_id").eq(list.0))
        .and_where(Expr::col("status").eq(ProspectStatus::Open.as_str()));
    if let Some(u) = assigned_to {
        q.cond_where(
            Cond::any()
                .add(Expr::col("assigned_to").is_null())
                .add(Expr::col("assigned_to").eq(u.0)),
        );
    }
    if forward {
        q.and_where(Expr::col("position").gt(position))
            .order_by("position", Order::Asc);
    } else {
        q.and_where(Expr::col("position").lt(position))
            .order_by("position", Order::Desc);
    }
    q.limit(1);
    c.opt(&q).await
}

/// Deletes every prospect of a list (their activities and answers go with them).
pub async fn delete_list_prospects(
    c: &mut impl Conn,
    org: OrgId,
    list: ProspectListId,
) -> Result<u64> {
    let q = Query::delete()
        .from_table("prospects")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("list_id").eq(list.0))
        .to_owned();
    c.exec(&q).await
}
