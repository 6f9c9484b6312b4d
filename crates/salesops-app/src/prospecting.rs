//! Prospecting lists: cold prospects worked row by row with activities,
//! then converted into a lead (the link is kept) or disqualified.

use crate::fields::text;
use crate::leads::LeadInput;
use crate::permissions::{Action, Actor, Resource, Target, require};
use crate::{App, AppError, Page, Result};
use salesops_domain::{
    CompanyId, ContactId, Email, Invalid, ProspectId, ProspectListId, ProspectStatus, ScriptId,
    TeamId, UserId, parse_name,
};
use salesops_store::crm::{self, Company, Contact};
use salesops_store::leads::Lead;
use salesops_store::prospecting::{self, Filter, ListCounts, Prospect, ProspectList, Visible};
use salesops_store::{StoreError, now, scripts, teams, users};
use sea_query::SimpleExpr;
use std::collections::BTreeMap;
use uuid::Uuid;

/// A list as given; on update `None` leaves a field, `Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct ListInput {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub team_id: Option<Option<TeamId>>,
    pub script_id: Option<Option<ScriptId>>,
    pub archived: Option<bool>,
    /// The reps who work the list (replaces the current ones).
    pub reps: Option<Vec<UserId>>,
}

/// A list with the reps assigned to it and where its prospects stand.
#[derive(Clone, Debug)]
pub struct ListView {
    pub list: ProspectList,
    pub reps: Vec<UserId>,
    pub counts: ListCounts,
}

/// A prospect as given; on update `None` leaves a field, `Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct ProspectInput {
    pub company_name: Option<Option<String>>,
    pub contact_name: Option<Option<String>>,
    pub job_title: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub website: Option<Option<String>>,
    pub city: Option<Option<String>>,
    pub postcode: Option<Option<String>>,
    pub country: Option<Option<String>>,
    pub industry: Option<Option<String>>,
    pub notes: Option<Option<String>>,
    /// Free fields (replaces the current ones).
    pub fields: Option<BTreeMap<String, String>>,
    pub assigned_to: Option<Option<UserId>>,
    pub external_id: Option<Option<String>>,
}

/// How a prospect becomes a lead.
#[derive(Clone, Debug, Default)]
pub struct ConvertInput {
    /// Default: the prospect's company or contact name.
    pub title: Option<String>,
    pub lead: LeadInput,
    /// Link an existing company instead of creating one from the prospect.
    pub company_id: Option<CompanyId>,
    /// Link an existing contact instead of creating one from the prospect.
    pub contact_id: Option<ContactId>,
}

/// Validated prospect fields.
#[derive(Default)]
struct Fields {
    changes: Vec<(&'static str, SimpleExpr)>,
}

impl App {
    /// Who may see lists, for a reader who does not see everything.
    pub(crate) fn list_visibility(&self, actor: &Actor) -> Option<Visible> {
        (!actor.sees_all()).then(|| Visible {
            teams: actor.teams(),
            users: vec![actor.user_id],
        })
    }

    /// The permission target of a list: the team it is shared with; owned
    /// by the actor when they are one of its reps.
    async fn list_target(&self, actor: &Actor, l: &ProspectList) -> Result<(Vec<UserId>, Target)> {
        let reps = prospecting::list_reps(&mut self.conn(), actor.org_id, l.id).await?;
        let teams: Vec<TeamId> = l.team_id.map(TeamId).into_iter().collect();
        let owner = reps.contains(&actor.user_id).then_some(actor.user_id);
        Ok((reps, Target { owner, teams }))
    }

    pub(crate) async fn readable_list(
        &self,
        actor: &Actor,
        id: ProspectListId,
    ) -> Result<(ProspectList, Vec<UserId>, Target)> {
        let l = prospecting::get_list(&mut self.conn(), actor.org_id, id).await?;
        let (reps, t) = self.list_target(actor, &l).await?;
        require(actor, Resource::ProspectList, Action::Read, Some(&t))?;
        Ok((l, reps, t))
    }

