//! Leads (deals): create and edit, move through the stages of their
//! pipeline, win, lose, cancel, reopen; every stage and status change is
//! kept in the stage history.

use crate::fields::text;
use crate::notify::events;
use crate::permissions::{Action, Actor, Resource, Target, require};
use crate::{App, AppError, Page, Result};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use salesops_domain::{
    CompanyId, ContactId, Currency, ForecastCategory, HistoryId, Invalid, LeadId, LeadSource,
    LeadStatus, Money, MoneyJson, PipelineId, Role, StageId, UserId, parse_name,
};
use salesops_store::leads::{self, Filter, HistoryEntry, Lead};
use salesops_store::pipelines::{self, Stage};
use salesops_store::{StoreError, now};
use sea_query::SimpleExpr;
use uuid::Uuid;

/// Lead fields as given; on update `None` leaves a field, `Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct LeadInput {
    pub title: Option<String>,
    /// Create only (default: the default pipeline).
    pub pipeline_id: Option<PipelineId>,
    /// Create only (default: the pipeline's first stage).
    pub stage_id: Option<StageId>,
    pub amount: Option<Option<MoneyJson>>,
    pub probability: Option<Option<i32>>,
    pub expected_close_date: Option<Option<NaiveDate>>,
    pub owner_id: Option<Option<UserId>>,
    pub company_id: Option<Option<CompanyId>>,
    pub contact_id: Option<Option<ContactId>>,
    pub source: Option<Option<String>>,
    pub campaign: Option<Option<String>>,
    pub forecast_category: Option<String>,
    pub next_step_date: Option<Option<NaiveDate>>,
    pub mql_at: Option<Option<DateTime<Utc>>>,
    pub sql_at: Option<Option<DateTime<Utc>>>,
    pub external_id: Option<Option<String>>,
}

/// Validated changes, applied to a new row or sent as an update.
#[derive(Default)]
struct Patch {
    title: Option<String>,
    amount: Option<Option<Money>>,
    probability: Option<Option<i32>>,
    expected_close_date: Option<Option<NaiveDate>>,
    owner_id: Option<Option<Uuid>>,
    company_id: Option<Option<Uuid>>,
    contact_id: Option<Option<Uuid>>,
    source: Option<Option<String>>,
    campaign: Option<Option<String>>,
    forecast_category: Option<ForecastCategory>,
    next_step_date: Option<Option<NaiveDate>>,
    mql_at: Option<Option<DateTime<Utc>>>,
    sql_at: Option<Option<DateTime<Utc>>>,
    external_id: Option<Option<String>>,
}

impl Patch {
    fn apply(&self, l: &mut Lead) {
        if let Some(v) = &self.title {
            l.title = v.clone();
        }
        if let Some(m) = self.amount {
            l.amount_minor = m.map(|m| m.minor);
            l.currency = m.map(|m| m.currency.code().to_string());
        }
        macro_rules! set {
            ($($f:ident),*) => {$( if let Some(v) = &self.$f { l.$f = v.clone(); } )*};
        }
        set!(
            probability,
            expected_close_date,
            owner_id,
            company_id,
            contact_id,
            source,
            campaign,
            next_step_date,
            mql_at,
            sql_at,
            external_id
        );
        if let Some(f) = self.forecast_category {
            l.forecast_category = f;
        }
    }

