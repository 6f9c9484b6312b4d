//! The report pages: filters, an SVG chart drawn here, the table with its
//! total and the previous period's, drill-down from a number to its
//! records, and a CSV download.

use super::people::{Choice, choice};
use super::{PageCtx, Session, UiError, query, render};
use crate::api::reports::{ReportQuery, column_label, params};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use rust_decimal::Decimal;
use salesops_app::analytics::Scope;
use salesops_app::reports::{Drill, DrillWhat, Kind, Report, Unit};
use salesops_app::{Action, AppError, Resource, can};
use salesops_domain::{Currency, LeadStatus, Locale, Money};
use std::collections::HashMap;
use std::fmt::Write;

/// A number as the reader's language writes it.
pub fn number(lang: Locale, d: Decimal) -> String {
    let s = d.normalize().to_string();
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (s, None),
    };
    let neg = int.starts_with('-');
    let digits = int.trim_start_matches('-');
    let sep = if lang == Locale::De { '.' } else { ',' };
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(sep);
        }
        grouped.push(c);
    }
    let dec = if lang == Locale::De { ',' } else { '.' };
    format!(
        "{}{}{}",
        if neg { "-" } else { "" },
        grouped,
        frac.map(|f| format!("{dec}{f}")).unwrap_or_default()
    )
}

/// A cell value for display.
pub fn show(ctx: &PageCtx, base: Currency, unit: Unit, v: Option<Decimal>) -> String {
    let Some(v) = v else {
        return ctx.t("n-a");
    };
    match unit {
        Unit::Money => match Money::from_decimal(v.round_dp(base.exponent()), base) {
            Ok(m) => ctx.money(&m),
            Err(_) => number(ctx.lang, v),
        },
        Unit::Share => format!(
            "{} %",
            number(ctx.lang, (v * Decimal::ONE_HUNDRED).round_dp(1))
        ),
        Unit::Days => number(ctx.lang, v.round_dp(1)),
        Unit::Count | Unit::Number => number(ctx.lang, v.round_dp(2)),
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const COLOURS: [&str; 8] = [
    "#2f6fdb", "#e07b39", "#3a9d5d", "#b3261e", "#7b52ab", "#2a9fa8", "#c2a12b", "#6b6b6b",
];

/// A grouped bar chart as inline SVG: one group per label, one bar per
/// series, a y axis from 0 to a round maximum, a legend.
pub fn bar_chart(lang: Locale, labels: &[String], series: &[(String, Vec<Decimal>)]) -> String {
    if labels.is_empty() || series.is_empty() {
        return String::new();
    }
    let (w, h, left, bottom, top) = (760.0f64, 260.0f64, 56.0f64, 48.0f64, 12.0f64);
    let max = series
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .max()
        .unwrap_or_default()
        .max(Decimal::ONE);
    // A round top of the axis: 1, 2 or 5 × a power of ten.
    let maxf: f64 = max.to_string().parse().unwrap_or(1.0);
    let mag = 10f64.powf(maxf.log10().floor());
    let top_val = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|v| *v >= maxf)
        .unwrap_or(10.0 * mag);
    let plot_h = h - bottom - top;
    let plot_w = w - left - 8.0;
    let group = plot_w / labels.len() as f64;
    let bar = (group * 0.8 / series.len() as f64).max(1.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {w} {}" role="img" xmlns="http://www.w3.org/2000/svg">"#,
        h + 22.0 * series.len().div_ceil(4) as f64
    );
    for i in 0..=4 {
        let v = top_val * i as f64 / 4.0;
        let y = top + plot_h - plot_h * i as f64 / 4.0;
        let label = number(lang, Decimal::try_from(v).unwrap_or_default().round_dp(1));
        let _ = write!(
            s,
            r##"<line x1="{left}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end">{label}</text>"##,
            w - 8.0,
            left - 4.0,
            y + 3.0
        );
    }
    let step = labels.len().div_ceil(10).max(1);
    for (i, l) in labels.iter().enumerate() {
        let gx = left + group * i as f64 + group * 0.1;
        for (k, (name, vals)) in series.iter().enumerate() {
            let v: f64 = vals
                .get(i)
                .map(|d| d.to_string().parse().unwrap_or(0.0))
                .unwrap_or(0.0);
            let bh = plot_h * v / top_val;
            let _ = write!(
                s,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{}: {}</title></rect>"#,
                gx + bar * k as f64,
                top + plot_h - bh,
                (bar - 1.0).max(0.5),
                bh,
                COLOURS[k % COLOURS.len()],
                esc(&format!("{} {}", l, name)),
                number(lang, vals.get(i).copied().unwrap_or_default())
            );
        }
        if i % step == 0 {
            let short: String = l.chars().take(14).collect();
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle">{}</text>"#,
                left + group * i as f64 + group / 2.0,
                top + plot_h + 14.0,
                esc(&short)
            );
        }
    }
    for (k, (name, _)) in series.iter().enumerate() {
        let x = left + (k % 4) as f64 * 180.0;
        let y = h + 4.0 + 22.0 * (k / 4) as f64;
        let _ = write!(
            s,
            r#"<rect x="{x:.1}" y="{:.1}" width="10" height="10" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="11">{}</text>"#,
            y - 9.0,
            COLOURS[k % COLOURS.len()],
            x + 14.0,
            y,
            esc(name)
        );
    }
    s.push_str("</svg>");
    s
}

