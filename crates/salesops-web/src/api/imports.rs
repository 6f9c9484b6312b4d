//! CSV import jobs and CSV exports.

use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Auth;
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use salesops_app::csv_io::{
    ExportOptions, ExportSink, ImportJob, ImportOptions, Kind, Mapping, Report, job_report,
};
use salesops_domain::ProspectListId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The largest CSV file an upload may carry.
pub const UPLOAD_LIMIT: usize = 64 * 1024 * 1024;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RowErrorOut {
    /// The row of the file (the header is row 1); null: the file as a whole.
    pub row: Option<u64>,
    /// The column's header.
    pub column: Option<String>,
    pub message: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportReportOut {
    pub rows: u64,
    pub valid: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub skipped: u64,
    /// Invalid rows in all; at most 1,000 errors are listed.
    pub error_count: u64,
    pub errors: Vec<RowErrorOut>,
    /// Whether anything was written.
    pub written: bool,
    /// Why the file could not be read (nothing was written).
    pub failure: Option<String>,
}

impl From<Report> for ImportReportOut {
    fn from(r: Report) -> Self {
        ImportReportOut {
            rows: r.rows,
            valid: r.valid,
            created: r.created,
            updated: r.updated,
            unchanged: r.unchanged,
            skipped: r.skipped,
            error_count: r.error_count,
            errors: r
                .errors
                .into_iter()
                .map(|e| RowErrorOut {
                    row: e.row,
                    column: e.column,
                    message: e.message,
                })
                .collect(),
            written: r.written,
            failure: r.failure,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportJobOut {
    pub id: Uuid,
    /// companies, contacts, leads, prospects or activities.
    pub kind: String,
    /// queued, running, done or failed.
    pub status: String,
    pub dry_run: bool,
    pub skip_invalid: bool,
    pub list_id: Option<Uuid>,
    pub file_name: String,
    /// Work to do: the rows, twice when they are written (checked, then written).
    pub rows_total: i64,
    pub rows_done: i64,
    /// The report, once the job is done or failed.
    pub report: Option<ImportReportOut>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<ImportJob> for ImportJobOut {
    fn from(j: ImportJob) -> Self {
        let finished = j.status == "done" || j.status == "failed";
        ImportJobOut {
            report: finished.then(|| job_report(&j)).flatten().map(Into::into),
            id: j.id,
            kind: j.kind,
            status: j.status,
            dry_run: j.dry_run,
            skip_invalid: j.skip_invalid,
            list_id: j.list_id,
            file_name: j.file_name,
            rows_total: j.rows_total,
            rows_done: j.rows_done,
            created_at: j.created_at,
            started_at: j.started_at,
            finished_at: j.finished_at,
        }
    }
}

/// The multipart form of an upload (for the OpenAPI document).
#[allow(dead_code)]
#[derive(utoipa::ToSchema)]
pub struct ImportForm {
    /// companies, contacts, leads, prospects or activities.
    kind: String,
    /// The CSV file: UTF-8 with or without BOM, `,` or `;` separated.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// "true": check and report only.
    dry_run: Option<bool>,
    /// "true": write the valid rows even when others are invalid.
    skip_invalid: Option<bool>,
    /// Prospects: the list to fill.
    list_id: Option<Uuid>,
    /// JSON object: column header → field name, or null to ignore the column.
    mapping: Option<String>,
}

fn flag(v: &str) -> bool {
    matches!(v.trim(), "true" | "1" | "on" | "yes")
}

/// Reads an upload into import options and the file's bytes and name.
pub(crate) async fn read_upload(
    mut mp: Multipart,
) -> ApiResult<(ImportOptions, Option<(String, Vec<u8>)>)> {
    let mut opts = ImportOptions::default();
    let mut file = None;
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::BadRequest(format!("the upload is not a readable multipart form: {e}"))
        }
    };
    while let Some(field) = mp.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            let file_name = field.file_name().unwrap_or("upload.csv").to_string();
            let data = field.bytes().await.map_err(bad)?;
            file = Some((file_name, data.to_vec()));
            continue;
        }
        let v = field.text().await.map_err(bad)?;
        match name.as_str() {
            "kind" => {
                opts.kind = Some(
                    v.parse::<Kind>()
                        .map_err(|e| ApiError::invalid("kind", e))?,
                )
            }
            "dry_run" => opts.dry_run = flag(&v),
            "skip_invalid" => opts.skip_invalid = flag(&v),
            "list_id" if !v.trim().is_empty() => {
                opts.list_id =
                    Some(ProspectListId(v.trim().parse().map_err(|_| {
                        ApiError::invalid("list_id", "must be a list id")
                    })?))
            }
            "mapping" if !v.trim().is_empty() => {
                opts.mapping = serde_json::from_str::<Mapping>(&v).map_err(|_| {
                    ApiError::invalid(
                        "mapping",
                        "must be a JSON object of column header to field name (or null)",
                    )
                })?
            }
            _ => {}
        }
    }
    Ok((opts, file))
}

/// Starts an import and runs it in the background.
pub(crate) async fn start(
    s: &AppState,
    auth: &Auth,
    opts: ImportOptions,
    file_name: &str,
    data: Vec<u8>,
) -> ApiResult<ImportJob> {
    let job = s
        .app
        .create_import_job(&auth.actor, &opts, file_name)
        .await?;
    tokio::spawn(
        s.app
            .clone()
            .run_import_job(auth.actor.clone(), job.id, data, opts),
    );
    Ok(job)
}

/// Uploads a CSV file to import. Answers at once with the job, which runs in
/// the background: poll it until its status is `done` or `failed`.
#[utoipa::path(post, path = "/api/v1/imports", tag = "imports",
    request_body(content = ImportForm, content_type = "multipart/form-data"),
    responses((status = 202, body = ImportJobOut, headers(("Location" = String))),
        (status = 400, body = Problem), (status = 403, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)))]
