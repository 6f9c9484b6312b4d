//! Pipelines and their stages.

use super::{etag, path_id};
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, Auth, IfMatch};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use salesops_app::pipelines::{PipelineInput, PipelineView, StageInput, checklist};
use salesops_domain::{PipelineId, StageId};
use salesops_store::pipelines::Stage;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StageOut {
    pub id: Uuid,
    pub name: String,
    /// 1-based place in the pipeline.
    pub position: i32,
    /// Chance to win a lead in this stage, in percent.
    pub win_probability: i32,
    /// A lead left longer than this in the stage is rotting.
    pub rotting_days: Option<i32>,
    pub colour: String,
    /// Actions expected at this stage.
    pub checklist: Vec<String>,
    pub version: i64,
}

impl From<Stage> for StageOut {
    fn from(s: Stage) -> Self {
        StageOut {
            id: s.id.0,
            checklist: checklist(&s),
            name: s.name,
            position: s.position,
            win_probability: s.win_probability,
            rotting_days: s.rotting_days,
            colour: s.colour,
            version: s.version,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PipelineOut {
    pub id: Uuid,
    pub name: String,
    /// acquisition, renewal, upsell or recruiting.
    pub kind: String,
    pub is_default: bool,
    pub stages: Vec<StageOut>,
    pub version: i64,
}

impl From<PipelineView> for PipelineOut {
    fn from(v: PipelineView) -> Self {
        PipelineOut {
            id: v.pipeline.id.0,
            name: v.pipeline.name,
            kind: v.pipeline.kind.to_string(),
            is_default: v.pipeline.is_default,
            stages: v.stages.into_iter().map(StageOut::from).collect(),
            version: v.pipeline.version,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PipelineList {
    pub items: Vec<PipelineOut>,
    /// Always null: every pipeline is on one page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageIn {
    pub name: Option<String>,
    pub win_probability: Option<i32>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<i32>)]
    pub rotting_days: Option<Option<i32>>,
    /// #rrggbb
    pub colour: Option<String>,
    pub checklist: Option<Vec<String>>,
    /// Where to insert a new stage (1-based; default: at the end).
    pub position: Option<i32>,
}

impl From<&StageIn> for StageInput {
    fn from(b: &StageIn) -> Self {
        StageInput {
            name: b.name.clone(),
            win_probability: b.win_probability,
            rotting_days: b.rotting_days,
            colour: b.colour.clone(),
            checklist: b.checklist.clone(),
        }
    }
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PipelineIn {
    pub name: Option<String>,
    /// acquisition (default), renewal, upsell or recruiting.
    pub kind: Option<String>,
    /// PATCH only: make this the default pipeline.
    pub is_default: Option<bool>,
    /// POST only: the stages, in order.
    #[serde(default)]
    pub stages: Vec<StageIn>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageOrderIn {
    /// Every stage of the pipeline, in the new order.
    pub stage_ids: Vec<Uuid>,
}

#[utoipa::path(get, path = "/api/v1/pipelines", tag = "pipelines", responses((status = 200, body = PipelineList), (status = 401, body = Problem)))]
pub async fn list(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<PipelineList>> {
    let items = s
        .app
        .list_pipelines(&auth.actor)
        .await?
        .into_iter()
        .map(PipelineOut::from)
        .collect();
    Ok(Json(PipelineList {
        items,
        next_cursor: None,
    }))
}

#[utoipa::path(post, path = "/api/v1/pipelines", tag = "pipelines", request_body = PipelineIn,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = PipelineOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<PipelineIn>,
) -> ApiResult<(StatusCode, HeaderMap, Json<PipelineOut>)> {
    let mut errs = salesops_domain::Invalid::default();
    if b.is_default.is_some() {
        errs.push("is_default", "set it with PATCH once the pipeline exists");
    }
    for (i, st) in b.stages.iter().enumerate() {
        if st.position.is_some() {
            errs.push(
                format!("stages[{i}].position"),
                "stages are placed in the order given",
            );
        }
    }
    errs.into_result()?;
    let stages = b.stages.iter().map(StageInput::from).collect();
    let v = s
        .app
        .create_pipeline(
            &auth.actor,
            PipelineInput {
                name: b.name,
                kind: b.kind,
                is_default: None,
            },
            stages,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        etag(v.pipeline.version),
        Json(v.into()),
    ))
}

#[utoipa::path(get, path = "/api/v1/pipelines/{id}", tag = "pipelines", params(("id" = Uuid, Path)),
    responses((status = 200, body = PipelineOut), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<(HeaderMap, Json<PipelineOut>)> {
    let v = s
        .app
        .get_pipeline(&auth.actor, path_id::<PipelineId>(&id)?)
        .await?;
    Ok((etag(v.pipeline.version), Json(v.into())))
}

#[utoipa::path(patch, path = "/api/v1/pipelines/{id}", tag = "pipelines", request_body = PipelineIn,
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 200, body = PipelineOut), (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)))]
pub async fn update(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
    ApiJson(b): ApiJson<PipelineIn>,
) -> ApiResult<(HeaderMap, Json<PipelineOut>)> {
    let id = path_id::<PipelineId>(&id)?;
    let version = if_match.required()?;
    if !b.stages.is_empty() {
        return Err(salesops_domain::Invalid::one(
            "stages",
            "change stages through /pipelines/{id}/stages",
        )
        .into());
    }
    let v = s
        .app
        .update_pipeline(
            &auth.actor,
            id,
            Some(version),
            PipelineInput {
                name: b.name,
                kind: b.kind,
                is_default: b.is_default,
            },
        )
        .await?;
    Ok((etag(v.pipeline.version), Json(v.into())))
}

#[utoipa::path(delete, path = "/api/v1/pipelines/{id}", tag = "pipelines", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem)))]
pub async fn delete(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> ApiResult<StatusCode> {
    s.app
        .delete_pipeline(&auth.actor, path_id::<PipelineId>(&id)?, if_match.0)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/pipelines/{id}/stages", tag = "pipelines", request_body = StageIn,
    params(("id" = Uuid, Path)),
    responses((status = 201, body = PipelineOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn add_stage(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<StageIn>,
) -> ApiResult<(StatusCode, Json<PipelineOut>)> {
    let v = s
        .app
        .add_stage(
            &auth.actor,
            path_id::<PipelineId>(&id)?,
            StageInput::from(&b),
            b.position,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(v.into())))
}

#[utoipa::path(patch, path = "/api/v1/pipelines/{id}/stages/{stage_id}", tag = "pipelines", request_body = StageIn,
    params(("id" = Uuid, Path), ("stage_id" = Uuid, Path), ("If-Match" = String, Header, description = "The stage's version")),
    responses((status = 200, body = StageOut), (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)))]
pub async fn update_stage(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, stage)): Path<(String, String)>,
    if_match: IfMatch,
    ApiJson(b): ApiJson<StageIn>,
) -> ApiResult<(HeaderMap, Json<StageOut>)> {
    let (id, stage) = (path_id::<PipelineId>(&id)?, path_id::<StageId>(&stage)?);
    let version = if_match.required()?;
    if b.position.is_some() {
        return Err(salesops_domain::Invalid::one(
            "position",
            "reorder through /pipelines/{id}/stages/order",
        )
        .into());
    }
    let st = s
        .app
        .update_stage(&auth.actor, id, stage, Some(version), StageInput::from(&b))
        .await?;
    Ok((etag(st.version), Json(st.into())))
}

/// Deletes a stage (only when no lead is in it).
#[utoipa::path(delete, path = "/api/v1/pipelines/{id}/stages/{stage_id}", tag = "pipelines",
    params(("id" = Uuid, Path), ("stage_id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = PipelineOut), (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem)))]
pub async fn delete_stage(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, stage)): Path<(String, String)>,
    if_match: IfMatch,
) -> ApiResult<Json<PipelineOut>> {
    let (id, stage) = (path_id::<PipelineId>(&id)?, path_id::<StageId>(&stage)?);
    Ok(Json(
        s.app
            .delete_stage(&auth.actor, id, stage, if_match.0)
            .await?
            .into(),
    ))
}

/// Puts the stages in a new order (every stage, once).
#[utoipa::path(post, path = "/api/v1/pipelines/{id}/stages/order", tag = "pipelines", request_body = StageOrderIn,
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The pipeline's version")),
    responses((status = 200, body = PipelineOut), (status = 412, body = Problem), (status = 422, body = Problem)))]
pub async fn reorder(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
    ApiJson(b): ApiJson<StageOrderIn>,
) -> ApiResult<(HeaderMap, Json<PipelineOut>)> {
    let order = b.stage_ids.into_iter().map(StageId).collect();
    let v = s
        .app
        .reorder_stages(&auth.actor, path_id::<PipelineId>(&id)?, if_match.0, order)
        .await?;
    Ok((etag(v.pipeline.version), Json(v.into())))
}
