//! Leads: CRUD, the stage and status actions, history, and the board.

use super::{MoneyDto, PageParams, double_option, etag, list_type, page_params, path_id};
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, Auth, IfMatch, OptionalJson, Query};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, NaiveDate, Utc};
use salesops_app::leads::{Board, LeadInput, is_rotting, lead_amount};
use salesops_domain::{CompanyId, ContactId, LeadId, LeadStatus, PipelineId, StageId, UserId};
use salesops_store::leads::{Filter, HistoryEntry, Lead};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LeadOut {
    pub id: Uuid,
    pub title: String,
    pub pipeline_id: Uuid,
    pub stage_id: Uuid,
    /// open, won, lost or cancelled.
    pub status: String,
    pub amount: Option<MoneyDto>,
    /// Overrides the stage's win probability (percent).
    pub probability: Option<i32>,
    pub expected_close_date: Option<NaiveDate>,
    pub owner_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    /// marketing, sales, partner, referral, event, inbound or other.
    pub source: Option<String>,
    pub campaign: Option<String>,
    /// pipeline, best_case, commit, closed or omitted.
    pub forecast_category: String,
    pub next_step_date: Option<NaiveDate>,
    pub mql_at: Option<DateTime<Utc>>,
    pub sql_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub lost_reason: Option<String>,
    pub competitor: Option<String>,
    /// When the lead entered its current stage.
    pub stage_entered_at: DateTime<Utc>,
    pub external_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<Lead> for LeadOut {
    fn from(l: Lead) -> Self {
        LeadOut {
            id: l.id.0,
            amount: lead_amount(&l).map(MoneyDto::from),
            title: l.title,
            pipeline_id: l.pipeline_id.0,
            stage_id: l.stage_id.0,
            status: l.status.to_string(),
            probability: l.probability,
            expected_close_date: l.expected_close_date,
            owner_id: l.owner_id,
            company_id: l.company_id,
            contact_id: l.contact_id,
            source: l.source,
            campaign: l.campaign,
            forecast_category: l.forecast_category.to_string(),
            next_step_date: l.next_step_date,
            mql_at: l.mql_at,
            sql_at: l.sql_at,
            closed_at: l.closed_at,
            lost_reason: l.lost_reason,
            competitor: l.competitor,
            stage_entered_at: l.stage_entered_at,
            external_id: l.external_id,
            created_at: l.created_at,
            updated_at: l.updated_at,
            version: l.version,
        }
    }
}

list_type!(LeadList, LeadOut);

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadIn {
    pub title: Option<String>,
    /// POST only (default: the default pipeline).
    pub pipeline_id: Option<Uuid>,
    /// POST only (default: the pipeline's first stage). Move with /leads/{id}/move.
    pub stage_id: Option<Uuid>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<MoneyDto>)]
    pub amount: Option<Option<MoneyDto>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i32>)]
    pub probability: Option<Option<i32>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub expected_close_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub owner_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub company_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub contact_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub source: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub campaign: Option<Option<String>>,
    pub forecast_category: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub next_step_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub mql_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub sql_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub external_id: Option<Option<String>>,
}