pub struct CellView {
    pub text: String,
    pub href: Option<String>,
}

pub struct RowView {
    pub label: String,
    pub href: Option<String>,
    pub cells: Vec<CellView>,
    pub flagged: bool,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    ctx: PageCtx,
    kind: &'static str,
    kinds: Vec<Choice>,
    presets: Vec<Choice>,
    buckets: Vec<Choice>,
    /// The team report's rows: per member or per team.
    bys: Vec<Choice>,
    teams: Vec<Choice>,
    users: Vec<Choice>,
    pipelines: Vec<Choice>,
    from: String,
    to: String,
    period: String,
    previous: String,
    columns: Vec<String>,
    rows: Vec<RowView>,
    total: Option<RowView>,
    previous_total: Option<RowView>,
    change: Vec<String>,
    chart: String,
    csv_href: String,
}

/// The query string of the current filters with `extra` pairs.
fn qs(q: &HashMap<String, String>, extra: &[(&str, String)], drop: &[&str]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    let mut keys: Vec<_> = q.keys().collect();
    keys.sort();
    for k in keys {
        if drop.contains(&k.as_str()) || extra.iter().any(|(e, _)| e == k) {
            continue;
        }
        if !q[k].is_empty() {
            ser.append_pair(k, &q[k]);
        }
    }
    for (k, v) in extra {
        ser.append_pair(k, v);
    }
    ser.finish()
}

/// Where a cell drills down to, by its column key.
fn drill_href(
    col: &str,
    r: &Report,
    user: Option<uuid::Uuid>,
    q: &HashMap<String, String>,
) -> Option<String> {
    let what = match col {
        "leads_created" => "created".to_string(),
        "leads_won" | "revenue" => "won".to_string(),
        "leads_lost" => "lost".to_string(),
        "leads_cancelled" => "cancelled".to_string(),
        "activities" => "activities".to_string(),
        c if c.starts_with("type:") => format!("activities&type={}", &c[5..]),
        c if c.starts_with("outcome:") => format!("activities&outcome={}", &c[8..]),
        _ => return None,
    };
    if r.kind == Kind::Company || r.kind == Kind::Pipeline || r.kind == Kind::Prospecting {
        return None;
    }
    let mut extra = vec![
        ("from", r.period.from.to_string()),
        ("to", r.period.to.to_string()),
    ];
    if let Some(u) = user {
        extra.push(("user", u.to_string()));
    }
    let drop: &[&str] = if user.is_some() {
        &["preset", "bucket", "team", "user", "format"]
    } else {
        &["preset", "bucket", "format"]
    };
    Some(format!(
        "/reports/drill?what={what}&{}",
        qs(q, &extra, drop)
    ))
}

/// A filter error of the shared parser as the UI shows it.
fn app_error(e: crate::error::ApiError) -> AppError {
    match e {
        crate::error::ApiError::App(e) => e,
        crate::error::ApiError::InvalidFields(v) => AppError::Invalid(salesops_domain::Invalid(v)),
        other => AppError::Invalid(salesops_domain::Invalid::one(
            "filters",
            format!("{other:?}"),
        )),
    }
}

pub async fn index() -> Redirect {
    Redirect::to("/reports/activity")
}

