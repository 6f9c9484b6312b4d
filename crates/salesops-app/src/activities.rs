//! Activities: logged in two clicks (type and outcome), or scheduled for
//! later and marked done; on a prospect, a lead, a company or a contact.

use crate::permissions::{Action, Actor, Resource, require};
use crate::{App, AppError, Result};
use chrono::{DateTime, Utc};
use salesops_domain::{
    ActivityId, ActivityTypeId, CompanyId, ContactId, Invalid, LeadId, OutcomeId, ProspectId,
    UserId,
};
use salesops_store::activities::{self, Activity, Filter};
use salesops_store::activity_types;
use salesops_store::{StoreError, now};
use sea_query::SimpleExpr;

#[derive(Clone, Debug, Default)]
pub struct ActivityInput {
    pub type_id: Option<ActivityTypeId>,
    pub outcome_id: Option<Option<OutcomeId>>,
    pub lead_id: Option<LeadId>,
    pub company_id: Option<CompanyId>,
    pub contact_id: Option<ContactId>,
    pub prospect_id: Option<ProspectId>,
    /// When it happened (default: now, unless it is scheduled with `due_at`).
    pub happened_at: Option<DateTime<Utc>>,
    /// Schedules it for later (not done yet).
    pub due_at: Option<DateTime<Utc>>,
    pub duration_minutes: Option<Option<i32>>,
    pub notes: Option<Option<String>>,
}

/// Where a list of someone's open work stands at a moment.
#[derive(Clone, Debug)]
pub struct Agenda {
    pub overdue: Vec<Activity>,
    pub today: Vec<Activity>,
    pub upcoming: Vec<Activity>,
    pub done_today: Vec<Activity>,
}