impl From<LeadIn> for LeadInput {
    fn from(b: LeadIn) -> Self {
        LeadInput {
            title: b.title,
            pipeline_id: b.pipeline_id.map(PipelineId),
            stage_id: b.stage_id.map(StageId),
            amount: b.amount.map(|a| a.map(Into::into)),
            probability: b.probability,
            expected_close_date: b.expected_close_date,
            owner_id: b.owner_id.map(|o| o.map(UserId)),
            company_id: b.company_id.map(|c| c.map(CompanyId)),
            contact_id: b.contact_id.map(|c| c.map(ContactId)),
            source: b.source,
            campaign: b.campaign,
            forecast_category: b.forecast_category,
            next_step_date: b.next_step_date,
            mql_at: b.mql_at,
            sql_at: b.sql_at,
            external_id: b.external_id,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub limit: Option<String>,
    pub cursor: Option<String>,
    pub q: Option<String>,
    pub owner_id: Option<String>,
    pub pipeline_id: Option<String>,
    pub stage_id: Option<String>,
    pub status: Option<String>,
    pub company_id: Option<String>,
    pub contact_id: Option<String>,
}

/// Parses an optional id query parameter, naming it when wrong.
pub(crate) fn id_param<T: std::str::FromStr>(
    errs: &mut salesops_domain::Invalid,
    name: &str,
    v: &Option<String>,
) -> Option<T> {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .and_then(|s| errs.check(name, s.parse::<T>().map_err(|_| "must be an id")))
}

impl ListQuery {
    pub fn filter(&self) -> ApiResult<Filter> {
        let mut errs = salesops_domain::Invalid::default();
        let f = Filter {
            owners: None,
            owner: id_param(&mut errs, "owner_id", &self.owner_id),
            pipeline: id_param(&mut errs, "pipeline_id", &self.pipeline_id),
            stage: id_param(&mut errs, "stage_id", &self.stage_id),
            status: self
                .status
                .as_deref()
                .filter(|s| !s.is_empty())
                .and_then(|s| errs.check("status", s.parse::<LeadStatus>())),
            company: id_param(&mut errs, "company_id", &self.company_id),
            contact: id_param(&mut errs, "contact_id", &self.contact_id),
            q: self.q.clone().filter(|q| !q.trim().is_empty()),
            ids: None,
        };
        errs.into_result()?;
        Ok(f)
    }
}

#[utoipa::path(get, path = "/api/v1/leads", tag = "leads",
    params(PageParams, ("q" = Option<String>, Query, description = "Search title, company and contact"), ("owner_id" = Option<Uuid>, Query),
        ("pipeline_id" = Option<Uuid>, Query), ("stage_id" = Option<Uuid>, Query), ("status" = Option<String>, Query),
        ("company_id" = Option<Uuid>, Query), ("contact_id" = Option<Uuid>, Query)),
    responses((status = 200, body = LeadList), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<LeadList>> {
    let (cursor, limit) = page_params(q.limit.as_deref(), q.cursor.as_deref())?;
    let page = s
        .app
        .list_leads(&auth.actor, q.filter()?, cursor, limit)
        .await?;
    Ok(Json(LeadList::from_page(page, LeadOut::from)))
}

#[utoipa::path(post, path = "/api/v1/leads", tag = "leads", request_body = LeadIn,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = LeadOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<LeadIn>,
) -> ApiResult<(StatusCode, HeaderMap, Json<LeadOut>)> {
    let l = s.app.create_lead(&auth.actor, b.into()).await?;
    Ok((StatusCode::CREATED, etag(l.version), Json(l.into())))
}

#[utoipa::path(get, path = "/api/v1/leads/{id}", tag = "leads", params(("id" = Uuid, Path)),
    responses((status = 200, body = LeadOut), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<(HeaderMap, Json<LeadOut>)> {
    let l = s.app.get_lead(&auth.actor, path_id::<LeadId>(&id)?).await?;
    Ok((etag(l.version), Json(l.into())))
}

#[utoipa::path(patch, path = "/api/v1/leads/{id}", tag = "leads", request_body = LeadIn,
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 200, body = LeadOut), (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)))]
pub async fn update(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
    ApiJson(b): ApiJson<LeadIn>,
) -> ApiResult<(HeaderMap, Json<LeadOut>)> {
    let id = path_id::<LeadId>(&id)?;
    let version = if_match.required()?;
    let l = s
        .app
        .update_lead(&auth.actor, id, Some(version), b.into())
        .await?;
    Ok((etag(l.version), Json(l.into())))
}

#[utoipa::path(delete, path = "/api/v1/leads/{id}", tag = "leads", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204), (status = 404, body = Problem), (status = 412, body = Problem)))]
pub async fn delete(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> ApiResult<StatusCode> {
    s.app
        .delete_lead(&auth.actor, path_id::<LeadId>(&id)?, if_match.0)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveIn {
    /// A stage of the lead's own pipeline.
    pub stage_id: Uuid,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoseIn {
    pub reason: String,
    pub competitor: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelIn {
    pub reason: Option<String>,
}

/// No input: an empty body or `{}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

#[utoipa::path(post, path = "/api/v1/leads/{id}/move", tag = "leads", request_body = MoveIn,
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = LeadOut), (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
pub async fn move_lead(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
    ApiJson(b): ApiJson<MoveIn>,
) -> ApiResult<(HeaderMap, Json<LeadOut>)> {
    let l = s
        .app
        .move_lead(
            &auth.actor,
            path_id::<LeadId>(&id)?,
            if_match.0,
            StageId(b.stage_id),
        )
        .await?;
    Ok((etag(l.version), Json(l.into())))
}

#[utoipa::path(post, path = "/api/v1/leads/{id}/win", tag = "leads",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = LeadOut), (status = 409, body = Problem), (status = 412, body = Problem)))]
pub async fn win(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
    _: OptionalJson<Empty>,
) -> ApiResult<(HeaderMap, Json<LeadOut>)> {
    let l = s
        .app
        .win_lead(&auth.actor, path_id::<LeadId>(&id)?, if_match.0)
        .await?;
    Ok((etag(l.version), Json(l.into())))
}

#[utoipa::path(post, path = "/api/v1/leads/{id}/lose", tag = "leads", request_body = LoseIn,
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = LeadOut), (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
pub async fn lose(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
    ApiJson(b): ApiJson<LoseIn>,
) -> ApiResult<(HeaderMap, Json<LeadOut>)> {
    let l = s
        .app
        .lose_lead(
            &auth.actor,
            path_id::<LeadId>(&id)?,
            if_match.0,
            &b.reason,
            b.competitor.as_deref(),
        )
        .await?;
    Ok((etag(l.version), Json(l.into())))
}

#[utoipa::path(post, path = "/api/v1/leads/{id}/cancel", tag = "leads", request_body = CancelIn,
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = LeadOut), (status = 409, body = Problem), (status = 412, body = Problem)))]
pub async fn cancel(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
    OptionalJson(b): OptionalJson<CancelIn>,
) -> ApiResult<(HeaderMap, Json<LeadOut>)> {
    let l = s
        .app
        .cancel_lead(
            &auth.actor,
            path_id::<LeadId>(&id)?,
            if_match.0,
            b.reason.as_deref(),
        )
        .await?;
    Ok((etag(l.version), Json(l.into())))
}