pub async fn show_report(
    State(s): State<AppState>,
    session: Session,
    Path(kind): Path<String>,
    uri: Uri,
) -> Response {
    let lang = session.actor().locale;
    let Ok(kind) = kind.parse::<Kind>() else {
        return UiError::new(lang, AppError::NotFound).into_response();
    };
    let q = query(&uri);
    let rq = ReportQuery::from_map(&q);
    let a = session.actor();
    let result = async {
        let (p, _) = params(&s, &session.auth, &rq).await.map_err(app_error)?;
        let actx = s.app.analytics_ctx(a).await?;
        let report = s.app.report_in(a, &actx, kind, p.clone()).await?;
        Ok::<_, AppError>((p, actx, report))
    }
    .await;
    let (p, actx, r) = match result {
        Ok(x) => x,
        Err(e) => return UiError::new(lang, e).into_response(),
    };
    let ctx = session.ctx("reports");
    let base = actx.base;
    let row_view = |row: &salesops_app::reports::Row| RowView {
        label: if row.key == "total" {
            ctx.t("report-total")
        } else {
            row.label.clone()
        },
        href: row.user_id.map(|u| {
            format!(
                "/reports/{}?{}",
                kind.as_str(),
                qs(&q, &[("user", u.to_string())], &["team"])
            )
        }),
        cells: row
            .cells
            .iter()
            .zip(&r.columns)
            .map(|(v, c)| CellView {
                text: show(&ctx, base, c.unit, *v),
                href: (v.is_some_and(|x| !x.is_zero()))
                    .then(|| drill_href(&c.key, &r, row.user_id, &q))
                    .flatten(),
            })
            .collect(),
        flagged: row.flagged,
    };
    let rows = r.rows.iter().map(row_view).collect();
    let total = r.total.as_ref().map(&row_view);
    let previous_total = r.previous_total.as_ref().map(|x| {
        let mut v = row_view(x);
        v.label = ctx.t("report-previous");
        for c in &mut v.cells {
            c.href = None;
        }
        v
    });
    let change = match (&r.total, &r.previous_total) {
        (Some(t), Some(pt)) => t
            .cells
            .iter()
            .zip(&pt.cells)
            .zip(&r.columns)
            .map(|((a, b), c)| match (a, b, c.unit) {
                (Some(a), Some(b), Unit::Count | Unit::Money) if !b.is_zero() => {
                    let pct = ((*a - *b) / *b * Decimal::ONE_HUNDRED).round_dp(1);
                    format!(
                        "{}{} %",
                        if pct > Decimal::ZERO { "+" } else { "" },
                        number(ctx.lang, pct)
                    )
                }
                _ => String::new(),
            })
            .collect(),
        _ => vec![],
    };
    let preset = q.get("preset").cloned().unwrap_or_else(|| {
        if q.contains_key("from") {
            String::new()
        } else {
            "this_month".into()
        }
    });
    let presets = [
        "this_week",
        "last_week",
        "this_month",
        "last_month",
        "this_quarter",
        "last_quarter",
        "this_half_year",
        "last_half_year",
        "this_year",
        "last_year",
        "last_30_days",
        "last_90_days",
        "last_365_days",
    ]
    .iter()
    .map(|x| choice(*x, ctx.t(&format!("preset-{x}")), &preset))
    .collect();
    let bucket = q.get("bucket").cloned().unwrap_or_else(|| "week".into());
    let buckets = salesops_domain::periods::PeriodKind::ALL
        .iter()
        .map(|k| {
            choice(
                k.as_str(),
                ctx.t(&format!("period-{}", k.as_str())),
                &bucket,
            )
        })
        .collect();
    let (teams, users, pipelines) = filter_choices(&actx, a, p.scope, r.pipeline);
    let kinds = report_tabs(&ctx, kind.as_str());
    let chart_series: Vec<(String, Vec<Decimal>)> = r
        .chart
        .iter()
        .map(|(n, v)| {
            let label = if matches!(
                n.as_str(),
                "worked"
                    | "converted"
                    | "entered"
                    | "moved_on"
                    | "leads_won"
                    | "leads_lost"
                    | "revenue"
            ) {
                ctx.t(&format!(
                    "report-col-{}",
                    if n == "worked" {
                        "prospects_worked"
                    } else {
                        n.as_str()
                    }
                ))
            } else {
                n.clone()
            };
            (label, v.clone())
        })
        .collect();
    let by = q.get("by").cloned().unwrap_or_else(|| "member".into());
    let bys = ["member", "team"]
        .iter()
        .map(|b| choice(*b, ctx.t(&format!("report-by-{b}")), &by))
        .collect();
    let page = ReportPage {
        kind: kind.as_str(),
        kinds,
        presets,
        buckets,
        bys,
        teams,
        users,
        pipelines,
        from: q.get("from").cloned().unwrap_or_default(),
        to: q.get("to").cloned().unwrap_or_default(),
        period: format!(
            "{} – {}",
            r.period.from,
            r.period.to.pred_opt().unwrap_or(r.period.to)
        ),
        previous: format!(
            "{} – {}",
            r.previous.from,
            r.previous.to.pred_opt().unwrap_or(r.previous.to)
        ),
        columns: r
            .columns
            .iter()
            .map(|c| column_label(c, ctx.lang))
            .collect(),
        rows,
        total,
        previous_total,
        change,
        chart: bar_chart(ctx.lang, &r.chart_labels, &chart_series),
        csv_href: format!(
            "/api/v1/reports/{}?{}",
            kind.as_str(),
            qs(&q, &[("format", "csv".into())], &[])
        ),
        ctx,
    };
    render(&page)
}

