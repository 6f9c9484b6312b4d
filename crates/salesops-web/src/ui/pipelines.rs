//! Pipeline pages: every role reads them; admins and ops shape them.

use super::people::Choice;
use super::{FieldErrors, Form, PageCtx, Session, UiError, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use salesops_app::AppError;
use salesops_app::pipelines::{PipelineInput, PipelineView, StageInput, checklist};
use salesops_domain::{Invalid, PipelineId, PipelineKind, StageId};

pub struct StageRow {
    pub id: String,
    pub name: String,
    pub position: i32,
    pub win_probability: i32,
    pub rotting_days: String,
    pub colour: String,
    pub checklist: String,
    pub version: i64,
    pub first: bool,
    pub last: bool,
}

pub struct PipelineRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub is_default: bool,
    pub stages: Vec<StageRow>,
    pub version: i64,
}

fn row(ctx: &PageCtx, v: PipelineView) -> PipelineRow {
    let n = v.stages.len();
    PipelineRow {
        id: v.pipeline.id.to_string(),
        name: v.pipeline.name,
        kind: ctx.t(&format!("kind-{}", v.pipeline.kind.as_str())),
        is_default: v.pipeline.is_default,
        version: v.pipeline.version,
        stages: v
            .stages
            .into_iter()
            .enumerate()
            .map(|(i, s)| StageRow {
                id: s.id.to_string(),
                checklist: checklist(&s).join("\n"),
                name: s.name,
                position: s.position,
                win_probability: s.win_probability,
                rotting_days: s.rotting_days.map(|d| d.to_string()).unwrap_or_default(),
                colour: s.colour,
                version: s.version,
                first: i == 0,
                last: i + 1 == n,
            })
            .collect(),
    }
}

