//! Importing a CSV file: check every row with the rules of the create and
//! update use cases, then write all of them (or the valid ones) in one
//! transaction.

use super::{CsvFile, FileError, Kind, Mapping, Row};
use crate::activities::ActivityInput;
use crate::crm::{CompanyInput, ContactInput, OwnerChecks};
use crate::leads::LeadInput;
use crate::permissions::{Action, Actor, Resource, require};
use crate::prospecting::ProspectInput;
use crate::{App, AppError, Result};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use salesops_domain::{
    ActivityTypeId, CompanyId, ContactId, Currency, Invalid, LeadId, Money, MoneyJson, OutcomeId,
    ProspectId, ProspectListId, UserId,
};
use salesops_store::activities::{self, Activity};
use salesops_store::activity_types::{self, ActivityType, Outcome};
use salesops_store::crm::{self, Company, Contact};
use salesops_store::imports::ids_where;
use salesops_store::imports::{self, ExternalRef};
use salesops_store::leads::{self, Lead};
use salesops_store::pipelines::{self, Pipeline, Stage};
use salesops_store::prospecting::{self, Prospect, ProspectList};
use salesops_store::{Conn, Tx, now, users};
use sea_query::SimpleExpr;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

/// At most this many row errors are reported (all are counted).
pub const MAX_REPORTED_ERRORS: usize = 1000;
/// Progress is reported every this many rows.
const PROGRESS_EVERY: u64 = 2000;
/// New rows are written in batches of this many.
const WRITE_BATCH: usize = 500;

#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    pub kind: Option<Kind>,
    /// Check only; write nothing.
    pub dry_run: bool,
    /// Write the valid rows even when others are invalid.
    pub skip_invalid: bool,
    /// Prospects: the list they go to.
    pub list_id: Option<ProspectListId>,
    pub mapping: Mapping,
}

/// One problem with one row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    /// The row (line) in the file; the header is row 1. None: the file.
    pub row: Option<u64>,
    /// The column header.
    pub column: Option<String>,
    pub message: String,
}

impl From<FileError> for RowError {
    fn from(e: FileError) -> Self {
        RowError {
            row: e.row,
            column: e.column,
            message: e.message,
        }
    }
}

/// What an import did, or (dry run) would do.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub kind: String,
    pub dry_run: bool,
    /// Data rows read.
    pub rows: u64,
    pub valid: u64,
    pub created: u64,
    pub updated: u64,
    /// Rows whose record exists already and that change nothing (activities).
    pub unchanged: u64,
    /// Invalid rows left out (with `skip_invalid`).
    pub skipped: u64,
    /// Invalid rows in all (at most `MAX_REPORTED_ERRORS` errors are listed).
    pub error_count: u64,
    pub errors: Vec<RowError>,
    /// Whether anything was written.
    pub written: bool,
    /// Why the file could not be read at all (nothing was written).
    pub failure: Option<String>,
}

impl Report {
    /// A one-line summary.
    pub fn summary(&self) -> String {
        if let Some(f) = &self.failure {
            return format!("the file was not imported: {f}");
        }
        let verb = if self.dry_run {
            "would create"
        } else {
            "created"
        };
        let mut s = format!(
            "{} rows read, {} valid, {} invalid; {verb} {}, {} {}",
            self.rows,
            self.valid,
            self.error_count,
            self.created,
            if self.dry_run {
                "would update"
            } else {
                "updated"
            },
            self.updated
        );
        if self.unchanged > 0 {
            s.push_str(&format!(", {} unchanged", self.unchanged));
        }
        if self.skipped > 0 {
            s.push_str(&format!(", {} invalid rows skipped", self.skipped));
        }
        if !self.dry_run && !self.written && self.error_count > 0 {
            s.push_str("; nothing was written because of the invalid rows");
        }
        s
    }

    /// Did the import not do what was asked (an unreadable file, or invalid
    /// rows that stopped it)?
    pub fn failed(&self) -> bool {
        self.failure.is_some() || (self.error_count > 0 && !self.dry_run && !self.written)
    }

    fn push_error(&mut self, e: RowError) {
        if self.errors.len() < MAX_REPORTED_ERRORS {
            self.errors.push(e);
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Checking,
    Writing,
}

#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub phase: Phase,
    pub done: u64,
    pub total: u64,
}

/// What a valid row becomes.
enum Plan {
    Company(Company),
    Contact(Contact),
    Lead(Lead),
    Prospect(Prospect),
    Activity(Activity, Option<String>),
    /// An update of an existing record: its table, id and column changes.
    Update(&'static str, Uuid, Vec<(&'static str, SimpleExpr)>),
    Unchanged,
}

