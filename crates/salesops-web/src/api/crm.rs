//! Companies and contacts.

use super::{MoneyDto, PageParams, double_option, etag, list_type, page_params, path_id};
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, Auth, IfMatch, Query};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use salesops_app::crm::{CompanyInput, ContactInput, company_value};
use salesops_domain::{CompanyId, ContactId, UserId};
use salesops_store::crm::{Company, Contact, Filter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CompanyOut {
    pub id: Uuid,
    pub name: String,
    pub industry: Option<String>,
    /// 1-10, 11-50, 51-200, 201-1000, 1001-5000 or 5000+.
    pub size_band: Option<String>,
    /// ISO 3166 alpha-2.
    pub country: Option<String>,
    pub region: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub website: Option<String>,
    pub phone: Option<String>,
    /// Notes on the problems the company wants solved.
    pub problems: Option<String>,
    /// Estimated value of the relationship.
    pub value: Option<MoneyDto>,
    pub owner_id: Option<Uuid>,
    /// Your id for the record (CSV imports match on it).
    pub external_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<Company> for CompanyOut {
    fn from(c: Company) -> Self {
        CompanyOut {
            id: c.id.0,
            value: company_value(&c).map(MoneyDto::from),
            name: c.name,
            industry: c.industry,
            size_band: c.size_band,
            country: c.country,
            region: c.region,
            postcode: c.postcode,
            city: c.city,
            website: c.website,
            phone: c.phone,
            problems: c.problems,
            owner_id: c.owner_id,
            external_id: c.external_id,
            created_at: c.created_at,
            updated_at: c.updated_at,
            version: c.version,
        }
    }
}

list_type!(CompanyList, CompanyOut);

/// Fields of a company; on PATCH, absent fields stay as they are and `null` clears one.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompanyIn {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub industry: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub size_band: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub country: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub region: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub postcode: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub city: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub website: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub problems: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<MoneyDto>)]
    pub value: Option<Option<MoneyDto>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub owner_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub external_id: Option<Option<String>>,
}

impl From<CompanyIn> for CompanyInput {
    fn from(b: CompanyIn) -> Self {
        CompanyInput {
            name: b.name,
            industry: b.industry,
            size_band: b.size_band,
            country: b.country,
            region: b.region,
            postcode: b.postcode,
            city: b.city,
            website: b.website,
            phone: b.phone,
            problems: b.problems,
            value: b.value.map(|v| v.map(Into::into)),
            owner_id: b.owner_id.map(|o| o.map(UserId)),
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
    pub company_id: Option<String>,
}

impl ListQuery {
    fn filter(&self) -> ApiResult<Filter> {
        let mut errs = salesops_domain::Invalid::default();
        let owner = self.owner_id.as_deref().and_then(|o| {
            errs.check(
                "owner_id",
                o.parse::<UserId>().map_err(|_| "must be a user id"),
            )
        });
        let company = self.company_id.as_deref().and_then(|c| {
            errs.check(
                "company_id",
                c.parse::<CompanyId>().map_err(|_| "must be a company id"),
            )
        });
        errs.into_result()?;
        Ok(Filter {
            owners: None,
            owner,
            q: self.q.clone().filter(|q| !q.trim().is_empty()),
            company,
            ids: None,
        })
    }
}

#[utoipa::path(get, path = "/api/v1/companies", tag = "companies",
    params(PageParams, ("q" = Option<String>, Query, description = "Search name, city, website"), ("owner_id" = Option<Uuid>, Query)),
    responses((status = 200, body = CompanyList), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list_companies(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<CompanyList>> {
    let (cursor, limit) = page_params(q.limit.as_deref(), q.cursor.as_deref())?;
    let page = s
        .app
        .list_companies(&auth.actor, q.filter()?, cursor, limit)
        .await?;
    Ok(Json(CompanyList::from_page(page, CompanyOut::from)))
}

#[utoipa::path(post, path = "/api/v1/companies", tag = "companies", request_body = CompanyIn,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CompanyOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_company(
    State(s): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<CompanyIn>,
) -> ApiResult<(StatusCode, HeaderMap, Json<CompanyOut>)> {
    let c = s.app.create_company(&auth.actor, b.into()).await?;
    Ok((StatusCode::CREATED, etag(c.version), Json(c.into())))
}

#[utoipa::path(get, path = "/api/v1/companies/{id}", tag = "companies", params(("id" = Uuid, Path)),
    responses((status = 200, body = CompanyOut), (status = 404, body = Problem)))]
pub async fn get_company(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<(HeaderMap, Json<CompanyOut>)> {
    let c = s
        .app
        .get_company(&auth.actor, path_id::<CompanyId>(&id)?)
        .await?;
    Ok((etag(c.version), Json(c.into())))
}

#[utoipa::path(patch, path = "/api/v1/companies/{id}", tag = "companies", request_body = CompanyIn,
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 200, body = CompanyOut), (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)))]
pub async fn update_company(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
    ApiJson(b): ApiJson<CompanyIn>,
) -> ApiResult<(HeaderMap, Json<CompanyOut>)> {
    let id = path_id::<CompanyId>(&id)?;
    let version = if_match.required()?;
    let c = s
        .app
        .update_company(&auth.actor, id, Some(version), b.into())
        .await?;
    Ok((etag(c.version), Json(c.into())))
}

