//! Companies (accounts) and contacts.

use crate::db::{
    Backend, Bind, BulkRow, Conn, Count, Inserts, Result, Table, delete_by_id, get_by_id,
    like_pattern, owned_by_or_unowned, update_versioned,
};
use chrono::{DateTime, Utc};
use salesops_domain::{CompanyId, ContactId, OrgId, UserId};
use sea_query::{Cond, Expr, ExprTrait, Order, Query, SimpleExpr};
use uuid::Uuid;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Company {
    #[sqlx(try_from = "Uuid")]
    pub org_id: OrgId,
    #[sqlx(try_from = "Uuid")]
    pub id: CompanyId,
    pub name: String,
    pub industry: Option<String>,
    pub size_band: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub website: Option<String>,
    pub phone: Option<String>,
    pub problems: Option<String>,
    pub value_minor: Option<i64>,
    pub value_currency: Option<String>,
    pub owner_id: Option<Uuid>,
    pub external_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

pub const COMPANY_COLS: [&str; 19] = [
    "org_id",
    "id",
    "name",
    "industry",
    "size_band",
    "country",
    "region",
    "postcode",
    "city",
    "website",
    "phone",
    "problems",
    "value_minor",
    "value_currency",
    "owner_id",
    "external_id",
    "created_at",
    "updated_at",
    "version",
];

const COMPANIES: Table = Table {
    name: "companies",
    cols: &COMPANY_COLS,
};
const CONTACTS: Table = Table {
    name: "contacts",
    cols: &CONTACT_COLS,
};

impl Company {
    /// What a company is found by: name, city and website.
    pub fn search_text(&self) -> String {
        crate::db::search_text(&[
            &self.name,
            self.city.as_deref().unwrap_or(""),
            self.website.as_deref().unwrap_or(""),
        ])
    }
}

pub async fn insert_company(c: &mut impl Conn, x: &Company) -> Result<()> {
    insert_companies(c, std::slice::from_ref(x)).await
}

/// Inserts many companies with one statement per batch.
pub async fn insert_companies(c: &mut impl Conn, rows: &[Company]) -> Result<()> {
    crate::db::insert_rows(c, "companies", &COMPANY_INSERT_COLS, rows).await
}

/// The statements [`insert_companies`] runs, built without a connection.
pub fn company_inserts(backend: Backend, rows: &[Company]) -> Result<Inserts> {
    Inserts::new(backend, "companies", &COMPANY_INSERT_COLS, rows)
}

/// The columns a company is inserted with: its own and the search text.
const COMPANY_INSERT_COLS: [&str; 20] = {
    let mut cols = [""; 20];
    let mut i = 0;
    while i < COMPANY_COLS.len() {
        cols[i] = COMPANY_COLS[i];
        i += 1;
    }
    cols[19] = "search_text";
    cols
};

impl BulkRow for Company {
    fn bind_values<B: Bind>(&self, b: &mut B) {
        b.add(self.org_id.0);
        b.add(self.id.0);
        b.add(self.name.as_str());
        b.add(self.industry.as_deref());
        b.add(self.size_band.as_deref());
        b.add(self.country.as_deref());
        b.add(self.region.as_deref());
        b.add(self.postcode.as_deref());
        b.add(self.city.as_deref());
        b.add(self.website.as_deref());
        b.add(self.phone.as_deref());
        b.add(self.problems.as_deref());
        b.add(self.value_minor);
        b.add(self.value_currency.as_deref());
        b.add(self.owner_id);
        b.add(self.external_id.as_deref());
        b.add(self.created_at);
        b.add(self.updated_at);
        b.add(self.version);
        b.add(self.search_text());
    }
}

pub async fn get_company(c: &mut impl Conn, org: OrgId, id: CompanyId) -> Result<Company> {
    get_by_id(c, &COMPANIES, org, id.0).await
}

/// What a list may show and how it is narrowed.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only records without an owner or owned by these users (None: all).
    pub owners: Option<Vec<UserId>>,
    /// Only records of this owner.
    pub owner: Option<UserId>,
    /// Case-insensitive search text.
    pub q: Option<String>,
    /// Contacts only: of this company.
    pub company: Option<CompanyId>,
    /// Only these records (by id).
    pub ids: Option<Vec<Uuid>>,
}