/// Why a row is not imported: its errors by field (of the file), or a
/// failure that stops the import.
enum RowFail {
    Invalid(Vec<(String, String)>),
    Fatal(AppError),
}

impl From<AppError> for RowFail {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid(inv) => {
                RowFail::Invalid(inv.0.into_iter().map(|fe| (fe.field, fe.message)).collect())
            }
            AppError::NotFound | AppError::Forbidden => RowFail::Invalid(vec![(
                String::new(),
                "you may not change this record".into(),
            )]),
            e => RowFail::Fatal(e),
        }
    }
}

type RowResult<T> = std::result::Result<T, RowFail>;

fn invalid(field: &str, msg: impl Into<String>) -> RowFail {
    RowFail::Invalid(vec![(field.to_string(), msg.into())])
}

impl Kind {
    pub(super) fn resource(self) -> Resource {
        match self {
            Kind::Companies | Kind::Contacts => Resource::Account,
            Kind::Leads => Resource::Lead,
            Kind::Prospects => Resource::Prospect,
            Kind::Activities => Resource::Activity,
        }
    }

    pub(crate) fn table(self) -> &'static str {
        match self {
            Kind::Companies => "companies",
            Kind::Contacts => "contacts",
            Kind::Leads => "leads",
            Kind::Prospects => "prospects",
            Kind::Activities => "activities",
        }
    }

    /// The file's field for a field of the use case's errors.
    fn file_field(self, app_field: &str) -> &str {
        match app_field {
            "owner_id" => "owner_email",
            "company_id" => "company",
            "contact_id" => "contact",
            "lead_id" => "lead",
            "prospect_id" => "prospect",
            "type_id" => "type",
            "outcome_id" => "outcome",
            "pipeline_id" => "pipeline",
            "stage_id" => "stage",
            "value" if self == Kind::Companies => "value",
            other => other,
        }
    }
}

/// What one import knows while it reads rows.
struct Ctx<'a> {
    app: &'a App,
    actor: &'a Actor,
    kind: Kind,
    german: bool,
    has: Vec<bool>,
    /// Records that carry an external id already.
    existing: HashMap<String, ExternalRef>,
    /// External ids seen in this file, with their row.
    seen: HashMap<String, u64>,
    users: HashMap<String, Option<UserId>>,
    owner_checks: OwnerChecks,
    refs: HashMap<(&'static str, String), RefFound>,
    pipelines: Vec<Pipeline>,
    stages: Vec<Stage>,
    types: Vec<ActivityType>,
    outcomes: Vec<Outcome>,
    list: Option<(ProspectList, Vec<UserId>)>,
}

#[derive(Clone)]
enum RefFound {
    One(Uuid),
    None,
    Many,
}

impl App {
    /// May the actor import this kind (into this list)? Checked before a
    /// file is taken, so a viewer is refused at once.
    pub async fn may_import(
        &self,
        actor: &Actor,
        kind: Kind,
        list: Option<ProspectListId>,
    ) -> Result<()> {
        require(actor, kind.resource(), Action::Create, None)?;
        if kind == Kind::Prospects {
            let Some(list) = list else {
                return Err(AppError::Invalid(Invalid::one(
                    "list_id",
                    "choose the prospecting list to import into",
                )));
            };
            let (_, _, t) = self.readable_list(actor, list).await?;
            require(actor, Resource::Prospect, Action::Create, Some(&t))?;
        }
        Ok(())
    }