pub struct DrillRow {
    pub href: String,
    pub title: String,
    pub who: String,
    pub when: String,
    pub what: String,
    pub amount: String,
}

#[derive(Template)]
#[template(path = "report_drill.html")]
struct DrillPage {
    ctx: PageCtx,
    heading: String,
    rows: Vec<DrillRow>,
    back: String,
}

pub async fn drill(State(s): State<AppState>, session: Session, uri: Uri) -> Response {
    let lang = session.actor().locale;
    let q = query(&uri);
    let what = match q.get("what").map(String::as_str) {
        Some("created") => DrillWhat::Created,
        Some("won") => DrillWhat::Closed(LeadStatus::Won),
        Some("lost") => DrillWhat::Closed(LeadStatus::Lost),
        Some("cancelled") => DrillWhat::Closed(LeadStatus::Cancelled),
        Some("activities") => DrillWhat::Activities {
            type_id: q.get("type").and_then(|x| x.parse().ok()),
            outcome_id: q.get("outcome").and_then(|x| x.parse().ok()),
        },
        _ => return UiError::new(lang, AppError::NotFound).into_response(),
    };
    let rq = ReportQuery {
        bucket: None,
        ..ReportQuery::from_map(&q)
    };
    let a = session.actor();
    let result = async {
        let (p, _) = params(&s, &session.auth, &rq).await.map_err(app_error)?;
        let actx = s.app.analytics_ctx(a).await?;
        let d = s.app.drill(a, &p, what.clone()).await?;
        Ok::<_, AppError>((p, actx, d))
    }
    .await;
    let (p, actx, d) = match result {
        Ok(x) => x,
        Err(e) => return UiError::new(lang, e).into_response(),
    };
    let ctx = session.ctx("reports");
    let rows = match d {
        Drill::Leads(v) => v
            .iter()
            .map(|l| DrillRow {
                href: format!("/leads/{}", l.id),
                title: l.title.clone(),
                who: l
                    .owner_id
                    .map(|o| actx.name_of(salesops_domain::UserId(o)))
                    .unwrap_or_default(),
                when: actx.day(l.closed_at.unwrap_or(l.created_at)).to_string(),
                what: ctx.t(&format!("status-{}", l.status)),
                amount: actx
                    .amount_base(l, actx.day(l.closed_at.unwrap_or(l.created_at)))
                    .map(|m| ctx.money(&Money::new(m, actx.base)))
                    .unwrap_or_default(),
            })
            .collect(),
        Drill::Activities(v) => v
            .iter()
            .map(|x| DrillRow {
                href: x
                    .lead_id
                    .map(|l| format!("/leads/{l}"))
                    .or(x.prospect_id.map(|p| format!("/prospects/{p}")))
                    .unwrap_or_default(),
                title: x
                    .lead_id
                    .or(x.prospect_id)
                    .map(|_| ctx.t("report-open-record"))
                    .unwrap_or_default(),
                who: actx.name_of(salesops_domain::UserId(x.user_id)),
                when: x
                    .happened_at
                    .with_timezone(&actx.tz)
                    .format("%Y-%m-%d %H:%M")
                    .to_string(),
                what: format!(
                    "{}{}",
                    actx.types
                        .get(&x.type_id)
                        .map(|t| t.name.clone())
                        .unwrap_or_default(),
                    x.outcome_id
                        .and_then(|o| actx.outcomes.get(&o))
                        .map(|o| format!(" · {}", o.name))
                        .unwrap_or_default()
                ),
                amount: x
                    .duration_minutes
                    .map(|m| format!("{m} min"))
                    .unwrap_or_default(),
            })
            .collect(),
    };
    let heading = format!(
        "{} ({} – {}, {})",
        ctx.t(&format!(
            "drill-{}",
            q.get("what").map(String::as_str).unwrap_or("created")
        )),
        p.period.from,
        p.period.to.pred_opt().unwrap_or(p.period.to),
        match p.scope {
            Scope::User(u) => actx.name_of(u),
            Scope::Team(t) => actx.team(t).map(|t| t.name.clone()).unwrap_or_default(),
            Scope::Org => ctx.t("report-scope-org"),
        }
    );
    render(&DrillPage {
        ctx,
        heading,
        rows,
        back: format!(
            "/reports/activity?{}",
            qs(&q, &[], &["what", "type", "outcome"])
        ),
    })
}

