//! Activities: log, schedule, complete, list.

use super::{double_option, etag, path_id};
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, Auth, IfMatch, OptionalJson, Query};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use salesops_app::activities::ActivityInput;
use salesops_domain::{
    ActivityId, ActivityTypeId, CompanyId, ContactId, LeadId, OutcomeId, ProspectId, UserId,
};
use salesops_store::activities::{Activity, Filter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ActivityOut {
    pub id: Uuid,
    pub type_id: Uuid,
    pub outcome_id: Option<Uuid>,
    /// Who did it (or is to do it).
    pub user_id: Uuid,
    pub lead_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub prospect_id: Option<Uuid>,
    pub done: bool,
    pub happened_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    /// Scheduled, not done, and due in the past.
    pub overdue: bool,
    pub duration_minutes: Option<i32>,
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

impl From<Activity> for ActivityOut {
    fn from(a: Activity) -> Self {
        ActivityOut {
            id: a.id.0,
            type_id: a.type_id.0,
            outcome_id: a.outcome_id,
            user_id: a.user_id.0,
            lead_id: a.lead_id,
            company_id: a.company_id,
            contact_id: a.contact_id,
            prospect_id: a.prospect_id,
            overdue: !a.done && a.due_at.is_some_and(|d| d < Utc::now()),
            done: a.done,
            happened_at: a.happened_at,
            due_at: a.due_at,
            duration_minutes: a.duration_minutes,
            notes: a.notes,
            created_at: a.created_at,
            version: a.version,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ActivityList {
    pub items: Vec<ActivityOut>,
    /// Lists return at most `limit` items, newest first; narrow with `from`.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityIn {
    pub type_id: Option<Uuid>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub outcome_id: Option<Option<Uuid>>,
    pub lead_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    /// A cold prospect of a prospecting list.
    pub prospect_id: Option<Uuid>,
    /// Default: now (unless scheduled).
    pub happened_at: Option<DateTime<Utc>>,
    /// Schedules the activity for later.
    pub due_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i32>)]
    pub duration_minutes: Option<Option<i32>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
}

impl From<ActivityIn> for ActivityInput {
    fn from(b: ActivityIn) -> Self {
        ActivityInput {
            type_id: b.type_id.map(ActivityTypeId),
            outcome_id: b.outcome_id.map(|o| o.map(OutcomeId)),
            lead_id: b.lead_id.map(LeadId),
            company_id: b.company_id.map(CompanyId),
            contact_id: b.contact_id.map(ContactId),
            prospect_id: b.prospect_id.map(ProspectId),
            happened_at: b.happened_at,
            due_at: b.due_at,
            duration_minutes: b.duration_minutes,
            notes: b.notes,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub limit: Option<String>,
    pub user_id: Option<String>,
    pub lead_id: Option<String>,
    pub company_id: Option<String>,
    pub contact_id: Option<String>,
    pub prospect_id: Option<String>,
    pub done: Option<String>,
    pub overdue: Option<String>,
    pub from: Option<DateTime<Utc>>,
}

#[utoipa::path(get, path = "/api/v1/activities", tag = "activities",
    params(("limit" = Option<u64>, Query), ("user_id" = Option<Uuid>, Query), ("lead_id" = Option<Uuid>, Query), ("company_id" = Option<Uuid>, Query),
        ("contact_id" = Option<Uuid>, Query), ("prospect_id" = Option<Uuid>, Query), ("done" = Option<bool>, Query), ("overdue" = Option<bool>, Query, description = "Only scheduled ones due in the past"),
        ("from" = Option<DateTime<Utc>>, Query, description = "Only done ones that happened since")),
    responses((status = 200, body = ActivityList), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<ActivityList>> {
    let (_, limit) = super::page_params(q.limit.as_deref(), None)?;
    let mut errs = salesops_domain::Invalid::default();
    let id =
        |errs: &mut salesops_domain::Invalid, name: &str, v: &Option<String>| -> Option<Uuid> {
            v.as_deref()
                .filter(|s| !s.is_empty())
                .and_then(|s| errs.check(name, s.parse::<Uuid>().map_err(|_| "must be an id")))
        };
    let flag =
        |errs: &mut salesops_domain::Invalid, name: &str, v: &Option<String>| -> Option<bool> {
            v.as_deref().and_then(|s| {
                errs.check(name, s.parse::<bool>().map_err(|_| "must be true or false"))
            })
        };
    let overdue = flag(&mut errs, "overdue", &q.overdue).unwrap_or(false);
    let f = Filter {
        users: None,
        user: id(&mut errs, "user_id", &q.user_id).map(UserId),
        lead: id(&mut errs, "lead_id", &q.lead_id).map(LeadId),
        company: id(&mut errs, "company_id", &q.company_id).map(CompanyId),
        contact: id(&mut errs, "contact_id", &q.contact_id).map(ContactId),
        prospect: id(&mut errs, "prospect_id", &q.prospect_id).map(ProspectId),
        done: if overdue {
            Some(false)
        } else {
            flag(&mut errs, "done", &q.done)
        },
        due_before: overdue.then(Utc::now),
        due_from: None,
        happened_from: q.from,
        record_owners: None,
        prospect_lists: None,
    };
    errs.into_result()?;
    let items = s
        .app
        .list_activities(&auth.actor, f, limit, true)
        .await?
        .into_iter()
        .map(ActivityOut::from)
        .collect();
    Ok(Json(ActivityList {
        items,
        next_cursor: None,
    }))
}

#[utoipa::path(post, path = "/api/v1/activities", tag = "activities", request_body = ActivityIn,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = ActivityOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<ActivityIn>,
) -> ApiResult<(StatusCode, HeaderMap, Json<ActivityOut>)> {
    let a = s.app.log_activity(&auth.actor, b.into()).await?;
    Ok((StatusCode::CREATED, etag(a.version), Json(a.into())))
}

#[utoipa::path(get, path = "/api/v1/activities/{id}", tag = "activities", params(("id" = Uuid, Path)),
    responses((status = 200, body = ActivityOut), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<(HeaderMap, Json<ActivityOut>)> {
    let a = s
        .app
        .get_activity(&auth.actor, path_id::<ActivityId>(&id)?)
        .await?;
    Ok((etag(a.version), Json(a.into())))
}

#[utoipa::path(patch, path = "/api/v1/activities/{id}", tag = "activities", request_body = ActivityIn,
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 200, body = ActivityOut), (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)))]
pub async fn update(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
    ApiJson(b): ApiJson<ActivityIn>,
) -> ApiResult<(HeaderMap, Json<ActivityOut>)> {
    let id = path_id::<ActivityId>(&id)?;
    let version = if_match.required()?;
    let a = s
        .app
        .update_activity(&auth.actor, id, Some(version), b.into())
        .await?;
    Ok((etag(a.version), Json(a.into())))
}

#[utoipa::path(delete, path = "/api/v1/activities/{id}", tag = "activities", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204), (status = 404, body = Problem), (status = 412, body = Problem)))]
pub async fn delete(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> ApiResult<StatusCode> {
    s.app
        .delete_activity(&auth.actor, path_id::<ActivityId>(&id)?, if_match.0)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteIn {
    pub outcome_id: Option<Uuid>,
    pub notes: Option<String>,
}

/// Marks a scheduled activity done, with its outcome.
#[utoipa::path(post, path = "/api/v1/activities/{id}/complete", tag = "activities", request_body = CompleteIn,
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = ActivityOut), (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
pub async fn complete(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
    OptionalJson(b): OptionalJson<CompleteIn>,
) -> ApiResult<(HeaderMap, Json<ActivityOut>)> {
    let a = s
        .app
        .complete_activity(
            &auth.actor,
            path_id::<ActivityId>(&id)?,
            if_match.0,
            b.outcome_id.map(OutcomeId),
            b.notes,
        )
        .await?;
    Ok((etag(a.version), Json(a.into())))
}
