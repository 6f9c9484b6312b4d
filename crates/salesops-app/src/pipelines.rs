//! Pipelines and stages: the default acquisition pipeline of every
//! organisation, and what ops may change about them.

use crate::permissions::{Action, Actor, Resource, require};
use crate::{App, AppError, Result};
use salesops_domain::{Invalid, Locale, OrgId, PipelineId, PipelineKind, StageId, parse_name};
use salesops_store::pipelines::{self, Pipeline, Stage};
use salesops_store::{StoreError, bump_version, now};
use sea_query::SimpleExpr;

/// A pipeline with its stages in order.
#[derive(Clone, Debug)]
pub struct PipelineView {
    pub pipeline: Pipeline,
    pub stages: Vec<Stage>,
}

/// Stage fields; `None` leaves a field unchanged on update.
#[derive(Clone, Debug, Default)]
pub struct StageInput {
    pub name: Option<String>,
    pub win_probability: Option<i32>,
    pub rotting_days: Option<Option<i32>>,
    pub colour: Option<String>,
    pub checklist: Option<Vec<String>>,
}

#[derive(Clone, Debug, Default)]
pub struct PipelineInput {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub is_default: Option<bool>,
}

/// A stage of the default acquisition pipeline.
struct DefaultStage {
    de: &'static str,
    en: &'static str,
    win_probability: i32,
    rotting_days: i32,
    colour: &'static str,
    checklist: &'static [&'static str],
}

/// The default acquisition pipeline, after the sales process of the seeds.
const DEFAULT_STAGES: [DefaultStage; 5] = [
    DefaultStage {
        de: "Akquise",
        en: "Prospecting",
        win_probability: 10,
        rotting_days: 14,
        colour: "#8fa8c8",
        checklist: &["Bedarf recherchieren", "Ansprechpartner finden"],
    },
    DefaultStage {
        de: "Kontakt & Qualifizierung",
        en: "Contact & qualification",
        win_probability: 25,
        rotting_days: 14,
        colour: "#5b8bd0",
        checklist: &[
            "Erstgespräch führen",
            "Budget, Entscheider, Bedarf, Zeitplan klären",
        ],
    },
    DefaultStage {
        de: "Nutzen demonstrieren",
        en: "Demonstrate value",
        win_probability: 45,
        rotting_days: 21,
        colour: "#3f7fbf",
        checklist: &["Demo oder Besuch", "Nutzen beziffern"],
    },
    DefaultStage {
        de: "Einwände behandeln",
        en: "Handle objections",
        win_probability: 65,
        rotting_days: 21,
        colour: "#e0a030",
        checklist: &["Angebot senden", "Einwände klären"],
    },
    DefaultStage {
        de: "Abschluss",
        en: "Closing",
        win_probability: 85,
        rotting_days: 14,
        colour: "#2f9e5a",
        checklist: &["Vertrag verhandeln", "Unterschrift einholen"],
    },
];