// ---- the dashboard ------------------------------------------------------

pub struct Tile {
    pub label: String,
    pub value: String,
    pub change: String,
    /// up, down or flat (for the colour of the change).
    pub trend: &'static str,
}

pub struct Leader {
    pub name: String,
    pub value: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    ctx: PageCtx,
    presets: Vec<Choice>,
    teams: Vec<Choice>,
    period: String,
    tiles: Vec<Tile>,
    trend: String,
    funnel: String,
    goals: Vec<super::goals::GoalLine>,
    behind: Vec<super::goals::GoalLine>,
    by_activities: Vec<Leader>,
    by_wins: Vec<Leader>,
    by_revenue: Vec<Leader>,
    /// Every KPI: label, value, previous, why it is missing.
    all: Vec<(String, String, String, String)>,
}

/// A funnel: one horizontal bar per stage, as wide as its share of the first.
pub fn funnel_svg(lang: Locale, stages: &[(String, Decimal)]) -> String {
    let max = stages.iter().map(|s| s.1).max().unwrap_or_default();
    if stages.is_empty() || max.is_zero() {
        return String::new();
    }
    let (w, row) = (640.0f64, 30.0f64);
    let mut s = format!(
        r#"<svg class="chart funnel" viewBox="0 0 {w} {}" role="img" xmlns="http://www.w3.org/2000/svg">"#,
        row * stages.len() as f64 + 4.0
    );
    let maxf: f64 = max.to_string().parse().unwrap_or(1.0);
    for (i, (name, v)) in stages.iter().enumerate() {
        let vf: f64 = v.to_string().parse().unwrap_or(0.0);
        let bw = ((w - 200.0) * vf / maxf).max(1.0);
        let x = 190.0 + (w - 200.0 - bw) / 2.0;
        let y = i as f64 * row + 2.0;
        let _ = write!(
            s,
            r#"<text x="0" y="{:.1}" font-size="12">{} ({})</text><rect x="{x:.1}" y="{y:.1}" width="{bw:.1}" height="{:.1}" fill="{}"/>"#,
            y + 18.0,
            esc(name),
            number(lang, *v),
            row - 6.0,
            COLOURS[0],
        );
    }
    s.push_str("</svg>");
    s
}

