//! Activities logged or scheduled against leads, companies, contacts and
//! prospects.

use crate::db::{
    Backend, Bind, BulkRow, Conn, Inserts, Result, Table, delete_by_id, get_by_id, update_versioned,
};
use chrono::{DateTime, Utc};
use salesops_domain::{
    ActivityId, ActivityTypeId, CompanyId, ContactId, LeadId, OrgId, ProspectId, UserId,
};
use sea_query::{Expr, ExprTrait, Order, Query, SimpleExpr};
use uuid::Uuid;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Activity {
    #[sqlx(try_from = "Uuid")]
    pub org_id: OrgId,
    #[sqlx(try_from = "Uuid")]
    pub id: ActivityId,
    #[sqlx(try_from = "Uuid")]
    pub type_id: ActivityTypeId,
    pub outcome_id: Option<Uuid>,
    #[sqlx(try_from = "Uuid")]
    pub user_id: UserId,
    pub lead_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub prospect_id: Option<Uuid>,
    pub done: bool,
    pub happened_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub duration_minutes: Option<i32>,
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

const COLS: [&str; 17] = [
    "org_id",
    "id",
    "type_id",
    "outcome_id",
    "user_id",
    "lead_id",
    "company_id",
    "contact_id",
    "prospect_id",
    "done",
    "happened_at",
    "due_at",
    "duration_minutes",
    "notes",
    "created_at",
    "updated_at",
    "version",
];
const ACTIVITIES: Table = Table {
    name: "activities",
    cols: &COLS,
};

pub async fn insert(c: &mut impl Conn, a: &Activity) -> Result<()> {
    insert_many(c, std::slice::from_ref(a)).await
}

/// Inserts many activities with one statement per batch of rows (as many
/// as the parameter limit allows).
pub async fn insert_many(c: &mut impl Conn, rows: &[Activity]) -> Result<()> {
    crate::db::insert_rows(c, "activities", &COLS, rows).await
}

/// The statements [`insert_many`] runs, built without a connection.
pub fn inserts(backend: Backend, rows: &[Activity]) -> Result<Inserts> {
    Inserts::new(backend, "activities", &COLS, rows)
}

impl BulkRow for Activity {
    fn bind_values<B: Bind>(&self, b: &mut B) {
        b.add(self.org_id.0);
        b.add(self.id.0);
        b.add(self.type_id.0);
        b.add(self.outcome_id);
        b.add(self.user_id.0);
        b.add(self.lead_id);
        b.add(self.company_id);
        b.add(self.contact_id);
        b.add(self.prospect_id);
        b.add(self.done);
        b.add(self.happened_at);
        b.add(self.due_at);
        b.add(self.duration_minutes);
        b.add(self.notes.as_deref());
        b.add(self.created_at);
        b.add(self.updated_at);
        b.add(self.version);
    }
}

/// Inserts imported activities with their external ids (a column the
/// `Activity` row does not carry).
pub async fn insert_imported(c: &mut impl Conn, rows: &[(Activity, Option<String>)]) -> Result<()> {
    for chunk in rows.chunks(crate::db::rows_per_insert(COLS.len() + 1)) {
        let mut q = Query::insert();
        q.into_table("activities")
            .columns(COLS.iter().copied().chain(["external_id"]));
        for (a, ext) in chunk {
            let mut v = values(a).to_vec();
            v.push(ext.clone().into());
            q.values_panic(v);
        }
        c.exec(&q).await?;
    }
    Ok(())
}

fn values(a: &Activity) -> [SimpleExpr; 17] {
    [
        a.org_id.0.into(),
        a.id.0.into(),
        a.type_id.0.into(),
        a.outcome_id.into(),
        a.user_id.0.into(),
        a.lead_id.into(),
        a.company_id.into(),
        a.contact_id.into(),
        a.prospect_id.into(),
        a.done.into(),
        a.happened_at.into(),
        a.due_at.into(),
        a.duration_minutes.into(),
        a.notes.clone().into(),
        a.created_at.into(),
        a.updated_at.into(),
        a.version.into(),
    ]
}

pub async fn get(c: &mut impl Conn, org: OrgId, id: ActivityId) -> Result<Activity> {
    get_by_id(c, &ACTIVITIES, org, id.0).await
}

#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only activities of these users (None: everybody's).
    pub users: Option<Vec<UserId>>,
    pub user: Option<UserId>,
    pub lead: Option<LeadId>,
    pub company: Option<CompanyId>,
    pub contact: Option<ContactId>,
    pub prospect: Option<ProspectId>,
    pub done: Option<bool>,
    /// Scheduled ones due before this time.
    pub due_before: Option<DateTime<Utc>>,
    /// Scheduled ones due at or after this time.
    pub due_from: Option<DateTime<Utc>>,
    /// Done ones that happened at or after this time.
    pub happened_from: Option<DateTime<Utc>>,
    /// Only activities whose lead, company and contact (where set) are
    /// unowned or owned by these users (None: no such limit).
    pub record_owners: Option<Vec<UserId>>,
    /// Only activities whose prospect (where set) is on a list the reader
    /// sees (None: no such limit).
    pub prospect_lists: Option<crate::prospecting::Visible>,
}