pub async fn list_companies(
    c: &mut impl Conn,
    org: OrgId,
    f: &Filter,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Company>> {
    let mut q = Query::select();
    q.columns(COMPANY_COLS)
        .from("companies")
        .and_where(Expr::col("org_id").eq(org.0));
    if let Some(o) = &f.owners {
        q.cond_where(owned_by_or_unowned(o));
    }
    if let Some(o) = f.owner {
        q.and_where(Expr::col("owner_id").eq(o.0));
    }
    if let Some(ids) = &f.ids {
        q.and_where(Expr::col("id").is_in(ids.clone()));
    }
    if let Some(text) = &f.q {
        q.and_where(Expr::col("search_text").like(like_pattern(text)));
    }
    if let Some(a) = after {
        q.and_where(Expr::col("id").gt(a));
    }
    q.order_by("id", Order::Asc).limit(limit);
    c.all(&q).await
}

pub async fn update_company(
    c: &mut impl Conn,
    org: OrgId,
    id: CompanyId,
    expected: Option<i64>,
    changes: Vec<(&'static str, SimpleExpr)>,
    at: DateTime<Utc>,
) -> Result<Company> {
    update_versioned(c, &COMPANIES, org, id.0, expected, changes, at).await
}

pub async fn delete_company(c: &mut impl Conn, org: OrgId, id: CompanyId) -> Result<()> {
    delete_by_id(c, "companies", org, id.0).await
}

pub async fn company_by_external_id(
    c: &mut impl Conn,
    org: OrgId,
    external_id: &str,
) -> Result<Option<Company>> {
    let q = Query::select()
        .columns(COMPANY_COLS)
        .from("companies")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("external_id").eq(external_id))
        .to_owned();
    c.opt(&q).await
}

impl Contact {
    /// What a contact is found by: name and e-mail (and their company's name, by the list query).
    pub fn search_text(&self) -> String {
        crate::db::search_text(&[&self.name, self.email.as_deref().unwrap_or("")])
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Contact {
    #[sqlx(try_from = "Uuid")]
    pub org_id: OrgId,
    #[sqlx(try_from = "Uuid")]
    pub id: ContactId,
    pub company_id: Option<Uuid>,
    pub name: String,
    pub job_title: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub notes: Option<String>,
    pub owner_id: Option<Uuid>,
    pub external_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

pub const CONTACT_COLS: [&str; 13] = [
    "org_id",
    "id",
    "company_id",
    "name",
    "job_title",
    "email",
    "phone",
    "notes",
    "owner_id",
    "external_id",
    "created_at",
    "updated_at",
    "version",
];

pub async fn insert_contact(c: &mut impl Conn, x: &Contact) -> Result<()> {
    insert_contacts(c, std::slice::from_ref(x)).await
}

/// Inserts many contacts with one statement per batch.
pub async fn insert_contacts(c: &mut impl Conn, rows: &[Contact]) -> Result<()> {
    crate::db::insert_rows(c, "contacts", &CONTACT_INSERT_COLS, rows).await
}

/// The statements [`insert_contacts`] runs, built without a connection.
pub fn contact_inserts(backend: Backend, rows: &[Contact]) -> Result<Inserts> {
    Inserts::new(backend, "contacts", &CONTACT_INSERT_COLS, rows)
}

/// The columns a contact is inserted with: its own and the search text.
const CONTACT_INSERT_COLS: [&str; 14] = {
    let mut cols = [""; 14];
    let mut i = 0;
    while i < CONTACT_COLS.len() {
        cols[i] = CONTACT_COLS[i];
        i += 1;
    }
    cols[13] = "search_text";
    cols
};

impl BulkRow for Contact {
    fn bind_values<B: Bind>(&self, b: &mut B) {
        b.add(self.org_id.0);
        b.add(self.id.0);
        b.add(self.company_id);
        b.add(self.name.as_str());
        b.add(self.job_title.as_deref());
        b.add(self.email.as_deref());
        b.add(self.phone.as_deref());
        b.add(self.notes.as_deref());
        b.add(self.owner_id);
        b.add(self.external_id.as_deref());
        b.add(self.created_at);
        b.add(self.updated_at);
        b.add(self.version);
        b.add(self.search_text());
    }
}

pub async fn get_contact(c: &mut impl Conn, org: OrgId, id: ContactId) -> Result<Contact> {
    get_by_id(c, &CONTACTS, org, id.0).await
}

pub async fn list_contacts(
    c: &mut impl Conn,
    org: OrgId,
    f: &Filter,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Contact>> {
    let mut q = Query::select();
    q.columns(CONTACT_COLS)
        .from("contacts")
        .and_where(Expr::col("org_id").eq(org.0));
    if let Some(o) = &f.owners {
        q.cond_where(owned_by_or_unowned(o));
    }
    if let Some(o) = f.owner {
        q.and_where(Expr::col("owner_id").eq(o.0));
    }
    if let Some(co) = f.company {
        q.and_where(Expr::col("company_id").eq(co.0));
    }
    if let Some(ids) = &f.ids {
        q.and_where(Expr::col("id").is_in(ids.clone()));
    }
    if let Some(text) = &f.q {
        let p = like_pattern(text);
        let companies = Query::select()
            .column("id")
            .from("companies")
            .and_where(Expr::col("org_id").eq(org.0))
            .and_where(Expr::col("search_text").like(p.clone()))
            .to_owned();
        q.cond_where(
            Cond::any()
                .add(Expr::col("search_text").like(p))
                .add(Expr::col("company_id").in_subquery(companies)),
        );
    }
    if let Some(a) = after {
        q.and_where(Expr::col("id").gt(a));
    }
    q.order_by("id", Order::Asc).limit(limit);
    c.all(&q).await
}

pub async fn update_contact(
    c: &mut impl Conn,
    org: OrgId,
    id: ContactId,
    expected: Option<i64>,
    changes: Vec<(&'static str, SimpleExpr)>,
    at: DateTime<Utc>,
) -> Result<Contact> {
    update_versioned(c, &CONTACTS, org, id.0, expected, changes, at).await
}

pub async fn delete_contact(c: &mut impl Conn, org: OrgId, id: ContactId) -> Result<()> {
    delete_by_id(c, "contacts", org, id.0).await
}

/// How many contacts a company has.
pub async fn contact_count(c: &mut impl Conn, org: OrgId, company: CompanyId) -> Result<i64> {
    let q = Query::select()
        .expr_as(Expr::col("id").count(), "n")
        .from("contacts")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("company_id").eq(company.0))
        .to_owned();
    Ok(c.one::<Count>(&q).await?.n)
}
