//! KPIs and the weighted open pipeline.

use crate::error::{ApiResult, Problem};
use crate::extract::{Auth, Query};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use chrono::NaiveDate;
use salesops_app::analytics::{Scope, resolve_period};
use salesops_app::forecast::{Cell, Forecast, Line};
use salesops_app::kpis::Kpi;
use salesops_domain::{Currency, Invalid, Money, PipelineId, TeamId, UserId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Default, Deserialize)]
pub struct ScopeQuery {
    pub preset: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub team: Option<String>,
    pub user: Option<String>,
    pub pipeline: Option<String>,
}

/// The `pipeline` parameter: none when absent or empty, an error on
/// `pipeline` in `errs` when it is not a pipeline id.
pub fn pipeline_param(errs: &mut Invalid, v: Option<&str>) -> Option<PipelineId> {
    v.filter(|x| !x.is_empty()).and_then(|x| {
        errs.check(
            "pipeline",
            x.parse::<PipelineId>().map_err(|_| "must be a pipeline id"),
        )
    })
}

/// The scope of `?team=` or `?user=` (not both); the actor's default without either.
pub fn scope_of(
    s: &AppState,
    auth: &Auth,
    team: Option<&str>,
    user: Option<&str>,
) -> ApiResult<Scope> {
    let mut errs = Invalid::default();
    let team = team
        .filter(|x| !x.is_empty())
        .and_then(|x| errs.check("team", x.parse::<TeamId>().map_err(|_| "must be a team id")));
    let user = user
        .filter(|x| !x.is_empty())
        .and_then(|x| errs.check("user", x.parse::<UserId>().map_err(|_| "must be a user id")));
    if team.is_some() && user.is_some() {
        errs.push("user", "give a team or a user, not both");
    }
    errs.into_result()?;
    Ok(match (team, user) {
        (Some(t), _) => Scope::Team(t),
        (_, Some(u)) => Scope::User(u),
        _ => s.app.default_scope(&auth.actor),
    })
}

pub async fn today(s: &AppState, auth: &Auth) -> ApiResult<NaiveDate> {
    Ok(s.app.org_today(auth.actor.org_id).await?)
}