    /// Imports a CSV file (see the module). A file that cannot be read
    /// gives a report with `failure` set; invalid rows are listed in the
    /// report and, unless `skip_invalid`, stop anything from being written.
    /// `progress` is called every few thousand rows.
    pub async fn import_csv(
        &self,
        actor: &Actor,
        data: &[u8],
        opts: &ImportOptions,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<Report> {
        let kind = opts
            .kind
            .ok_or_else(|| AppError::Invalid(Invalid::one("kind", "is required")))?;
        self.may_import(actor, kind, opts.list_id).await?;
        let mut report = Report {
            kind: kind.as_str().into(),
            dry_run: opts.dry_run,
            ..Report::default()
        };
        let file = match CsvFile::open(data, kind, &opts.mapping) {
            Ok(f) => f,
            Err(e) => return Ok(report.fail(e)),
        };
        // Count the rows (and find a broken encoding) before anything else.
        let mut total = 0;
        for r in file.rows() {
            if let Err(e) = r {
                return Ok(report.fail(e));
            }
            total += 1;
        }
        report.rows = total;
        progress(Progress {
            phase: Phase::Checking,
            done: 0,
            total,
        });

        // Pass 1: check every row.
        let mut ctx = Ctx::new(self, actor, kind, &file, opts.list_id).await?;
        ctx.existing = existing(&mut self.conn(), actor, kind).await?;
        let mut done = 0;
        for row in file.rows() {
            let row = row.map_err(|e| AppError::Internal(e.to_string()))?;
            match ctx.plan(&row).await {
                Ok(Plan::Update(..)) => {
                    report.valid += 1;
                    report.updated += 1;
                }
                Ok(Plan::Unchanged) => {
                    report.valid += 1;
                    report.unchanged += 1;
                }
                Ok(_) => {
                    report.valid += 1;
                    report.created += 1;
                }
                Err(RowFail::Invalid(errs)) => {
                    report.error_count += 1;
                    for (field, message) in errs {
                        report.push_error(RowError {
                            row: Some(row.row),
                            column: (!field.is_empty())
                                .then(|| file.header_of(kind.file_field(&field))),
                            message,
                        });
                    }
                }
                Err(RowFail::Fatal(e)) => return Err(e),
            }
            done += 1;
            if done % PROGRESS_EVERY == 0 {
                progress(Progress {
                    phase: Phase::Checking,
                    done,
                    total,
                });
            }
        }
        progress(Progress {
            phase: Phase::Checking,
            done: total,
            total,
        });
        if opts.dry_run || (report.error_count > 0 && !opts.skip_invalid) || report.valid == 0 {
            return Ok(report);
        }

        // Pass 2: check again and write, in one transaction.
        let (created, updated, unchanged) = (report.created, report.updated, report.unchanged);
        report.created = 0;
        report.updated = 0;
        report.unchanged = 0;
        let mut tx = self.db.begin().await?;
        let mut ctx = Ctx::new(self, actor, kind, &file, opts.list_id).await?;
        ctx.existing = existing(&mut tx, actor, kind).await?;
        let mut batch = Batch::default();
        let mut position = match &ctx.list {
            Some((l, _)) => prospecting::next_position(&mut tx, actor.org_id, l.id).await?,
            None => 0,
        };
        let mut done = 0;
        for row in file.rows() {
            let row = row.map_err(|e| AppError::Internal(e.to_string()))?;
            match ctx.plan(&row).await {
                Ok(Plan::Update(table, id, changes)) => {
                    update(&mut tx, actor, table, id, changes).await?;
                    report.updated += 1;
                }
                Ok(Plan::Unchanged) => report.unchanged += 1,
                Ok(Plan::Prospect(mut p)) => {
                    p.position = position;
                    position += 1;
                    batch.push(Plan::Prospect(p));
                    report.created += 1;
                }
                Ok(plan) => {
                    batch.push(plan);
                    report.created += 1;
                }
                Err(RowFail::Invalid(_)) if opts.skip_invalid => report.skipped += 1,
                Err(RowFail::Invalid(errs)) => {
                    // Valid a moment ago: something changed meanwhile.
                    return Err(AppError::Conflict(format!(
                        "row {} became invalid during the import ({}); nothing was written",
                        row.row,
                        errs.into_iter()
                            .map(|(f, m)| format!("{f}: {m}"))
                            .collect::<Vec<_>>()
                            .join("; ")
                    )));
                }
                Err(RowFail::Fatal(e)) => return Err(e),
            }
            if batch.len() >= WRITE_BATCH {
                batch.flush(&mut tx, actor).await?;
            }
            done += 1;
            if done % PROGRESS_EVERY == 0 {
                progress(Progress {
                    phase: Phase::Writing,
                    done,
                    total,
                });
            }
        }
        batch.flush(&mut tx, actor).await?;
        tx.commit().await?;
        progress(Progress {
            phase: Phase::Writing,
            done: total,
            total,
        });
        report.written = true;
        tracing::info!(
            kind = kind.as_str(),
            created = report.created,
            updated = report.updated,
            checked_created = created,
            checked_updated = updated,
            checked_unchanged = unchanged,
            "csv import written"
        );
        Ok(report)
    }
}

impl Report {
    fn fail(mut self, e: FileError) -> Report {
        self.failure = Some(e.to_string());
        self.error_count = 1;
        self.errors = vec![e.into()];
        self
    }
}

async fn existing(
    c: &mut impl Conn,
    actor: &Actor,
    kind: Kind,
) -> Result<HashMap<String, ExternalRef>> {
    Ok(imports::external_ids(c, actor.org_id, kind.table())
        .await?
        .into_iter()
        .map(|r| (r.external_id.clone(), r))
        .collect())
}

async fn update(
    tx: &mut Tx,
    actor: &Actor,
    table: &'static str,
    id: Uuid,
    changes: Vec<(&'static str, SimpleExpr)>,
) -> Result<()> {
    let at = now();
    let org = actor.org_id;
    match table {
        "companies" => crm::update_company(tx, org, CompanyId(id), None, changes, at)
            .await
            .map(|_| ())
            .map_err(crate::crm::external_id_taken),
        "contacts" => crm::update_contact(tx, org, ContactId(id), None, changes, at)
            .await
            .map(|_| ())
            .map_err(crate::crm::external_id_taken),
        "leads" => leads::update(tx, org, LeadId(id), None, changes, at)
            .await
            .map(|_| ())
            .map_err(crate::leads::external_id_taken),
        "prospects" => prospecting::update_prospect(tx, org, ProspectId(id), None, changes, at)
            .await
            .map(|_| ())
            .map_err(crate::prospecting::external_id_taken),
        _ => Ok(()),
    }
}

/// New rows waiting to be written.
#[derive(Default)]
struct Batch {
    companies: Vec<Company>,
    contacts: Vec<Contact>,
    leads: Vec<Lead>,
    prospects: Vec<Prospect>,
    activities: Vec<(Activity, Option<String>)>,
}

impl Batch {
    fn push(&mut self, p: Plan) {
        match p {
            Plan::Company(x) => self.companies.push(x),
            Plan::Contact(x) => self.contacts.push(x),
            Plan::Lead(x) => self.leads.push(x),
            Plan::Prospect(x) => self.prospects.push(x),
            Plan::Activity(a, e) => self.activities.push((a, e)),
            Plan::Update(..) | Plan::Unchanged => {}
        }
    }

    fn len(&self) -> usize {
        self.companies.len()
            + self.contacts.len()
            + self.leads.len()
            + self.prospects.len()
            + self.activities.len()
    }

    async fn flush(&mut self, tx: &mut Tx, actor: &Actor) -> Result<()> {
        if !self.companies.is_empty() {
            crm::insert_companies(tx, &self.companies)
                .await
                .map_err(crate::crm::external_id_taken)?;
            self.companies.clear();
        }
        if !self.contacts.is_empty() {
            crm::insert_contacts(tx, &self.contacts)
                .await
                .map_err(crate::crm::external_id_taken)?;
            self.contacts.clear();
        }
        if !self.leads.is_empty() {
            crate::leads::insert_leads(tx, actor, &self.leads).await?;
            self.leads.clear();
        }
        if !self.prospects.is_empty() {
            prospecting::insert_prospects(tx, &self.prospects)
                .await
                .map_err(crate::prospecting::external_id_taken)?;
            self.prospects.clear();
        }
        if !self.activities.is_empty() {
            activities::insert_imported(tx, &self.activities).await?;
            if crate::notify::events::wanted(tx, actor.org_id, "activity.created").await? {
                for (a, _) in &self.activities {
                    crate::notify::events::emit(
                        tx,
                        actor.org_id,
                        "activity.created",
                        a.id.0,
                        crate::notify::events::activity_data(a),
                        None,
                    )
                    .await?;
                }
            }
            self.activities.clear();
        }
        Ok(())
    }
}

impl<'a> Ctx<'a> {
    async fn new(
        app: &'a App,
        actor: &'a Actor,
        kind: Kind,
        file: &CsvFile<'_>,
        list: Option<ProspectListId>,
    ) -> Result<Ctx<'a>> {
        let org = actor.org_id;
        let mut c = app.conn();
        let (mut pipelines_, mut stages, mut types, mut outcomes, mut list_) =
            (vec![], vec![], vec![], vec![], None);
        match kind {
            Kind::Leads => {
                pipelines_ = pipelines::list_pipelines(&mut c, org).await?;
                stages = pipelines::list_stages(&mut c, org, None).await?;
            }
            Kind::Activities => {
                types = activity_types::list_types(&mut c, org, true).await?;
                outcomes = activity_types::list_outcomes(&mut c, org, None, true).await?;
            }
            Kind::Prospects => {
                if let Some(id) = list {
                    let (l, reps, _) = app.readable_list(actor, id).await?;
                    list_ = Some((l, reps));
                }
            }
            _ => {}
        }
        Ok(Ctx {
            app,
            actor,
            kind,
            german: file.german(),
            has: kind.fields().iter().map(|f| file.has(f.name)).collect(),
            existing: HashMap::new(),
            seen: HashMap::new(),
            users: HashMap::new(),
            owner_checks: OwnerChecks::default(),
            refs: HashMap::new(),
            pipelines: pipelines_,
            stages,
            types,
            outcomes,
            list: list_,
        })
    }

    /// The row's value of a field: `None` when the file has no such column
    /// (leave it), `Some(None)` when blank (clear it).
    fn opt(&self, row: &Row, field: &str) -> Option<Option<String>> {
        let i = self.kind.field_index(field)?;
        self.has[i].then(|| row.values[i].clone())
    }

    fn val(&self, row: &Row, field: &str) -> Option<String> {
        self.opt(row, field).flatten()
    }

    async fn user(
        &mut self,
        field: &str,
        email: &str,
        errs: &mut Vec<(String, String)>,
    ) -> Result<Option<UserId>> {
        let key = email.trim().to_lowercase();
        if !self.users.contains_key(&key) {
            let u = users::by_email(&mut self.app.conn(), self.actor.org_id, &key)
                .await?
                .map(|u| u.id);
            self.users.insert(key.clone(), u);
        }
        let u = self.users[&key];
        if u.is_none() {
            errs.push((
                field.into(),
                format!("no user has the e-mail address {email}"),
            ));
        }
        Ok(u)
    }

    /// A user column: `None` not in the file, `Some(None)` blank.
    async fn user_opt(
        &mut self,
        row: &Row,
        field: &str,
        errs: &mut Vec<(String, String)>,
    ) -> Result<Option<Option<UserId>>> {
        Ok(match self.opt(row, field) {
            None => None,
            Some(None) => Some(None),
            Some(Some(e)) => self.user(field, &e, errs).await?.map(Some),
        })
    }

    /// A record of `table` by external id, id or (`name_col`) exact name.
    async fn reference(
        &mut self,
        table: &'static str,
        name_col: Option<&'static str>,
        field: &str,
        value: &str,
        errs: &mut Vec<(String, String)>,
    ) -> Result<Option<Uuid>> {
        let key = (table, value.to_string());
        if !self.refs.contains_key(&key) {
            let org = self.actor.org_id;
            let mut c = self.app.conn();
            let mut found = ids_where(&mut c, org, table, "external_id", value.into()).await?;
            if found.is_empty()
                && let Ok(id) = Uuid::parse_str(value)
            {
                found = ids_where(&mut c, org, table, "id", id.into()).await?;
            }
            if found.is_empty()
                && let Some(col) = name_col
            {
                found = ids_where(&mut c, org, table, col, value.into()).await?;
            }
            let r = match found.len() {
                0 => RefFound::None,
                1 => RefFound::One(found[0]),
                _ => RefFound::Many,
            };
            self.refs.insert(key.clone(), r);
        }
        let what = table.trim_end_matches('s');
        Ok(match &self.refs[&key] {
            RefFound::One(id) => Some(*id),
            RefFound::None => {
                errs.push((
                    field.into(),
                    format!("no {what} has the external id or name {value:?}"),
                ));
                None
            }
            RefFound::Many => {
                errs.push((
                    field.into(),
                    format!("several records are named {value:?}; use the {what}'s external id"),
                ));
                None
            }
        })
    }

    /// The external id of the row: an update when a record has it, an error
    /// when an earlier row of the file has it too.
    fn external(&mut self, row: &Row, errs: &mut Vec<(String, String)>) -> Option<ExternalRef> {
        let ext = self.val(row, "external_id")?;
        if let Some(prev) = self.seen.get(&ext) {
            errs.push((
                "external_id".into(),
                format!("{ext:?} appears in row {prev} too"),
            ));
            return None;
        }
        self.seen.insert(ext.clone(), row.row);
        self.existing.get(&ext).cloned()
    }

    fn money(
        &self,
        row: &Row,
        amount_field: &str,
        errs: &mut Vec<(String, String)>,
    ) -> Option<Option<MoneyJson>> {
        let amount = self.opt(row, amount_field)?;
        let Some(amount) = amount else {
            return Some(None);
        };
        let Some(cur) = self.val(row, "currency") else {
            errs.push(("currency".into(), "is required with an amount".into()));
            return None;
        };
        let cur = match Currency::parse(&cur) {
            Ok(c) => c,
            Err(e) => {
                errs.push(("currency".into(), e.to_string()));
                return None;
            }
        };
        match Money::parse_localized(&amount, cur, self.german) {
            Ok(m) => Some(Some(m.into())),
            Err(e) => {
                errs.push((amount_field.into(), e.to_string()));
                None
            }
        }
    }

    fn date(
        &self,
        row: &Row,
        field: &str,
        errs: &mut Vec<(String, String)>,
    ) -> Option<Option<NaiveDate>> {
        let v = self.opt(row, field)?;
        let Some(v) = v else { return Some(None) };
        match parse_date(&v) {
            Some(d) => Some(Some(d)),
            None => {
                errs.push((
                    field.into(),
                    format!("{v:?} is not a date such as 2025-03-31 or 31.03.2025"),
                ));
                None
            }
        }
    }

    fn datetime(
        &self,
        row: &Row,
        field: &str,
        errs: &mut Vec<(String, String)>,
    ) -> Option<DateTime<Utc>> {
        let v = self.val(row, field)?;
        let d = parse_datetime(&v);
        if d.is_none() {
            errs.push((
                field.into(),
                format!("{v:?} is not a time such as 2025-03-31 14:30 or 31.03.2025 14:30"),
            ));
        }
        d
    }

    async fn plan(&mut self, row: &Row) -> RowResult<Plan> {
        match self.kind {
            Kind::Companies => self.company(row).await,
            Kind::Contacts => self.contact(row).await,
            Kind::Leads => self.lead(row).await,
            Kind::Prospects => self.prospect(row).await,
            Kind::Activities => self.activity(row).await,
        }
    }

    async fn company(&mut self, row: &Row) -> RowResult<Plan> {
        let mut errs = vec![];
        let found = self.external(row, &mut errs);
        let owner_id = self.user_opt(row, "owner_email", &mut errs).await?;
        let value = self.money(row, "value", &mut errs);
        let input = CompanyInput {
            name: self.val(row, "name"),
            industry: self.opt(row, "industry"),
            size_band: self.opt(row, "size_band"),
            country: self.opt(row, "country"),
            region: self.opt(row, "region"),
            postcode: self.opt(row, "postcode"),
            city: self.opt(row, "city"),
            website: self.opt(row, "website"),
            phone: self.opt(row, "phone"),
            problems: self.opt(row, "problems"),
            value,
            owner_id,
            external_id: self.opt(row, "external_id"),
        };
        if input.name.is_none() {
            errs.push(("name".into(), "is required".into()));
        }
        if !errs.is_empty() {
            return Err(RowFail::Invalid(errs));
        }
        Ok(match found {
            Some(r) => Plan::Update(
                "companies",
                r.id,
                self.app
                    .prepare_company_update(self.actor, CompanyId(r.id), input)
                    .await?,
            ),
            None => Plan::Company(
                self.app
                    .prepare_company(self.actor, input, &mut self.owner_checks)
                    .await?,
            ),
        })
    }

    async fn contact(&mut self, row: &Row) -> RowResult<Plan> {
        let mut errs = vec![];
        let found = self.external(row, &mut errs);
        let owner_id = self.user_opt(row, "owner_email", &mut errs).await?;
        let company_id = match self.opt(row, "company") {
            None => None,
            Some(None) => Some(None),
            Some(Some(v)) => self
                .reference("companies", Some("name"), "company", &v, &mut errs)
                .await?
                .map(|id| Some(CompanyId(id))),
        };
        let input = ContactInput {
            name: self.val(row, "name"),
            company_id,
            job_title: self.opt(row, "job_title"),
            email: self.opt(row, "email"),
            phone: self.opt(row, "phone"),
            notes: self.opt(row, "notes"),
            owner_id,
            external_id: self.opt(row, "external_id"),
        };
        if input.name.is_none() {
            errs.push(("name".into(), "is required".into()));
        }
        if !errs.is_empty() {
            return Err(RowFail::Invalid(errs));
        }
        Ok(match found {
            Some(r) => Plan::Update(
                "contacts",
                r.id,
                self.app
                    .prepare_contact_update(self.actor, ContactId(r.id), input)
                    .await?,
            ),
            None => Plan::Contact(
                self.app
                    .prepare_contact(self.actor, input, &mut self.owner_checks)
                    .await?,
            ),
        })
    }

    async fn lead(&mut self, row: &Row) -> RowResult<Plan> {
        let mut errs = vec![];
        let found = self.external(row, &mut errs);
        let owner_id = self.user_opt(row, "owner_email", &mut errs).await?;
        let amount = self.money(row, "amount", &mut errs);
        let pipeline = match self.val(row, "pipeline") {
            Some(name) => {
                let p = self
                    .pipelines
                    .iter()
                    .find(|p| p.name.eq_ignore_ascii_case(&name))
                    .or_else(|| {
                        self.pipelines
                            .iter()
                            .find(|p| p.name.to_lowercase() == name.to_lowercase())
                    });
                if p.is_none() {
                    errs.push(("pipeline".into(), format!("no pipeline is named {name:?}")));
                }
                p.map(|p| p.id)
            }
            None => None,
        };
        let stage = match self.val(row, "stage") {
            Some(name) => {
                let pid =
                    pipeline.or_else(|| self.pipelines.iter().find(|p| p.is_default).map(|p| p.id));
                let s = self.stages.iter().find(|s| {
                    Some(s.pipeline_id) == pid && s.name.to_lowercase() == name.to_lowercase()
                });
                if s.is_none() && errs.iter().all(|(f, _)| f != "pipeline") {
                    errs.push((
                        "stage".into(),
                        format!("the pipeline has no stage named {name:?}"),
                    ));
                }
                s.map(|s| s.id)
            }
            None => None,
        };
        let probability = match self.opt(row, "probability") {
            None => None,
            Some(None) => Some(None),
            Some(Some(v)) => match v.trim_end_matches('%').trim().parse::<i32>() {
                Ok(n) => Some(Some(n)),
                Err(_) => {
                    errs.push((
                        "probability".into(),
                        format!("{v:?} is not a whole percentage"),
                    ));
                    None
                }
            },
        };
        let company_id = match self.opt(row, "company") {
            None => None,
            Some(None) => Some(None),
            Some(Some(v)) => self
                .reference("companies", Some("name"), "company", &v, &mut errs)
                .await?
                .map(|id| Some(CompanyId(id))),
        };
        let contact_id = match self.opt(row, "contact") {
            None => None,
            Some(None) => Some(None),
            Some(Some(v)) => self
                .reference("contacts", Some("name"), "contact", &v, &mut errs)
                .await?
                .map(|id| Some(ContactId(id))),
        };
        let expected_close_date = self.date(row, "expected_close_date", &mut errs);
        let next_step_date = self.date(row, "next_step_date", &mut errs);
        let mut input = LeadInput {
            title: self.val(row, "title"),
            pipeline_id: pipeline,
            stage_id: stage,
            amount,
            probability,
            expected_close_date,
            owner_id,
            company_id,
            contact_id,
            source: self.opt(row, "source"),
            campaign: self.opt(row, "campaign"),
            forecast_category: self.val(row, "forecast_category"),
            next_step_date,
            mql_at: None,
            sql_at: None,
            external_id: self.opt(row, "external_id"),
        };
        if input.title.is_none() {
            errs.push(("title".into(), "is required".into()));
        }
        if !errs.is_empty() {
            return Err(RowFail::Invalid(errs));
        }
        Ok(match found {
            Some(r) => {
                // Existing leads move on the board, not by import.
                input.pipeline_id = None;
                input.stage_id = None;
                Plan::Update(
                    "leads",
                    r.id,
                    self.app
                        .prepare_lead_update(self.actor, LeadId(r.id), input)
                        .await?,
                )
            }
            None => Plan::Lead(self.app.prepare_lead(self.actor, input).await?),
        })
    }

    async fn prospect(&mut self, row: &Row) -> RowResult<Plan> {
        let mut errs = vec![];
        let found = self.external(row, &mut errs);
        let assigned_to = self.user_opt(row, "assigned_to", &mut errs).await?;
        let input = ProspectInput {
            company_name: self.opt(row, "company_name"),
            contact_name: self.opt(row, "contact_name"),
            job_title: self.opt(row, "job_title"),
            phone: self.opt(row, "phone"),
            email: self.opt(row, "email"),
            website: self.opt(row, "website"),
            city: self.opt(row, "city"),
            postcode: self.opt(row, "postcode"),
            country: self.opt(row, "country"),
            industry: self.opt(row, "industry"),
            notes: self.opt(row, "notes"),
            fields: None,
            assigned_to,
            external_id: self.opt(row, "external_id"),
        };
        if !errs.is_empty() {
            return Err(RowFail::Invalid(errs));
        }
        let Some((l, reps)) = &self.list else {
            return Err(invalid("", "choose the prospecting list to import into"));
        };
        Ok(match found {
            Some(r) => Plan::Update(
                "prospects",
                r.id,
                self.app
                    .prepare_prospect_update(self.actor, ProspectId(r.id), input)
                    .await?,
            ),
            None => Plan::Prospect(self.app.new_prospect(self.actor, l, reps, input).await?),
        })
    }

    async fn activity(&mut self, row: &Row) -> RowResult<Plan> {
        let mut errs = vec![];
        let found = self.external(row, &mut errs);
        let type_name = self.val(row, "type").unwrap_or_default();
        let ty = self
            .types
            .iter()
            .find(|t| t.name.to_lowercase() == type_name.to_lowercase());
        let type_id: Option<ActivityTypeId> = ty.map(|t| t.id);
        if ty.is_none() {
            errs.push((
                "type".into(),
                format!("no activity type is named {type_name:?}"),
            ));
        }
        let outcome_id: Option<OutcomeId> = match self.val(row, "outcome") {
            Some(name) => {
                let o = self.outcomes.iter().find(|o| {
                    Some(o.type_id) == type_id && o.name.to_lowercase() == name.to_lowercase()
                });
                if o.is_none() && ty.is_some() {
                    errs.push((
                        "outcome".into(),
                        format!("the type {type_name:?} has no outcome named {name:?}"),
                    ));
                }
                o.map(|o| o.id)
            }
            None => None,
        };
        let mut refs: [Option<Uuid>; 4] = [None; 4];
        for (i, (field, table)) in [
            ("lead", "leads"),
            ("company", "companies"),
            ("contact", "contacts"),
            ("prospect", "prospects"),
        ]
        .into_iter()
        .enumerate()
        {
            if let Some(v) = self.val(row, field) {
                refs[i] = self.reference(table, None, field, &v, &mut errs).await?;
            }
        }
        let duration = match self.val(row, "duration_minutes") {
            None => None,
            Some(v) => match v.parse::<i32>() {
                Ok(n) => Some(n),
                Err(_) => {
                    errs.push((
                        "duration_minutes".into(),
                        format!("{v:?} is not a whole number of minutes"),
                    ));
                    None
                }
            },
        };
        let happened_at = self.datetime(row, "happened_at", &mut errs);
        let due_at = self.datetime(row, "due_at", &mut errs);
        let user = match self.val(row, "user_email") {
            Some(e) => self.user("user_email", &e, &mut errs).await?,
            None => None,
        };
        if let Some(u) = user
            && u != self.actor.user_id
            && !crate::can(self.actor, Resource::Activity, Action::Administer, None)
        {
            errs.push((
                "user_email".into(),
                "you can import only your own activities".into(),
            ));
        }
        if !errs.is_empty() {
            return Err(RowFail::Invalid(errs));
        }
        if found.is_some() {
            return Ok(Plan::Unchanged);
        }
        let input = ActivityInput {
            type_id,
            outcome_id: Some(outcome_id),
            lead_id: refs[0].map(LeadId),
            company_id: refs[1].map(CompanyId),
            contact_id: refs[2].map(ContactId),
            prospect_id: refs[3].map(ProspectId),
            happened_at,
            due_at,
            duration_minutes: Some(duration),
            notes: self.opt(row, "notes"),
        };
        let mut a = self.app.prepare_activity(self.actor, input).await?;
        if let Some(u) = user {
            a.user_id = u;
        }
        Ok(Plan::Activity(a, self.val(row, "external_id")))
    }
}

/// "2025-03-31" or "31.03.2025".
pub fn parse_date(v: &str) -> Option<NaiveDate> {
    let v = v.trim();
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(v, "%d.%m.%Y"))
        .ok()
}

/// RFC 3339, or a date with an optional time ("2025-03-31 14:30",
/// "31.03.2025 14:30"), taken as UTC.
pub fn parse_datetime(v: &str) -> Option<DateTime<Utc>> {
    let v = v.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(v) {
        return Some(d.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%d.%m.%Y %H:%M:%S",
        "%d.%m.%Y %H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(v, f) {
            return Some(d.and_utc());
        }
    }
    parse_date(v).map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
}