pub async fn dashboard(State(s): State<AppState>, session: Session, uri: Uri) -> Response {
    let lang = session.actor().locale;
    let q = query(&uri);
    let rq = ReportQuery {
        preset: Some(
            q.get("preset")
                .cloned()
                .unwrap_or_else(|| "this_month".into()),
        ),
        team: q.get("team").cloned(),
        bucket: Some("week".into()),
        ..Default::default()
    };
    let a = session.actor();
    let result = async {
        let (mut p, _) = params(&s, &session.auth, &rq).await.map_err(app_error)?;
        let actx = s.app.analytics_ctx(a).await?;
        let kpis = s.app.kpis_in(a, &actx, p.scope, p.period, None).await?;
        let acts = s.app.report_in(a, &actx, Kind::Activity, p.clone()).await?;
        let team = s.app.report_in(a, &actx, Kind::Team, p.clone()).await?;
        let funnel = s.app.report_in(a, &actx, Kind::Pipeline, p.clone()).await?;
        // The trend over the last 12 weeks, whatever the period.
        let end = p.period.to;
        p.period = salesops_domain::periods::Period::new(end - chrono::Duration::weeks(12), end)?;
        let trend = s.app.report_in(a, &actx, Kind::Activity, p.clone()).await?;
        let goals = match p.scope {
            Scope::Team(t) => s.app.progress_for_in(a, &actx, None, Some(t), None).await?,
            Scope::User(u) => s.app.progress_for_in(a, &actx, Some(u), None, None).await?,
            Scope::Org => {
                let g = s.app.list_goals_in(a, &actx, None, None).await?;
                s.app.progress_with(&actx, g, None).await?
            }
        };
        Ok::<_, AppError>((actx, kpis, acts, team, trend, funnel, goals, p.scope))
    }
    .await;
    let (actx, kpis, acts, team, trend, funnel, goals, scope) = match result {
        Ok(x) => x,
        Err(e) => return UiError::new(lang, e).into_response(),
    };
    let ctx = session.ctx("dashboard");
    let tile_keys = [
        "revenue",
        "won",
        "win_rate",
        "average_deal_size",
        "leads_created",
        "pipeline_value",
        "weighted_pipeline_value",
        "sales_cycle_median",
        "activities_per_rep_per_day",
        "pipeline_coverage",
    ];
    let tiles = tile_keys
        .iter()
        .filter_map(|k| kpis.kpis.iter().find(|x| x.key == *k))
        .map(|k| {
            let (change, trend) = match (k.value, k.previous) {
                (Some(v), Some(p)) if !p.is_zero() => {
                    let pct = ((v - p) / p * Decimal::ONE_HUNDRED).round_dp(1);
                    (
                        format!(
                            "{}{} % {}",
                            if pct > Decimal::ZERO {
                                "▲ +"
                            } else if pct < Decimal::ZERO {
                                "▼ "
                            } else {
                                ""
                            },
                            number(ctx.lang, pct),
                            ctx.t("dashboard-vs-previous")
                        ),
                        if pct > Decimal::ZERO {
                            "up"
                        } else if pct < Decimal::ZERO {
                            "down"
                        } else {
                            "flat"
                        },
                    )
                }
                _ => (String::new(), "flat"),
            };
            Tile {
                label: ctx.t(&format!("kpi-{}", k.key)),
                value: show(&ctx, actx.base, k.unit, k.value),
                change,
                trend,
            }
        })
        .collect();
    let all = kpis
        .kpis
        .iter()
        .map(|k| {
            (
                ctx.t(&format!("kpi-{}", k.key)),
                show(&ctx, actx.base, k.unit, k.value),
                k.previous
                    .map(|p| show(&ctx, actx.base, k.unit, Some(p)))
                    .unwrap_or_default(),
                if k.value.is_none() {
                    ctx.t(match k.key.as_str() {
                        "forecast_accuracy" => "kpi-why-snapshots",
                        "profit_margin" | "cac" | "sales_efficiency" => "kpi-why-costs",
                        "churn_rate" | "clv" => "kpi-why-contracts",
                        "nps" => "kpi-why-nps",
                        "pipeline_coverage" => "kpi-why-coverage",
                        "quota_attainment_rate" => "kpi-why-quota",
                        _ => "kpi-why-zero",
                    })
                } else {
                    String::new()
                },
            )
        })
        .collect();
    let col = |r: &Report, key: &str| r.columns.iter().position(|c| c.key == key);
    let leaders = |r: &Report, key: &str, unit: Unit| -> Vec<Leader> {
        let Some(i) = col(r, key) else { return vec![] };
        let mut v: Vec<_> = r
            .rows
            .iter()
            .filter_map(|row| Some((row.label.clone(), row.cells[i]?)))
            .filter(|(_, x)| !x.is_zero())
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.into_iter()
            .take(5)
            .map(|(name, x)| Leader {
                name,
                value: show(&ctx, actx.base, unit, Some(x)),
            })
            .collect()
    };
    let stages: Vec<(String, Decimal)> = funnel
        .rows
        .iter()
        .map(|r| (r.label.clone(), r.cells[0].unwrap_or_default()))
        .collect();
    let lines = super::goals::lines(&ctx, &actx, goals);
    let behind = lines
        .iter()
        .filter(|l| l.status == "behind" || l.status == "missed")
        .map(|l| super::goals::GoalLine {
            who: l.who.clone(),
            metric: l.metric.clone(),
            period: l.period.clone(),
            target: l.target.clone(),
            actual: l.actual.clone(),
            meter: l.meter,
            percent: l.percent.clone(),
            status: l.status,
            status_text: l.status_text.clone(),
            needed: l.needed.clone(),
        })
        .collect();
    let preset = rq.preset.clone().unwrap_or_default();
    let presets = [
        "this_week",
        "last_week",
        "this_month",
        "last_month",
        "this_quarter",
        "last_quarter",
        "this_year",
        "last_year",
    ]
    .iter()
    .map(|x| choice(*x, ctx.t(&format!("preset-{x}")), &preset))
    .collect();
    let team_sel = match scope {
        Scope::Team(t) => t.to_string(),
        _ => String::new(),
    };
    let sees_all = can(a, Resource::Report, Action::Read, None);
    let teams = actx
        .teams
        .iter()
        .filter(|t| sees_all || a.teams().contains(&t.id))
        .map(|t| choice(t.id.to_string(), t.name.clone(), &team_sel))
        .collect();
    let trend_series: Vec<(String, Vec<Decimal>)> = trend.chart.clone();
    let page = DashboardPage {
        presets,
        teams,
        period: format!(
            "{} – {}",
            kpis.period.from,
            kpis.period.to.pred_opt().unwrap_or(kpis.period.to)
        ),
        tiles,
        trend: bar_chart(ctx.lang, &trend.chart_labels, &trend_series),
        funnel: funnel_svg(ctx.lang, &stages),
        by_activities: leaders(&acts, "activities", Unit::Count),
        by_wins: leaders(&team, "leads_won", Unit::Count),
        by_revenue: leaders(&team, "revenue", Unit::Money),
        goals: lines,
        behind,
        all,
        ctx,
    };
    render(&page)
}