    fn changes(&self) -> Vec<(&'static str, SimpleExpr)> {
        let mut ch: Vec<(&'static str, SimpleExpr)> = vec![];
        if let Some(v) = &self.title {
            ch.push(("title", v.clone().into()));
        }
        if let Some(m) = self.amount {
            ch.push(("amount_minor", m.map(|m| m.minor).into()));
            ch.push(("currency", m.map(|m| m.currency.code().to_string()).into()));
        }
        macro_rules! push {
            ($($f:ident),*) => {$( if let Some(v) = &self.$f { ch.push((stringify!($f), v.clone().into())); } )*};
        }
        push!(
            probability,
            expected_close_date,
            owner_id,
            company_id,
            contact_id,
            source,
            campaign,
            next_step_date,
            mql_at,
            sql_at,
            external_id
        );
        if let Some(f) = self.forecast_category {
            ch.push(("forecast_category", f.as_str().into()));
        }
        ch
    }
}

/// The lead's amount, when it has one.
pub fn lead_amount(l: &Lead) -> Option<Money> {
    Some(Money::new(
        l.amount_minor?,
        Currency::parse(l.currency.as_deref()?).ok()?,
    ))
}

/// One column of the board.
#[derive(Clone, Debug)]
pub struct Column {
    pub stage: Stage,
    pub cards: Vec<Lead>,
    /// Open leads in the stage (all of them, not only the cards shown).
    pub count: i64,
    /// Sum of amounts, one entry per currency.
    pub totals: Vec<Money>,
    /// Sum of amount × probability, one entry per currency.
    pub weighted: Vec<Money>,
}

#[derive(Clone, Debug)]
pub struct Board {
    pub pipeline: crate::pipelines::PipelineView,
    pub columns: Vec<Column>,
}

/// Cards shown per board (counts and sums always cover every open lead).
pub const BOARD_CARDS: u64 = 500;

/// Is the lead longer in its stage than the stage allows?
pub fn is_rotting(l: &Lead, stage: &Stage, at: DateTime<Utc>) -> bool {
    l.status == LeadStatus::Open
        && stage
            .rotting_days
            .is_some_and(|d| at - l.stage_entered_at > chrono::Duration::days(i64::from(d)))
}

impl App {
    async fn lead_target(&self, actor: &Actor, owner: Option<Uuid>) -> Result<Target> {
        self.owner_target(actor, owner).await
    }

    async fn readable_lead(&self, actor: &Actor, id: LeadId) -> Result<(Lead, Target)> {
        let l = leads::get(&mut self.conn(), actor.org_id, id).await?;
        let t = self.lead_target(actor, l.owner_id).await?;
        require(actor, Resource::Lead, Action::Read, Some(&t))?;
        Ok((l, t))
    }

    async fn validate(
        &self,
        actor: &Actor,
        input: &LeadInput,
        current_owner: Option<Uuid>,
        errs: &mut Invalid,
    ) -> Result<Patch> {
        let mut p = Patch::default();
        if let Some(t) = &input.title {
            p.title = errs.check("title", parse_name(t, 200));
        }
        if let Some(a) = &input.amount {
            let m = match a {
                Some(j) => errs.check("amount", j.parse()),
                None => None,
            };
            if m.is_some_and(|m| m.is_negative()) {
                errs.push("amount", "must not be negative");
            }
            p.amount = Some(m);
        }
        if let Some(pr) = input.probability {
            if pr.is_some_and(|x| !(0..=100).contains(&x)) {
                errs.push("probability", "must be a percentage from 0 to 100");
            }
            p.probability = Some(pr);
        }
        p.expected_close_date = input.expected_close_date;
        p.next_step_date = input.next_step_date;
        p.mql_at = input.mql_at;
        p.sql_at = input.sql_at;
        if let Some(o) = input.owner_id {
            if o.map(|u| u.0) != current_owner {
                self.check_owner(actor, Resource::Lead, o, errs).await?;
            }
            p.owner_id = Some(o.map(|u| u.0));
        }
        if let Some(c) = input.company_id {
            if let Some(c) = c {
                match self.get_company(actor, c).await {
                    Ok(_) => {}
                    Err(AppError::NotFound | AppError::Forbidden) => {
                        errs.push("company_id", format!("unknown company {c}"))
                    }
                    Err(e) => return Err(e),
                }
            }
            p.company_id = Some(c.map(|c| c.0));
        }
        if let Some(c) = input.contact_id {
            if let Some(c) = c {
                match self.get_contact(actor, c).await {
                    Ok(_) => {}
                    Err(AppError::NotFound | AppError::Forbidden) => {
                        errs.push("contact_id", format!("unknown contact {c}"))
                    }
                    Err(e) => return Err(e),
                }
            }
            p.contact_id = Some(c.map(|c| c.0));
        }
        if let Some(s) = &input.source {
            let s = text(errs, "source", s, 30);
            if let Some(v) = &s {
                errs.check("source", v.parse::<LeadSource>());
            }
            p.source = Some(s);
        }
        if let Some(c) = &input.campaign {
            p.campaign = Some(text(errs, "campaign", c, 200));
        }
        if let Some(f) = &input.forecast_category {
            p.forecast_category = errs.check("forecast_category", f.parse::<ForecastCategory>());
        }
        if let Some(e) = &input.external_id {
            p.external_id = Some(text(errs, "external_id", e, 100));
        }
        Ok(p)
    }

