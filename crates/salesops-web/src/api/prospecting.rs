//! Prospecting lists, prospects (convert, disqualify, reopen), sales
//! scripts and the answers given on calls.

use super::leads::{LeadIn, LeadOut, id_param};
use super::{PageParams, double_option, etag, list_type, page_params, path_id};
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, Auth, IfMatch, OptionalJson, Query};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use salesops_app::prospecting::{ConvertInput, ListInput, ListView, ProspectInput};
use salesops_app::scripts::{Answered, QuestionInput, ScriptInput, ScriptView};
use salesops_domain::{
    CompanyId, ContactId, LeadId, ProspectId, ProspectListId, ProspectStatus, QuestionId, ScriptId,
    TeamId, UserId,
};
use salesops_store::prospecting::{Filter, Prospect};
use salesops_store::scripts::{Question, Subject};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

// ---------------------------------------------------------------- lists

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProspectListOut {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    /// The team the list is shared with.
    pub team_id: Option<Uuid>,
    /// The script shown while working the list.
    pub script_id: Option<Uuid>,
    pub archived: bool,
    /// The reps who work the list.
    pub reps: Vec<Uuid>,
    pub prospects: i64,
    pub open: i64,
    pub converted: i64,
    pub disqualified: i64,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

impl From<ListView> for ProspectListOut {
    fn from(v: ListView) -> Self {
        let l = v.list;
        ProspectListOut {
            id: l.id.0,
            name: l.name,
            description: l.description,
            team_id: l.team_id,
            script_id: l.script_id,
            archived: l.archived,
            reps: v.reps.into_iter().map(|u| u.0).collect(),
            prospects: v.counts.total,
            open: v.counts.open,
            converted: v.counts.converted,
            disqualified: v.counts.disqualified,
            created_by: l.created_by.0,
            created_at: l.created_at,
            version: l.version,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProspectListList {
    pub items: Vec<ProspectListOut>,
    /// Always null: every list is on one page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProspectListIn {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub team_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub script_id: Option<Option<Uuid>>,
    pub archived: Option<bool>,
    /// The reps who work the list (replaces the current ones).
    pub reps: Option<Vec<Uuid>>,
}

impl From<ProspectListIn> for ListInput {
    fn from(b: ProspectListIn) -> Self {
        ListInput {
            name: b.name,
            description: b.description,
            team_id: b.team_id.map(|t| t.map(TeamId)),
            script_id: b.script_id.map(|s| s.map(ScriptId)),
            archived: b.archived,
            reps: b.reps.map(|r| r.into_iter().map(UserId).collect()),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/prospect-lists", tag = "prospecting",
    responses((status = 200, body = ProspectListList), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list_lists(
    State(s): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<ProspectListList>> {
    let items = s
        .app
        .list_prospect_lists(&auth.actor)
        .await?
        .into_iter()
        .map(ProspectListOut::from)
        .collect();
    Ok(Json(ProspectListList {
        items,
        next_cursor: None,
    }))
}

#[utoipa::path(post, path = "/api/v1/prospect-lists", tag = "prospecting", request_body = ProspectListIn,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = ProspectListOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_list(
    State(s): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<ProspectListIn>,
) -> ApiResult<(StatusCode, HeaderMap, Json<ProspectListOut>)> {
    let v = s.app.create_prospect_list(&auth.actor, b.into()).await?;
    Ok((StatusCode::CREATED, etag(v.list.version), Json(v.into())))
}

#[utoipa::path(get, path = "/api/v1/prospect-lists/{id}", tag = "prospecting", params(("id" = Uuid, Path)),
    responses((status = 200, body = ProspectListOut), (status = 404, body = Problem)))]
pub async fn get_list(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<(HeaderMap, Json<ProspectListOut>)> {
    let v = s
        .app
        .get_prospect_list(&auth.actor, path_id::<ProspectListId>(&id)?)
        .await?;
    Ok((etag(v.list.version), Json(v.into())))
}

#[utoipa::path(patch, path = "/api/v1/prospect-lists/{id}", tag = "prospecting", request_body = ProspectListIn,
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 200, body = ProspectListOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)))]
pub async fn update_list(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
    ApiJson(b): ApiJson<ProspectListIn>,
) -> ApiResult<(HeaderMap, Json<ProspectListOut>)> {
    let id = path_id::<ProspectListId>(&id)?;
    let version = if_match.required()?;
    let v = s
        .app
        .update_prospect_list(&auth.actor, id, Some(version), b.into())
        .await?;
    Ok((etag(v.list.version), Json(v.into())))
}

/// Deletes a list and its prospects (409 once one became a lead: archive it).
#[utoipa::path(delete, path = "/api/v1/prospect-lists/{id}", tag = "prospecting",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem)))]
pub async fn delete_list(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> ApiResult<StatusCode> {
    s.app
        .delete_prospect_list(&auth.actor, path_id::<ProspectListId>(&id)?, if_match.0)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ------------------------------------------------------------ prospects

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProspectOut {
    pub id: Uuid,
    pub list_id: Uuid,
    /// The row of the list (work order).
    pub position: i64,
    pub company_name: Option<String>,
    pub contact_name: Option<String>,
    pub job_title: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub city: Option<String>,
    pub postcode: Option<String>,
    pub country: Option<String>,
    pub industry: Option<String>,
    pub notes: Option<String>,
    /// Free fields.
    pub fields: BTreeMap<String, String>,
    pub assigned_to: Option<Uuid>,
    /// open, converted or disqualified.
    pub status: String,
    pub disqualify_reason: Option<String>,
    /// The lead the prospect became.
    pub lead_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub closed_at: Option<DateTime<Utc>>,
    pub external_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

impl From<Prospect> for ProspectOut {
    fn from(p: Prospect) -> Self {
        ProspectOut {
            id: p.id.0,
            list_id: p.list_id.0,
            position: p.position,
            company_name: p.company_name,
            contact_name: p.contact_name,
            job_title: p.job_title,
            phone: p.phone,
            email: p.email,
            website: p.website,
            city: p.city,
            postcode: p.postcode,
            country: p.country,
            industry: p.industry,
            notes: p.notes,
            fields: serde_json::from_str(&p.fields).unwrap_or_default(),
            assigned_to: p.assigned_to,
            status: p.status.to_string(),
            disqualify_reason: p.disqualify_reason,
            lead_id: p.lead_id,
            company_id: p.company_id,
            contact_id: p.contact_id,
            closed_at: p.closed_at,
            external_id: p.external_id,
            created_at: p.created_at,
            version: p.version,
        }
    }
}

list_type!(ProspectList, ProspectOut);

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProspectIn {
    /// POST only: the list it goes to (at its end).
    pub list_id: Option<Uuid>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub company_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub contact_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub job_title: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub website: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub city: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub postcode: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub country: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub industry: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
    /// Free fields (replaces the current ones).
    pub fields: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub assigned_to: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub external_id: Option<Option<String>>,
}

impl From<ProspectIn> for ProspectInput {
    fn from(b: ProspectIn) -> Self {
        ProspectInput {
            company_name: b.company_name,
            contact_name: b.contact_name,
            job_title: b.job_title,
            phone: b.phone,
            email: b.email,
            website: b.website,
            city: b.city,
            postcode: b.postcode,
            country: b.country,
            industry: b.industry,
            notes: b.notes,
            fields: b.fields,
            assigned_to: b.assigned_to.map(|a| a.map(UserId)),
            external_id: b.external_id,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ProspectQuery {
    pub limit: Option<String>,
    pub cursor: Option<String>,
    pub list_id: Option<String>,
    pub status: Option<String>,
    pub assigned_to: Option<String>,
    pub q: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/prospects", tag = "prospecting",
    params(PageParams, ("list_id" = Option<Uuid>, Query), ("status" = Option<String>, Query, description = "open, converted or disqualified"),
        ("assigned_to" = Option<Uuid>, Query), ("q" = Option<String>, Query, description = "Search company, contact, e-mail, phone, city")),
    responses((status = 200, body = ProspectList), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list_prospects(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<ProspectQuery>,
) -> ApiResult<Json<ProspectList>> {
    let (cursor, limit) = page_params(q.limit.as_deref(), q.cursor.as_deref())?;
    let mut errs = salesops_domain::Invalid::default();
    let f = Filter {
        list: id_param(&mut errs, "list_id", &q.list_id),
        status: q
            .status
            .as_deref()
            .filter(|s| !s.is_empty())
            .and_then(|s| errs.check("status", s.parse::<ProspectStatus>())),
        assigned_to: id_param(&mut errs, "assigned_to", &q.assigned_to),
        visible: None,
        q: q.q.clone().filter(|q| !q.trim().is_empty()),
    };
    errs.into_result()?;
    let page = s.app.list_prospects(&auth.actor, f, cursor, limit).await?;
    Ok(Json(ProspectList::from_page(page, ProspectOut::from)))
}

#[utoipa::path(post, path = "/api/v1/prospects", tag = "prospecting", request_body = ProspectIn,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = ProspectOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create_prospect(
    State(s): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<ProspectIn>,
) -> ApiResult<(StatusCode, HeaderMap, Json<ProspectOut>)> {
    let Some(list) = b.list_id else {
        return Err(salesops_domain::Invalid::one("list_id", "is required").into());
    };
    let p = s
        .app
        .create_prospect(&auth.actor, ProspectListId(list), b.into())
        .await?;
    Ok((StatusCode::CREATED, etag(p.version), Json(p.into())))
}

#[utoipa::path(get, path = "/api/v1/prospects/{id}", tag = "prospecting", params(("id" = Uuid, Path)),
    responses((status = 200, body = ProspectOut), (status = 404, body = Problem)))]
pub async fn get_prospect(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<(HeaderMap, Json<ProspectOut>)> {
    let p = s
        .app
        .get_prospect(&auth.actor, path_id::<ProspectId>(&id)?)
        .await?;
    Ok((etag(p.version), Json(p.into())))
}

#[utoipa::path(patch, path = "/api/v1/prospects/{id}", tag = "prospecting", request_body = ProspectIn,
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 200, body = ProspectOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)))]
pub async fn update_prospect(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
    ApiJson(b): ApiJson<ProspectIn>,
) -> ApiResult<(HeaderMap, Json<ProspectOut>)> {
    let id = path_id::<ProspectId>(&id)?;
    let version = if_match.required()?;
    if b.list_id.is_some() {
        return Err(salesops_domain::Invalid::one("list_id", "cannot change").into());
    }
    let p = s
        .app
        .update_prospect(&auth.actor, id, Some(version), b.into())
        .await?;
    Ok((etag(p.version), Json(p.into())))
}

#[utoipa::path(delete, path = "/api/v1/prospects/{id}", tag = "prospecting",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem)))]
pub async fn delete_prospect(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> ApiResult<StatusCode> {
    s.app
        .delete_prospect(&auth.actor, path_id::<ProspectId>(&id)?, if_match.0)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvertIn {
    /// Default: the prospect's company (or contact) name.
    pub title: Option<String>,
    /// Link this company instead of creating one from the prospect.
    pub company_id: Option<Uuid>,
    /// Link this contact instead of creating one from the prospect.
    pub contact_id: Option<Uuid>,
    /// The lead's other fields (pipeline, stage, amount, owner, ...).
    pub lead: Option<LeadIn>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConvertOut {
    pub prospect: ProspectOut,
    pub lead: LeadOut,
}

/// Turns an open prospect into a lead: a company and a contact are created
/// from it (unless given), and the prospect keeps the link to the lead.
#[utoipa::path(post, path = "/api/v1/prospects/{id}/convert", tag = "prospecting", request_body = ConvertIn,
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = ConvertOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
pub async fn convert(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
    OptionalJson(b): OptionalJson<ConvertIn>,
) -> ApiResult<(StatusCode, Json<ConvertOut>)> {
    let lead = b.lead.unwrap_or_default();
    if lead.title.is_some() || lead.company_id.is_some() || lead.contact_id.is_some() {
        return Err(salesops_domain::Invalid::one(
            "lead",
            "title, company_id and contact_id are given at the top level",
        )
        .into());
    }
    let (p, l) = s
        .app
        .convert_prospect(
            &auth.actor,
            path_id::<ProspectId>(&id)?,
            if_match.0,
            ConvertInput {
                title: b.title,
                lead: lead.into(),
                company_id: b.company_id.map(CompanyId),
                contact_id: b.contact_id.map(ContactId),
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ConvertOut {
            prospect: p.into(),
            lead: l.into(),
        }),
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisqualifyIn {
    /// Why, e.g. "bad fit" or "no budget".
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/prospects/{id}/disqualify", tag = "prospecting", request_body = DisqualifyIn,
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = ProspectOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem)))]
pub async fn disqualify(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
    OptionalJson(b): OptionalJson<DisqualifyIn>,
) -> ApiResult<(HeaderMap, Json<ProspectOut>)> {
    let p = s
        .app
        .disqualify_prospect(
            &auth.actor,
            path_id::<ProspectId>(&id)?,
            if_match.0,
            b.reason,
        )
        .await?;
    Ok((etag(p.version), Json(p.into())))
}

#[utoipa::path(post, path = "/api/v1/prospects/{id}/reopen", tag = "prospecting",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = ProspectOut), (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem)))]
pub async fn reopen(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> ApiResult<(HeaderMap, Json<ProspectOut>)> {
    let p = s
        .app
        .reopen_prospect(&auth.actor, path_id::<ProspectId>(&id)?, if_match.0)
        .await?;
    Ok((etag(p.version), Json(p.into())))
}

// -------------------------------------------------------------- scripts

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QuestionOut {
    pub id: Uuid,
    pub position: i32,
    pub text: String,
    /// text, choice or number.
    pub kind: String,
    pub choices: Vec<String>,
    pub archived: bool,
    pub version: i64,
}

impl From<Question> for QuestionOut {
    fn from(q: Question) -> Self {
        QuestionOut {
            id: q.id.0,
            position: q.position,
            choices: q.choice_list().into_iter().map(str::to_string).collect(),
            text: q.text,
            kind: q.kind.to_string(),
            archived: q.archived,
            version: q.version,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScriptOut {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub archived: bool,
    pub questions: Vec<QuestionOut>,
    pub version: i64,
}

impl From<ScriptView> for ScriptOut {
    fn from(v: ScriptView) -> Self {
        ScriptOut {
            id: v.script.id.0,
            name: v.script.name,
            description: v.script.description,
            archived: v.script.archived,
            questions: v.questions.into_iter().map(QuestionOut::from).collect(),
            version: v.script.version,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScriptList {
    pub items: Vec<ScriptOut>,
    /// Always null: every script is on one page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionIn {
    pub text: Option<String>,
    /// text, choice or number.
    pub kind: Option<String>,
    pub choices: Option<Vec<String>>,
    /// PATCH: archive (stop asking) or restore.
    pub archived: Option<bool>,
}

impl From<QuestionIn> for QuestionInput {
    fn from(b: QuestionIn) -> Self {
        QuestionInput {
            text: b.text,
            kind: b.kind,
            choices: b.choices,
            archived: b.archived,
        }
    }
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScriptIn {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// PATCH: archive or restore.
    pub archived: Option<bool>,
    /// POST only: the questions, in order.
    pub questions: Option<Vec<QuestionIn>>,
}

impl From<ScriptIn> for ScriptInput {
    fn from(b: ScriptIn) -> Self {
        ScriptInput {
            name: b.name,
            description: b.description,
            archived: b.archived,
            questions: b
                .questions
                .map(|q| q.into_iter().map(QuestionInput::from).collect()),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/scripts", tag = "scripts",
    responses((status = 200, body = ScriptList), (status = 401, body = Problem)))]
pub async fn list_scripts(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<ScriptList>> {
    let items = s
        .app
        .list_scripts(&auth.actor)
        .await?
        .into_iter()
        .map(ScriptOut::from)
        .collect();
    Ok(Json(ScriptList {
        items,
        next_cursor: None,
    }))
}

#[utoipa::path(post, path = "/api/v1/scripts", tag = "scripts", request_body = ScriptIn,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = ScriptOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_script(
    State(s): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<ScriptIn>,
) -> ApiResult<(StatusCode, HeaderMap, Json<ScriptOut>)> {
    if b.archived.is_some() {
        return Err(
            salesops_domain::Invalid::one("archived", "a new script cannot be archived").into(),
        );
    }
    let v = s.app.create_script(&auth.actor, b.into()).await?;
    Ok((StatusCode::CREATED, etag(v.script.version), Json(v.into())))
}

#[utoipa::path(get, path = "/api/v1/scripts/{id}", tag = "scripts", params(("id" = Uuid, Path)),
    responses((status = 200, body = ScriptOut), (status = 404, body = Problem)))]
pub async fn get_script(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<(HeaderMap, Json<ScriptOut>)> {
    let v = s
        .app
        .get_script(&auth.actor, path_id::<ScriptId>(&id)?)
        .await?;
    Ok((etag(v.script.version), Json(v.into())))
}

#[utoipa::path(patch, path = "/api/v1/scripts/{id}", tag = "scripts", request_body = ScriptIn,
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 200, body = ScriptOut), (status = 403, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)))]
pub async fn update_script(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
    ApiJson(b): ApiJson<ScriptIn>,
) -> ApiResult<(HeaderMap, Json<ScriptOut>)> {
    let id = path_id::<ScriptId>(&id)?;
    let version = if_match.required()?;
    let v = s
        .app
        .update_script(&auth.actor, id, Some(version), b.into())
        .await?;
    Ok((etag(v.script.version), Json(v.into())))
}

#[utoipa::path(delete, path = "/api/v1/scripts/{id}", tag = "scripts",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem)))]
pub async fn delete_script(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> ApiResult<StatusCode> {
    s.app
        .delete_script(&auth.actor, path_id::<ScriptId>(&id)?, if_match.0)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/scripts/{id}/questions", tag = "scripts", request_body = QuestionIn,
    params(("id" = Uuid, Path)),
    responses((status = 201, body = QuestionOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn add_question(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<QuestionIn>,
) -> ApiResult<(StatusCode, HeaderMap, Json<QuestionOut>)> {
    if b.archived.is_some() {
        return Err(
            salesops_domain::Invalid::one("archived", "a new question cannot be archived").into(),
        );
    }
    let q = s
        .app
        .add_question(&auth.actor, path_id::<ScriptId>(&id)?, b.into())
        .await?;
    Ok((StatusCode::CREATED, etag(q.version), Json(q.into())))
}

#[utoipa::path(patch, path = "/api/v1/scripts/{id}/questions/{question_id}", tag = "scripts", request_body = QuestionIn,
    params(("id" = Uuid, Path), ("question_id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 200, body = QuestionOut), (status = 404, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)))]
pub async fn update_question(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, question)): Path<(String, String)>,
    if_match: IfMatch,
    ApiJson(b): ApiJson<QuestionIn>,
) -> ApiResult<(HeaderMap, Json<QuestionOut>)> {
    let script = path_id::<ScriptId>(&id)?;
    let qid = path_id::<QuestionId>(&question)?;
    let version = if_match.required()?;
    let current = s.app.get_script(&auth.actor, script).await?;
    if !current.questions.iter().any(|q| q.id == qid) {
        return Err(salesops_app::AppError::NotFound.into());
    }
    let q = s
        .app
        .update_question(&auth.actor, qid, Some(version), b.into())
        .await?;
    Ok((etag(q.version), Json(q.into())))
}

#[utoipa::path(delete, path = "/api/v1/scripts/{id}/questions/{question_id}", tag = "scripts",
    params(("id" = Uuid, Path), ("question_id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem)))]
pub async fn delete_question(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, question)): Path<(String, String)>,
    if_match: IfMatch,
) -> ApiResult<StatusCode> {
    let script = path_id::<ScriptId>(&id)?;
    let qid = path_id::<QuestionId>(&question)?;
    let current = s.app.get_script(&auth.actor, script).await?;
    if !current.questions.iter().any(|q| q.id == qid) {
        return Err(salesops_app::AppError::NotFound.into());
    }
    s.app.delete_question(&auth.actor, qid, if_match.0).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReorderIn {
    /// Every question of the script, in the new order.
    pub question_ids: Vec<Uuid>,
}

#[utoipa::path(post, path = "/api/v1/scripts/{id}/questions/reorder", tag = "scripts", request_body = ReorderIn,
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = ScriptOut), (status = 404, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
pub async fn reorder_questions(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
    ApiJson(b): ApiJson<ReorderIn>,
) -> ApiResult<(HeaderMap, Json<ScriptOut>)> {
    let v = s
        .app
        .reorder_questions(
            &auth.actor,
            path_id::<ScriptId>(&id)?,
            if_match.0,
            b.question_ids.into_iter().map(QuestionId).collect(),
        )
        .await?;
    Ok((etag(v.script.version), Json(v.into())))
}

// -------------------------------------------------------------- answers

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AnswerOut {
    pub question_id: Uuid,
    pub question: String,
    pub kind: String,
    /// The answer, or null while unanswered.
    pub value: Option<String>,
    pub answered_by: Option<Uuid>,
    pub answered_at: Option<DateTime<Utc>>,
}

impl From<Answered> for AnswerOut {
    fn from(a: Answered) -> Self {
        AnswerOut {
            question_id: a.question.id.0,
            question: a.question.text,
            kind: a.question.kind.to_string(),
            value: a.answer.as_ref().map(|x| x.value.clone()),
            answered_by: a.answer.as_ref().map(|x| x.answered_by.0),
            answered_at: a.answer.as_ref().map(|x| x.answered_at),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AnswerList {
    pub items: Vec<AnswerOut>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswersIn {
    pub script_id: Uuid,
    /// Question id → answer; an empty answer removes it.
    pub answers: BTreeMap<Uuid, String>,
}

#[derive(Debug, Deserialize)]
pub struct AnswersQuery {
    pub script_id: Option<String>,
}

fn subject(kind: &str, id: &str) -> ApiResult<Subject> {
    Ok(match kind {
        "prospects" => Subject::Prospect(path_id::<ProspectId>(id)?),
        _ => Subject::Lead(path_id::<LeadId>(id)?),
    })
}

async fn read_answers(
    s: &AppState,
    auth: &Auth,
    on: Subject,
    script: Option<&str>,
) -> ApiResult<Json<AnswerList>> {
    let Some(script) = script.and_then(|x| x.parse::<Uuid>().ok()) else {
        return Err(
            salesops_domain::Invalid::one("script_id", "is required: the id of a script").into(),
        );
    };
    let items = s
        .app
        .script_answers(&auth.actor, ScriptId(script), on)
        .await?
        .into_iter()
        .map(AnswerOut::from)
        .collect();
    Ok(Json(AnswerList {
        items,
        next_cursor: None,
    }))
}

#[utoipa::path(get, path = "/api/v1/prospects/{id}/answers", tag = "scripts",
    params(("id" = Uuid, Path), ("script_id" = Uuid, Query)),
    responses((status = 200, body = AnswerList), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn prospect_answers(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<AnswersQuery>,
) -> ApiResult<Json<AnswerList>> {
    read_answers(
        &s,
        &auth,
        subject("prospects", &id)?,
        q.script_id.as_deref(),
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/leads/{id}/answers", tag = "scripts",
    params(("id" = Uuid, Path), ("script_id" = Uuid, Query)),
    responses((status = 200, body = AnswerList), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn lead_answers(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<AnswersQuery>,
) -> ApiResult<Json<AnswerList>> {
    read_answers(&s, &auth, subject("leads", &id)?, q.script_id.as_deref()).await
}

async fn write_answers(
    s: &AppState,
    auth: &Auth,
    on: Subject,
    b: AnswersIn,
) -> ApiResult<Json<AnswerList>> {
    s.app
        .save_answers(
            &auth.actor,
            on,
            ScriptId(b.script_id),
            b.answers
                .into_iter()
                .map(|(q, v)| (QuestionId(q), v))
                .collect(),
        )
        .await?;
    read_answers(s, auth, on, Some(&b.script_id.to_string())).await
}

/// Saves answers given on a call (all or none).
#[utoipa::path(put, path = "/api/v1/prospects/{id}/answers", tag = "scripts", request_body = AnswersIn,
    params(("id" = Uuid, Path)),
    responses((status = 200, body = AnswerList), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn put_prospect_answers(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<AnswersIn>,
) -> ApiResult<Json<AnswerList>> {
    write_answers(&s, &auth, subject("prospects", &id)?, b).await
}

/// Saves answers given on a call (all or none).
#[utoipa::path(put, path = "/api/v1/leads/{id}/answers", tag = "scripts", request_body = AnswersIn,
    params(("id" = Uuid, Path)),
    responses((status = 200, body = AnswerList), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn put_lead_answers(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<AnswersIn>,
) -> ApiResult<Json<AnswerList>> {
    write_answers(&s, &auth, subject("leads", &id)?, b).await
}