/// `col IS NULL OR col IN (SELECT id FROM table WHERE owner unset or one of owners)`.
fn visible_record(
    org: OrgId,
    col: &'static str,
    table: &'static str,
    owners: &[UserId],
) -> sea_query::Condition {
    let sub = Query::select()
        .column("id")
        .from(table)
        .and_where(Expr::col("org_id").eq(org.0))
        .cond_where(crate::db::owned_by_or_unowned(owners))
        .to_owned();
    sea_query::Cond::any()
        .add(Expr::col(col).is_null())
        .add(Expr::col(col).in_subquery(sub))
}

/// Activities in the order they happened or are due (newest first when
/// `newest_first`), at most `limit`.
pub async fn list(
    c: &mut impl Conn,
    org: OrgId,
    f: &Filter,
    limit: u64,
    newest_first: bool,
) -> Result<Vec<Activity>> {
    let mut q = select(org, f);
    let order = if newest_first {
        Order::Desc
    } else {
        Order::Asc
    };
    // Done ones by when they happened, scheduled ones by when they are due.
    q.order_by_expr(Expr::cust("COALESCE(happened_at, due_at)"), order.clone())
        .order_by("id", order)
        .limit(limit);
    c.all(&q).await
}

/// Activities in id order after `after`, at most `limit` (for exports).
pub async fn list_by_id(
    c: &mut impl Conn,
    org: OrgId,
    f: &Filter,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Activity>> {
    let mut q = select(org, f);
    if let Some(a) = after {
        q.and_where(Expr::col("id").gt(a));
    }
    q.order_by("id", Order::Asc).limit(limit);
    c.all(&q).await
}

fn select(org: OrgId, f: &Filter) -> sea_query::SelectStatement {
    let mut q = Query::select();
    q.columns(COLS)
        .from("activities")
        .and_where(Expr::col("org_id").eq(org.0));
    if let Some(u) = &f.users {
        q.and_where(Expr::col("user_id").is_in(u.iter().map(|x| x.0).collect::<Vec<_>>()));
    }
    if let Some(u) = f.user {
        q.and_where(Expr::col("user_id").eq(u.0));
    }
    if let Some(l) = f.lead {
        q.and_where(Expr::col("lead_id").eq(l.0));
    }
    if let Some(x) = f.company {
        q.and_where(Expr::col("company_id").eq(x.0));
    }
    if let Some(x) = f.contact {
        q.and_where(Expr::col("contact_id").eq(x.0));
    }
    if let Some(x) = f.prospect {
        q.and_where(Expr::col("prospect_id").eq(x.0));
    }
    if let Some(d) = f.done {
        q.and_where(Expr::col("done").eq(d));
    }
    if let Some(t) = f.due_before {
        q.and_where(Expr::col("due_at").lt(t));
    }
    if let Some(t) = f.due_from {
        q.and_where(Expr::col("due_at").gte(t));
    }
    if let Some(t) = f.happened_from {
        q.and_where(Expr::col("happened_at").gte(t));
    }
    if let Some(o) = &f.record_owners {
        q.cond_where(visible_record(org, "lead_id", "leads", o));
        q.cond_where(visible_record(org, "company_id", "companies", o));
        q.cond_where(visible_record(org, "contact_id", "contacts", o));
    }
    if let Some(v) = &f.prospect_lists {
        let visible = Query::select()
            .column("id")
            .from("prospects")
            .and_where(Expr::col("org_id").eq(org.0))
            .and_where(
                Expr::col("list_id").in_subquery(crate::prospecting::visible_list_ids(org, v)),
            )
            .to_owned();
        q.cond_where(
            sea_query::Cond::any()
                .add(Expr::col("prospect_id").is_null())
                .add(Expr::col("prospect_id").in_subquery(visible)),
        );
    }
    q
}

pub async fn update(
    c: &mut impl Conn,
    org: OrgId,
    id: ActivityId,
    expected: Option<i64>,
    changes: Vec<(&'static str, SimpleExpr)>,
    at: DateTime<Utc>,
) -> Result<Activity> {
    update_versioned(c, &ACTIVITIES, org, id.0, expected, changes, at).await
}

pub async fn delete(c: &mut impl Conn, org: OrgId, id: ActivityId) -> Result<()> {
    delete_by_id(c, "activities", org, id.0).await
}

/// How many activities on a lead were done by someone other than `user`.
pub async fn count_on_lead_by_others(
    c: &mut impl Conn,
    org: OrgId,
    lead: LeadId,
    user: UserId,
) -> Result<i64> {
    let q = Query::select()
        .expr_as(Expr::col("id").count(), "n")
        .from("activities")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("lead_id").eq(lead.0))
        .and_where(Expr::col("user_id").ne(user.0))
        .to_owned();
    Ok(c.one::<crate::db::Count>(&q).await?.n)
}