/// One line of the weighted pipeline as the page shows it.
pub struct ForecastRow {
    pub label: String,
    pub total: bool,
    /// Per month: weighted amount, amount, count.
    pub cells: Vec<[String; 3]>,
    pub sum: [String; 3],
}

#[derive(Template)]
#[template(path = "forecast.html")]
struct ForecastPage {
    ctx: PageCtx,
    kinds: Vec<Choice>,
    views: Vec<Choice>,
    teams: Vec<Choice>,
    users: Vec<Choice>,
    pipelines: Vec<Choice>,
    months: Vec<String>,
    rows: Vec<ForecastRow>,
    chart: String,
    without_amount: i64,
    json_href: String,
}

/// The tabs of the report pages (the five reports and the weighted
/// pipeline), `current` marked.
fn report_tabs(ctx: &PageCtx, current: &str) -> Vec<Choice> {
    Kind::ALL
        .iter()
        .map(|k| k.as_str())
        .chain(["forecast"])
        .map(|k| choice(k, ctx.t(&format!("report-{k}")), current))
        .collect()
}

/// The choices of a report's filters: the teams and the people the actor
/// may see (all for those who read every report), and the pipelines; the
/// scope's team or person and `pipeline` selected.
fn filter_choices(
    actx: &salesops_app::analytics::Ctx,
    a: &salesops_app::permissions::Actor,
    scope: Scope,
    pipeline: Option<salesops_domain::PipelineId>,
) -> (Vec<Choice>, Vec<Choice>, Vec<Choice>) {
    let (scope_team, scope_user) = match scope {
        Scope::Team(t) => (t.to_string(), String::new()),
        Scope::User(u) => (String::new(), u.to_string()),
        Scope::Org => (String::new(), String::new()),
    };
    let sees_all = can(a, Resource::Report, Action::Read, None);
    let teams = actx
        .teams
        .iter()
        .filter(|t| sees_all || a.teams().contains(&t.id))
        .map(|t| choice(t.id.to_string(), t.name.clone(), &scope_team))
        .collect();
    let visible: Vec<_> = if sees_all {
        actx.people.iter().collect()
    } else {
        let mut ids = vec![a.user_id];
        for t in a.teams() {
            ids.extend(actx.members_of(t));
        }
        actx.people.iter().filter(|x| ids.contains(&x.id)).collect()
    };
    let users = visible
        .iter()
        .map(|x| choice(x.id.to_string(), x.name.clone(), &scope_user))
        .collect();
    let pipeline_sel = pipeline.map(|x| x.to_string()).unwrap_or_default();
    let pipelines = actx
        .pipelines
        .iter()
        .map(|x| {
            choice(
                x.pipeline.id.to_string(),
                x.pipeline.name.clone(),
                &pipeline_sel,
            )
        })
        .collect();
    (teams, users, pipelines)
}

