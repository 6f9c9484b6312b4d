//! Activity types (call, e-mail, meeting, ...) and their outcomes: the
//! defaults of every organisation, and what ops may change.

use crate::permissions::{Action, Actor, Resource, require};
use crate::{App, AppError, Result};
use salesops_domain::{
    ActivityKind, ActivityTypeId, Invalid, Locale, OrgId, OutcomeId, parse_name,
};
use salesops_store::activity_types::{self, ActivityType, Outcome};
use salesops_store::{StoreError, now};
use sea_query::SimpleExpr;

/// Icons the UI can draw for a type.
pub const ICONS: [&str; 10] = [
    "phone",
    "mail",
    "inbox",
    "users",
    "file-text",
    "check-square",
    "calendar",
    "message",
    "star",
    "circle",
];

#[derive(Clone, Debug)]
pub struct TypeView {
    pub activity_type: ActivityType,
    pub outcomes: Vec<Outcome>,
}

#[derive(Clone, Debug, Default)]
pub struct TypeInput {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub colour: Option<String>,
    pub icon: Option<String>,
    pub counts_as_selling: Option<bool>,
    pub archived: Option<bool>,
}

#[derive(Clone, Debug, Default)]
pub struct OutcomeInput {
    pub name: Option<String>,
    pub colour: Option<String>,
    pub positive: Option<bool>,
    pub archived: Option<bool>,
}

struct DefaultOutcome {
    de: &'static str,
    en: &'static str,
    positive: bool,
    colour: &'static str,
}

struct DefaultType {
    de: &'static str,
    en: &'static str,
    kind: ActivityKind,
    colour: &'static str,
    icon: &'static str,
    selling: bool,
    outcomes: &'static [DefaultOutcome],
}

/// The defaults of SPEC: Call (answered / unanswered), Email (sent), Email
/// received, Meeting (held / no-show), Proposal.
const DEFAULT_TYPES: [DefaultType; 5] = [
    DefaultType {
        de: "Anruf",
        en: "Call",
        kind: ActivityKind::Call,
        colour: "#3f7fbf",
        icon: "phone",
        selling: true,
        outcomes: &[
            DefaultOutcome {
                de: "erreicht",
                en: "answered",
                positive: true,
                colour: "#2f9e5a",
            },
            DefaultOutcome {
                de: "nicht erreicht",
                en: "unanswered",
                positive: false,
                colour: "#c0392b",
            },
        ],
    },
    DefaultType {
        de: "E-Mail",
        en: "Email",
        kind: ActivityKind::Email,
        colour: "#7a5bd0",
        icon: "mail",
        selling: true,
        outcomes: &[DefaultOutcome {
            de: "gesendet",
            en: "sent",
            positive: true,
            colour: "#2f9e5a",
        }],
    },
    DefaultType {
        de: "E-Mail erhalten",
        en: "Email received",
        kind: ActivityKind::EmailReceived,
        colour: "#8a94a6",
        icon: "inbox",
        selling: false,
        outcomes: &[],
    },
    DefaultType {
        de: "Termin",
        en: "Meeting",
        kind: ActivityKind::Meeting,
        colour: "#e0a030",
        icon: "users",
        selling: true,
        outcomes: &[
            DefaultOutcome {
                de: "stattgefunden",
                en: "held",
                positive: true,
                colour: "#2f9e5a",
            },
            DefaultOutcome {
                de: "nicht erschienen",
                en: "no-show",
                positive: false,
                colour: "#c0392b",
            },
        ],
    },
    DefaultType {
        de: "Angebot",
        en: "Proposal",
        kind: ActivityKind::Proposal,
        colour: "#2f9e5a",
        icon: "file-text",
        selling: true,
        outcomes: &[],
    },
];