#[utoipa::path(post, path = "/api/v1/leads/{id}/reopen", tag = "leads",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = LeadOut), (status = 409, body = Problem), (status = 412, body = Problem)))]
pub async fn reopen(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
    _: OptionalJson<Empty>,
) -> ApiResult<(HeaderMap, Json<LeadOut>)> {
    let l = s
        .app
        .reopen_lead(&auth.actor, path_id::<LeadId>(&id)?, if_match.0)
        .await?;
    Ok((etag(l.version), Json(l.into())))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HistoryOut {
    pub from_stage_id: Option<Uuid>,
    pub to_stage_id: Uuid,
    pub from_status: Option<String>,
    pub to_status: String,
    pub at: DateTime<Utc>,
    pub by_user_id: Option<Uuid>,
}

impl From<HistoryEntry> for HistoryOut {
    fn from(h: HistoryEntry) -> Self {
        HistoryOut {
            from_stage_id: h.from_stage_id,
            to_stage_id: h.to_stage_id,
            from_status: h.from_status,
            to_status: h.to_status,
            at: h.at,
            by_user_id: h.by_user_id,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HistoryList {
    pub items: Vec<HistoryOut>,
    pub next_cursor: Option<String>,
}

/// Every stage and status change of the lead, oldest first.
#[utoipa::path(get, path = "/api/v1/leads/{id}/history", tag = "leads", params(("id" = Uuid, Path)),
    responses((status = 200, body = HistoryList), (status = 404, body = Problem)))]
pub async fn history(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<HistoryList>> {
    let items = s
        .app
        .lead_history(&auth.actor, path_id::<LeadId>(&id)?)
        .await?
        .into_iter()
        .map(HistoryOut::from)
        .collect();
    Ok(Json(HistoryList {
        items,
        next_cursor: None,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ColumnOut {
    pub stage_id: Uuid,
    pub name: String,
    pub win_probability: i32,
    /// Open leads in the stage.
    pub count: i64,
    /// Sum of amounts, per currency.
    pub total: Vec<MoneyDto>,
    /// Sum of amount × probability, per currency.
    pub weighted: Vec<MoneyDto>,
    /// The open leads (up to 500 per board), longest in the stage first.
    pub leads: Vec<LeadOut>,
    /// Ids of the leads in `leads` that stayed longer than the stage's rotting days.
    pub rotting: Vec<Uuid>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BoardOut {
    pub pipeline_id: Uuid,
    pub columns: Vec<ColumnOut>,
}

impl From<Board> for BoardOut {
    fn from(b: Board) -> Self {
        let at = Utc::now();
        BoardOut {
            pipeline_id: b.pipeline.pipeline.id.0,
            columns: b
                .columns
                .into_iter()
                .map(|c| ColumnOut {
                    rotting: c
                        .cards
                        .iter()
                        .filter(|l| is_rotting(l, &c.stage, at))
                        .map(|l| l.id.0)
                        .collect(),
                    stage_id: c.stage.id.0,
                    name: c.stage.name,
                    win_probability: c.stage.win_probability,
                    count: c.count,
                    total: c.totals.into_iter().map(MoneyDto::from).collect(),
                    weighted: c.weighted.into_iter().map(MoneyDto::from).collect(),
                    leads: c.cards.into_iter().map(LeadOut::from).collect(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct BoardQuery {
    pub owner_id: Option<String>,
}

/// The pipeline board: one column per stage with its open leads, count, total and weighted amount.
#[utoipa::path(get, path = "/api/v1/pipelines/{id}/board", tag = "leads", params(("id" = Uuid, Path), ("owner_id" = Option<Uuid>, Query)),
    responses((status = 200, body = BoardOut), (status = 404, body = Problem)))]
pub async fn board(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<BoardQuery>,
) -> ApiResult<Json<BoardOut>> {
    let mut errs = salesops_domain::Invalid::default();
    let owner = id_param::<UserId>(&mut errs, "owner_id", &q.owner_id);
    errs.into_result()?;
    Ok(Json(
        s.app
            .board(&auth.actor, path_id::<PipelineId>(&id)?, owner)
            .await?
            .into(),
    ))
}