/// The weighted open pipeline by expected close month: per pipeline, team
/// or user (the same figures as `GET /api/v1/forecast`).
pub async fn forecast_page(State(s): State<AppState>, session: Session, uri: Uri) -> Response {
    let lang = session.actor().locale;
    let q = query(&uri);
    let a = session.actor();
    let view = q
        .get("view")
        .filter(|v| !v.is_empty())
        .cloned()
        .unwrap_or_else(|| "team".into());
    let result = async {
        if !["pipeline", "team", "user"].contains(&view.as_str()) {
            return Err(AppError::Invalid(salesops_domain::Invalid::one(
                "view",
                "must be pipeline, team or user",
            )));
        }
        let scope = crate::api::analytics::scope_of(
            &s,
            &session.auth,
            q.get("team").map(String::as_str),
            q.get("user").map(String::as_str),
        )
        .map_err(app_error)?;
        let mut errs = salesops_domain::Invalid::default();
        let pipeline =
            crate::api::analytics::pipeline_param(&mut errs, q.get("pipeline").map(String::as_str));
        errs.into_result()?;
        let (f, actx) = s.app.forecast(a, scope, pipeline).await?;
        Ok::<_, AppError>((f, actx, scope, pipeline))
    }
    .await;
    let (f, actx, scope, pipeline) = match result {
        Ok(x) => x,
        Err(e) => return UiError::new(lang, e).into_response(),
    };
    let ctx = session.ctx("reports");
    let base = actx.base;
    let money = |m: i64| {
        show(
            &ctx,
            base,
            Unit::Money,
            Some(salesops_domain::Money::new(m, base).to_decimal()),
        )
    };
    let month_label = |m: &str| {
        if m == "none" {
            ctx.t("forecast-no-date")
        } else {
            m.to_string()
        }
    };
    let cells = |c: &salesops_app::forecast::Cell| {
        [
            money(c.weighted),
            money(c.amount),
            number(ctx.lang, c.count.into()),
        ]
    };
    let row = |l: &salesops_app::forecast::Line, label: String, total: bool| {
        let mut v = vec![[String::new(), String::new(), String::new()]; f.months.len()];
        for (i, c) in &l.months {
            if let Some(slot) = v.get_mut(*i as usize) {
                *slot = cells(c);
            }
        }
        ForecastRow {
            label,
            total,
            cells: v,
            sum: cells(&l.total),
        }
    };
    let lines = match view.as_str() {
        "pipeline" => &f.by_pipeline,
        "user" => &f.by_user,
        _ => &f.by_team,
    };
    let mut rows: Vec<ForecastRow> = lines
        .iter()
        .map(|l| row(l, l.name.clone(), false))
        .collect();
    rows.push(row(&f.total, ctx.t("report-total"), true));
    // Amount and weighted amount per month of the whole scope.
    let mut amount = vec![Decimal::ZERO; f.months.len()];
    let mut weighted = vec![Decimal::ZERO; f.months.len()];
    for (i, c) in &f.total.months {
        amount[*i as usize] = salesops_domain::Money::new(c.amount, base).to_decimal();
        weighted[*i as usize] = salesops_domain::Money::new(c.weighted, base).to_decimal();
    }
    let months: Vec<String> = f.months.iter().map(|m| month_label(m)).collect();
    let chart = bar_chart(
        ctx.lang,
        &months,
        &[
            (ctx.t("forecast-amount"), amount),
            (ctx.t("forecast-weighted"), weighted),
        ],
    );
    let (teams, users, pipelines) = filter_choices(&actx, a, scope, pipeline);
    let views = ["pipeline", "team", "user"]
        .iter()
        .map(|v| choice(*v, ctx.t(&format!("forecast-by-{v}")), &view))
        .collect();
    let kinds = report_tabs(&ctx, "forecast");
    let page = ForecastPage {
        kinds,
        views,
        teams,
        users,
        pipelines,
        months,
        rows,
        chart,
        without_amount: f.without_amount,
        json_href: format!("/api/v1/forecast?{}", qs(&q, &[], &["view"])),
        ctx,
    };
    render(&page)
}