fn kinds(ctx: &PageCtx, selected: &str) -> Vec<Choice> {
    PipelineKind::ALL
        .iter()
        .map(|k| Choice {
            value: k.to_string(),
            label: ctx.t(&format!("kind-{}", k.as_str())),
            selected: k.as_str() == selected,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "pipelines.html")]
struct PipelinesPage {
    ctx: PageCtx,
    pipelines: Vec<PipelineRow>,
    kinds: Vec<Choice>,
    name: String,
    errors: FieldErrors,
}

async fn pipelines_page(
    s: &AppState,
    session: &Session,
    name: String,
    errors: FieldErrors,
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let list = match s.app.list_pipelines(session.actor()).await {
        Ok(l) => l,
        Err(e) => return UiError::new(session.actor().locale, e).into_response(),
    };
    let mut ctx = session.ctx("pipelines");
    ctx.notice = notice.map(|k| ctx.t(k));
    let pipelines = list.into_iter().map(|v| row(&ctx, v)).collect();
    let kinds = kinds(&ctx, "acquisition");
    (
        status,
        render(&PipelinesPage {
            ctx,
            pipelines,
            kinds,
            name,
            errors,
        }),
    )
        .into_response()
}

pub async fn list(State(s): State<AppState>, session: Session, uri: Uri) -> Response {
    let notice = super::query(&uri)
        .get("deleted")
        .map(|_| "pipelines-deleted");
    pipelines_page(
        &s,
        &session,
        String::new(),
        FieldErrors::default(),
        notice,
        StatusCode::OK,
    )
    .await
}

pub async fn create(State(s): State<AppState>, session: Session, form: Form) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let input = PipelineInput {
        name: Some(form.str("name")),
        kind: form.opt("kind"),
        is_default: None,
    };
    match s.app.create_pipeline(session.actor(), input, vec![]).await {
        Ok(v) => Redirect::to(&format!("/pipelines/{}?created=1", v.pipeline.id)).into_response(),
        Err(AppError::Invalid(i)) => {
            pipelines_page(
                &s,
                &session,
                form.str("name"),
                FieldErrors::of(&i),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => UiError::new(session.actor().locale, e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "pipeline.html")]
struct PipelinePage {
    ctx: PageCtx,
    p: PipelineRow,
    kinds: Vec<Choice>,
    errors: FieldErrors,
    /// The stage whose form the errors belong to ("new" for the add form).
    error_stage: String,
}

async fn pipeline_page(
    s: &AppState,
    session: &Session,
    id: PipelineId,
    errors: FieldErrors,
    error_stage: &str,
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let v = match s.app.get_pipeline(session.actor(), id).await {
        Ok(v) => v,
        Err(e) => return UiError::new(session.actor().locale, e).into_response(),
    };
    let mut ctx = session.ctx("pipelines");
    ctx.notice = notice.map(|k| ctx.t(k));
    let kinds = kinds(&ctx, v.pipeline.kind.as_str());
    let p = row(&ctx, v);
    (
        status,
        render(&PipelinePage {
            ctx,
            p,
            kinds,
            errors,
            error_stage: error_stage.to_string(),
        }),
    )
        .into_response()
}

pub async fn show(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    uri: Uri,
) -> Response {
    let id = match super::parse_id::<PipelineId>(&session, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let q = super::query(&uri);
    let notice = [
        "created",
        "saved",
        "stage_saved",
        "stage_added",
        "stage_deleted",
        "reordered",
    ]
    .into_iter()
    .find(|k| q.contains_key(*k))
    .map(|k| match k {
        "created" => "pipelines-created",
        "saved" => "pipelines-saved",
        "stage_saved" => "pipelines-stage-saved",
        "stage_added" => "pipelines-stage-added",
        "stage_deleted" => "pipelines-stage-deleted",
        _ => "pipelines-reordered",
    });
    pipeline_page(
        &s,
        &session,
        id,
        FieldErrors::default(),
        "",
        notice,
        StatusCode::OK,
    )
    .await
}

/// Renames the pipeline, changes its kind, or makes it the default.
pub async fn update(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let id = match super::parse_id::<PipelineId>(&session, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    let input = if form.get("make_default").is_some() {
        PipelineInput {
            is_default: Some(true),
            ..Default::default()
        }
    } else {
        PipelineInput {
            name: Some(form.str("name")),
            kind: form.opt("kind"),
            is_default: None,
        }
    };
    match s
        .app
        .update_pipeline(session.actor(), id, version, input)
        .await
    {
        Ok(_) => Redirect::to(&format!("/pipelines/{id}?saved=1")).into_response(),
        Err(AppError::Invalid(i)) => {
            pipeline_page(
                &s,
                &session,
                id,
                FieldErrors::of(&i),
                "pipeline",
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => UiError::new(session.actor().locale, e).into_response(),
    }
}

pub async fn delete(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let id = match super::parse_id::<PipelineId>(&session, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    match s.app.delete_pipeline(session.actor(), id, version).await {
        Ok(()) => Redirect::to("/pipelines?deleted=1").into_response(),
        Err(e) => UiError::new(session.actor().locale, e).into_response(),
    }
}

/// Reads a stage form; numbers that are not numbers are field errors.
fn stage_input(f: &Form, errs: &mut Invalid) -> StageInput {
    let number = |errs: &mut Invalid, key: &str| -> Option<i32> {
        let v = f.opt(key)?;
        errs.check(key, v.parse::<i32>().map_err(|_| "must be a whole number"))
    };
    StageInput {
        name: Some(f.str("name")),
        win_probability: number(errs, "win_probability").or(Some(0)),
        rotting_days: Some(number(errs, "rotting_days")),
        colour: f.opt("colour"),
        checklist: Some(f.str("checklist").lines().map(str::to_string).collect()),
    }
}

pub async fn add_stage(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let id = match super::parse_id::<PipelineId>(&session, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let mut errs = Invalid::default();
    let input = stage_input(&form, &mut errs);
    let result = if errs.is_empty() {
        s.app.add_stage(session.actor(), id, input, None).await
    } else {
        Err(AppError::Invalid(errs))
    };
    match result {
        Ok(_) => Redirect::to(&format!("/pipelines/{id}?stage_added=1")).into_response(),
        Err(AppError::Invalid(i)) => {
            pipeline_page(
                &s,
                &session,
                id,
                FieldErrors::of(&i),
                "new",
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => UiError::new(session.actor().locale, e).into_response(),
    }
}

pub async fn update_stage(
    State(s): State<AppState>,
    session: Session,
    Path((id, stage)): Path<(String, String)>,
    form: Form,
) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let (id, stage) = match (
        super::parse_id::<PipelineId>(&session, &id),
        super::parse_id::<StageId>(&session, &stage),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    let mut errs = Invalid::default();
    let input = stage_input(&form, &mut errs);
    let result = if errs.is_empty() {
        s.app
            .update_stage(session.actor(), id, stage, version, input)
            .await
            .map(|_| ())
    } else {
        Err(AppError::Invalid(errs))
    };
    match result {
        Ok(()) => Redirect::to(&format!("/pipelines/{id}?stage_saved=1")).into_response(),
        Err(AppError::Invalid(i)) => {
            pipeline_page(
                &s,
                &session,
                id,
                FieldErrors::of(&i),
                &stage.to_string(),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => UiError::new(session.actor().locale, e).into_response(),
    }
}

pub async fn delete_stage(
    State(s): State<AppState>,
    session: Session,
    Path((id, stage)): Path<(String, String)>,
    form: Form,
) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let (id, stage) = match (
        super::parse_id::<PipelineId>(&session, &id),
        super::parse_id::<StageId>(&session, &stage),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    match s
        .app
        .delete_stage(session.actor(), id, stage, version)
        .await
    {
        Ok(_) => Redirect::to(&format!("/pipelines/{id}?stage_deleted=1")).into_response(),
        Err(e) => UiError::new(session.actor().locale, e).into_response(),
    }
}

/// Moves a stage one place up or down (the reordering that works without JavaScript).
pub async fn move_stage(
    State(s): State<AppState>,
    session: Session,
    Path((id, stage)): Path<(String, String)>,
    form: Form,
) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let (id, stage) = match (
        super::parse_id::<PipelineId>(&session, &id),
        super::parse_id::<StageId>(&session, &stage),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    let lang = session.actor().locale;
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    let v = match s.app.get_pipeline(session.actor(), id).await {
        Ok(v) => v,
        Err(e) => return UiError::new(lang, e).into_response(),
    };
    let mut order: Vec<StageId> = v.stages.iter().map(|s| s.id).collect();
    let Some(i) = order.iter().position(|x| *x == stage) else {
        return UiError::new(lang, AppError::NotFound).into_response();
    };
    match form.get("dir") {
        Some("up") if i > 0 => order.swap(i, i - 1),
        Some("down") if i + 1 < order.len() => order.swap(i, i + 1),
        _ => return Redirect::to(&format!("/pipelines/{id}")).into_response(),
    }
    match s
        .app
        .reorder_stages(session.actor(), id, version, order)
        .await
    {
        Ok(_) => Redirect::to(&format!("/pipelines/{id}?reordered=1")).into_response(),
        Err(e) => UiError::new(lang, e).into_response(),
    }
}
