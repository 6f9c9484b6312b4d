//! The five reports as JSON or CSV.

use super::analytics::{scope_of, scope_parts, today};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Auth, Query};
use crate::i18n;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use salesops_app::analytics::resolve_period;
use salesops_app::reports::{Kind, Params, Report, Row, Unit};
use salesops_domain::periods::PeriodKind;
use salesops_domain::{Invalid, Locale};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    pub preset: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub team: Option<String>,
    pub user: Option<String>,
    pub pipeline: Option<String>,
    pub bucket: Option<String>,
    /// Team report: `member` (default, a row per member) or `team`.
    pub by: Option<String>,
    /// json (default) or csv.
    pub format: Option<String>,
}

impl ReportQuery {
    /// The filters of a page's query string (no format: pages are HTML).
    pub fn from_map(q: &std::collections::HashMap<String, String>) -> ReportQuery {
        let get = |k: &str| q.get(k).cloned();
        ReportQuery {
            preset: get("preset"),
            from: get("from"),
            to: get("to"),
            team: get("team"),
            user: get("user"),
            pipeline: get("pipeline"),
            bucket: get("bucket"),
            by: get("by"),
            format: None,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ColumnOut {
    pub key: String,
    pub label: String,
    /// count, money, share (0.25 = 25 %), days or number.
    pub unit: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RowOut {
    pub key: String,
    pub label: String,
    pub user_id: Option<Uuid>,
    /// One decimal string (or null: n/a) per column.
    pub cells: Vec<Option<String>>,
    /// The worst step of a pipeline report.
    pub flagged: bool,
    /// A bucket's range (company report).
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SeriesOut {
    pub name: String,
    pub values: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportOut {
    /// activity, prospecting, pipeline, team or company.
    pub kind: String,
    pub from: NaiveDate,
    /// Exclusive.
    pub to: NaiveDate,
    pub previous_from: NaiveDate,
    pub previous_to: NaiveDate,
    pub scope: String,
    pub scope_id: Option<Uuid>,
    pub pipeline_id: Option<Uuid>,
    pub currency: String,
    pub columns: Vec<ColumnOut>,
    pub rows: Vec<RowOut>,
    pub total: Option<RowOut>,
    /// The total over the previous period of equal length.
    pub previous_total: Option<RowOut>,
    pub chart_labels: Vec<String>,
    pub chart: Vec<SeriesOut>,
}

/// A cell as text: shares to four decimals, the rest as computed.
pub fn cell_text(unit: Unit, v: Decimal) -> String {
    match unit {
        Unit::Share => v.round_dp(4).normalize().to_string(),
        _ => v.normalize().to_string(),
    }
}

fn row_out(r: &Row, report: &Report, lang: Locale) -> RowOut {
    RowOut {
        key: r.key.clone(),
        label: if r.key == "total" {
            i18n::t(lang, &r.label)
        } else {
            r.label.clone()
        },
        user_id: r.user_id,
        cells: r
            .cells
            .iter()
            .zip(&report.columns)
            .map(|(c, col)| c.map(|v| cell_text(col.unit, v)))
            .collect(),
        flagged: r.flagged,
        from: r.period.map(|p| p.from),
        to: r.period.map(|p| p.to),
    }
}

pub fn column_label(c: &salesops_app::reports::Column, lang: Locale) -> String {
    if c.translate {
        i18n::t(lang, &c.label)
    } else {
        c.label.clone()
    }
}

pub fn report_out(
    r: &Report,
    scope: salesops_app::analytics::Scope,
    currency: &str,
    lang: Locale,
) -> ReportOut {
    let (scope, scope_id) = scope_parts(scope);
    ReportOut {
        kind: r.kind.as_str().into(),
        from: r.period.from,
        to: r.period.to,
        previous_from: r.previous.from,
        previous_to: r.previous.to,
        scope,
        scope_id,
        pipeline_id: r.pipeline.map(|p| p.0),
        currency: currency.into(),
        columns: r
            .columns
            .iter()
            .map(|c| ColumnOut {
                key: c.key.clone(),
                label: column_label(c, lang),
                unit: c.unit.as_str().into(),
            })
            .collect(),
        rows: r.rows.iter().map(|x| row_out(x, r, lang)).collect(),
        total: r.total.as_ref().map(|x| row_out(x, r, lang)),
        previous_total: r.previous_total.as_ref().map(|x| row_out(x, r, lang)),
        chart_labels: r.chart_labels.clone(),
        chart: r
            .chart
            .iter()
            .map(|(n, v)| SeriesOut {
                name: n.clone(),
                values: v.iter().map(|x| x.normalize().to_string()).collect(),
            })
            .collect(),
    }
}

/// The report as CSV: a header of column labels, the rows, the total.
pub fn report_csv(out: &ReportOut) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(vec![]);
    let mut header = vec![String::new()];
    header.extend(out.columns.iter().map(|c| c.label.clone()));
    w.write_record(&header)?;
    for r in out.rows.iter().chain(out.total.iter()) {
        let mut rec = vec![r.label.clone()];
        rec.extend(r.cells.iter().map(|c| c.clone().unwrap_or_default()));
        w.write_record(&rec)?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// Reads the filters; 422 naming the parameter when wrong.
pub async fn params(s: &AppState, auth: &Auth, q: &ReportQuery) -> ApiResult<(Params, bool)> {
    let scope = scope_of(s, auth, q.team.as_deref(), q.user.as_deref())?;
    let today = today(s, auth).await?;
    let period = resolve_period(
        q.preset.as_deref(),
        q.from.as_deref(),
        q.to.as_deref(),
        today,
    );
    let mut errs = Invalid::default();
    let period = match period {
        Ok(p) => Some(p),
        Err(e) => {
            errs.0.extend(e.0);
            None
        }
    };
    let pipeline = super::analytics::pipeline_param(&mut errs, q.pipeline.as_deref());
    let bucket = match q.bucket.as_deref().filter(|x| !x.is_empty()) {
        None => Some(PeriodKind::Week),
        Some(b) => errs.check("bucket", b.parse::<PeriodKind>()),
    };
    let by_team = match q.by.as_deref().filter(|x| !x.is_empty()) {
        None | Some("member") => false,
        Some("team") => true,
        Some(_) => {
            errs.push("by", "must be member or team");
            false
        }
    };
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            errs.push("format", "must be json or csv");
            false
        }
    };
    errs.into_result()?;
    Ok((
        Params {
            scope,
            period: period.expect("checked"),
            pipeline,
            bucket: bucket.expect("checked"),
            by_team,
        },
        csv,
    ))
}

#[utoipa::path(get, path = "/api/v1/reports/{kind}", tag = "reports",
    params(("kind" = String, Path, description = "activity, prospecting, pipeline, team or company"),
           ("preset" = Option<String>, Query, description = "this_month, last_quarter, last_90_days, ... (default: this month)"),
           ("from" = Option<NaiveDate>, Query), ("to" = Option<NaiveDate>, Query, description = "Exclusive"),
           ("team" = Option<Uuid>, Query), ("user" = Option<Uuid>, Query), ("pipeline" = Option<Uuid>, Query),
           ("bucket" = Option<String>, Query, description = "day, week (default), month, quarter, half_year or year"),
           ("by" = Option<String>, Query, description = "Team report: member (default) or team (a row per team)"),
           ("format" = Option<String>, Query, description = "json (default) or csv")),
    responses((status = 200, body = ReportOut), (status = 200, content_type = "text/csv", body = String),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn report(
    State(s): State<AppState>,
    auth: Auth,
    Path(kind): Path<String>,
    Query(q): Query<ReportQuery>,
) -> ApiResult<Response> {
    let kind: Kind = kind
        .parse()
        .map_err(|_| ApiError::App(salesops_app::AppError::NotFound))?;
    let (p, csv) = params(&s, &auth, &q).await?;
    let scope = p.scope;
    let org = s.app.org(auth.actor.org_id).await?;
    let r = s.app.report(&auth.actor, kind, p).await?;
    let out = report_out(&r, scope, &org.base_currency, auth.actor.locale);
    if csv {
        let body = report_csv(&out)
            .map_err(|e| ApiError::App(salesops_app::AppError::Internal(e.to_string())))?;
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"{}-report-{}-{}.csv\"",
                        kind.as_str(),
                        out.from,
                        out.to
                    ),
                ),
            ],
            body,
        )
            .into_response());
    }
    Ok(Json(out).into_response())
}
