//! Exporting the records an actor sees as CSV, in the columns the importer
//! reads, so that an export imports again unchanged.

use super::Kind;
use crate::permissions::{Action, Actor, require};
use crate::{App, Result};
use salesops_domain::{CompanyId, ContactId, Currency, Money, ProspectListId, UserId};
use salesops_store::{activity_types, imports, leads, pipelines, prospecting, users};
use std::collections::HashMap;
use std::future::Future;
use uuid::Uuid;

const PAGE: u64 = crate::MAX_LIMIT;

#[derive(Clone, Copy, Debug)]
pub struct ExportOptions {
    pub kind: Kind,
    /// German Excel: a byte-order mark, `;` and decimal commas.
    pub excel: bool,
    /// Prospects: only this list's.
    pub list_id: Option<ProspectListId>,
}

/// Where the CSV goes, chunk by chunk; `false` when nobody listens any more.
pub trait ExportSink: Send {
    fn write(&mut self, chunk: Vec<u8>) -> impl Future<Output = bool> + Send;
}

/// Builds one chunk of CSV.
struct Chunk {
    w: csv::Writer<Vec<u8>>,
    excel: bool,
}

impl Chunk {
    fn new(excel: bool) -> Chunk {
        Chunk {
            w: csv::WriterBuilder::new()
                .delimiter(if excel { b';' } else { b',' })
                .has_headers(false)
                .from_writer(vec![]),
            excel,
        }
    }

    fn row(&mut self, values: &[String]) -> Result<()> {
        self.w
            .write_record(values)
            .map_err(|e| crate::AppError::Internal(e.to_string()))
    }

    fn amount(&self, minor: Option<i64>, currency: Option<&str>) -> (String, String) {
        match (minor, currency.and_then(|c| Currency::parse(c).ok())) {
            (Some(m), Some(c)) => {
                let a = Money::new(m, c).amount_string();
                (
                    if self.excel { a.replace('.', ",") } else { a },
                    c.code().to_string(),
                )
            }
            _ => (String::new(), String::new()),
        }
    }

    fn finish(self) -> Result<Vec<u8>> {
        self.w
            .into_inner()
            .map_err(|e| crate::AppError::Internal(e.to_string()))
    }
}