    async fn check_list_input(
        &self,
        actor: &Actor,
        input: &ListInput,
        current_team: Option<TeamId>,
        errs: &mut Invalid,
    ) -> Result<Vec<(&'static str, SimpleExpr)>> {
        let mut ch: Vec<(&'static str, SimpleExpr)> = vec![];
        if let Some(n) = &input.name
            && let Some(n) = errs.check("name", parse_name(n, 200))
        {
            ch.push(("name", n.into()));
        }
        if let Some(d) = &input.description {
            ch.push(("description", text(errs, "description", d, 2000).into()));
        }
        if input.team_id == Some(None) && !actor.sees_all() {
            errs.push("team_id", "choose one of your teams");
        }
        if let Some(t) = input.team_id {
            if let Some(t) = t {
                match teams::get(&mut self.conn(), actor.org_id, t).await {
                    Ok(_) => {
                        if !actor.sees_all() && !actor.teams().contains(&t) {
                            errs.push("team_id", "you can share a list only with your own teams");
                        }
                    }
                    Err(StoreError::NotFound) => errs.push("team_id", format!("unknown team {t}")),
                    Err(e) => return Err(e.into()),
                }
            }
            ch.push(("team_id", t.map(|t| t.0).into()));
        }
        if let Some(s) = input.script_id {
            if let Some(s) = s {
                match scripts::get_script(&mut self.conn(), actor.org_id, s).await {
                    Ok(x) if x.archived => errs.push("script_id", "the script is archived"),
                    Ok(_) => {}
                    Err(StoreError::NotFound) => {
                        errs.push("script_id", format!("unknown script {s}"))
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            ch.push(("script_id", s.map(|s| s.0).into()));
        }
        if let Some(a) = input.archived {
            ch.push(("archived", a.into()));
        }
        if let Some(reps) = &input.reps {
            if reps.len() > 500 {
                errs.push("reps", "at most 500 reps");
            }
            // Managers staff a list from the team it is shared with.
            if !actor.sees_all() {
                let team = input.team_id.flatten().or(current_team);
                let members = match team {
                    Some(t) => teams::memberships(&mut self.conn(), actor.org_id, Some(&[t]), None)
                        .await?
                        .into_iter()
                        .map(|(_, u)| u)
                        .collect::<Vec<_>>(),
                    None => vec![],
                };
                if reps.iter().any(|r| !members.contains(r)) {
                    errs.push("reps", "reps must be members of the list's team");
                }
            }
            for r in reps {
                match users::get(&mut self.conn(), actor.org_id, *r).await {
                    Ok(u) if u.active => {}
                    Ok(_) => errs.push("reps", format!("user {r} is not active")),
                    Err(StoreError::NotFound) => errs.push("reps", format!("unknown user {r}")),
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(ch)
    }

    pub async fn create_prospect_list(&self, actor: &Actor, input: ListInput) -> Result<ListView> {
        require(actor, Resource::ProspectList, Action::Create, None)?;
        let mut errs = Invalid::default();
        if input.name.is_none() {
            errs.push("name", "is required");
        }
        // A manager's list belongs to one of their teams.
        if !actor.sees_all() && input.team_id.flatten().is_none() {
            errs.push("team_id", "choose one of your teams");
        }
        let ch = self
            .check_list_input(actor, &input, None, &mut errs)
            .await?;
        errs.into_result()?;
        let at = now();
        let mut l = ProspectList {
            org_id: actor.org_id,
            id: ProspectListId::new(),
            name: String::new(),
            description: None,
            team_id: None,
            script_id: None,
            archived: false,
            created_by: actor.user_id,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        let clean = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        l.name = clean(&input.name).unwrap_or_default();
        l.description = input.description.as_ref().and_then(clean);
        l.team_id = input.team_id.flatten().map(|t| t.0);
        l.script_id = input.script_id.flatten().map(|s| s.0);
        l.archived = input.archived.unwrap_or(false);
        drop(ch);
        let reps = dedup(input.reps.unwrap_or_default());
        let mut tx = self.db.begin().await?;
        prospecting::insert_list(&mut tx, &l).await?;
        prospecting::set_reps(&mut tx, actor.org_id, l.id, &reps).await?;
        tx.commit().await?;
        Ok(ListView {
            list: l,
            reps,
            counts: ListCounts::default(),
        })
    }

    pub async fn get_prospect_list(&self, actor: &Actor, id: ProspectListId) -> Result<ListView> {
        let (list, reps, _) = self.readable_list(actor, id).await?;
        let counts = prospecting::list_counts(&mut self.conn(), actor.org_id, id).await?;
        Ok(ListView { list, reps, counts })
    }

    /// The lists the actor sees, with their reps and counts.
    pub async fn list_prospect_lists(&self, actor: &Actor) -> Result<Vec<ListView>> {
        require(actor, Resource::ProspectList, Action::Read, None)?;
        let vis = self.list_visibility(actor);
        let lists = prospecting::list_lists(&mut self.conn(), actor.org_id, vis.as_ref()).await?;
        let mut out = Vec::with_capacity(lists.len());
        for list in lists {
            let reps = prospecting::list_reps(&mut self.conn(), actor.org_id, list.id).await?;
            let counts = prospecting::list_counts(&mut self.conn(), actor.org_id, list.id).await?;
            out.push(ListView { list, reps, counts });
        }
        Ok(out)
    }

    pub async fn update_prospect_list(
        &self,
        actor: &Actor,
        id: ProspectListId,
        if_match: Option<i64>,
        input: ListInput,
    ) -> Result<ListView> {
        let (current, _, t) = self.readable_list(actor, id).await?;
        require(actor, Resource::ProspectList, Action::Update, Some(&t))?;
        let mut errs = Invalid::default();
        let ch = self
            .check_list_input(actor, &input, current.team_id.map(TeamId), &mut errs)
            .await?;
        errs.into_result()?;
        let mut tx = self.db.begin().await?;
        let list = prospecting::update_list(&mut tx, actor.org_id, id, if_match, ch, now()).await?;
        if let Some(reps) = input.reps {
            prospecting::set_reps(&mut tx, actor.org_id, id, &dedup(reps)).await?;
        }
        tx.commit().await?;
        self.get_prospect_list(actor, list.id).await
    }

    /// Deletes a list and its prospects; refused while a prospect of it has
    /// become a lead (archive the list instead, so the link stays).
    pub async fn delete_prospect_list(
        &self,
        actor: &Actor,
        id: ProspectListId,
        if_match: Option<i64>,
    ) -> Result<()> {
        let (_, _, t) = self.readable_list(actor, id).await?;
        require(actor, Resource::ProspectList, Action::Delete, Some(&t))?;
        let mut tx = self.db.begin().await?;
        // The version is checked in the transaction that deletes.
        prospecting::claim_list(&mut tx, actor.org_id, id, if_match, now()).await?;
        let counts = prospecting::list_counts(&mut tx, actor.org_id, id).await?;
        if counts.converted > 0 {
            return Err(AppError::Conflict(format!(
                "{} prospects of this list became leads; archive the list instead",
                counts.converted
            )));
        }
        prospecting::delete_list_prospects(&mut tx, actor.org_id, id).await?;
        prospecting::delete_list(&mut tx, actor.org_id, id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The target of a prospect: its list's teams; its owner the rep it is
    /// assigned to, or, while unassigned, whoever may read the list.
    async fn prospect_target(&self, actor: &Actor, p: &Prospect) -> Result<(ProspectList, Target)> {
        let (l, _, t) = self
            .readable_list(actor, p.list_id)
            .await
            .map_err(|e| match e {
                AppError::Forbidden => AppError::NotFound,
                e => e,
            })?;
        Ok((l, of_prospect(actor, t, p)))
    }

    /// Which of these prospects of one list the actor may work (the list is
    /// read once, not once per prospect).
    pub async fn workable_prospects(
        &self,
        actor: &Actor,
        list: ProspectListId,
        prospects: &[Prospect],
    ) -> Result<Vec<bool>> {
        let (_, _, t) = self.readable_list(actor, list).await?;
        Ok(prospects
            .iter()
            .map(|p| {
                p.list_id == list
                    && crate::can(
                        actor,
                        Resource::Prospect,
                        Action::Update,
                        Some(&of_prospect(actor, t.clone(), p)),
                    )
            })
            .collect())
    }

    async fn readable_prospect(
        &self,
        actor: &Actor,
        id: ProspectId,
    ) -> Result<(Prospect, ProspectList, Target)> {
        let p = prospecting::get_prospect(&mut self.conn(), actor.org_id, id).await?;
        let (l, t) = self.prospect_target(actor, &p).await?;
        require(actor, Resource::Prospect, Action::Read, Some(&t))?;
        Ok((p, l, t))
    }

    pub async fn get_prospect(&self, actor: &Actor, id: ProspectId) -> Result<Prospect> {
        Ok(self.readable_prospect(actor, id).await?.0)
    }

    /// The prospect a lead was converted from, if the actor may see it.
    pub async fn prospect_of_lead(
        &self,
        actor: &Actor,
        lead: salesops_domain::LeadId,
    ) -> Result<Option<Prospect>> {
        self.get_lead(actor, lead).await?;
        match prospecting::prospect_of_lead(&mut self.conn(), actor.org_id, lead.0).await? {
            Some(p) => match self.get_prospect(actor, p.id).await {
                Ok(p) => Ok(Some(p)),
                Err(AppError::NotFound | AppError::Forbidden) => Ok(None),
                Err(e) => Err(e),
            },
            None => Ok(None),
        }
    }

    /// May the actor change this list (its reps, script, prospects)?
    pub async fn may_manage_prospect_list(
        &self,
        actor: &Actor,
        id: ProspectListId,
    ) -> Result<bool> {
        let (_, _, t) = self.readable_list(actor, id).await?;
        Ok(crate::can(
            actor,
            Resource::ProspectList,
            Action::Update,
            Some(&t),
        ))
    }

    /// May the actor work (log calls on, convert, disqualify) this prospect?
    pub async fn may_work_prospect(&self, actor: &Actor, p: &Prospect) -> Result<bool> {
        let (_, t) = self.prospect_target(actor, p).await?;
        Ok(crate::can(
            actor,
            Resource::Prospect,
            Action::Update,
            Some(&t),
        ))
    }

    /// Checks prospect fields into column changes.
    async fn check_prospect(
        &self,
        actor: &Actor,
        input: &ProspectInput,
        list_reps: &[UserId],
        current_assignee: Option<Uuid>,
        errs: &mut Invalid,
    ) -> Result<Fields> {
        let mut f = Fields::default();
        macro_rules! texts {
            ($($field:ident : $max:expr),*) => {$(
                if let Some(v) = &input.$field {
                    f.changes.push((stringify!($field), text(errs, stringify!($field), v, $max).into()));
                }
            )*};
        }
        texts!(company_name: 200, contact_name: 200, job_title: 200, phone: 50, website: 300,
            city: 100, postcode: 20, country: 100, industry: 100, notes: 10_000, external_id: 100);
        if let Some(e) = &input.email {
            let e = text(errs, "email", e, 254);
            if let Some(v) = &e {
                errs.check("email", Email::parse(v));
            }
            f.changes
                .push(("email", e.map(|e| e.to_lowercase()).into()));
        }
        if let Some(fields) = &input.fields {
            if fields.len() > 50 {
                errs.push("fields", "at most 50 free fields");
            }
            for (k, v) in fields {
                if k.trim().is_empty() || k.chars().count() > 100 || v.chars().count() > 2000 {
                    errs.push(
                        "fields",
                        format!("field {k:?}: names up to 100 and values up to 2000 characters"),
                    );
                }
            }
            let json =
                serde_json::to_string(fields).map_err(|e| AppError::Internal(e.to_string()))?;
            f.changes.push(("fields", json.into()));
        }
        if let Some(a) = input.assigned_to {
            if let Some(u) = a
                && Some(u.0) != current_assignee
            {
                {
                    if u != actor.user_id
                        && !crate::can(actor, Resource::Prospect, Action::Administer, None)
                    {
                        errs.push("assigned_to", "you can assign prospects only to yourself");
                    } else if !list_reps.contains(&u) {
                        errs.push("assigned_to", "is not one of the list's reps");
                    } else {
                        match users::get(&mut self.conn(), actor.org_id, u).await {
                            Ok(x) if x.active => {}
                            Ok(_) => errs.push("assigned_to", "the user is not active"),
                            Err(StoreError::NotFound) => {
                                errs.push("assigned_to", format!("unknown user {u}"))
                            }
                            Err(e) => return Err(e.into()),
                        }
                    }
                }
            }
            f.changes.push(("assigned_to", a.map(|u| u.0).into()));
        }
        Ok(f)
    }

    /// Adds a prospect to a list (at its end).
    pub async fn create_prospect(
        &self,
        actor: &Actor,
        list: ProspectListId,
        input: ProspectInput,
    ) -> Result<Prospect> {
        let (l, reps, t) = self.readable_list(actor, list).await?;
        require(actor, Resource::Prospect, Action::Create, Some(&t))?;
        let mut p = self.new_prospect(actor, &l, &reps, input).await?;
        p.position = prospecting::next_position(&mut self.conn(), actor.org_id, list).await?;
        prospecting::insert_prospects(&mut self.conn(), std::slice::from_ref(&p))
            .await
            .map_err(external_id_taken)?;
        Ok(p)
    }

    /// Checks a new prospect and builds its row (position 0, not written).
    pub(crate) async fn new_prospect(
        &self,
        actor: &Actor,
        l: &ProspectList,
        reps: &[UserId],
        input: ProspectInput,
    ) -> Result<Prospect> {
        let mut errs = Invalid::default();
        self.check_prospect(actor, &input, reps, None, &mut errs)
            .await?;
        let name = |v: &Option<Option<String>>| {
            v.clone()
                .flatten()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        if name(&input.company_name).is_none() && name(&input.contact_name).is_none() {
            errs.push(
                "company_name",
                "a prospect needs a company or a contact name",
            );
        }
        if l.archived {
            errs.push("list_id", "the list is archived");
        }
        errs.into_result()?;
        let at = now();
        let mut p = Prospect {
            org_id: actor.org_id,
            id: ProspectId::new(),
            list_id: l.id,
            position: 0,
            company_name: None,
            contact_name: None,
            job_title: None,
            phone: None,
            email: None,
            website: None,
            city: None,
            postcode: None,
            country: None,
            industry: None,
            notes: None,
            fields: "{}".into(),
            assigned_to: None,
            status: ProspectStatus::Open,
            disqualify_reason: None,
            lead_id: None,
            company_id: None,
            contact_id: None,
            closed_at: None,
            external_id: None,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        apply_fields(&mut p, &input);
        Ok(p)
    }

    pub async fn list_prospects(
        &self,
        actor: &Actor,
        mut f: Filter,
        cursor: Option<Uuid>,
        limit: u64,
    ) -> Result<Page<Prospect>> {
        require(actor, Resource::Prospect, Action::Read, None)?;
        f.visible = self.list_visibility(actor);
        let after = match cursor {
            Some(c) => {
                match prospecting::get_prospect(&mut self.conn(), actor.org_id, ProspectId(c)).await
                {
                    Ok(p) => Some((p.list_id.0, p.position, p.id.0)),
                    Err(StoreError::NotFound) => {
                        return Err(AppError::Invalid(Invalid::one("cursor", "unknown cursor")));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            None => None,
        };
        let rows =
            prospecting::list_prospects(&mut self.conn(), actor.org_id, &f, after, limit + 1)
                .await?;
        Ok(Page::from_rows(rows, limit, |p| p.id.0))
    }

    pub async fn update_prospect(
        &self,
        actor: &Actor,
        id: ProspectId,
        if_match: Option<i64>,
        input: ProspectInput,
    ) -> Result<Prospect> {
        let changes = self.prepare_prospect_update(actor, id, input).await?;
        prospecting::update_prospect(&mut self.conn(), actor.org_id, id, if_match, changes, now())
            .await
            .map_err(external_id_taken)
    }

    /// Checks an update of a prospect into column changes (not written yet).
    pub(crate) async fn prepare_prospect_update(
        &self,
        actor: &Actor,
        id: ProspectId,
        input: ProspectInput,
    ) -> Result<Vec<(&'static str, SimpleExpr)>> {
        let (p, l, t) = self.readable_prospect(actor, id).await?;
        require(actor, Resource::Prospect, Action::Update, Some(&t))?;
        let reps = prospecting::list_reps(&mut self.conn(), actor.org_id, l.id).await?;
        let mut errs = Invalid::default();
        let f = self
            .check_prospect(actor, &input, &reps, p.assigned_to, &mut errs)
            .await?;
        let mut next = p.clone();
        apply_fields(&mut next, &input);
        if next.company_name.is_none() && next.contact_name.is_none() {
            errs.push(
                "company_name",
                "a prospect needs a company or a contact name",
            );
        }
        errs.into_result()?;
        Ok(f.changes)
    }

    pub async fn delete_prospect(
        &self,
        actor: &Actor,
        id: ProspectId,
        if_match: Option<i64>,
    ) -> Result<()> {
        let (p, _, t) = self.readable_prospect(actor, id).await?;
        require(actor, Resource::Prospect, Action::Delete, Some(&t))?;
        if if_match.is_some_and(|v| v != p.version) {
            return Err(AppError::Stale);
        }
        if p.status == ProspectStatus::Converted {
            return Err(AppError::Conflict(
                "the prospect became a lead; its record stays for the reports".into(),
            ));
        }
        Ok(prospecting::delete_prospect(&mut self.conn(), actor.org_id, id).await?)
    }

    /// Turns an open prospect into a lead in one transaction: a company and
    /// a contact are created from it (unless existing ones are given), the
    /// lead links them, and the prospect keeps the link to the lead.
    pub async fn convert_prospect(
        &self,
        actor: &Actor,
        id: ProspectId,
        if_match: Option<i64>,
        input: ConvertInput,
    ) -> Result<(Prospect, Lead)> {
        let (p, _, t) = self.readable_prospect(actor, id).await?;
        require(actor, Resource::Prospect, Action::Update, Some(&t))?;
        if if_match.is_some_and(|v| v != p.version) {
            return Err(AppError::Stale);
        }
        if p.status != ProspectStatus::Open {
            return Err(AppError::Conflict(format!(
                "the prospect is already {}",
                p.status
            )));
        }
        let at = now();
        let owner = input
            .lead
            .owner_id
            .unwrap_or(Some(p.assigned_to.map(UserId).unwrap_or(actor.user_id)));
        // Existing records must be visible; new ones are built from the prospect.
        let company = match (input.company_id, &p.company_name) {
            (Some(c), _) => {
                self.get_company(actor, c).await.map_err(|e| match e {
                    AppError::NotFound | AppError::Forbidden => AppError::Invalid(Invalid::one(
                        "company_id",
                        format!("unknown company {c}"),
                    )),
                    e => e,
                })?;
                Some((c, None))
            }
            (None, Some(name)) => {
                let c = Company {
                    org_id: actor.org_id,
                    id: CompanyId::new(),
                    name: name.clone(),
                    industry: p.industry.clone(),
                    size_band: None,
                    country: p.country.clone(),
                    region: None,
                    postcode: p.postcode.clone(),
                    city: p.city.clone(),
                    website: p.website.clone(),
                    phone: if p.contact_name.is_none() {
                        p.phone.clone()
                    } else {
                        None
                    },
                    problems: None,
                    value_minor: None,
                    value_currency: None,
                    owner_id: owner.map(|u| u.0),
                    external_id: None,
                    created_at: at,
                    updated_at: at,
                    version: 1,
                };
                Some((c.id, Some(c)))
            }
            (None, None) => None,
        };
        let contact = match (input.contact_id, &p.contact_name) {
            (Some(c), _) => {
                self.get_contact(actor, c).await.map_err(|e| match e {
                    AppError::NotFound | AppError::Forbidden => AppError::Invalid(Invalid::one(
                        "contact_id",
                        format!("unknown contact {c}"),
                    )),
                    e => e,
                })?;
                Some((c, None))
            }
            (None, Some(name)) => {
                let c = Contact {
                    org_id: actor.org_id,
                    id: ContactId::new(),
                    company_id: company.as_ref().map(|(id, _)| id.0),
                    name: name.clone(),
                    job_title: p.job_title.clone(),
                    email: p.email.clone(),
                    phone: p.phone.clone(),
                    notes: None,
                    owner_id: owner.map(|u| u.0),
                    external_id: None,
                    created_at: at,
                    updated_at: at,
                    version: 1,
                };
                Some((c.id, Some(c)))
            }
            (None, None) => None,
        };
        // The lead is checked like any new lead; its company and contact are
        // set after the check because the new ones are not written yet.
        let mut lead_input = input.lead.clone();
        lead_input.title = Some(
            input
                .title
                .clone()
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| p.display_name()),
        );
        lead_input.owner_id = Some(owner);
        lead_input.company_id = None;
        lead_input.contact_id = None;
        if lead_input.source.is_none() {
            lead_input.source = Some(Some("sales".into()));
        }
        let mut lead = self.prepare_lead(actor, lead_input).await?;
        lead.company_id = company.as_ref().map(|(id, _)| id.0);
        lead.contact_id = contact.as_ref().map(|(id, _)| id.0);
        let mut tx = self.db.begin().await?;
        if let Some((_, Some(c))) = &company {
            crm::insert_company(&mut tx, c).await?;
        }
        if let Some((_, Some(c))) = &contact {
            crm::insert_contact(&mut tx, c).await?;
        }
        crate::leads::insert_lead(&mut tx, actor, &lead).await?;
        let p = prospecting::update_prospect(
            &mut tx,
            actor.org_id,
            id,
            Some(p.version),
            vec![
                ("status", ProspectStatus::Converted.as_str().into()),
                ("lead_id", lead.id.0.into()),
                ("company_id", lead.company_id.into()),
                ("contact_id", lead.contact_id.into()),
                ("closed_at", at.into()),
            ],
            at,
        )
        .await?;
        crate::notify::events::publish(&mut tx, actor.org_id, "prospect.converted", p.id.0, || {
            serde_json::json!({
                "prospect_id": p.id.0,
                "list_id": p.list_id,
                "lead_id": lead.id.0,
                "company_id": lead.company_id,
                "contact_id": lead.contact_id,
                "converted_by": actor.user_id.0,
                "lead": crate::notify::events::lead_data(&lead),
            })
        })
        .await?;
        tx.commit().await?;
        Ok((p, lead))
    }

    /// Drops an open prospect with a reason (such as "bad fit").
    pub async fn disqualify_prospect(
        &self,
        actor: &Actor,
        id: ProspectId,
        if_match: Option<i64>,
        reason: Option<String>,
    ) -> Result<Prospect> {
        let (p, _, t) = self.readable_prospect(actor, id).await?;
        require(actor, Resource::Prospect, Action::Update, Some(&t))?;
        if p.status != ProspectStatus::Open {
            return Err(AppError::Conflict(format!(
                "the prospect is already {}",
                p.status
            )));
        }
        let mut errs = Invalid::default();
        let reason = text(&mut errs, "reason", &reason, 200);
        errs.into_result()?;
        let at = now();
        Ok(prospecting::update_prospect(
            &mut self.conn(),
            actor.org_id,
            id,
            if_match.or(Some(p.version)),
            vec![
                ("status", ProspectStatus::Disqualified.as_str().into()),
                ("disqualify_reason", reason.into()),
                ("closed_at", at.into()),
            ],
            at,
        )
        .await?)
    }

    /// Opens a disqualified prospect again.
    pub async fn reopen_prospect(
        &self,
        actor: &Actor,
        id: ProspectId,
        if_match: Option<i64>,
    ) -> Result<Prospect> {
        let (p, _, t) = self.readable_prospect(actor, id).await?;
        require(actor, Resource::Prospect, Action::Update, Some(&t))?;
        if p.status != ProspectStatus::Disqualified {
            return Err(AppError::Conflict(
                "only a disqualified prospect can be reopened".into(),
            ));
        }
        Ok(prospecting::update_prospect(
            &mut self.conn(),
            actor.org_id,
            id,
            if_match.or(Some(p.version)),
            vec![
                ("status", ProspectStatus::Open.as_str().into()),
                ("disqualify_reason", Option::<String>::None.into()),
                (
                    "closed_at",
                    Option::<chrono::DateTime<chrono::Utc>>::None.into(),
                ),
            ],
            now(),
        )
        .await?)
    }

    /// The next (or previous) open prospect of the list after this one that
    /// the actor works: unassigned or assigned to them (ops and managers: any).
    pub async fn neighbour_prospect(
        &self,
        actor: &Actor,
        p: &Prospect,
        forward: bool,
    ) -> Result<Option<Prospect>> {
        let mine = (actor.role == salesops_domain::Role::Rep).then_some(actor.user_id);
        Ok(prospecting::neighbour(
            &mut self.conn(),
            actor.org_id,
            p.list_id,
            p.position,
            forward,
            mine,
        )
        .await?)
    }
}

/// A prospect's target from its list's: owned by the rep it is assigned
/// to, or, while unassigned, by whoever reads the list.
fn of_prospect(actor: &Actor, mut list: Target, p: &Prospect) -> Target {
    list.owner = Some(p.assigned_to.map(UserId).unwrap_or(actor.user_id));
    list
}

fn dedup(mut v: Vec<UserId>) -> Vec<UserId> {
    v.sort_by_key(|u| u.0);
    v.dedup();
    v
}

/// Applies given fields to a prospect row (for new rows and the
/// "needs a name" check on updates).
fn apply_fields(p: &mut Prospect, input: &ProspectInput) {
    let clean = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    macro_rules! set {
        ($($f:ident),*) => {$( if let Some(v) = &input.$f { p.$f = clean(v); } )*};
    }
    set!(
        company_name,
        contact_name,
        job_title,
        phone,
        website,
        city,
        postcode,
        country,
        industry,
        notes,
        external_id
    );
    if let Some(v) = &input.email {
        p.email = clean(v).map(|e| e.to_lowercase());
    }
    if let Some(f) = &input.fields {
        p.fields = serde_json::to_string(f).unwrap_or_else(|_| "{}".into());
    }
    if let Some(a) = input.assigned_to {
        p.assigned_to = a.map(|u| u.0);
    }
}

pub(crate) fn external_id_taken(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict(_) => AppError::Invalid(Invalid::one(
            "external_id",
            "another prospect has this external id",
        )),
        e => e.into(),
    }
}