fn type_changes(input: &TypeInput, errs: &mut Invalid) -> Vec<(&'static str, SimpleExpr)> {
    let mut ch: Vec<(&'static str, SimpleExpr)> = vec![];
    if let Some(n) = &input.name
        && let Some(n) = errs.check("name", parse_name(n, 60))
    {
        ch.push(("name", n.into()));
    }
    if let Some(k) = &input.kind
        && let Some(k) = errs.check("kind", k.parse::<ActivityKind>())
    {
        ch.push(("kind", k.as_str().into()));
    }
    if let Some(c) = &input.colour
        && let Some(c) = errs.check("colour", crate::fields::colour(c))
    {
        ch.push(("colour", c.into()));
    }
    if let Some(i) = &input.icon {
        if ICONS.contains(&i.as_str()) {
            ch.push(("icon", i.clone().into()));
        } else {
            errs.push("icon", format!("must be one of: {}", ICONS.join(", ")));
        }
    }
    if let Some(b) = input.counts_as_selling {
        ch.push(("counts_as_selling", b.into()));
    }
    if let Some(b) = input.archived {
        ch.push(("archived", b.into()));
    }
    ch
}

fn outcome_changes(input: &OutcomeInput, errs: &mut Invalid) -> Vec<(&'static str, SimpleExpr)> {
    let mut ch: Vec<(&'static str, SimpleExpr)> = vec![];
    if let Some(n) = &input.name
        && let Some(n) = errs.check("name", parse_name(n, 60))
    {
        ch.push(("name", n.into()));
    }
    if let Some(c) = &input.colour
        && let Some(c) = errs.check("colour", crate::fields::colour(c))
    {
        ch.push(("colour", c.into()));
    }
    if let Some(b) = input.positive {
        ch.push(("positive", b.into()));
    }
    if let Some(b) = input.archived {
        ch.push(("archived", b.into()));
    }
    ch
}

impl App {
    /// Creates the default activity types of an organisation that has none.
    pub async fn ensure_default_activity_types(&self, org: OrgId, locale: Locale) -> Result<()> {
        let mut tx = self.db.begin().await?;
        salesops_store::orgs::lock(&mut tx, org).await?;
        if activity_types::count_types(&mut tx, org).await? > 0 {
            return Ok(());
        }
        let at = now();
        let pick = |de: &str, en: &str| {
            if locale == Locale::De {
                de.to_string()
            } else {
                en.to_string()
            }
        };
        for (i, d) in DEFAULT_TYPES.iter().enumerate() {
            let t = ActivityType {
                org_id: org,
                id: ActivityTypeId::new(),
                name: pick(d.de, d.en),
                kind: d.kind,
                colour: d.colour.into(),
                icon: d.icon.into(),
                counts_as_selling: d.selling,
                archived: false,
                position: i as i32 + 1,
                created_at: at,
                updated_at: at,
                version: 1,
            };
            activity_types::insert_type(&mut tx, &t).await?;
            for (j, o) in d.outcomes.iter().enumerate() {
                let row = Outcome {
                    org_id: org,
                    id: OutcomeId::new(),
                    type_id: t.id,
                    name: pick(o.de, o.en),
                    colour: o.colour.into(),
                    positive: o.positive,
                    archived: false,
                    position: j as i32 + 1,
                    created_at: at,
                    updated_at: at,
                    version: 1,
                };
                activity_types::insert_outcome(&mut tx, &row).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_activity_types(
        &self,
        actor: &Actor,
        include_archived: bool,
    ) -> Result<Vec<TypeView>> {
        require(actor, Resource::Settings, Action::Read, None)?;
        let types =
            activity_types::list_types(&mut self.conn(), actor.org_id, include_archived).await?;
        let ids: Vec<ActivityTypeId> = types.iter().map(|t| t.id).collect();
        let outcomes = if ids.is_empty() {
            vec![]
        } else {
            activity_types::list_outcomes(
                &mut self.conn(),
                actor.org_id,
                Some(&ids),
                include_archived,
            )
            .await?
        };
        Ok(types
            .into_iter()
            .map(|t| {
                let outcomes = outcomes
                    .iter()
                    .filter(|o| o.type_id == t.id)
                    .cloned()
                    .collect();
                TypeView {
                    activity_type: t,
                    outcomes,
                }
            })
            .collect())
    }

    pub async fn get_activity_type(&self, actor: &Actor, id: ActivityTypeId) -> Result<TypeView> {
        require(actor, Resource::Settings, Action::Read, None)?;
        let t = activity_types::get_type(&mut self.conn(), actor.org_id, id).await?;
        let outcomes =
            activity_types::list_outcomes(&mut self.conn(), actor.org_id, Some(&[id]), true)
                .await?;
        Ok(TypeView {
            activity_type: t,
            outcomes,
        })
    }

    /// Creates a type with its outcomes (in order).
    pub async fn create_activity_type(
        &self,
        actor: &Actor,
        input: TypeInput,
        outcomes: Vec<OutcomeInput>,
    ) -> Result<TypeView> {
        require(actor, Resource::Settings, Action::Create, None)?;
        let mut errs = Invalid::default();
        for (field, missing) in [
            ("name", input.name.is_none()),
            ("kind", input.kind.is_none()),
        ] {
            if missing {
                errs.push(field, "is required");
            }
        }
        type_changes(&input, &mut errs);
        let at = now();
        let mut t = ActivityType {
            org_id: actor.org_id,
            id: ActivityTypeId::new(),
            name: String::new(),
            kind: ActivityKind::Other,
            colour: "#8a94a6".into(),
            icon: "circle".into(),
            counts_as_selling: true,
            archived: false,
            position: 0,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        apply_type(&mut t, &input);
        let mut rows = vec![];
        for (i, o) in outcomes.iter().enumerate() {
            let mut e = Invalid::default();
            if o.name.is_none() {
                e.push("name", "is required");
            }
            outcome_changes(o, &mut e);
            for f in e.0 {
                errs.push(format!("outcomes[{i}].{}", f.field), f.message);
            }
            let mut row = Outcome {
                org_id: actor.org_id,
                id: OutcomeId::new(),
                type_id: t.id,
                name: String::new(),
                colour: "#8a94a6".into(),
                positive: true,
                archived: false,
                position: i as i32 + 1,
                created_at: at,
                updated_at: at,
                version: 1,
            };
            apply_outcome(&mut row, o);
            rows.push(row);
        }
        errs.into_result()?;
        let mut tx = self.db.begin().await?;
        t.position = activity_types::count_types(&mut tx, actor.org_id).await? as i32 + 1;
        activity_types::insert_type(&mut tx, &t)
            .await
            .map_err(|e| taken(e, "name"))?;
        for r in &rows {
            activity_types::insert_outcome(&mut tx, r)
                .await
                .map_err(|e| taken(e, "outcomes"))?;
        }
        tx.commit().await?;
        Ok(TypeView {
            activity_type: t,
            outcomes: rows,
        })
    }

    /// Edits or archives a type (`archived: true` hides it from new activities
    /// but keeps the history).
    pub async fn update_activity_type(
        &self,
        actor: &Actor,
        id: ActivityTypeId,
        if_match: Option<i64>,
        input: TypeInput,
    ) -> Result<TypeView> {
        require(actor, Resource::Settings, Action::Update, None)?;
        let mut errs = Invalid::default();
        let ch = type_changes(&input, &mut errs);
        errs.into_result()?;
        activity_types::update_type(&mut self.conn(), actor.org_id, id, if_match, ch, now())
            .await
            .map_err(|e| taken(e, "name"))?;
        self.get_activity_type(actor, id).await
    }

    /// Deletes an unused type; one that activities use must be archived instead.
    pub async fn delete_activity_type(
        &self,
        actor: &Actor,
        id: ActivityTypeId,
        if_match: Option<i64>,
    ) -> Result<()> {
        require(actor, Resource::Settings, Action::Delete, None)?;
        let mut tx = self.db.begin().await?;
        let t = activity_types::get_type(&mut tx, actor.org_id, id).await?;
        if if_match.is_some_and(|v| v != t.version) {
            return Err(AppError::Stale);
        }
        activity_types::delete_type(&mut tx, actor.org_id, id)
            .await
            .map_err(in_use)?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn add_outcome(
        &self,
        actor: &Actor,
        type_id: ActivityTypeId,
        input: OutcomeInput,
    ) -> Result<TypeView> {
        require(actor, Resource::Settings, Action::Update, None)?;
        let mut errs = Invalid::default();
        if input.name.is_none() {
            errs.push("name", "is required");
        }
        outcome_changes(&input, &mut errs);
        errs.into_result()?;
        let at = now();
        let mut tx = self.db.begin().await?;
        activity_types::get_type(&mut tx, actor.org_id, type_id).await?;
        let count = activity_types::list_outcomes(&mut tx, actor.org_id, Some(&[type_id]), true)
            .await?
            .len();
        let mut row = Outcome {
            org_id: actor.org_id,
            id: OutcomeId::new(),
            type_id,
            name: String::new(),
            colour: "#8a94a6".into(),
            positive: true,
            archived: false,
            position: count as i32 + 1,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        apply_outcome(&mut row, &input);
        activity_types::insert_outcome(&mut tx, &row)
            .await
            .map_err(|e| taken(e, "name"))?;
        tx.commit().await?;
        self.get_activity_type(actor, type_id).await
    }

    async fn outcome_of(
        &self,
        actor: &Actor,
        type_id: ActivityTypeId,
        id: OutcomeId,
    ) -> Result<Outcome> {
        let o = activity_types::get_outcome(&mut self.conn(), actor.org_id, id).await?;
        if o.type_id != type_id {
            return Err(AppError::NotFound);
        }
        Ok(o)
    }

    pub async fn update_outcome(
        &self,
        actor: &Actor,
        type_id: ActivityTypeId,
        id: OutcomeId,
        if_match: Option<i64>,
        input: OutcomeInput,
    ) -> Result<Outcome> {
        require(actor, Resource::Settings, Action::Update, None)?;
        self.outcome_of(actor, type_id, id).await?;
        let mut errs = Invalid::default();
        let ch = outcome_changes(&input, &mut errs);
        errs.into_result()?;
        activity_types::update_outcome(&mut self.conn(), actor.org_id, id, if_match, ch, now())
            .await
            .map_err(|e| taken(e, "name"))
    }

    pub async fn delete_outcome(
        &self,
        actor: &Actor,
        type_id: ActivityTypeId,
        id: OutcomeId,
        if_match: Option<i64>,
    ) -> Result<()> {
        require(actor, Resource::Settings, Action::Delete, None)?;
        let o = self.outcome_of(actor, type_id, id).await?;
        if if_match.is_some_and(|v| v != o.version) {
            return Err(AppError::Stale);
        }
        activity_types::delete_outcome(&mut self.conn(), actor.org_id, id)
            .await
            .map_err(in_use)
    }
}

fn apply_type(t: &mut ActivityType, input: &TypeInput) {
    if let Some(n) = &input.name {
        t.name = n.trim().to_string();
    }
    if let Some(k) = input.kind.as_deref().and_then(|k| k.parse().ok()) {
        t.kind = k;
    }
    if let Some(c) = input
        .colour
        .as_deref()
        .and_then(|c| crate::fields::colour(c).ok())
    {
        t.colour = c;
    }
    if let Some(i) = &input.icon {
        t.icon = i.clone();
    }
    if let Some(b) = input.counts_as_selling {
        t.counts_as_selling = b;
    }
    if let Some(b) = input.archived {
        t.archived = b;
    }
}

fn apply_outcome(o: &mut Outcome, input: &OutcomeInput) {
    if let Some(n) = &input.name {
        o.name = n.trim().to_string();
    }
    if let Some(c) = input
        .colour
        .as_deref()
        .and_then(|c| crate::fields::colour(c).ok())
    {
        o.colour = c;
    }
    if let Some(b) = input.positive {
        o.positive = b;
    }
    if let Some(b) = input.archived {
        o.archived = b;
    }
}

fn taken(e: StoreError, field: &str) -> AppError {
    match e {
        StoreError::Conflict(_) => {
            AppError::Invalid(Invalid::one(field, "the name is already used"))
        }
        other => other.into(),
    }
}

fn in_use(e: StoreError) -> AppError {
    match e {
        StoreError::Reference(_) => {
            AppError::Conflict("activities use it; archive it instead".into())
        }
        other => other.into(),
    }
}