pub async fn create(State(s): State<AppState>, auth: Auth, mp: Multipart) -> ApiResult<Response> {
    let (opts, file) = read_upload(mp).await?;
    if opts.kind.is_none() {
        return Err(ApiError::invalid("kind", "is required"));
    }
    let Some((name, data)) = file else {
        return Err(ApiError::invalid("file", "is required"));
    };
    let job = start(&s, &auth, opts, &name, data).await?;
    let location = format!("/api/v1/imports/{}", job.id);
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(ImportJobOut::from(job)),
    )
        .into_response())
}

/// An import job: its progress, and its report once it has ended.
#[utoipa::path(get, path = "/api/v1/imports/{id}", tag = "imports", params(("id" = Uuid, Path)),
    responses((status = 200, body = ImportJobOut), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<ImportJobOut>> {
    let id: Uuid = super::path_id(&id)?;
    Ok(Json(s.app.get_import_job(&auth.actor, id).await?.into()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// German Excel: UTF-8 with BOM, `;` and decimal commas (the default for
    /// German-speaking users).
    pub excel: Option<bool>,
    /// Prospects: only this list's.
    pub list_id: Option<Uuid>,
}

/// Sends chunks into the response body.
struct ChannelSink(tokio::sync::mpsc::Sender<Result<Vec<u8>, std::io::Error>>);

impl ExportSink for ChannelSink {
    async fn write(&mut self, chunk: Vec<u8>) -> bool {
        self.0.send(Ok(chunk)).await.is_ok()
    }
}

/// The records of a kind the caller sees, as CSV in the columns the importer
/// reads, streamed.
#[utoipa::path(get, path = "/api/v1/exports/{kind}", tag = "imports",
    params(("kind" = String, Path, description = "companies, contacts, leads, prospects or activities"), ExportParams),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn export(
    State(s): State<AppState>,
    auth: Auth,
    Path(kind): Path<String>,
    Query(p): Query<ExportParams>,
) -> ApiResult<Response> {
    let kind: Kind = kind
        .parse()
        .map_err(|_| ApiError::App(salesops_app::AppError::NotFound))?;
    let excel = p
        .excel
        .unwrap_or(auth.actor.locale == salesops_domain::Locale::De);
    export_response(&s, &auth, kind, excel, p.list_id.map(ProspectListId)).await
}

/// Streams an export (shared with the UI's download links).
pub(crate) async fn export_response(
    s: &AppState,
    auth: &Auth,
    kind: Kind,
    excel: bool,
    list_id: Option<ProspectListId>,
) -> ApiResult<Response> {
    s.app.may_export(&auth.actor, kind).await?;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let app = s.app.clone();
    let actor = auth.actor.clone();
    tokio::spawn(async move {
        let mut sink = ChannelSink(tx);
        let opts = ExportOptions {
            kind,
            excel,
            list_id,
        };
        if let Err(e) = app.export_csv(&actor, opts, &mut sink).await {
            tracing::warn!(error = %e, "export failed");
            let _ = sink
                .0
                .send(Err(std::io::Error::other("the export failed")))
                .await;
        }
    });
    let stream =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|x| (x, rx)) });
    let file = format!(
        "attachment; filename=\"{}-{}.csv\"",
        kind.as_str(),
        Utc::now().format("%Y-%m-%d")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, file),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