    pub async fn create_lead(&self, actor: &Actor, input: LeadInput) -> Result<Lead> {
        let lead = self.prepare_lead(actor, input).await?;
        let mut tx = self.db.begin().await?;
        insert_lead(&mut tx, actor, &lead).await?;
        tx.commit().await?;
        Ok(lead)
    }

    /// Checks a new lead and builds its row (not written yet).
    pub(crate) async fn prepare_lead(&self, actor: &Actor, input: LeadInput) -> Result<Lead> {
        require(actor, Resource::Lead, Action::Create, None)?;
        let mut errs = Invalid::default();
        if input.title.is_none() {
            errs.push("title", "is required");
        }
        let owner = input
            .owner_id
            .unwrap_or((actor.role == Role::Rep).then_some(actor.user_id));
        let mut input = input;
        input.owner_id = Some(owner);
        let patch = self.validate(actor, &input, None, &mut errs).await?;
        // The pipeline (default: the default one) and the stage (default: its first).
        let all = pipelines::list_pipelines(&mut self.conn(), actor.org_id).await?;
        let pipeline = match input.pipeline_id {
            Some(p) => all.iter().find(|x| x.id == p).cloned(),
            None => all.iter().find(|x| x.is_default).cloned(),
        };
        let Some(pipeline) = pipeline else {
            errs.push("pipeline_id", "unknown pipeline");
            return Err(AppError::Invalid(errs));
        };
        let stages =
            pipelines::list_stages(&mut self.conn(), actor.org_id, Some(&[pipeline.id])).await?;
        let stage = match input.stage_id {
            Some(s) => match stages.iter().find(|x| x.id == s) {
                Some(x) => Some(x.clone()),
                None => {
                    errs.push("stage_id", "is not a stage of the lead's pipeline");
                    None
                }
            },
            None => match stages.first() {
                Some(x) => Some(x.clone()),
                None => {
                    errs.push("pipeline_id", "the pipeline has no stages yet");
                    None
                }
            },
        };
        errs.into_result()?;
        let stage = stage.expect("checked above");
        let at = now();
        let mut lead = Lead {
            org_id: actor.org_id,
            id: LeadId::new(),
            title: String::new(),
            pipeline_id: pipeline.id,
            stage_id: stage.id,
            status: LeadStatus::Open,
            amount_minor: None,
            currency: None,
            probability: None,
            expected_close_date: None,
            owner_id: None,
            company_id: None,
            contact_id: None,
            source: None,
            campaign: None,
            forecast_category: ForecastCategory::Pipeline,
            next_step_date: None,
            mql_at: None,
            sql_at: None,
            closed_at: None,
            lost_reason: None,
            competitor: None,
            stage_entered_at: at,
            external_id: None,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        patch.apply(&mut lead);
        Ok(lead)
    }

    pub async fn get_lead(&self, actor: &Actor, id: LeadId) -> Result<Lead> {
        Ok(self.readable_lead(actor, id).await?.0)
    }

    pub async fn lead_history(&self, actor: &Actor, id: LeadId) -> Result<Vec<HistoryEntry>> {
        self.readable_lead(actor, id).await?;
        Ok(leads::history(&mut self.conn(), actor.org_id, id).await?)
    }

    pub async fn list_leads(
        &self,
        actor: &Actor,
        mut f: Filter,
        cursor: Option<Uuid>,
        limit: u64,
    ) -> Result<Page<Lead>> {
        require(actor, Resource::Lead, Action::Read, None)?;
        f.owners = self.visible_owners(actor).await?;
        let rows = leads::list(&mut self.conn(), actor.org_id, &f, cursor, limit + 1).await?;
        Ok(Page::from_rows(rows, limit, |l| l.id.0))
    }

    pub async fn update_lead(
        &self,
        actor: &Actor,
        id: LeadId,
        if_match: Option<i64>,
        input: LeadInput,
    ) -> Result<Lead> {
        let changes = self.prepare_lead_update(actor, id, input).await?;
        leads::update(&mut self.conn(), actor.org_id, id, if_match, changes, now())
            .await
            .map_err(external_id_taken)
    }

    /// Checks an update of a lead into column changes (not written yet).
    pub(crate) async fn prepare_lead_update(
        &self,
        actor: &Actor,
        id: LeadId,
        input: LeadInput,
    ) -> Result<Vec<(&'static str, SimpleExpr)>> {
        let (current, t) = self.readable_lead(actor, id).await?;
        require(actor, Resource::Lead, Action::Update, Some(&t))?;
        let mut errs = Invalid::default();
        if input.pipeline_id.is_some() || input.stage_id.is_some() {
            errs.push("stage_id", "move a lead with POST /leads/{id}/move");
        }
        let patch = self
            .validate(actor, &input, current.owner_id, &mut errs)
            .await?;
        errs.into_result()?;
        Ok(patch.changes())
    }

    pub async fn delete_lead(
        &self,
        actor: &Actor,
        id: LeadId,
        if_match: Option<i64>,
    ) -> Result<()> {
        let (current, t) = self.readable_lead(actor, id).await?;
        require(actor, Resource::Lead, Action::Delete, Some(&t))?;
        if if_match.is_some_and(|v| v != current.version) {
            return Err(AppError::Stale);
        }
        let mut tx = self.db.begin().await?;
        // Deleting the lead deletes its activities: not other people's.
        if salesops_store::activities::count_on_lead_by_others(
            &mut tx,
            actor.org_id,
            id,
            actor.user_id,
        )
        .await?
            > 0
            && !actor.sees_all()
        {
            return Err(AppError::Conflict(
                "other people logged activities on this lead; ask a manager or ops to delete it"
                    .into(),
            ));
        }
        salesops_store::prospecting::unlink_lead(&mut tx, actor.org_id, id.0).await?;
        leads::delete(&mut tx, actor.org_id, id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Runs one transition: checks permission and version, then writes the
    /// lead and its history row in one transaction.
    async fn transition(
        &self,
        actor: &Actor,
        id: LeadId,
        if_match: Option<i64>,
        step: impl FnOnce(&Lead, &[Stage]) -> Result<Option<Vec<(&'static str, SimpleExpr)>>>,
    ) -> Result<Lead> {
        let (current, t) = self.readable_lead(actor, id).await?;
        require(actor, Resource::Lead, Action::Update, Some(&t))?;
        let mut tx = self.db.begin().await?;
        let lead = leads::get(&mut tx, actor.org_id, id).await?;
        if if_match.is_some_and(|v| v != lead.version) || lead.version != current.version {
            return Err(AppError::Stale);
        }
        let stages =
            pipelines::list_stages(&mut tx, actor.org_id, Some(&[lead.pipeline_id])).await?;
        let Some(changes) = step(&lead, &stages)? else {
            return Ok(lead);
        };
        let at = now();
        let updated =
            leads::update(&mut tx, actor.org_id, id, Some(lead.version), changes, at).await?;
        leads::insert_history(
            &mut tx,
            &history(&updated, Some(lead.stage_id), Some(lead.status), actor, at),
        )
        .await?;
        let kind = match (lead.status, updated.status) {
            (LeadStatus::Open, LeadStatus::Won) => Some("lead.won"),
            (LeadStatus::Open, LeadStatus::Lost) => Some("lead.lost"),
            (LeadStatus::Open, LeadStatus::Open) if lead.stage_id != updated.stage_id => {
                Some("lead.moved")
            }
            _ => None,
        };
        if let Some(kind) = kind {
            events::publish(&mut tx, actor.org_id, kind, id.0, || {
                let mut data = events::lead_data(&updated);
                data["previous_stage_id"] = serde_json::json!(lead.stage_id.0);
                data["changed_by"] = serde_json::json!(actor.user_id.0);
                data
            })
            .await?;
        }
        tx.commit().await?;
        Ok(updated)
    }

    /// Moves an open lead to another stage of its pipeline.
    pub async fn move_lead(
        &self,
        actor: &Actor,
        id: LeadId,
        if_match: Option<i64>,
        stage: StageId,
    ) -> Result<Lead> {
        self.transition(actor, id, if_match, |lead, stages| {
            if !stages.iter().any(|s| s.id == stage) {
                return Err(AppError::Invalid(Invalid::one(
                    "stage_id",
                    "is not a stage of the lead's pipeline",
                )));
            }
            if lead.status != LeadStatus::Open {
                return Err(AppError::Conflict(format!(
                    "the lead is {}; reopen it before moving it",
                    lead.status
                )));
            }
            if lead.stage_id == stage {
                return Ok(None);
            }
            Ok(Some(vec![
                ("stage_id", stage.0.into()),
                ("stage_entered_at", now().into()),
            ]))
        })
        .await
    }

    pub async fn win_lead(&self, actor: &Actor, id: LeadId, if_match: Option<i64>) -> Result<Lead> {
        self.transition(actor, id, if_match, |lead, _| {
            must_be_open(lead, "won")?;
            Ok(Some(vec![
                ("status", LeadStatus::Won.as_str().into()),
                ("closed_at", now().into()),
                (
                    "forecast_category",
                    ForecastCategory::Closed.as_str().into(),
                ),
            ]))
        })
        .await
    }

    pub async fn lose_lead(
        &self,
        actor: &Actor,
        id: LeadId,
        if_match: Option<i64>,
        reason: &str,
        competitor: Option<&str>,
    ) -> Result<Lead> {
        let mut errs = Invalid::default();
        let reason = errs.check("reason", parse_name(reason, 500));
        let competitor = text(
            &mut errs,
            "competitor",
            &competitor.map(str::to_string),
            200,
        );
        errs.into_result()?;
        self.transition(actor, id, if_match, |lead, _| {
            must_be_open(lead, "lost")?;
            Ok(Some(vec![
                ("status", LeadStatus::Lost.as_str().into()),
                ("closed_at", now().into()),
                ("lost_reason", reason.into()),
                ("competitor", competitor.into()),
            ]))
        })
        .await
    }

    pub async fn cancel_lead(
        &self,
        actor: &Actor,
        id: LeadId,
        if_match: Option<i64>,
        reason: Option<&str>,
    ) -> Result<Lead> {
        let mut errs = Invalid::default();
        let reason = text(&mut errs, "reason", &reason.map(str::to_string), 500);
        errs.into_result()?;
        self.transition(actor, id, if_match, |lead, _| {
            must_be_open(lead, "cancelled")?;
            Ok(Some(vec![
                ("status", LeadStatus::Cancelled.as_str().into()),
                ("closed_at", now().into()),
                ("lost_reason", reason.into()),
            ]))
        })
        .await
    }

    /// Reopens a won, lost or cancelled lead in the stage it was closed in.
    pub async fn reopen_lead(
        &self,
        actor: &Actor,
        id: LeadId,
        if_match: Option<i64>,
    ) -> Result<Lead> {
        self.transition(actor, id, if_match, |lead, _| {
            if lead.status == LeadStatus::Open {
                return Err(AppError::Conflict("the lead is already open".into()));
            }
            let category = if lead.forecast_category == ForecastCategory::Closed {
                ForecastCategory::Pipeline
            } else {
                lead.forecast_category
            };
            Ok(Some(vec![
                ("status", LeadStatus::Open.as_str().into()),
                ("closed_at", Option::<DateTime<Utc>>::None.into()),
                ("lost_reason", Option::<String>::None.into()),
                ("competitor", Option::<String>::None.into()),
                ("forecast_category", category.as_str().into()),
                ("stage_entered_at", now().into()),
            ]))
        })
        .await
    }

    /// The board of a pipeline: one column per stage with its open leads,
    /// their count, total and weighted amount (per currency).
    pub async fn board(
        &self,
        actor: &Actor,
        pipeline: PipelineId,
        owner: Option<UserId>,
    ) -> Result<Board> {
        require(actor, Resource::Lead, Action::Read, None)?;
        let view = self.get_pipeline(actor, pipeline).await?;
        let f = Filter {
            owners: self.visible_owners(actor).await?,
            owner,
            pipeline: Some(pipeline),
            status: Some(LeadStatus::Open),
            ..Default::default()
        };
        let cards = leads::board_cards(&mut self.conn(), actor.org_id, &f, BOARD_CARDS).await?;
        let totals = leads::stage_totals(&mut self.conn(), actor.org_id, &f).await?;
        let columns = view
            .stages
            .iter()
            .map(|s| {
                let mine: Vec<_> = totals.iter().filter(|t| t.stage_id == s.id.0).collect();
                let money = |pick: &dyn Fn(&leads::StageTotal) -> Option<i64>,
                             weighted: bool|
                 -> Vec<Money> {
                    mine.iter()
                        .filter_map(|t| {
                            let cur = Currency::parse(t.currency.as_deref()?).ok()?;
                            let v = pick(t)?;
                            let minor = if weighted {
                                (Decimal::from(v) / Decimal::from(100))
                                    .round_dp_with_strategy(
                                        0,
                                        RoundingStrategy::MidpointAwayFromZero,
                                    )
                                    .try_into()
                                    .ok()?
                            } else {
                                v
                            };
                            Some(Money::new(minor, cur))
                        })
                        .collect()
                };
                Column {
                    stage: s.clone(),
                    cards: cards
                        .iter()
                        .filter(|l| l.stage_id == s.id)
                        .cloned()
                        .collect(),
                    count: mine.iter().map(|t| t.n).sum(),
                    totals: money(&|t| t.amount_minor, false),
                    weighted: money(&|t| t.weighted_percent_minor, true),
                }
            })
            .collect();
        Ok(Board {
            pipeline: view,
            columns,
        })
    }
}

fn must_be_open(lead: &Lead, to: &str) -> Result<()> {
    if lead.status == LeadStatus::Open {
        Ok(())
    } else if lead.status.as_str() == to {
        Err(AppError::Conflict(format!("the lead is already {to}")))
    } else {
        Err(AppError::Conflict(format!(
            "the lead is {}; reopen it first",
            lead.status
        )))
    }
}

fn history(
    l: &Lead,
    from_stage: Option<StageId>,
    from_status: Option<LeadStatus>,
    actor: &Actor,
    at: DateTime<Utc>,
) -> HistoryEntry {
    HistoryEntry {
        org_id: l.org_id,
        id: HistoryId::new(),
        lead_id: l.id,
        from_stage_id: from_stage.map(|s| s.0),
        to_stage_id: l.stage_id.0,
        from_status: from_status.map(|s| s.to_string()),
        to_status: l.status.to_string(),
        at,
        by_user_id: (!actor.user_id.0.is_nil()).then_some(actor.user_id.0),
    }
}

/// Writes a prepared lead and its first history entry.
pub(crate) async fn insert_lead(
    tx: &mut salesops_store::Tx,
    actor: &Actor,
    lead: &Lead,
) -> Result<()> {
    leads::insert(tx, lead).await.map_err(external_id_taken)?;
    leads::insert_history(tx, &history(lead, None, None, actor, lead.created_at)).await?;
    events::publish(tx, actor.org_id, "lead.created", lead.id.0, || {
        events::lead_data(lead)
    })
    .await?;
    Ok(())
}

/// Writes prepared leads and their first history entries, in batches.
pub(crate) async fn insert_leads(
    tx: &mut salesops_store::Tx,
    actor: &Actor,
    rows: &[Lead],
) -> Result<()> {
    leads::insert_many(tx, rows)
        .await
        .map_err(external_id_taken)?;
    let h: Vec<HistoryEntry> = rows
        .iter()
        .map(|l| history(l, None, None, actor, l.created_at))
        .collect();
    leads::insert_history_many(tx, &h).await?;
    if events::wanted(tx, actor.org_id, "lead.created").await? {
        for l in rows {
            events::emit(
                tx,
                actor.org_id,
                "lead.created",
                l.id.0,
                events::lead_data(l),
                None,
            )
            .await?;
        }
    }
    Ok(())
}

pub(crate) fn external_id_taken(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict(_) => AppError::Invalid(Invalid::one(
            "external_id",
            "is already used by another lead",
        )),
        other => other.into(),
    }
}