fn s(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

/// Names of referenced records, looked up once each.
struct Names<'a> {
    app: &'a App,
    actor: &'a Actor,
    users: HashMap<Uuid, String>,
    companies: HashMap<Uuid, String>,
    contacts: HashMap<Uuid, String>,
    external: HashMap<(&'static str, Uuid), String>,
}

impl<'a> Names<'a> {
    async fn user(&mut self, id: Option<Uuid>) -> Result<String> {
        let Some(id) = id else {
            return Ok(String::new());
        };
        if !self.users.contains_key(&id) {
            let e = match users::get(&mut self.app.conn(), self.actor.org_id, UserId(id)).await {
                Ok(u) => u.email.to_string(),
                Err(_) => String::new(),
            };
            self.users.insert(id, e);
        }
        Ok(self.users[&id].clone())
    }

    /// A company as the importer finds it: its external id, else its id.
    async fn company(&mut self, id: Option<Uuid>) -> Result<String> {
        let Some(id) = id else {
            return Ok(String::new());
        };
        if !self.companies.contains_key(&id) {
            let v = match self.app.get_company(self.actor, CompanyId(id)).await {
                Ok(c) => c.external_id.unwrap_or_else(|| id.to_string()),
                Err(_) => String::new(),
            };
            self.companies.insert(id, v);
        }
        Ok(self.companies[&id].clone())
    }

    async fn contact(&mut self, id: Option<Uuid>) -> Result<String> {
        let Some(id) = id else {
            return Ok(String::new());
        };
        if !self.contacts.contains_key(&id) {
            let v = match self.app.get_contact(self.actor, ContactId(id)).await {
                Ok(c) => c.external_id.unwrap_or_else(|| id.to_string()),
                Err(_) => String::new(),
            };
            self.contacts.insert(id, v);
        }
        Ok(self.contacts[&id].clone())
    }

    /// A lead or prospect: its external id, else its id.
    async fn external(&mut self, table: &'static str, id: Option<Uuid>) -> Result<String> {
        let Some(id) = id else {
            return Ok(String::new());
        };
        if self.external.is_empty() {
            for t in ["leads", "prospects", "activities"] {
                for r in imports::external_ids(&mut self.app.conn(), self.actor.org_id, t).await? {
                    self.external.insert((t, r.id), r.external_id);
                }
            }
            // Marks the map as loaded even when no record has an external id.
            self.external.insert(("", Uuid::nil()), String::new());
        }
        Ok(self.external.get(&(table, id)).cloned().unwrap_or_else(|| {
            if table == "activities" {
                String::new()
            } else {
                id.to_string()
            }
        }))
    }
}

impl App {
    /// May the actor export this kind? (Checked before the answer starts.)
    pub async fn may_export(&self, actor: &Actor, kind: Kind) -> Result<()> {
        require(actor, kind.resource(), Action::Read, None)
    }

    /// Writes the records of a kind the actor sees, as CSV, page by page;
    /// returns the number of records.
    pub async fn export_csv(
        &self,
        actor: &Actor,
        opts: ExportOptions,
        sink: &mut impl ExportSink,
    ) -> Result<u64> {
        self.may_export(actor, opts.kind).await?;
        let mut head = Chunk::new(opts.excel);
        let headers: Vec<String> = opts
            .kind
            .fields()
            .iter()
            .map(|f| f.name.to_string())
            .collect();
        head.row(&headers)?;
        let mut first = head.finish()?;
        if opts.excel {
            first.splice(0..0, *b"\xEF\xBB\xBF");
        }
        if !sink.write(first).await {
            return Ok(0);
        }
        let mut names = Names {
            app: self,
            actor,
            users: HashMap::new(),
            companies: HashMap::new(),
            contacts: HashMap::new(),
            external: HashMap::new(),
        };
        let mut n = 0;
        let mut cursor: Option<Uuid> = None;
        let org = actor.org_id;
        let (mut pipelines_, mut stages, mut types, mut outcomes) =
            (vec![], vec![], vec![], vec![]);
        match opts.kind {
            Kind::Leads => {
                pipelines_ = pipelines::list_pipelines(&mut self.conn(), org).await?;
                stages = pipelines::list_stages(&mut self.conn(), org, None).await?;
            }
            Kind::Activities => {
                types = activity_types::list_types(&mut self.conn(), org, true).await?;
                outcomes = activity_types::list_outcomes(&mut self.conn(), org, None, true).await?;
            }
            _ => {}
        }
        loop {
            let mut c = Chunk::new(opts.excel);
            let next = match opts.kind {
                Kind::Companies => {
                    let page = self
                        .list_companies(actor, Default::default(), cursor, PAGE)
                        .await?;
                    for x in &page.items {
                        let (amount, cur) = c.amount(x.value_minor, x.value_currency.as_deref());
                        let owner = names.user(x.owner_id).await?;
                        c.row(&[
                            s(&x.external_id),
                            x.name.clone(),
                            s(&x.industry),
                            s(&x.size_band),
                            s(&x.country),
                            s(&x.region),
                            s(&x.postcode),
                            s(&x.city),
                            s(&x.website),
                            s(&x.phone),
                            s(&x.problems),
                            amount,
                            cur,
                            owner,
                        ])?;
                    }
                    n += page.items.len() as u64;
                    page.next_cursor
                }
                Kind::Contacts => {
                    let page = self
                        .list_contacts(actor, Default::default(), cursor, PAGE)
                        .await?;
                    for x in &page.items {
                        let company = names.company(x.company_id).await?;
                        let owner = names.user(x.owner_id).await?;
                        c.row(&[
                            s(&x.external_id),
                            x.name.clone(),
                            company,
                            s(&x.job_title),
                            s(&x.email),
                            s(&x.phone),
                            s(&x.notes),
                            owner,
                        ])?;
                    }
                    n += page.items.len() as u64;
                    page.next_cursor
                }
                Kind::Leads => {
                    let page = self
                        .list_leads(actor, leads::Filter::default(), cursor, PAGE)
                        .await?;
                    for x in &page.items {
                        let (amount, cur) = c.amount(x.amount_minor, x.currency.as_deref());
                        let pipeline = pipelines_
                            .iter()
                            .find(|p| p.id == x.pipeline_id)
                            .map(|p| p.name.clone())
                            .unwrap_or_default();
                        let stage = stages
                            .iter()
                            .find(|p| p.id == x.stage_id)
                            .map(|p| p.name.clone())
                            .unwrap_or_default();
                        let owner = names.user(x.owner_id).await?;
                        let company = names.company(x.company_id).await?;
                        let contact = names.contact(x.contact_id).await?;
                        c.row(&[
                            s(&x.external_id),
                            x.title.clone(),
                            pipeline,
                            stage,
                            amount,
                            cur,
                            x.probability.map(|p| p.to_string()).unwrap_or_default(),
                            x.expected_close_date
                                .map(|d| d.to_string())
                                .unwrap_or_default(),
                            owner,
                            company,
                            contact,
                            s(&x.source),
                            s(&x.campaign),
                            x.forecast_category.as_str().to_string(),
                            x.next_step_date.map(|d| d.to_string()).unwrap_or_default(),
                        ])?;
                    }
                    n += page.items.len() as u64;
                    page.next_cursor
                }
                Kind::Prospects => {
                    let f = prospecting::Filter {
                        list: opts.list_id,
                        ..Default::default()
                    };
                    let page = self.list_prospects(actor, f, cursor, PAGE).await?;
                    for x in &page.items {
                        let assignee = names.user(x.assigned_to).await?;
                        c.row(&[
                            s(&x.external_id),
                            s(&x.company_name),
                            s(&x.contact_name),
                            s(&x.job_title),
                            s(&x.phone),
                            s(&x.email),
                            s(&x.website),
                            s(&x.city),
                            s(&x.postcode),
                            s(&x.country),
                            s(&x.industry),
                            s(&x.notes),
                            assignee,
                        ])?;
                    }
                    n += page.items.len() as u64;
                    page.next_cursor
                }
                Kind::Activities => {
                    let items = self.list_activities_by_id(actor, cursor, PAGE).await?;
                    for x in &items {
                        let ty = types
                            .iter()
                            .find(|t| t.id == x.type_id)
                            .map(|t| t.name.clone())
                            .unwrap_or_default();
                        let outcome = outcomes
                            .iter()
                            .find(|o| Some(o.id.0) == x.outcome_id)
                            .map(|o| o.name.clone())
                            .unwrap_or_default();
                        let ext = names.external("activities", Some(x.id.0)).await?;
                        let lead = names.external("leads", x.lead_id).await?;
                        let company = names.company(x.company_id).await?;
                        let contact = names.contact(x.contact_id).await?;
                        let prospect = names.external("prospects", x.prospect_id).await?;
                        let user = names.user(Some(x.user_id.0)).await?;
                        c.row(&[
                            ext,
                            ty,
                            outcome,
                            x.happened_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                            x.due_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                            x.duration_minutes
                                .map(|d| d.to_string())
                                .unwrap_or_default(),
                            s(&x.notes),
                            lead,
                            company,
                            contact,
                            prospect,
                            user,
                        ])?;
                    }
                    n += items.len() as u64;
                    (items.len() as u64 == PAGE)
                        .then(|| items.last().map(|a| a.id.0))
                        .flatten()
                }
            };
            if !sink.write(c.finish()?).await {
                break;
            }
            match next {
                Some(x) => cursor = Some(x),
                None => break,
            }
        }
        Ok(n)
    }
}