#[utoipa::path(delete, path = "/api/v1/companies/{id}", tag = "companies", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem)))]
pub async fn delete_company(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> ApiResult<StatusCode> {
    s.app
        .delete_company(&auth.actor, path_id::<CompanyId>(&id)?, if_match.0)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ContactOut {
    pub id: Uuid,
    pub company_id: Option<Uuid>,
    pub name: String,
    pub job_title: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub notes: Option<String>,
    pub owner_id: Option<Uuid>,
    pub external_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<Contact> for ContactOut {
    fn from(c: Contact) -> Self {
        ContactOut {
            id: c.id.0,
            company_id: c.company_id,
            name: c.name,
            job_title: c.job_title,
            email: c.email,
            phone: c.phone,
            notes: c.notes,
            owner_id: c.owner_id,
            external_id: c.external_id,
            created_at: c.created_at,
            updated_at: c.updated_at,
            version: c.version,
        }
    }
}

list_type!(ContactList, ContactOut);

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactIn {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub company_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub job_title: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub owner_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub external_id: Option<Option<String>>,
}

impl From<ContactIn> for ContactInput {
    fn from(b: ContactIn) -> Self {
        ContactInput {
            name: b.name,
            company_id: b.company_id.map(|c| c.map(CompanyId)),
            job_title: b.job_title,
            email: b.email,
            phone: b.phone,
            notes: b.notes,
            owner_id: b.owner_id.map(|o| o.map(UserId)),
            external_id: b.external_id,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts",
    params(PageParams, ("q" = Option<String>, Query, description = "Search name, e-mail, company name"), ("owner_id" = Option<Uuid>, Query), ("company_id" = Option<Uuid>, Query)),
    responses((status = 200, body = ContactList), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list_contacts(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<ContactList>> {
    let (cursor, limit) = page_params(q.limit.as_deref(), q.cursor.as_deref())?;
    let page = s
        .app
        .list_contacts(&auth.actor, q.filter()?, cursor, limit)
        .await?;
    Ok(Json(ContactList::from_page(page, ContactOut::from)))
}

#[utoipa::path(post, path = "/api/v1/contacts", tag = "contacts", request_body = ContactIn,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = ContactOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_contact(
    State(s): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<ContactIn>,
) -> ApiResult<(StatusCode, HeaderMap, Json<ContactOut>)> {
    let c = s.app.create_contact(&auth.actor, b.into()).await?;
    Ok((StatusCode::CREATED, etag(c.version), Json(c.into())))
}

#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = Uuid, Path)),
    responses((status = 200, body = ContactOut), (status = 404, body = Problem)))]
pub async fn get_contact(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<(HeaderMap, Json<ContactOut>)> {
    let c = s
        .app
        .get_contact(&auth.actor, path_id::<ContactId>(&id)?)
        .await?;
    Ok((etag(c.version), Json(c.into())))
}

#[utoipa::path(patch, path = "/api/v1/contacts/{id}", tag = "contacts", request_body = ContactIn,
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 200, body = ContactOut), (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)))]
pub async fn update_contact(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
    ApiJson(b): ApiJson<ContactIn>,
) -> ApiResult<(HeaderMap, Json<ContactOut>)> {
    let id = path_id::<ContactId>(&id)?;
    let version = if_match.required()?;
    let c = s
        .app
        .update_contact(&auth.actor, id, Some(version), b.into())
        .await?;
    Ok((etag(c.version), Json(c.into())))
}

#[utoipa::path(delete, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204), (status = 404, body = Problem), (status = 412, body = Problem)))]
pub async fn delete_contact(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> ApiResult<StatusCode> {
    s.app
        .delete_contact(&auth.actor, path_id::<ContactId>(&id)?, if_match.0)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
