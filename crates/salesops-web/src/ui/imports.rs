//! The import / export page: upload a file, map its columns, check or
//! import it, and follow the job until its report.

use super::{Form, PageCtx, Session, UiError, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use salesops_app::AppError;
use salesops_app::csv_io::{ImportJob, ImportOptions, Kind, Mapping, Report, job_report};
use salesops_domain::{Invalid, ProspectListId};
use uuid::Uuid;

pub struct KindOpt {
    pub value: &'static str,
    pub label: String,
    pub selected: bool,
}

pub struct Column {
    pub index: usize,
    pub header: String,
    /// (field, selected)
    pub options: Vec<(&'static str, String, bool)>,
    /// The column's values in the first rows.
    pub cells: Vec<String>,
}

#[derive(Template)]
#[template(path = "imports.html")]
struct ImportsPage {
    ctx: PageCtx,
    kinds: Vec<KindOpt>,
    list_id: String,
    /// The prospecting lists a prospects file may go to.
    lists: Vec<super::people::Choice>,
    error: Option<String>,
    jobs: Vec<ImportJob>,
}

#[derive(Template)]
#[template(path = "import_mapping.html")]
struct MappingPage {
    ctx: PageCtx,
    kind: &'static str,
    kind_label: String,
    list_id: String,
    token: String,
    file_name: String,
    columns: Vec<Column>,
    fields: Vec<String>,
    rows: Vec<Vec<String>>,
}

#[derive(Template)]
#[template(path = "import_job.html")]
struct JobPage {
    ctx: PageCtx,
    job: ImportJob,
    kind_label: String,
    finished: bool,
    percent: i64,
    report: Option<Report>,
    summary: String,
    status_label: String,
    more_errors: u64,
}

fn kind_label(ctx: &PageCtx, k: Kind) -> String {
    ctx.t(&format!("imports-kind-{}", k.as_str()))
}

fn query_param(uri: &Uri, key: &str) -> Option<String> {
    url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

async fn index_page(
    s: &AppState,
    session: &Session,
    kind: Option<Kind>,
    list_id: String,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let ctx = session.ctx("imports");
    let jobs = match s.app.recent_import_jobs(session.actor()).await {
        Ok(j) => j,
        Err(e) => return UiError::new(session.actor().locale, e).into_response(),
    };
    let lists = match s.app.list_prospect_lists(session.actor()).await {
        Ok(v) => v
            .into_iter()
            .filter(|l| !l.list.archived)
            .map(|l| super::people::Choice {
                selected: l.list.id.to_string() == list_id,
                value: l.list.id.to_string(),
                label: l.list.name,
            })
            .collect(),
        // Viewers have no lists; the page still shows.
        Err(_) => vec![],
    };
    let kind = kind.unwrap_or(if list_id.is_empty() {
        Kind::Companies
    } else {
        Kind::Prospects
    });
    let kinds = Kind::ALL
        .into_iter()
        .map(|k| KindOpt {
            value: k.as_str(),
            label: kind_label(&ctx, k),
            selected: k == kind,
        })
        .collect();
    (
        status,
        render(&ImportsPage {
            ctx,
            kinds,
            lists,
            list_id,
            error,
            jobs,
        }),
    )
        .into_response()
}

pub async fn index(State(s): State<AppState>, session: Session, uri: Uri) -> Response {
    let kind = query_param(&uri, "kind").and_then(|k| k.parse().ok());
    let list_id = query_param(&uri, "list_id").unwrap_or_default();
    index_page(&s, &session, kind, list_id, None, StatusCode::OK).await
}

/// Where uploaded files wait for their mapping.
fn upload_dir() -> std::path::PathBuf {
    std::env::temp_dir().join("salesops-uploads")
}

/// Removes uploaded files whose mapping was never submitted, once they are
/// older than `max_age`. Returns how many.
pub fn sweep_uploads(max_age: std::time::Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(upload_dir()) else {
        return 0;
    };
    let mut n = 0;
    for e in entries.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > max_age);
        if old && std::fs::remove_file(e.path()).is_ok() {
            n += 1;
        }
    }
    n
}

fn upload_path(token: &Uuid) -> std::path::PathBuf {
    upload_dir().join(format!("{token}.csv"))
}

/// Takes the file, shows its columns and first rows for the mapping.
pub async fn upload(State(s): State<AppState>, session: Session, mut mp: Multipart) -> Response {
    let lang = session.actor().locale;
    let mut csrf = String::new();
    let mut kind = None;
    let mut list_id = String::new();
    let mut file = None;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return index_page(
                    &s,
                    &session,
                    kind,
                    list_id,
                    Some(e.to_string()),
                    StatusCode::BAD_REQUEST,
                )
                .await;
            }
        };
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            let fname = field.file_name().unwrap_or("upload.csv").to_string();
            match field.bytes().await {
                Ok(b) => file = Some((fname, b)),
                Err(e) => {
                    return index_page(
                        &s,
                        &session,
                        kind,
                        list_id,
                        Some(e.to_string()),
                        StatusCode::PAYLOAD_TOO_LARGE,
                    )
                    .await;
                }
            }
            continue;
        }
        let v = field.text().await.unwrap_or_default();
        match name.as_str() {
            "csrf" => csrf = v,
            "kind" => kind = v.parse::<Kind>().ok(),
            "list_id" => list_id = v.trim().to_string(),
            _ => {}
        }
    }
    if !crate::csrf_eq(&csrf, &session.csrf) {
        return Form(vec![]).check_csrf(&session).err().map_or_else(
            || StatusCode::FORBIDDEN.into_response(),
            IntoResponse::into_response,
        );
    }
    let Some(kind) = kind else {
        return UiError::new(lang, AppError::Invalid(Invalid::one("kind", "is required")))
            .into_response();
    };
    let list = list_id.parse::<Uuid>().ok().map(ProspectListId);
    if let Err(e) = s.app.may_import(session.actor(), kind, list).await {
        return match e {
            AppError::Invalid(i) => {
                let msg = i.to_string();
                index_page(
                    &s,
                    &session,
                    Some(kind),
                    list_id,
                    Some(msg),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            e => UiError::new(lang, e).into_response(),
        };
    }
    let Some((file_name, data)) = file.filter(|(_, d)| !d.is_empty()) else {
        let msg = session.ctx("imports").t("imports-no-file");
        return index_page(
            &s,
            &session,
            Some(kind),
            list_id,
            Some(msg),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let preview = match salesops_app::csv_io::preview(&data, kind, 5) {
        Ok(p) => p,
        Err(e) => {
            return index_page(
                &s,
                &session,
                Some(kind),
                list_id,
                Some(e.to_string()),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let token = Uuid::new_v4();
    let saved = async {
        tokio::fs::create_dir_all(upload_dir()).await?;
        tokio::fs::write(upload_path(&token), &data).await
    };
    if let Err(e) = saved.await {
        return UiError::new(lang, AppError::Internal(e.to_string())).into_response();
    }
    let ctx = session.ctx("imports");
    let fields: Vec<&'static str> = kind.fields().iter().map(|f| f.name).collect();
    let columns = preview
        .headers
        .iter()
        .enumerate()
        .map(|(i, h)| Column {
            index: i,
            header: h.clone(),
            options: fields
                .iter()
                .map(|f| {
                    (
                        *f,
                        format!("{} ({f})", ctx.t(&format!("csv-field-{f}"))),
                        preview.mapped[i] == Some(*f),
                    )
                })
                .collect(),
            cells: preview
                .rows
                .iter()
                .map(|r| r.get(i).cloned().unwrap_or_default())
                .collect(),
        })
        .collect();
    let field_labels = fields
        .iter()
        .map(|f| format!("{} ({f})", ctx.t(&format!("csv-field-{f}"))))
        .collect();
    render(&MappingPage {
        kind_label: kind_label(&ctx, kind),
        ctx,
        kind: kind.as_str(),
        list_id,
        token: token.to_string(),
        file_name: file_name.chars().take(200).collect(),
        columns,
        fields: field_labels,
        rows: preview.rows,
    })
    .into_response()
}

/// Starts the job with the chosen mapping.
pub async fn start(State(s): State<AppState>, session: Session, form: Form) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let lang = session.actor().locale;
    let Ok(token) = form.str("token").parse::<Uuid>() else {
        return UiError::new(lang, AppError::NotFound).into_response();
    };
    let Ok(kind) = form.str("kind").parse::<Kind>() else {
        return UiError::new(lang, AppError::NotFound).into_response();
    };
    let path = upload_path(&token);
    let data = match tokio::fs::read(&path).await {
        Ok(d) => d,
        Err(_) => {
            let msg = session.ctx("imports").t("imports-upload-gone");
            return index_page(
                &s,
                &session,
                Some(kind),
                form.str("list_id"),
                Some(msg),
                StatusCode::GONE,
            )
            .await;
        }
    };
    let mut mapping = Mapping::new();
    for i in 0.. {
        let Some(h) = form.get(&format!("h{i}")) else {
            break;
        };
        let f = form.str(&format!("col{i}"));
        mapping.insert(h.to_string(), (!f.is_empty()).then_some(f));
    }
    let opts = ImportOptions {
        kind: Some(kind),
        dry_run: form.get("mode") == Some("dry"),
        skip_invalid: form.get("skip_invalid").is_some(),
        list_id: form.str("list_id").parse::<Uuid>().ok().map(ProspectListId),
        mapping,
    };
    let auth = session.auth.clone();
    match crate::api::imports::start(&s, &auth, opts, &form.str("file_name"), data).await {
        Ok(job) => {
            if !job.dry_run {
                let _ = tokio::fs::remove_file(&path).await;
            }
            Redirect::to(&format!("/imports/{}", job.id)).into_response()
        }
        Err(crate::error::ApiError::App(e)) => UiError::new(lang, e).into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

pub async fn show_job(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Response {
    let lang = session.actor().locale;
    let Ok(id) = id.parse::<Uuid>() else {
        return UiError::new(lang, AppError::NotFound).into_response();
    };
    let job = match s.app.get_import_job(session.actor(), id).await {
        Ok(j) => j,
        Err(e) => return UiError::new(lang, e).into_response(),
    };
    let ctx = session.ctx("imports");
    let finished = job.status == "done" || job.status == "failed";
    let report = if finished { job_report(&job) } else { None };
    let summary = report.as_ref().map(Report::summary).unwrap_or_default();
    let more_errors = report
        .as_ref()
        .map_or(0, |r| r.error_count.saturating_sub(r.errors.len() as u64));
    let percent = if job.rows_total > 0 {
        (job.rows_done * 100 / job.rows_total).clamp(0, 100)
    } else {
        0
    };
    let kind_label = job
        .kind
        .parse::<Kind>()
        .map(|k| kind_label(&ctx, k))
        .unwrap_or_default();
    let status_label = ctx.t(&format!("imports-status-{}", job.status));
    render(&JobPage {
        status_label,
        ctx,
        kind_label,
        finished,
        percent,
        report,
        summary,
        more_errors,
        job,
    })
    .into_response()
}

/// A download of an export (the user's language chooses Excel's format).
pub async fn export(
    State(s): State<AppState>,
    session: Session,
    Path(kind): Path<String>,
    uri: Uri,
) -> Response {
    let lang = session.actor().locale;
    let Ok(kind) = kind.parse::<Kind>() else {
        return UiError::new(lang, AppError::NotFound).into_response();
    };
    let excel = match query_param(&uri, "excel").as_deref() {
        Some(v) => v == "true" || v == "1",
        None => lang == salesops_domain::Locale::De,
    };
    let list = query_param(&uri, "list_id")
        .and_then(|l| l.parse::<Uuid>().ok())
        .map(ProspectListId);
    match crate::api::imports::export_response(&s, &session.auth, kind, excel, list).await {
        Ok(r) => r,
        Err(crate::error::ApiError::App(e)) => UiError::new(lang, e).into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}