fn stage_changes(input: &StageInput, errs: &mut Invalid) -> Vec<(&'static str, SimpleExpr)> {
    let mut ch: Vec<(&'static str, SimpleExpr)> = vec![];
    if let Some(n) = &input.name
        && let Some(n) = errs.check("name", parse_name(n, 100))
    {
        ch.push(("name", n.into()));
    }
    if let Some(p) = input.win_probability {
        if (0..=100).contains(&p) {
            ch.push(("win_probability", p.into()));
        } else {
            errs.push("win_probability", "must be a percentage from 0 to 100");
        }
    }
    if let Some(r) = input.rotting_days {
        if r.is_some_and(|d| !(1..=3650).contains(&d)) {
            errs.push("rotting_days", "must be between 1 and 3650 days, or empty");
        } else {
            ch.push(("rotting_days", r.into()));
        }
    }
    if let Some(c) = &input.colour
        && let Some(c) = errs.check("colour", crate::fields::colour(c))
    {
        ch.push(("colour", c.into()));
    }
    if let Some(items) = &input.checklist {
        let items: Vec<String> = items
            .iter()
            .map(|i| i.trim().to_string())
            .filter(|i| !i.is_empty())
            .collect();
        if items.len() > 30 || items.iter().any(|i| i.chars().count() > 200) {
            errs.push("checklist", "at most 30 items of at most 200 characters");
        } else {
            ch.push((
                "checklist",
                serde_json::to_string(&items)
                    .unwrap_or_else(|_| "[]".into())
                    .into(),
            ));
        }
    }
    ch
}

/// The checklist of a stage as a list.
pub fn checklist(s: &Stage) -> Vec<String> {
    serde_json::from_str(&s.checklist).unwrap_or_default()
}

impl App {
    /// Creates the default acquisition pipeline of an organisation that has
    /// no pipeline yet (a new organisation, or one created before pipelines existed).
    pub async fn ensure_default_pipeline(&self, org: OrgId, locale: Locale) -> Result<()> {
        let mut tx = self.db.begin().await?;
        salesops_store::orgs::lock(&mut tx, org).await?;
        if pipelines::count_pipelines(&mut tx, org).await? > 0 {
            return Ok(());
        }
        let at = now();
        let p = Pipeline {
            org_id: org,
            id: PipelineId::new(),
            name: match locale {
                Locale::De => "Neukundengewinnung".into(),
                Locale::En => "New business".into(),
            },
            kind: PipelineKind::Acquisition,
            is_default: true,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        pipelines::insert_pipeline(&mut tx, &p).await?;
        for (i, d) in DEFAULT_STAGES.iter().enumerate() {
            let s = Stage {
                org_id: org,
                id: StageId::new(),
                pipeline_id: p.id,
                name: if locale == Locale::De { d.de } else { d.en }.to_string(),
                position: i as i32 + 1,
                win_probability: d.win_probability,
                rotting_days: Some(d.rotting_days),
                colour: d.colour.to_string(),
                checklist: serde_json::to_string(d.checklist).unwrap_or_else(|_| "[]".into()),
                created_at: at,
                updated_at: at,
                version: 1,
            };
            pipelines::insert_stage(&mut tx, &s).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn pipeline_views(
        &self,
        org: OrgId,
        list: Vec<Pipeline>,
    ) -> Result<Vec<PipelineView>> {
        let ids: Vec<PipelineId> = list.iter().map(|p| p.id).collect();
        let stages = if ids.is_empty() {
            vec![]
        } else {
            pipelines::list_stages(&mut self.conn(), org, Some(&ids)).await?
        };
        Ok(list
            .into_iter()
            .map(|p| {
                let stages = stages
                    .iter()
                    .filter(|s| s.pipeline_id == p.id)
                    .cloned()
                    .collect();
                PipelineView {
                    pipeline: p,
                    stages,
                }
            })
            .collect())
    }

    pub async fn list_pipelines(&self, actor: &Actor) -> Result<Vec<PipelineView>> {
        require(actor, Resource::Settings, Action::Read, None)?;
        let list = pipelines::list_pipelines(&mut self.conn(), actor.org_id).await?;
        self.pipeline_views(actor.org_id, list).await
    }

    pub async fn get_pipeline(&self, actor: &Actor, id: PipelineId) -> Result<PipelineView> {
        require(actor, Resource::Settings, Action::Read, None)?;
        let p = pipelines::get_pipeline(&mut self.conn(), actor.org_id, id).await?;
        Ok(self.pipeline_views(actor.org_id, vec![p]).await?.remove(0))
    }

    /// Creates a pipeline with the given stages (in order; may be none yet).
    pub async fn create_pipeline(
        &self,
        actor: &Actor,
        input: PipelineInput,
        stages: Vec<StageInput>,
    ) -> Result<PipelineView> {
        require(actor, Resource::Settings, Action::Create, None)?;
        let mut errs = Invalid::default();
        let name = match &input.name {
            Some(n) => errs.check("name", parse_name(n, 100)),
            None => {
                errs.push("name", "is required");
                None
            }
        };
        let kind = errs.check(
            "kind",
            input
                .kind
                .as_deref()
                .unwrap_or("acquisition")
                .parse::<PipelineKind>(),
        );
        let mut stage_rows = vec![];
        let at = now();
        let id = PipelineId::new();
        for (i, s) in stages.iter().enumerate() {
            let mut e = Invalid::default();
            if s.name.is_none() {
                e.push("name", "is required");
            }
            let ch = stage_changes(s, &mut e);
            for f in e.0 {
                errs.push(format!("stages[{i}].{}", f.field), f.message);
            }
            let mut row = Stage {
                org_id: actor.org_id,
                id: StageId::new(),
                pipeline_id: id,
                name: String::new(),
                position: i as i32 + 1,
                win_probability: 0,
                rotting_days: None,
                colour: "#8fa8c8".into(),
                checklist: "[]".into(),
                created_at: at,
                updated_at: at,
                version: 1,
            };
            apply_stage(&mut row, ch);
            stage_rows.push(row);
        }
        errs.into_result()?;
        let (Some(name), Some(kind)) = (name, kind) else {
            unreachable!("parsed when no error was recorded")
        };
        let p = Pipeline {
            org_id: actor.org_id,
            id,
            name,
            kind,
            is_default: false,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        let mut tx = self.db.begin().await?;
        pipelines::insert_pipeline(&mut tx, &p)
            .await
            .map_err(name_taken)?;
        for s in &stage_rows {
            pipelines::insert_stage(&mut tx, s).await?;
        }
        tx.commit().await?;
        Ok(PipelineView {
            pipeline: p,
            stages: stage_rows,
        })
    }

    /// Renames a pipeline, changes its kind, or makes it the default one.
    pub async fn update_pipeline(
        &self,
        actor: &Actor,
        id: PipelineId,
        if_match: Option<i64>,
        input: PipelineInput,
    ) -> Result<PipelineView> {
        require(actor, Resource::Settings, Action::Update, None)?;
        let mut errs = Invalid::default();
        let mut ch: Vec<(&'static str, SimpleExpr)> = vec![];
        if let Some(n) = &input.name
            && let Some(n) = errs.check("name", parse_name(n, 100))
        {
            ch.push(("name", n.into()));
        }
        if let Some(k) = &input.kind
            && let Some(k) = errs.check("kind", k.parse::<PipelineKind>())
        {
            ch.push(("kind", k.as_str().into()));
        }
        if input.is_default == Some(false) {
            errs.push("is_default", "make another pipeline the default instead");
        }
        errs.into_result()?;
        let at = now();
        let mut tx = self.db.begin().await?;
        salesops_store::orgs::lock(&mut tx, actor.org_id).await?;
        if input.is_default == Some(true) {
            for other in pipelines::list_pipelines(&mut tx, actor.org_id).await? {
                if other.is_default && other.id != id {
                    pipelines::update_pipeline(
                        &mut tx,
                        actor.org_id,
                        other.id,
                        None,
                        vec![("is_default", false.into())],
                        at,
                    )
                    .await?;
                }
            }
            ch.push(("is_default", true.into()));
        }
        pipelines::update_pipeline(&mut tx, actor.org_id, id, if_match, ch, at)
            .await
            .map_err(name_taken)?;
        tx.commit().await?;
        self.get_pipeline(actor, id).await
    }

    /// Deletes a pipeline that is not the default one.
    pub async fn delete_pipeline(
        &self,
        actor: &Actor,
        id: PipelineId,
        if_match: Option<i64>,
    ) -> Result<()> {
        require(actor, Resource::Settings, Action::Delete, None)?;
        let mut tx = self.db.begin().await?;
        let p = pipelines::get_pipeline(&mut tx, actor.org_id, id).await?;
        if if_match.is_some_and(|v| v != p.version) {
            return Err(AppError::Stale);
        }
        if p.is_default {
            return Err(AppError::Conflict(
                "the default pipeline cannot be deleted; make another one the default first".into(),
            ));
        }
        pipelines::delete_pipeline(&mut tx, actor.org_id, id)
            .await
            .map_err(|e| holds_leads(e, "the pipeline holds leads; move or delete them first"))?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds a stage at `position` (1-based; at the end when `None`).
    pub async fn add_stage(
        &self,
        actor: &Actor,
        pipeline: PipelineId,
        input: StageInput,
        position: Option<i32>,
    ) -> Result<PipelineView> {
        require(actor, Resource::Settings, Action::Update, None)?;
        let mut errs = Invalid::default();
        if input.name.is_none() {
            errs.push("name", "is required");
        }
        let ch = stage_changes(&input, &mut errs);
        let at = now();
        let mut tx = self.db.begin().await?;
        salesops_store::orgs::lock(&mut tx, actor.org_id).await?;
        let stages = pipelines::list_stages(&mut tx, actor.org_id, Some(&[pipeline])).await?;
        pipelines::get_pipeline(&mut tx, actor.org_id, pipeline).await?;
        let count = stages.len() as i32;
        let pos = position.unwrap_or(count + 1);
        if !(1..=count + 1).contains(&pos) {
            errs.push("position", format!("must be between 1 and {}", count + 1));
        }
        errs.into_result()?;
        for s in stages.iter().filter(|s| s.position >= pos) {
            pipelines::update_stage(
                &mut tx,
                actor.org_id,
                s.id,
                None,
                vec![("position", (s.position + 1).into())],
                at,
            )
            .await?;
        }
        let mut row = Stage {
            org_id: actor.org_id,
            id: StageId::new(),
            pipeline_id: pipeline,
            name: String::new(),
            position: pos,
            win_probability: 0,
            rotting_days: None,
            colour: "#8fa8c8".into(),
            checklist: "[]".into(),
            created_at: at,
            updated_at: at,
            version: 1,
        };
        apply_stage(&mut row, ch);
        pipelines::insert_stage(&mut tx, &row).await?;
        bump_version(&mut tx, "pipelines", actor.org_id, pipeline.0, at).await?;
        tx.commit().await?;
        self.get_pipeline(actor, pipeline).await
    }

    pub async fn update_stage(
        &self,
        actor: &Actor,
        pipeline: PipelineId,
        stage: StageId,
        if_match: Option<i64>,
        input: StageInput,
    ) -> Result<Stage> {
        require(actor, Resource::Settings, Action::Update, None)?;
        if pipelines::get_stage(&mut self.conn(), actor.org_id, stage)
            .await?
            .pipeline_id
            != pipeline
        {
            return Err(AppError::NotFound);
        }
        let mut errs = Invalid::default();
        let ch = stage_changes(&input, &mut errs);
        errs.into_result()?;
        Ok(
            pipelines::update_stage(&mut self.conn(), actor.org_id, stage, if_match, ch, now())
                .await?,
        )
    }

    /// Deletes a stage and closes the gap in the order. (A stage that holds
    /// leads cannot be deleted; the leads must be moved first.)
    pub async fn delete_stage(
        &self,
        actor: &Actor,
        pipeline: PipelineId,
        stage: StageId,
        if_match: Option<i64>,
    ) -> Result<PipelineView> {
        require(actor, Resource::Settings, Action::Delete, None)?;
        let at = now();
        let mut tx = self.db.begin().await?;
        salesops_store::orgs::lock(&mut tx, actor.org_id).await?;
        let s = pipelines::get_stage(&mut tx, actor.org_id, stage).await?;
        if s.pipeline_id != pipeline {
            return Err(AppError::NotFound);
        }
        if if_match.is_some_and(|v| v != s.version) {
            return Err(AppError::Stale);
        }
        pipelines::delete_stage(&mut tx, actor.org_id, stage)
            .await
            .map_err(|e| {
                holds_leads(e, "the stage holds leads; move them to another stage first")
            })?;
        for other in pipelines::list_stages(&mut tx, actor.org_id, Some(&[s.pipeline_id])).await? {
            if other.position > s.position {
                pipelines::update_stage(
                    &mut tx,
                    actor.org_id,
                    other.id,
                    None,
                    vec![("position", (other.position - 1).into())],
                    at,
                )
                .await?;
            }
        }
        bump_version(&mut tx, "pipelines", actor.org_id, s.pipeline_id.0, at).await?;
        tx.commit().await?;
        self.get_pipeline(actor, s.pipeline_id).await
    }

    /// Puts the stages in the given order; `order` must name every stage of
    /// the pipeline once. `if_match` is the pipeline's version.
    pub async fn reorder_stages(
        &self,
        actor: &Actor,
        pipeline: PipelineId,
        if_match: Option<i64>,
        order: Vec<StageId>,
    ) -> Result<PipelineView> {
        require(actor, Resource::Settings, Action::Update, None)?;
        let at = now();
        let mut tx = self.db.begin().await?;
        salesops_store::orgs::lock(&mut tx, actor.org_id).await?;
        let p = pipelines::get_pipeline(&mut tx, actor.org_id, pipeline).await?;
        if if_match.is_some_and(|v| v != p.version) {
            return Err(AppError::Stale);
        }
        let stages = pipelines::list_stages(&mut tx, actor.org_id, Some(&[pipeline])).await?;
        let mut given = order.clone();
        given.sort();
        given.dedup();
        let mut have: Vec<StageId> = stages.iter().map(|s| s.id).collect();
        have.sort();
        if given.len() != order.len() || given != have {
            return Err(AppError::Invalid(Invalid::one(
                "stage_ids",
                "must list every stage of the pipeline exactly once",
            )));
        }
        for (i, id) in order.iter().enumerate() {
            let s = stages.iter().find(|s| s.id == *id).expect("checked above");
            if s.position != i as i32 + 1 {
                pipelines::update_stage(
                    &mut tx,
                    actor.org_id,
                    *id,
                    None,
                    vec![("position", (i as i32 + 1).into())],
                    at,
                )
                .await?;
            }
        }
        bump_version(&mut tx, "pipelines", actor.org_id, pipeline.0, at).await?;
        tx.commit().await?;
        self.get_pipeline(actor, pipeline).await
    }
}

fn apply_stage(s: &mut Stage, changes: Vec<(&'static str, SimpleExpr)>) {
    use sea_query::Value;
    for (field, v) in changes {
        match (field, v) {
            ("name", SimpleExpr::Value(Value::String(Some(n)))) => s.name = n.to_string(),
            ("win_probability", SimpleExpr::Value(Value::Int(Some(p)))) => s.win_probability = p,
            ("rotting_days", SimpleExpr::Value(Value::Int(r))) => s.rotting_days = r,
            ("colour", SimpleExpr::Value(Value::String(Some(c)))) => s.colour = c.to_string(),
            ("checklist", SimpleExpr::Value(Value::String(Some(c)))) => s.checklist = c.to_string(),
            _ => {}
        }
    }
}

fn name_taken(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict(_) => {
            AppError::Invalid(Invalid::one("name", "is already used by another pipeline"))
        }
        other => other.into(),
    }
}

fn holds_leads(e: StoreError, message: &str) -> AppError {
    match e {
        StoreError::Reference(_) => AppError::Conflict(message.into()),
        other => other.into(),
    }
}