pub async fn base(s: &AppState, auth: &Auth) -> ApiResult<Currency> {
    Ok(s.app.base_currency(auth.actor.org_id).await?)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KpiOut {
    pub key: String,
    /// count, money (in `currency`), share (0.25 = 25 %), days or number.
    pub unit: String,
    /// Decimal string; null when it cannot be computed (see `reason`).
    pub value: Option<String>,
    /// The value over the previous period of equal length.
    pub previous: Option<String>,
    /// value − previous.
    pub change: Option<String>,
    /// Why the value is null: "n/a" for a zero denominator, or the input
    /// that does not exist yet.
    pub reason: Option<String>,
}

impl From<Kpi> for KpiOut {
    fn from(k: Kpi) -> Self {
        // Shares to four decimals (0.6667 is 66.67 %); the rest as computed.
        let share = k.unit == salesops_app::kpis::Unit::Share;
        let fmt = |d: rust_decimal::Decimal| {
            if share { d.round_dp(4) } else { d }
                .normalize()
                .to_string()
        };
        KpiOut {
            change: k.change().map(fmt),
            key: k.key,
            unit: k.unit.as_str().into(),
            value: k.value.map(fmt),
            previous: k.previous.map(fmt),
            reason: k.reason,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KpisOut {
    pub from: NaiveDate,
    /// Exclusive.
    pub to: NaiveDate,
    pub previous_from: NaiveDate,
    pub previous_to: NaiveDate,
    /// org, team or user.
    pub scope: String,
    pub scope_id: Option<Uuid>,
    /// The base currency of money values.
    pub currency: String,
    pub kpis: Vec<KpiOut>,
}

pub fn scope_parts(scope: Scope) -> (String, Option<Uuid>) {
    match scope {
        Scope::Org => ("org".into(), None),
        Scope::Team(t) => ("team".into(), Some(t.0)),
        Scope::User(u) => ("user".into(), Some(u.0)),
    }
}

#[utoipa::path(get, path = "/api/v1/kpis", tag = "reports",
    params(("preset" = Option<String>, Query, description = "this_month, last_quarter, last_90_days, ... (default: this month)"),
           ("from" = Option<NaiveDate>, Query), ("to" = Option<NaiveDate>, Query, description = "Exclusive"),
           ("team" = Option<Uuid>, Query), ("user" = Option<Uuid>, Query), ("pipeline" = Option<Uuid>, Query)),
    responses((status = 200, body = KpisOut), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn kpis(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<ScopeQuery>,
) -> ApiResult<Json<KpisOut>> {
    let scope = scope_of(&s, &auth, q.team.as_deref(), q.user.as_deref())?;
    let today = today(&s, &auth).await?;
    let period = resolve_period(
        q.preset.as_deref(),
        q.from.as_deref(),
        q.to.as_deref(),
        today,
    )?;
    let mut errs = Invalid::default();
    let pipeline = pipeline_param(&mut errs, q.pipeline.as_deref());
    errs.into_result()?;
    let base = base(&s, &auth).await?;
    let r = s.app.kpis(&auth.actor, scope, period, pipeline).await?;
    let (scope, scope_id) = scope_parts(scope);
    Ok(Json(KpisOut {
        from: r.period.from,
        to: r.period.to,
        previous_from: r.previous.from,
        previous_to: r.previous.to,
        scope,
        scope_id,
        currency: base.code().into(),
        kpis: r.kpis.into_iter().map(KpiOut::from).collect(),
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CellOut {
    pub count: i64,
    pub amount: String,
    pub weighted: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MonthOut {
    /// YYYY-MM of the expected close date, or "none".
    pub month: String,
    pub count: i64,
    pub amount: String,
    pub weighted: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ForecastLineOut {
    pub id: Option<Uuid>,
    pub name: String,
    pub months: Vec<MonthOut>,
    pub total: CellOut,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ForecastOut {
    pub currency: String,
    pub scope: String,
    pub scope_id: Option<Uuid>,
    pub months: Vec<String>,
    pub total: ForecastLineOut,
    pub by_pipeline: Vec<ForecastLineOut>,
    pub by_team: Vec<ForecastLineOut>,
    pub by_user: Vec<ForecastLineOut>,
    /// Open leads left out for want of an amount or an exchange rate.
    pub without_amount: i64,
}

/// The forecast as JSON, written straight from the figures: the document
/// [`ForecastOut`] describes, without building it first (a forecast of a
/// large organisation has thousands of lines).
pub struct ForecastJson {
    pub forecast: Forecast,
    pub base: Currency,
    pub scope: Scope,
}

/// An amount of the base currency, as a decimal string.
struct Amount(i64, Currency);

impl Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0; salesops_domain::money::AMOUNT_BUF];
        s.serialize_str(Money::new(self.0, self.1).amount_str(&mut buf))
    }
}

struct CellJson<'a>(&'a Cell, Currency);

impl Serialize for CellJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut m = s.serialize_struct("CellOut", 3)?;
        m.serialize_field("count", &self.0.count)?;
        m.serialize_field("amount", &Amount(self.0.amount, self.1))?;
        m.serialize_field("weighted", &Amount(self.0.weighted, self.1))?;
        m.end()
    }
}

struct MonthJson<'a>(&'a str, &'a Cell, Currency);

impl Serialize for MonthJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut m = s.serialize_struct("MonthOut", 4)?;
        m.serialize_field("month", self.0)?;
        m.serialize_field("count", &self.1.count)?;
        m.serialize_field("amount", &Amount(self.1.amount, self.2))?;
        m.serialize_field("weighted", &Amount(self.1.weighted, self.2))?;
        m.end()
    }
}

struct LineJson<'a>(&'a Line, &'a [String], Currency);

impl Serialize for LineJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let LineJson(l, names, base) = self;
        let months = Seq(l
            .months
            .iter()
            .map(|(i, c)| MonthJson(names.get(*i as usize).map_or("", String::as_str), c, *base)));
        let mut m = s.serialize_struct("ForecastLineOut", 4)?;
        m.serialize_field("id", &l.id)?;
        m.serialize_field("name", &l.name)?;
        m.serialize_field("months", &months)?;
        m.serialize_field("total", &CellJson(&l.total, *base))?;
        m.end()
    }
}

/// A sequence written from an iterator (once).
struct Seq<I>(I);

impl<I, T> Serialize for Seq<I>
where
    I: Iterator<Item = T> + Clone,
    T: Serialize,
{
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.clone())
    }
}

impl Serialize for ForecastJson {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let f = &self.forecast;
        let (scope, scope_id) = scope_parts(self.scope);
        fn lines<'a>(
            v: &'a [Line],
            names: &'a [String],
            base: Currency,
        ) -> Seq<impl Iterator<Item = LineJson<'a>> + Clone> {
            Seq(v.iter().map(move |l| LineJson(l, names, base)))
        }
        let mut m = s.serialize_struct("ForecastOut", 9)?;
        m.serialize_field("currency", self.base.code())?;
        m.serialize_field("scope", &scope)?;
        m.serialize_field("scope_id", &scope_id)?;
        m.serialize_field("months", &f.months)?;
        m.serialize_field("total", &LineJson(&f.total, &f.months, self.base))?;
        m.serialize_field("by_pipeline", &lines(&f.by_pipeline, &f.months, self.base))?;
        m.serialize_field("by_team", &lines(&f.by_team, &f.months, self.base))?;
        m.serialize_field("by_user", &lines(&f.by_user, &f.months, self.base))?;
        m.serialize_field("without_amount", &f.without_amount)?;
        m.end()
    }
}

#[utoipa::path(get, path = "/api/v1/forecast", tag = "reports",
    params(("team" = Option<Uuid>, Query), ("user" = Option<Uuid>, Query), ("pipeline" = Option<Uuid>, Query)),
    responses((status = 200, body = ForecastOut), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn forecast(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<ScopeQuery>,
) -> ApiResult<Json<ForecastJson>> {
    let scope = scope_of(&s, &auth, q.team.as_deref(), q.user.as_deref())?;
    let mut errs = Invalid::default();
    let pipeline = pipeline_param(&mut errs, q.pipeline.as_deref());
    errs.into_result()?;
    let base = base(&s, &auth).await?;
    let (f, _) = s.app.forecast(&auth.actor, scope, pipeline).await?;
    Ok(Json(ForecastJson {
        forecast: f,
        base,
        scope,
    }))
}