impl App {
    /// Checks the activity's type and outcome: the type exists, the outcome
    /// belongs to that type. `new`: archived types and outcomes are refused
    /// for new activities only; existing ones can still be completed and edited.
    async fn check_type(
        &self,
        actor: &Actor,
        type_id: ActivityTypeId,
        outcome: Option<OutcomeId>,
        new: bool,
        errs: &mut Invalid,
    ) -> Result<()> {
        match activity_types::get_type(&mut self.conn(), actor.org_id, type_id).await {
            Ok(t) if t.archived && new => errs.push("type_id", "the activity type is archived"),
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                errs.push("type_id", format!("unknown activity type {type_id}"))
            }
            Err(e) => return Err(e.into()),
        }
        if let Some(o) = outcome {
            match activity_types::get_outcome(&mut self.conn(), actor.org_id, o).await {
                Ok(x) if x.type_id != type_id => {
                    errs.push("outcome_id", "belongs to another activity type")
                }
                Ok(x) if x.archived && new => errs.push("outcome_id", "the outcome is archived"),
                Ok(_) => {}
                Err(StoreError::NotFound) => {
                    errs.push("outcome_id", format!("unknown outcome {o}"))
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// The records an activity is on must be visible to the actor: a record
    /// they may not see answers 404, as if it did not exist.
    async fn check_targets(&self, actor: &Actor, input: &ActivityInput) -> Result<()> {
        if let Some(l) = input.lead_id {
            self.get_lead(actor, l).await?;
        }
        if let Some(c) = input.company_id {
            self.get_company(actor, c).await?;
        }
        if let Some(c) = input.contact_id {
            self.get_contact(actor, c).await?;
        }
        if let Some(p) = input.prospect_id {
            // Logging on a prospect is working it: it must be theirs to work.
            let p = self.get_prospect(actor, p).await?;
            if !self.may_work_prospect(actor, &p).await? {
                return Err(AppError::Forbidden);
            }
        }
        Ok(())
    }

    pub async fn log_activity(&self, actor: &Actor, input: ActivityInput) -> Result<Activity> {
        let a = self.prepare_activity(actor, input).await?;
        let mut tx = self.db.begin().await?;
        activities::insert(&mut tx, &a).await?;
        crate::notify::events::publish(&mut tx, actor.org_id, "activity.created", a.id.0, || {
            crate::notify::events::activity_data(&a)
        })
        .await?;
        tx.commit().await?;
        Ok(a)
    }

    /// Checks a new activity and builds its row (not written yet).
    pub(crate) async fn prepare_activity(
        &self,
        actor: &Actor,
        input: ActivityInput,
    ) -> Result<Activity> {
        require(actor, Resource::Activity, Action::Create, None)?;
        let mut errs = Invalid::default();
        let Some(type_id) = input.type_id else {
            return Err(AppError::Invalid(Invalid::one("type_id", "is required")));
        };
        if input.lead_id.is_none()
            && input.company_id.is_none()
            && input.contact_id.is_none()
            && input.prospect_id.is_none()
        {
            errs.push(
                "lead_id",
                "an activity is on a prospect, a lead, a company or a contact",
            );
        }
        let outcome = input.outcome_id.flatten();
        self.check_type(actor, type_id, outcome, true, &mut errs)
            .await?;
        let duration = input.duration_minutes.flatten();
        if duration.is_some_and(|d| !(0..=1440).contains(&d)) {
            errs.push("duration_minutes", "must be between 0 and 1440 minutes");
        }
        let notes = input
            .notes
            .clone()
            .flatten()
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty());
        if notes.as_ref().is_some_and(|n| n.chars().count() > 10_000) {
            errs.push("notes", "must be at most 10000 characters");
        }
        let scheduled = input.due_at.is_some() && input.happened_at.is_none();
        if scheduled && outcome.is_some() {
            errs.push(
                "outcome_id",
                "a scheduled activity gets its outcome when it is done",
            );
        }
        let at = now();
        if input
            .happened_at
            .is_some_and(|h| h > at + chrono::Duration::minutes(5))
        {
            errs.push(
                "happened_at",
                "must not be in the future; schedule it with due_at",
            );
        }
        errs.into_result()?;
        self.check_targets(actor, &input).await?;
        let a = Activity {
            org_id: actor.org_id,
            id: ActivityId::new(),
            type_id,
            outcome_id: outcome.map(|o| o.0),
            user_id: actor.user_id,
            lead_id: input.lead_id.map(|x| x.0),
            company_id: input.company_id.map(|x| x.0),
            contact_id: input.contact_id.map(|x| x.0),
            prospect_id: input.prospect_id.map(|x| x.0),
            done: !scheduled,
            happened_at: if scheduled {
                None
            } else {
                Some(input.happened_at.unwrap_or(at))
            },
            due_at: input.due_at,
            duration_minutes: duration,
            notes,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        Ok(a)
    }

    async fn readable_activity(
        &self,
        actor: &Actor,
        id: ActivityId,
    ) -> Result<(Activity, crate::permissions::Target)> {
        let a = activities::get(&mut self.conn(), actor.org_id, id).await?;
        let t = self.owner_target(actor, Some(a.user_id.0)).await?;
        require(actor, Resource::Activity, Action::Read, Some(&t))?;
        // The record it is on must be visible too (else: not found).
        if let Some(l) = a.lead_id {
            self.get_lead(actor, LeadId(l)).await?;
        }
        if let Some(c) = a.company_id {
            self.get_company(actor, CompanyId(c)).await?;
        }
        if let Some(c) = a.contact_id {
            self.get_contact(actor, ContactId(c)).await?;
        }
        if let Some(p) = a.prospect_id {
            self.get_prospect(actor, ProspectId(p)).await?;
        }
        Ok((a, t))
    }

    pub async fn get_activity(&self, actor: &Actor, id: ActivityId) -> Result<Activity> {
        Ok(self.readable_activity(actor, id).await?.0)
    }

    /// Activities the actor may see, narrowed by `f`.
    pub async fn list_activities(
        &self,
        actor: &Actor,
        mut f: Filter,
        limit: u64,
        newest_first: bool,
    ) -> Result<Vec<Activity>> {
        require(actor, Resource::Activity, Action::Read, None)?;
        f.users = self.visible_owners(actor).await?;
        f.record_owners = f.users.clone();
        f.prospect_lists = self.list_visibility(actor);
        Ok(activities::list(&mut self.conn(), actor.org_id, &f, limit, newest_first).await?)
    }

    /// The activities the actor sees, in id order after `after` (exports).
    pub async fn list_activities_by_id(
        &self,
        actor: &Actor,
        after: Option<uuid::Uuid>,
        limit: u64,
    ) -> Result<Vec<Activity>> {
        require(actor, Resource::Activity, Action::Read, None)?;
        let mut f = Filter {
            users: self.visible_owners(actor).await?,
            ..Filter::default()
        };
        f.record_owners = f.users.clone();
        Ok(activities::list_by_id(&mut self.conn(), actor.org_id, &f, after, limit).await?)
    }

    /// Marks a scheduled activity done, with its outcome.
    pub async fn complete_activity(
        &self,
        actor: &Actor,
        id: ActivityId,
        if_match: Option<i64>,
        outcome: Option<OutcomeId>,
        notes: Option<String>,
    ) -> Result<Activity> {
        let (a, t) = self.readable_activity(actor, id).await?;
        require(actor, Resource::Activity, Action::Update, Some(&t))?;
        if a.done {
            return Err(AppError::Conflict("the activity is already done".into()));
        }
        let mut errs = Invalid::default();
        self.check_type(actor, a.type_id, outcome, false, &mut errs)
            .await?;
        errs.into_result()?;
        let mut ch: Vec<(&'static str, SimpleExpr)> = vec![
            ("done", true.into()),
            ("happened_at", now().into()),
            ("outcome_id", outcome.map(|o| o.0).into()),
        ];
        if let Some(n) = notes
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
        {
            ch.push(("notes", n.into()));
        }
        Ok(activities::update(
            &mut self.conn(),
            actor.org_id,
            id,
            if_match.or(Some(a.version)),
            ch,
            now(),
        )
        .await?)
    }

    /// Changes the outcome, duration or notes of an activity.
    pub async fn update_activity(
        &self,
        actor: &Actor,
        id: ActivityId,
        if_match: Option<i64>,
        input: ActivityInput,
    ) -> Result<Activity> {
        let (a, t) = self.readable_activity(actor, id).await?;
        require(actor, Resource::Activity, Action::Update, Some(&t))?;
        let mut errs = Invalid::default();
        if input.type_id.is_some()
            || input.lead_id.is_some()
            || input.company_id.is_some()
            || input.contact_id.is_some()
            || input.prospect_id.is_some()
        {
            errs.push(
                "type_id",
                "type and record cannot change; delete the activity and log it again",
            );
        }
        let mut ch: Vec<(&'static str, SimpleExpr)> = vec![];
        if let Some(o) = input.outcome_id {
            self.check_type(actor, a.type_id, o, false, &mut errs)
                .await?;
            if o.is_some() && !a.done {
                errs.push(
                    "outcome_id",
                    "a scheduled activity gets its outcome when it is done",
                );
            }
            ch.push(("outcome_id", o.map(|x| x.0).into()));
        }
        if let Some(d) = input.duration_minutes {
            if d.is_some_and(|d| !(0..=1440).contains(&d)) {
                errs.push("duration_minutes", "must be between 0 and 1440 minutes");
            }
            ch.push(("duration_minutes", d.into()));
        }
        if let Some(n) = &input.notes {
            ch.push((
                "notes",
                n.clone()
                    .map(|n| n.trim().to_string())
                    .filter(|n| !n.is_empty())
                    .into(),
            ));
        }
        if let Some(d) = input.due_at {
            if a.done {
                errs.push("due_at", "the activity is already done");
            }
            ch.push(("due_at", d.into()));
        }
        if input.happened_at.is_some() {
            errs.push("happened_at", "cannot change");
        }
        errs.into_result()?;
        Ok(activities::update(&mut self.conn(), actor.org_id, id, if_match, ch, now()).await?)
    }

    pub async fn delete_activity(
        &self,
        actor: &Actor,
        id: ActivityId,
        if_match: Option<i64>,
    ) -> Result<()> {
        let (a, t) = self.readable_activity(actor, id).await?;
        require(actor, Resource::Activity, Action::Delete, Some(&t))?;
        if if_match.is_some_and(|v| v != a.version) {
            return Err(AppError::Stale);
        }
        Ok(activities::delete(&mut self.conn(), actor.org_id, id).await?)
    }

    /// A user's open work: overdue, due today, upcoming; and what was done
    /// today. `day_start` and `day_end` bound today in the user's time zone.
    pub async fn agenda(
        &self,
        actor: &Actor,
        user: UserId,
        day_start: DateTime<Utc>,
        day_end: DateTime<Utc>,
    ) -> Result<Agenda> {
        let open = |from: Option<DateTime<Utc>>, before: Option<DateTime<Utc>>| Filter {
            user: Some(user),
            done: Some(false),
            due_from: from,
            due_before: before,
            ..Default::default()
        };
        let now = now();
        Ok(Agenda {
            overdue: self
                .list_activities(actor, open(None, Some(now)), 200, false)
                .await?,
            today: self
                .list_activities(actor, open(Some(now), Some(day_end)), 200, false)
                .await?,
            upcoming: self
                .list_activities(actor, open(Some(day_end), None), 50, false)
                .await?,
            done_today: self
                .list_activities(
                    actor,
                    Filter {
                        user: Some(user),
                        done: Some(true),
                        happened_from: Some(day_start),
                        ..Default::default()
                    },
                    200,
                    true,
                )
                .await?,
        })
    }
}
