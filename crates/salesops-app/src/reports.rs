//! The five reports of SPEC "Reports": activity, prospecting lists,
//! pipeline performance, team performance and company performance. Each is
//! a table (rows, columns with units, a total) with the previous period's
//! total for comparison, and a chart series; the API renders it as JSON or
//! CSV and the UI as a table and an SVG chart.

use crate::analytics::{Ctx, Facts, Scope};
use crate::cube::{Cube, LeadSums};
use crate::permissions::Actor;
use crate::{App, AppError, Result};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use salesops_domain::metrics::{LeadPath, Outcome, add_path, ratio};
use salesops_domain::periods::{Period, PeriodKind};
use salesops_domain::{Invalid, LeadStatus, PipelineId, TeamId, UserId};
use salesops_store::analytics::{self as facts, LeadFact, StageFact};
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;

pub use crate::kpis::Unit;

/// Which report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Activity,
    Prospecting,
    Pipeline,
    Team,
    Company,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Activity,
        Kind::Prospecting,
        Kind::Pipeline,
        Kind::Team,
        Kind::Company,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Activity => "activity",
            Kind::Prospecting => "prospecting",
            Kind::Pipeline => "pipeline",
            Kind::Team => "team",
            Kind::Company => "company",
        }
    }
}

impl std::str::FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| "must be activity, prospecting, pipeline, team or company".into())
    }
}

#[derive(Clone, Debug)]
pub struct Column {
    /// A stable key (`leads_won`, `type:<uuid>`, ...).
    pub key: String,
    /// What the UI shows (an activity type's name, or a translation key
    /// `report-col-<key>` when `translate`).
    pub label: String,
    pub translate: bool,
    pub unit: Unit,
}

#[derive(Clone, Debug)]
pub struct Row {
    /// What the row is about: a user, a list and user, a stage, a bucket.
    pub key: String,
    pub label: String,
    /// The user the row is about (drill-down).
    pub user_id: Option<Uuid>,
    pub cells: Vec<Option<Decimal>>,
    /// The row stands out (the worst step of a pipeline).
    pub flagged: bool,
    /// The row's period (company report buckets).
    pub period: Option<Period>,
}

#[derive(Clone, Debug)]
pub struct Report {
    pub kind: Kind,
    pub period: Period,
    pub previous: Period,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    pub total: Option<Row>,
    /// The same total over the previous period.
    pub previous_total: Option<Row>,
    /// Chart: bucket labels and one series per name.
    pub chart_labels: Vec<String>,
    pub chart: Vec<(String, Vec<Decimal>)>,
    /// The pipeline of a pipeline report.
    pub pipeline: Option<PipelineId>,
}

/// The filters of a report.
#[derive(Clone, Debug)]
pub struct Params {
    pub scope: Scope,
    pub period: Period,
    pub pipeline: Option<PipelineId>,
    pub bucket: PeriodKind,
    /// Team report: one row per team instead of per member.
    pub by_team: bool,
}

fn col(key: &str, unit: Unit) -> Column {
    Column {
        key: key.into(),
        label: format!("report-col-{key}"),
        translate: true,
        unit,
    }
}

fn money(ctx: &Ctx, minor: i64) -> Decimal {
    Decimal::new(minor, ctx.base.exponent())
}

fn d(n: i64) -> Option<Decimal> {
    Some(Decimal::from(n))
}

/// Sums the cells of rows column by column where the column adds up
/// (counts and money); ratios of totals are computed by `finish`.
fn sum_rows(rows: &[Row], columns: &[Column]) -> Vec<Option<Decimal>> {
    (0..columns.len())
        .map(|i| match columns[i].unit {
            Unit::Count | Unit::Money => Some(rows.iter().filter_map(|r| r[i]).sum()),
            _ => None,
        })
        .collect()
}

impl std::ops::Index<usize> for Row {
    type Output = Option<Decimal>;
    fn index(&self, i: usize) -> &Option<Decimal> {
        &self.cells[i]
    }
}

/// Chart series from columns of the rows: (name, column index).
fn series(rows: &[Row], cols: &[(&str, usize)]) -> Vec<(String, Vec<Decimal>)> {
    cols.iter()
        .map(|(name, i)| {
            (
                name.to_string(),
                rows.iter().map(|r| r[*i].unwrap_or_default()).collect(),
            )
        })
        .collect()
}

fn total_row(cells: Vec<Option<Decimal>>) -> Row {
    Row {
        key: "total".into(),
        label: "report-total".into(),
        user_id: None,
        cells,
        flagged: false,
        period: None,
    }
}

/// The people a per-member report lists: those of the scope who are
/// active or have figures.
fn members(ctx: &Ctx, scope: Scope, with_data: &HashSet<Uuid>) -> Vec<UserId> {
    let users = ctx.users(scope);
    ctx.people
        .iter()
        .filter(|p| users.as_ref().is_none_or(|u| u.contains(&p.id)))
        .filter(|p| with_data.contains(&p.id.0) || (p.active && users.is_some()))
        .map(|p| p.id)
        .collect()
}

impl App {
    pub async fn report(&self, actor: &Actor, kind: Kind, p: Params) -> Result<Report> {
        let ctx = self.analytics_ctx(actor).await?;
        self.report_in(actor, &ctx, kind, p).await
    }

    /// A report with settings already read (several figures of one page).
    pub async fn report_in(
        &self,
        actor: &Actor,
        ctx: &Ctx,
        kind: Kind,
        p: Params,
    ) -> Result<Report> {
        self.check_scope(actor, ctx, p.scope)?;
        if let Some(x) = p.pipeline
            && !ctx.pipelines.iter().any(|v| v.pipeline.id == x)
        {
            return Err(AppError::NotFound);
        }
        if p.bucket == PeriodKind::Day && p.period.days() > 366 {
            return Err(Invalid::one(
                "bucket",
                "a day per bucket covers at most a year; choose week or longer",
            )
            .into());
        }
        if p.by_team && kind != Kind::Team {
            return Err(Invalid::one("by", "rows per team exist in the team report only").into());
        }
        if p.by_team && matches!(p.scope, Scope::User(_)) {
            return Err(Invalid::one("by", "rows per team need a team or the organisation").into());
        }
        let previous = p.period.previous();
        let goals_progress = if kind == Kind::Activity {
            let goals = self.list_goals_in(actor, ctx, None, None).await?;
            let end = p.period.to.pred_opt().unwrap_or(p.period.to).min(ctx.today);
            self.progress_with(ctx, goals, Some(end)).await?
        } else {
            vec![]
        };
        let prev = Params {
            period: previous,
            ..p.clone()
        };
        if kind == Kind::Prospecting {
            let f = self.report_facts(actor, ctx, kind, &p).await?;
            let mut r = prospecting_report(ctx, &f.0, &p);
            r.previous = previous;
            r.previous_total = prospecting_report(ctx, &f.0, &prev).total;
            return Ok(r);
        }
        // The live index carries every figure but activities and leads
        // filtered by pipeline (an activity's pipeline is its lead's, which
        // may change): those read the facts into a cube of their own.
        let live = if p.pipeline.is_none() || kind == Kind::Pipeline {
            self.live_cube(ctx, actor.org_id).await?
        } else {
            None
        };
        let run = |cube: &Cube| {
            let (mut r, prev_total) = match kind {
                Kind::Activity => (
                    activity_report(ctx, cube, &p, &goals_progress, true),
                    activity_report(ctx, cube, &prev, &[], false).total,
                ),
                Kind::Pipeline => (pipeline_report(ctx, cube, &p), None),
                Kind::Team => (
                    team_report(ctx, cube, &p, true),
                    team_report(ctx, cube, &prev, false).total,
                ),
                Kind::Company => (
                    company_report(ctx, cube, &p),
                    company_report(ctx, cube, &prev).total,
                ),
                Kind::Prospecting => unreachable!("read from facts"),
            };
            r.previous = previous;
            r.previous_total = prev_total;
            r
        };
        match live {
            Some(cube) => Ok(run(&cube.read().expect("index lock"))),
            None => {
                let (f, stages) = self.report_facts(actor, ctx, kind, &p).await?;
                let cube = Cube::from_facts(
                    ctx.tz,
                    ctx.rates.clone(),
                    ctx.kinds(),
                    &f.activities,
                    &f.leads,
                    &stages,
                );
                Ok(run(&cube))
            }
        }
    }

    /// The facts of a report read from the tables: the prospecting report,
    /// and the others when filtered by pipeline.
    async fn report_facts(
        &self,
        actor: &Actor,
        ctx: &Ctx,
        kind: Kind,
        p: &Params,
    ) -> Result<(Facts, Vec<StageFact>)> {
        let (p0, _) = ctx.instants(p.period.previous());
        let (_, t1) = ctx.instants(p.period);
        let users: Option<Vec<UserId>> = ctx.users(p.scope);
        let org = actor.org_id;
        let mut c = self.conn();
        let mut f = Facts::default();
        let lead_scope = facts::LeadScope {
            since: Some(p0),
            owners: users.clone(),
            pipeline: p.pipeline,
            ..Default::default()
        };
        f.leads = facts::lead_facts(&mut c, org, &lead_scope).await?;
        if matches!(kind, Kind::Activity | Kind::Prospecting) {
            f.activities = facts::activity_facts(
                &mut c,
                org,
                &facts::ActivityScope {
                    from: Some(p0),
                    to: Some(t1),
                    users: users.clone(),
                    // Prospects have no pipeline: the list report reads all.
                    pipeline: if kind == Kind::Activity {
                        p.pipeline
                    } else {
                        None
                    },
                },
            )
            .await?;
        }
        if kind == Kind::Prospecting {
            f.prospects = facts::prospect_facts(&mut c, org, Some(p0)).await?;
        }
        let stages = if kind == Kind::Pipeline {
            facts::stage_facts(&mut c, org, &lead_scope).await?
        } else {
            vec![]
        };
        Ok((f, stages))
    }
}

fn in_period(ctx: &Ctx, p: Period) -> impl Fn(DateTime<Utc>) -> bool {
    let (t0, t1) = ctx.instants(p);
    move |t| t0 <= t && t < t1
}

/// The user numbers of a scope in a cube (`None`: everybody).
fn scope_numbers(ctx: &Ctx, cube: &Cube, scope: Scope) -> Option<Vec<u32>> {
    ctx.users(scope).map(|u| cube.numbers(&u))
}

/// Days from seconds, to a tenth.
fn days_of(seconds: i64, n: i64) -> Option<Decimal> {
    (n > 0).then(|| (Decimal::from(seconds) / Decimal::from(86_400) / Decimal::from(n)).round_dp(1))
}

/// The median of cycle times in seconds, in days to a tenth.
fn median_days(v: &mut [i64]) -> Option<Decimal> {
    if v.is_empty() {
        return None;
    }
    let n = v.len();
    let (_, hi, _) = v.select_nth_unstable(n / 2);
    let hi = *hi;
    let secs = if n % 2 == 1 {
        Decimal::from(hi)
    } else {
        let lo = *v[..n / 2].iter().max().expect("n is even and positive");
        (Decimal::from(lo) + Decimal::from(hi)) / Decimal::TWO
    };
    Some((secs / Decimal::from(86_400)).round_dp(1))
}

/// Report 1, activity: per member, activities by type and outcome, leads
/// created and won, revenue, and goals met.
pub fn activity_report(
    ctx: &Ctx,
    cube: &Cube,
    p: &Params,
    progress: &[crate::goals::Progress],
    with_chart: bool,
) -> Report {
    let mut types: Vec<_> = ctx.types.values().filter(|t| !t.archived).collect();
    types.sort_by_key(|t| (t.position, t.id));
    let mut columns = vec![];
    // The cube's pairs each column adds up.
    let mut pair_sets: Vec<Vec<usize>> = vec![];
    let pairs_of = |t: Uuid, o: Option<Uuid>| -> Vec<usize> {
        cube.pairs
            .iter()
            .enumerate()
            .filter(|(_, (pt, po))| *pt == t && (o.is_none() || *po == o))
            .map(|(i, _)| i)
            .collect()
    };
    for t in &types {
        columns.push(Column {
            key: format!("type:{}", t.id),
            label: t.name.clone(),
            translate: false,
            unit: Unit::Count,
        });
        pair_sets.push(pairs_of(t.id.0, None));
        let mut outs: Vec<_> = ctx
            .outcomes
            .values()
            .filter(|o| o.type_id == t.id && !o.archived)
            .collect();
        outs.sort_by_key(|o| (o.position, o.id));
        for o in outs {
            columns.push(Column {
                key: format!("outcome:{}", o.id),
                label: format!("{} · {}", t.name, o.name),
                translate: false,
                unit: Unit::Count,
            });
            pair_sets.push(pairs_of(t.id.0, Some(o.id.0)));
        }
    }
    columns.push(col("activities", Unit::Count));
    columns.push(col("leads_created", Unit::Count));
    columns.push(col("leads_won", Unit::Count));
    columns.push(col("revenue", Unit::Money));
    columns.push(col("goals_met", Unit::Count));
    columns.push(col("goals", Unit::Count));
    let only = scope_numbers(ctx, cube, p.scope);
    let counts = cube.activity_counts(p.period, only.as_deref());
    let sums = cube.lead_sums(p.period, only.as_deref());
    let number = |u: UserId| cube.users.get(&u.0);
    let with_data: HashSet<Uuid> = (1..cube.users.len())
        .filter(|u| {
            counts[*u].iter().any(|c| *c != 0)
                || sums[*u].created + sums[*u].won + sums[*u].lost + sums[*u].cancelled > 0
        })
        .map(|u| cube.users.ids[u])
        .collect();
    let zero = vec![0i64; cube.pairs.len()];
    let mut rows = vec![];
    for u in members(ctx, p.scope, &with_data) {
        let (mine, s) = match number(u) {
            Some(n) => (&counts[n as usize], sums[n as usize]),
            None => (&zero, Default::default()),
        };
        let mut cells: Vec<Option<Decimal>> = pair_sets
            .iter()
            .map(|set| d(set.iter().map(|i| mine[*i]).sum()))
            .collect();
        cells.push(d(mine.iter().sum()));
        cells.push(d(s.created));
        cells.push(d(s.won));
        cells.push(Some(money(ctx, s.revenue)));
        let lines: Vec<_> = progress.iter().filter(|x| x.user_id == Some(u)).collect();
        cells.push(d(
            lines.iter().filter(|x| x.actual >= x.goal.target).count() as i64,
        ));
        cells.push(d(lines.len() as i64));
        rows.push(Row {
            key: u.to_string(),
            label: ctx.name_of(u),
            user_id: Some(u.0),
            cells,
            flagged: false,
            period: None,
        });
    }
    let total = total_row(sum_rows(&rows, &columns));
    // Chart: activities per bucket and type.
    let (chart_labels, chart) = if with_chart {
        let buckets = p.period.buckets(p.bucket);
        let per_bucket: Vec<Vec<i64>> = buckets
            .iter()
            .map(|b| cube.activity_totals(*b, only.as_deref()))
            .collect();
        (
            buckets.iter().map(|b| b.from.to_string()).collect(),
            types
                .iter()
                .map(|t| {
                    let set = pairs_of(t.id.0, None);
                    (
                        t.name.clone(),
                        per_bucket
                            .iter()
                            .map(|v| Decimal::from(set.iter().map(|i| v[*i]).sum::<i64>()))
                            .collect(),
                    )
                })
                .collect(),
        )
    } else {
        (vec![], vec![])
    };
    Report {
        kind: Kind::Activity,
        period: p.period,
        previous: p.period,
        columns,
        rows,
        total: Some(total),
        previous_total: None,
        chart_labels,
        chart,
        pipeline: p.pipeline,
    }
}

/// Report 2, prospecting lists: per list and seller.
pub fn prospecting_report(ctx: &Ctx, f: &Facts, p: &Params) -> Report {
    let inr = in_period(ctx, p.period);
    let columns = vec![
        col("prospects_worked", Unit::Count),
        col("activities_before_lead", Unit::Count),
        col("converted", Unit::Count),
        col("disqualified", Unit::Count),
        col("conversion_rate", Unit::Share),
        col("bad_fit_share", Unit::Share),
        col("activities_on_leads", Unit::Count),
    ];
    let prospect: HashMap<Uuid, &facts::ProspectFact> =
        f.prospects.iter().map(|x| (x.id, x)).collect();
    let lead_list: HashMap<Uuid, Uuid> = f
        .prospects
        .iter()
        .filter_map(|x| Some((x.lead_id?, x.list_id)))
        .collect();
    let users = ctx.users(p.scope);
    let user_ok = |u: Option<Uuid>| {
        users
            .as_ref()
            .is_none_or(|v| u.is_some_and(|u| v.contains(&UserId(u))))
    };
    // (list, user) → [worked set, activities, converted, disqualified, on leads]
    #[derive(Default)]
    struct Acc {
        worked: HashSet<Uuid>,
        acts: i64,
        converted: i64,
        disqualified: i64,
        on_leads: i64,
    }
    let mut acc: BTreeMap<(Uuid, Uuid), Acc> = BTreeMap::new();
    for a in f.activities.iter().filter(|a| inr(a.happened_at)) {
        if let Some(pid) = a.prospect_id
            && let Some(pr) = prospect.get(&pid)
        {
            let e = acc.entry((pr.list_id, a.user_id)).or_default();
            e.worked.insert(pid);
            e.acts += 1;
        }
        if let Some(l) = a.lead_id
            && let Some(list) = lead_list.get(&l)
        {
            acc.entry((*list, a.user_id)).or_default().on_leads += 1;
        }
    }
    for pr in f.prospects.iter().filter(|x| x.closed_at.is_some_and(&inr)) {
        let Some(u) = pr.assigned_to.or(Some(pr.list_created_by)) else {
            continue;
        };
        if !user_ok(Some(u)) {
            continue;
        }
        let e = acc.entry((pr.list_id, u)).or_default();
        match pr.status.as_str() {
            "converted" => e.converted += 1,
            "disqualified" => e.disqualified += 1,
            _ => {}
        }
    }
    let mut rows: Vec<Row> = acc
        .into_iter()
        .filter(|((_, u), _)| user_ok(Some(*u)))
        .map(|((list, u), a)| {
            let closed = a.converted + a.disqualified;
            Row {
                key: format!("{list}:{u}"),
                label: ctx.name_of(UserId(u)),
                user_id: Some(u),
                cells: vec![
                    d(a.worked.len() as i64),
                    d(a.acts),
                    d(a.converted),
                    d(a.disqualified),
                    ratio(a.converted, a.worked.len() as i64),
                    ratio(a.disqualified, closed),
                    d(a.on_leads),
                ],
                flagged: false,
                period: None,
            }
        })
        .collect();
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    let mut total = sum_rows(&rows, &columns);
    let worked: i64 = rows
        .iter()
        .filter_map(|r| r[0])
        .map(|x| i64::try_from(x).unwrap_or(0))
        .sum();
    let conv: i64 = rows
        .iter()
        .filter_map(|r| r[2])
        .map(|x| i64::try_from(x).unwrap_or(0))
        .sum();
    let disq: i64 = rows
        .iter()
        .filter_map(|r| r[3])
        .map(|x| i64::try_from(x).unwrap_or(0))
        .sum();
    total[4] = ratio(conv, worked);
    total[5] = ratio(disq, conv + disq);
    let chart = series(&rows, &[("worked", 0), ("converted", 2)]);
    Report {
        kind: Kind::Prospecting,
        period: p.period,
        previous: p.period,
        chart_labels: rows.iter().map(|r| r.label.clone()).collect(),
        chart,
        columns,
        rows,
        total: Some(total_row(total)),
        previous_total: None,
        pipeline: None,
    }
}

/// Report 3, pipeline performance: stage conversion of the leads that entered each
/// stage in the period, time in stage, the worst step flagged.
pub fn pipeline_report(ctx: &Ctx, cube: &Cube, p: &Params) -> Report {
    let pipeline = p
        .pipeline
        .and_then(|x| ctx.pipelines.iter().find(|v| v.pipeline.id == x))
        .or_else(|| ctx.pipelines.iter().find(|v| v.pipeline.is_default))
        .or(ctx.pipelines.first());
    let columns = vec![
        col("entered", Unit::Count),
        col("moved_on", Unit::Count),
        col("still", Unit::Count),
        col("lost_here", Unit::Count),
        col("cancelled_here", Unit::Count),
        col("moved_on_share", Unit::Share),
        col("still_share", Unit::Share),
        col("lost_share", Unit::Share),
        col("cancelled_share", Unit::Share),
        col("days_in_stage", Unit::Days),
    ];
    let Some(pv) = pipeline else {
        return Report {
            kind: Kind::Pipeline,
            period: p.period,
            previous: p.period,
            columns,
            rows: vec![],
            total: None,
            previous_total: None,
            chart_labels: vec![],
            chart: vec![],
            pipeline: None,
        };
    };
    // The position in this pipeline of each stage the cube numbers.
    let position: Vec<Option<usize>> = cube
        .stages
        .ids
        .iter()
        .map(|id| pv.stages.iter().position(|s| s.id.0 == *id))
        .collect();
    let owners: Option<HashSet<u32>> =
        scope_numbers(ctx, cube, p.scope).map(|v| v.into_iter().collect());
    let this_pipeline = cube.pipelines.get(&pv.pipeline.id.0);
    let (t0, t1) = ctx.instants(p.period);
    let n = pv.stages.len();
    // With the layout the cube was given (the live index), the counts of
    // the whole organisation are summed per day; only the leads that
    // entered a stage more than once are walked (which of their entries
    // counts depends on the period). Otherwise every lead that changed
    // stage or closed in the period is walked.
    let summed = owners.is_none() && cube.layout() == Some(ctx.layout().as_slice());
    let leads = if summed {
        cube.reentered_in(p.period)
    } else {
        cube.moved_or_closed_in(p.period)
    };
    // The leads to visit, split between the cores: each part sums its own
    // rows and stays, then the parts are added up.
    let part = |ixs: &[u32]| {
        let mut rows_acc = vec![salesops_domain::metrics::StageRow::default(); n];
        // Per stage: seconds of the stays that ended in the period, and how many.
        let mut stay = vec![(0i64, 0i64); n];
        let mut path = LeadPath {
            entered: vec![],
            outcome: Outcome::Open,
        };
        for ix in ixs {
            let Some(l) = cube.leads[*ix as usize].as_ref() else {
                continue;
            };
            if Some(l.pipeline) != this_pipeline
                || owners.as_ref().is_some_and(|o| !o.contains(&l.owner))
            {
                continue;
            }
            path.entered.clear();
            let mut last: Option<(usize, DateTime<Utc>)> = None;
            for h in &cube.steps[*ix as usize] {
                // A status change within the same stage is not an entry.
                let moved = h.moved();
                if let Some(i) = position[h.to() as usize]
                    && moved
                {
                    if let Some((j, since)) = last
                        && j != i
                        && t0 <= h.at()
                        && h.at() < t1
                        && !summed
                    {
                        stay[j].0 += (h.at() - since).num_seconds();
                        stay[j].1 += 1;
                    }
                    if last.is_none_or(|(j, _)| j != i) {
                        path.entered.push((i, h.day));
                        last = Some((i, h.at()));
                    }
                }
            }
            // Leaving the last stage by closing ends the stay too.
            if let (Some((j, since)), Some(c)) = (last, l.closed_at)
                && t0 <= c
                && c < t1
                && !summed
            {
                stay[j].0 += (c - since).num_seconds();
                stay[j].1 += 1;
            }
            path.outcome = match l.status {
                LeadStatus::Won => Outcome::Won,
                LeadStatus::Lost => Outcome::Lost,
                LeadStatus::Cancelled => Outcome::Cancelled,
                LeadStatus::Open => Outcome::Open,
            };
            add_path(&mut rows_acc, &path, p.period.from, p.period.to);
        }
        (rows_acc, stay)
    };
    let threads = if leads.len() < 50_000 {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
    };
    let chunk = leads.len().div_ceil(threads).max(1);
    let parts: Vec<_> = if threads == 1 {
        vec![part(&leads)]
    } else {
        std::thread::scope(|sc| {
            let handles: Vec<_> = leads
                .chunks(chunk)
                .map(|c| sc.spawn(move || part(c)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a part of the pipeline report"))
                .collect()
        })
    };
    let mut rows_acc = vec![salesops_domain::metrics::StageRow::default(); n];
    let mut stay = vec![(0i64, 0i64); n];
    if summed {
        let flows = cube.flows_in(p.period);
        for (i, s) in pv.stages.iter().enumerate() {
            let Some(f) = cube.stages.get(&s.id.0).and_then(|x| flows.get(x as usize)) else {
                continue;
            };
            rows_acc[i].add(&f.row());
            stay[i] = (f.stay_seconds, f.stays);
        }
    }
    for (r, st) in parts {
        for i in 0..n {
            rows_acc[i].add(&r[i]);
            stay[i].0 += st[i].0;
            stay[i].1 += st[i].1;
        }
    }
    let mut rows: Vec<Row> = rows_acc
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let sh = r.shares();
            Row {
                key: pv.stages[i].id.to_string(),
                label: pv.stages[i].name.clone(),
                user_id: None,
                cells: vec![
                    d(r.entered),
                    d(r.moved_on),
                    d(r.still),
                    d(r.lost),
                    d(r.cancelled),
                    sh[0],
                    sh[1],
                    sh[2],
                    sh[3],
                    days_of(stay[i].0, stay[i].1),
                ],
                flagged: false,
                period: None,
            }
        })
        .collect();
    // The worst step: the lowest moved-on share among stages leads entered.
    if let Some((i, _)) = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| Some((i, r[5]?)))
        .min_by(|a, b| a.1.cmp(&b.1))
    {
        rows[i].flagged = true;
    }
    let chart = series(&rows, &[("entered", 0), ("moved_on", 1)]);
    Report {
        kind: Kind::Pipeline,
        period: p.period,
        previous: p.period,
        chart_labels: rows.iter().map(|r| r.label.clone()).collect(),
        chart,
        columns,
        rows,
        total: None,
        previous_total: None,
        pipeline: Some(pv.pipeline.id),
    }
}

/// The cells of the team report for the sums and won cycle times of a
/// group of leads.
fn team_cells(ctx: &Ctx, s: &LeadSums, cycles: &mut [i64]) -> Vec<Option<Decimal>> {
    vec![
        d(s.created),
        d(s.won),
        Some(money(ctx, s.revenue)),
        d(s.lost),
        d(s.cancelled),
        ratio(s.won_of_created, s.created),
        ratio(money(ctx, s.revenue), Decimal::from(s.won)).map(|x| x.round_dp(ctx.base.exponent())),
        days_of(s.cycle_seconds, s.won),
        median_days(cycles),
    ]
}

/// Report 4, team performance: per member (or per team), leads created,
/// won (count and amount), lost, cancelled, conversion of the leads they
/// created, average deal size, mean and median cycle length.
/// `with_rows`: the rows too, not only the total (the previous period
/// needs only its total).
pub fn team_report(ctx: &Ctx, cube: &Cube, p: &Params, with_rows: bool) -> Report {
    let columns = vec![
        col("leads_created", Unit::Count),
        col("leads_won", Unit::Count),
        col("revenue", Unit::Money),
        col("leads_lost", Unit::Count),
        col("leads_cancelled", Unit::Count),
        col("conversion_rate", Unit::Share),
        col("average_deal_size", Unit::Money),
        col("cycle_days", Unit::Days),
        col("cycle_days_median", Unit::Days),
    ];
    let only = scope_numbers(ctx, cube, p.scope);
    let sums = cube.lead_sums(p.period, only.as_deref());
    // Cycle times of the leads won in the period, per owner number.
    let mut cycles: Vec<Vec<i64>> = vec![vec![]; cube.users.len()];
    let mut all_cycles: Vec<i64> = vec![];
    // Per user number: in the scope?
    let in_scope: Option<Vec<bool>> = only.as_ref().map(|v| {
        let mut m = vec![false; cube.users.len()];
        v.iter().for_each(|n| m[*n as usize] = true);
        m
    });
    for c in cube.won_in(p.period) {
        let secs = c.cycle;
        if in_scope
            .as_ref()
            .is_some_and(|s| !s.get(c.owner as usize).copied().unwrap_or(false))
        {
            continue;
        }
        if with_rows {
            cycles[c.owner as usize].push(secs);
        }
        all_cycles.push(secs);
    }
    let rows: Vec<Row> = if !with_rows {
        vec![]
    } else if p.by_team {
        let teams: Vec<TeamId> = match p.scope {
            Scope::Team(t) => ctx.team_tree(t),
            _ => ctx.teams.iter().map(|t| t.id).collect(),
        };
        // The direct members of each team by number, read once (looking
        // every person up for every team cost more than the report).
        let mut direct: HashMap<TeamId, Vec<u32>> = HashMap::new();
        for (t, u) in &ctx.members {
            if let Some(n) = cube.users.get(&u.0) {
                direct.entry(*t).or_default().push(n);
            }
        }
        let mut rows: Vec<Row> = teams
            .into_iter()
            .map(|t| {
                let mut numbers: Vec<u32> = ctx
                    .team_tree(t)
                    .iter()
                    .filter_map(|x| direct.get(x))
                    .flatten()
                    .copied()
                    .collect();
                numbers.sort_unstable();
                numbers.dedup();
                let mut s = LeadSums::default();
                let mut c: Vec<i64> = vec![];
                for n in &numbers {
                    s.add(&sums[*n as usize]);
                    c.extend(&cycles[*n as usize]);
                }
                Row {
                    key: t.to_string(),
                    label: ctx.team(t).map(|x| x.name.clone()).unwrap_or_default(),
                    user_id: None,
                    cells: team_cells(ctx, &s, &mut c),
                    flagged: false,
                    period: None,
                }
            })
            .collect();
        rows.sort_by(|a, b| a.label.cmp(&b.label).then(a.key.cmp(&b.key)));
        rows
    } else {
        let with_data: HashSet<Uuid> = (1..cube.users.len())
            .filter(|u| {
                let s = &sums[*u];
                s.created + s.won + s.lost + s.cancelled > 0
            })
            .map(|u| cube.users.ids[u])
            .collect();
        members(ctx, p.scope, &with_data)
            .into_iter()
            .map(|u| {
                let n = cube.users.get(&u.0);
                let s = n.map(|n| sums[n as usize]).unwrap_or_default();
                let mut c = n
                    .map(|n| std::mem::take(&mut cycles[n as usize]))
                    .unwrap_or_default();
                Row {
                    key: u.to_string(),
                    label: ctx.name_of(u),
                    user_id: Some(u.0),
                    cells: team_cells(ctx, &s, &mut c),
                    flagged: false,
                    period: None,
                }
            })
            .collect()
    };
    // The total covers every lead of the scope, unowned ones included.
    let total = team_cells(
        ctx,
        &cube.lead_total(p.period, only.as_deref()),
        &mut all_cycles,
    );
    let chart = series(&rows, &[("leads_won", 1), ("leads_lost", 3)]);
    Report {
        kind: Kind::Team,
        period: p.period,
        previous: p.period,
        chart_labels: rows.iter().map(|r| r.label.clone()).collect(),
        chart,
        columns,
        rows,
        total: Some(total_row(total)),
        previous_total: None,
        pipeline: p.pipeline,
    }
}

/// Report 5, company performance: per bucket, leads created, won, lost, revenue,
/// and revenue growth against the bucket before.
pub fn company_report(ctx: &Ctx, cube: &Cube, p: &Params) -> Report {
    let columns = vec![
        col("leads_created", Unit::Count),
        col("leads_won", Unit::Count),
        col("leads_lost", Unit::Count),
        col("revenue", Unit::Money),
        col("growth", Unit::Share),
    ];
    let only = scope_numbers(ctx, cube, p.scope);
    let figures = |b: Period| cube.lead_total(b, only.as_deref());
    let buckets = p.period.buckets(p.bucket);
    let mut rows = vec![];
    for (i, b) in buckets.iter().enumerate() {
        let s = figures(*b);
        // Growth against the bucket before (for the first: the equal span before it).
        let before = if i == 0 { b.previous() } else { buckets[i - 1] };
        let prev_rev = figures(before).revenue;
        rows.push(Row {
            key: b.from.to_string(),
            label: b.from.to_string(),
            user_id: None,
            cells: vec![
                d(s.created),
                d(s.won),
                d(s.lost),
                Some(money(ctx, s.revenue)),
                ratio(s.revenue - prev_rev, prev_rev),
            ],
            flagged: false,
            period: Some(*b),
        });
    }
    let mut total = sum_rows(&rows, &columns);
    let total_rev = figures(p.period).revenue;
    let prev_rev = figures(p.period.previous()).revenue;
    total[4] = ratio(total_rev - prev_rev, prev_rev);
    let chart = series(&rows, &[("revenue", 3)]);
    Report {
        kind: Kind::Company,
        period: p.period,
        previous: p.period,
        chart_labels: rows.iter().map(|r| r.label.clone()).collect(),
        chart,
        columns,
        rows,
        total: Some(total_row(total)),
        previous_total: None,
        pipeline: p.pipeline,
    }
}

/// The records behind a number of a report.
#[derive(Clone, Debug)]
pub enum Drill {
    Leads(Vec<LeadFact>),
    Activities(Vec<facts::ActivityFact>),
}

/// What a drill-down lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DrillWhat {
    /// Leads created in the period.
    Created,
    /// Leads closed in the period with this status.
    Closed(LeadStatus),
    /// Activities done in the period, optionally of a type and outcome.
    Activities {
        type_id: Option<Uuid>,
        outcome_id: Option<Uuid>,
    },
}

impl App {
    /// The leads or activities behind a number: of the scope, in the
    /// period, newest first (at most 500).
    pub async fn drill(&self, actor: &Actor, p: &Params, what: DrillWhat) -> Result<Drill> {
        let ctx = self.analytics_ctx(actor).await?;
        self.check_scope(actor, &ctx, p.scope)?;
        let (t0, t1) = ctx.instants(p.period);
        let users = ctx.users(p.scope);
        let mut c = self.conn();
        match what {
            DrillWhat::Activities {
                type_id,
                outcome_id,
            } => {
                let mut v: Vec<_> = facts::activity_facts(
                    &mut c,
                    actor.org_id,
                    &facts::ActivityScope {
                        from: Some(t0),
                        to: Some(t1),
                        users,
                        pipeline: p.pipeline,
                    },
                )
                .await?
                .into_iter()
                .filter(|a| type_id.is_none_or(|t| a.type_id == t))
                .filter(|a| outcome_id.is_none_or(|o| a.outcome_id == Some(o)))
                .collect();
                v.reverse();
                v.truncate(500);
                Ok(Drill::Activities(v))
            }
            what => {
                let mut v: Vec<LeadFact> = facts::lead_facts(
                    &mut c,
                    actor.org_id,
                    &facts::LeadScope {
                        since: Some(t0),
                        owners: users,
                        pipeline: p.pipeline,
                        ..Default::default()
                    },
                )
                .await?
                .into_iter()
                .filter(|l| match &what {
                    DrillWhat::Created => t0 <= l.created_at && l.created_at < t1,
                    DrillWhat::Closed(s) => {
                        l.status == s.as_str() && l.closed_at.is_some_and(|c| t0 <= c && c < t1)
                    }
                    DrillWhat::Activities { .. } => false,
                })
                .collect();
                v.sort_by(|a, b| {
                    b.closed_at
                        .unwrap_or(b.created_at)
                        .cmp(&a.closed_at.unwrap_or(a.created_at))
                });
                v.truncate(500);
                Ok(Drill::Leads(v))
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::analytics::Person;
    use crate::rates::RateTable;
    use proptest::prelude::*;
    use salesops_domain::{Currency, Role};

    pub(crate) fn ctx(people: &[UserId]) -> Ctx {
        let base = Currency::parse("EUR").unwrap();
        Ctx {
            tz: chrono_tz::Europe::Berlin,
            today: "2026-11-23".parse().unwrap(),
            base,
            rates: RateTable {
                base,
                rates: vec![],
            },
            types: HashMap::new(),
            outcomes: HashMap::new(),
            pipelines: vec![],
            stages: HashMap::new(),
            teams: vec![],
            members: vec![],
            people: people
                .iter()
                .enumerate()
                .map(|(i, id)| Person {
                    id: *id,
                    name: format!("P{i}"),
                    active: true,
                    role: Role::Rep,
                    hire_date: None,
                    leave_date: None,
                })
                .collect(),
            person_ix: people.iter().enumerate().map(|(i, id)| (*id, i)).collect(),
        }
    }

    /// A lead created on day `c` of 2026 (0-based) and, unless open,
    /// closed `d` days later.
    pub(crate) fn lead(owner: Uuid, c: i64, d: i64, status: u8, amount: i64) -> LeadFact {
        let at = |day: i64| {
            "2026-01-01T10:00:00Z".parse::<DateTime<Utc>>().unwrap() + chrono::Duration::days(day)
        };
        let status = ["open", "won", "lost", "cancelled"][status as usize % 4];
        LeadFact {
            id: Uuid::now_v7(),
            title: String::new(),
            pipeline_id: Uuid::nil(),
            stage_id: Uuid::nil(),
            status: status.into(),
            amount_minor: Some(amount),
            currency: Some("EUR".into()),
            probability: None,
            expected_close_date: None,
            owner_id: Some(owner),
            company_id: None,
            source: None,
            forecast_category: "pipeline".into(),
            mql_at: None,
            sql_at: None,
            closed_at: (status != "open").then(|| at(c + d)),
            stage_entered_at: at(c),
            created_at: at(c),
        }
    }

    fn params(period: Period, bucket: PeriodKind) -> Params {
        Params {
            scope: Scope::Org,
            period,
            pipeline: None,
            bucket,
            by_team: false,
        }
    }

    fn leads_strategy() -> impl Strategy<Value = Vec<(usize, i64, i64, u8, i64)>> {
        proptest::collection::vec(
            (0usize..4, 0i64..365, 0i64..120, 0u8..4, 0i64..10_000_000),
            0..60,
        )
    }

    /// The pipeline report splits a large set of leads between threads:
    /// the counts equal the domain's stage conversion over every path.
    #[test]
    fn the_pipeline_report_on_many_leads_equals_the_stage_conversion() {
        use salesops_domain::metrics::stage_conversion;
        use salesops_store::feed::{LeadKey, StageKey};
        let people: Vec<UserId> = (0..3).map(|_| UserId::new()).collect();
        let mut c = ctx(&people);
        let pv = pipeline_view("S", 4, true);
        let (pid, stages) = (pv.pipeline.id, pv.stages.clone());
        let now: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        c.pipelines = vec![pv];
        let mut cube = Cube::new(c.tz, c.rates.clone(), c.kinds());
        let mut paths = vec![];
        let mut seed: u64 = 7;
        let mut next = |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let day = |d: u64| now + chrono::Duration::days(d as i64) + chrono::Duration::hours(10);
        for _ in 0..60_000 {
            let id = Uuid::now_v7();
            let created = next(300);
            let steps = 1 + next(4);
            let status = ["open", "won", "lost", "cancelled"][next(4) as usize];
            let mut at = created;
            let mut history = vec![];
            for s in 0..steps {
                history.push(StageKey {
                    id: Uuid::now_v7(),
                    lead_id: id,
                    from_stage_id: (s > 0).then(|| stages[s as usize - 1].id.0),
                    to_stage_id: stages[s as usize].id.0,
                    at: day(at),
                });
                at += 1 + next(20);
            }
            cube.upsert_lead(&LeadKey {
                id,
                pipeline_id: pid.0,
                stage_id: stages[steps as usize - 1].id.0,
                status: status.into(),
                amount_minor: None,
                currency: None,
                probability: None,
                expected_close_date: None,
                owner_id: Some(people[next(3) as usize].0),
                closed_at: (status != "open").then(|| day(at)),
                created_at: day(created),
                ..Default::default()
            });
            cube.set_stage_history(id, &history);
            paths.push(LeadPath {
                entered: history
                    .iter()
                    .enumerate()
                    .map(|(i, h)| (i, h.at.with_timezone(&c.tz).date_naive()))
                    .collect(),
                outcome: match status {
                    "won" => Outcome::Won,
                    "lost" => Outcome::Lost,
                    "cancelled" => Outcome::Cancelled,
                    _ => Outcome::Open,
                },
            });
        }
        let period = PeriodKind::HalfYear.containing("2026-03-01".parse().unwrap());
        let r = pipeline_report(&c, &cube, &params(period, PeriodKind::Month));
        // Summed per day in the index (with the layout), the same rows.
        let mut summed = cube.clone();
        summed.set_layout(c.layout());
        let s = pipeline_report(&c, &summed, &params(period, PeriodKind::Month));
        assert_eq!(format!("{:?}", s.rows), format!("{:?}", r.rows));
        let want = stage_conversion(4, &paths, period.from, period.to);
        assert!(want[0].entered > 10_000);
        for (row, w) in r.rows.iter().zip(&want) {
            let got: Vec<Option<Decimal>> = row.cells[..5].to_vec();
            assert_eq!(
                got,
                vec![
                    d(w.entered),
                    d(w.moved_on),
                    d(w.still),
                    d(w.lost),
                    d(w.cancelled)
                ]
            );
        }
    }

    /// A pipeline with `n` stages (win probabilities 10, 30, 50, …).
    fn pipeline_view(name: &str, n: i32, is_default: bool) -> crate::pipelines::PipelineView {
        let org = salesops_domain::OrgId(Uuid::nil());
        let now: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let pid = PipelineId(Uuid::now_v7());
        crate::pipelines::PipelineView {
            pipeline: salesops_store::pipelines::Pipeline {
                org_id: org,
                id: pid,
                name: name.into(),
                kind: "acquisition".parse().unwrap(),
                is_default,
                created_at: now,
                updated_at: now,
                version: 1,
            },
            stages: (0..n)
                .map(|i| salesops_store::pipelines::Stage {
                    org_id: org,
                    id: salesops_domain::StageId(Uuid::now_v7()),
                    pipeline_id: pid,
                    name: format!("{name}{i}"),
                    position: i,
                    win_probability: 10 + 20 * i,
                    rotting_days: None,
                    colour: String::new(),
                    checklist: "[]".into(),
                    created_at: now,
                    updated_at: now,
                    version: 1,
                })
                .collect(),
        }
    }

    /// A change to the leads of the summed-versus-walked test.
    #[derive(Clone, Debug)]
    pub(crate) enum LeadOp {
        /// Slot, pipeline (0/1), stage, status, created day, days to
        /// close, amount, currency (0 EUR, 1 CHF, 2 none), probability,
        /// expected close day.
        Put(
            usize,
            u8,
            u8,
            u8,
            i64,
            i64,
            i64,
            u8,
            Option<i32>,
            Option<i64>,
        ),
        /// Slot, history: (stage of either pipeline, day, a move or a
        /// change of status in the stage).
        History(usize, Vec<(u8, i64, bool)>),
        Remove(usize),
    }

    pub(crate) fn lead_op() -> impl Strategy<Value = LeadOp> {
        prop_oneof![
            (
                (0usize..10, 0u8..2, 0u8..4, 0u8..4, 0i64..300, 0i64..90),
                (
                    0i64..1_000_000,
                    0u8..3,
                    proptest::option::of(0i32..101),
                    proptest::option::of(0i64..400)
                ),
            )
                .prop_map(|((i, p, s, st, c, d), (a, cur, pr, ex))| LeadOp::Put(
                    i, p, s, st, c, d, a, cur, pr, ex
                )),
            (
                0usize..10,
                proptest::collection::vec((0u8..6, 0i64..360, proptest::bool::weighted(0.8)), 0..7)
            )
                .prop_map(|(i, h)| LeadOp::History(i, h)),
            (0usize..10).prop_map(LeadOp::Remove),
        ]
    }

    /// The test organisation of the summed-versus-walked tests (two
    /// pipelines, a rate for CHF), and the cubes after `ops`: `live` kept
    /// current change by change with the layout given first, `walked` built
    /// from the end state without a layout.
    pub(crate) fn summed_and_walked(ops: &[LeadOp]) -> (Ctx, Vec<UserId>, Cube, Cube) {
        use salesops_store::feed::{LeadKey, StageKey};
        let people: Vec<UserId> = (0..3).map(|_| UserId::new()).collect();
        let mut c = ctx(&people);
        let chf = Currency::parse("CHF").unwrap();
        c.rates.rates = vec![(
            chf,
            "2026-01-01".parse().unwrap(),
            salesops_domain::Rate::parse("1.0650", chf, c.base).unwrap(),
        )];
        c.pipelines = vec![pipeline_view("P", 4, true), pipeline_view("Q", 2, false)];
        c.stages = c
            .pipelines
            .iter()
            .flat_map(|p| p.stages.iter().map(|s| (s.id.0, s.clone())))
            .collect();
        let stages: Vec<(Uuid, Uuid)> = c
            .pipelines
            .iter()
            .flat_map(|p| p.stages.iter().map(|s| (p.pipeline.id.0, s.id.0)))
            .collect();
        let ids: Vec<Uuid> = (0..10).map(|_| Uuid::now_v7()).collect();
        let day = |d: i64| {
            "2026-01-01T09:00:00Z".parse::<DateTime<Utc>>().unwrap() + chrono::Duration::days(d)
        };
        let mut live = Cube::new(c.tz, c.rates.clone(), c.kinds());
        live.set_layout(c.layout());
        let mut leads: std::collections::BTreeMap<usize, LeadKey> = Default::default();
        let mut histories: std::collections::BTreeMap<usize, Vec<StageKey>> = Default::default();
        for o in ops {
            match o {
                LeadOp::Put(i, p, s, st, cr, d, a, cur, pr, ex) => {
                    let (pipeline, stage) = if *p == 0 {
                        stages[*s as usize]
                    } else {
                        stages[4 + (*s as usize % 2)]
                    };
                    let status = ["open", "won", "lost", "cancelled"][*st as usize];
                    let k = LeadKey {
                        id: ids[*i],
                        pipeline_id: pipeline,
                        stage_id: stage,
                        status: status.into(),
                        amount_minor: (*cur < 2).then_some(*a),
                        currency: (*cur < 2).then(|| ["EUR", "CHF"][*cur as usize].into()),
                        probability: *pr,
                        expected_close_date: ex.map(|x| day(x).date_naive()),
                        owner_id: (*a % 4 != 3).then(|| people[(*a % 4) as usize % 3].0),
                        closed_at: (status != "open").then(|| day(cr + d)),
                        created_at: day(*cr),
                        ..Default::default()
                    };
                    live.upsert_lead(&k);
                    leads.insert(*i, k);
                }
                LeadOp::History(i, h) => {
                    if !leads.contains_key(i) {
                        continue;
                    }
                    let mut hist: Vec<StageKey> = h
                        .iter()
                        .map(|(s, d, moved)| {
                            let to = stages[*s as usize].1;
                            StageKey {
                                id: Uuid::now_v7(),
                                lead_id: ids[*i],
                                from_stage_id: if *moved { None } else { Some(to) },
                                to_stage_id: to,
                                at: day(*d),
                            }
                        })
                        .collect();
                    hist.sort_by_key(|x| x.at);
                    live.set_stage_history(ids[*i], &hist);
                    histories.insert(*i, hist);
                }
                LeadOp::Remove(i) => {
                    live.remove_lead(ids[*i]);
                    leads.remove(i);
                    histories.remove(i);
                }
            }
        }
        let mut walked = Cube::new(c.tz, c.rates.clone(), c.kinds());
        for k in leads.values() {
            walked.upsert_lead(k);
        }
        for (i, h) in &histories {
            walked.set_stage_history(ids[*i], h);
        }
        assert!(walked.layout().is_none());
        (c, people, live, walked)
    }

    proptest! {
        /// The live index sums the pipeline report per day and the open
        /// pipeline per owner and month, kept current change by change:
        /// the figures equal those of walking every lead (a cube without
        /// the layout), for either pipeline, several periods, re-entered
        /// stages, leads that changed pipeline, other currencies.
        #[test]
        fn summed_pipeline_figures_equal_walking_the_leads(ops in proptest::collection::vec(lead_op(), 0..50)) {
            let (c, people, live, walked) = summed_and_walked(&ops);
            let mut fresh = walked.clone();
            fresh.set_layout(c.layout());
            for period in [
                PeriodKind::HalfYear.containing("2026-03-01".parse().unwrap()),
                PeriodKind::Month.containing("2026-04-10".parse().unwrap()),
                PeriodKind::Year.containing("2026-04-10".parse().unwrap()),
                PeriodKind::Week.containing("2026-02-10".parse().unwrap()),
            ] {
                for pv in &c.pipelines {
                    let mut p = params(period, PeriodKind::Month);
                    p.pipeline = Some(pv.pipeline.id);
                    let want = pipeline_report(&c, &walked, &p);
                    let got = pipeline_report(&c, &live, &p);
                    prop_assert_eq!(format!("{:?}", got.rows), format!("{:?}", want.rows));
                    let got = pipeline_report(&c, &fresh, &p);
                    prop_assert_eq!(format!("{:?}", got.rows), format!("{:?}", want.rows));
                }
            }
            for pipeline in [None, Some(c.pipelines[0].pipeline.id.0), Some(c.pipelines[1].pipeline.id.0)] {
                let users = |cube: &Cube| -> HashSet<u32> { cube.numbers(&people[..2]).into_iter().collect() };
                for only in [false, true] {
                    let (w, l) = (users(&walked), users(&live));
                    let want = crate::forecast::build(&c, &walked, pipeline, only.then_some(&w), None);
                    let got = crate::forecast::build(&c, &live, pipeline, only.then_some(&l), None);
                    prop_assert_eq!(format!("{got:?}"), format!("{want:?}"));
                }
            }
        }

        #[test]
        fn company_totals_are_the_sum_of_their_buckets_and_of_sub_periods(raw in leads_strategy()) {
            let people: Vec<UserId> = (0..4).map(|_| UserId::new()).collect();
            let c = ctx(&people);
            let f = Facts {
                leads: raw.iter().map(|(o, cr, d, s, a)| lead(people[*o].0, *cr, *d, *s, *a)).collect(),
                ..Default::default()
            };
            let cube = Cube::from_facts(c.tz, c.rates.clone(), c.kinds(), &[], &f.leads, &[]);
            let year = PeriodKind::Year.containing("2026-06-01".parse().unwrap());
            let months = company_report(&c, &cube, &params(year, PeriodKind::Month));
            let quarters = company_report(&c, &cube, &params(year, PeriodKind::Quarter));
            prop_assert_eq!(months.rows.len(), 12);
            let total = months.total.clone().unwrap();
            for i in 0..4 {
                let sum: Decimal = months.rows.iter().filter_map(|r| r[i]).sum();
                prop_assert_eq!(Some(sum), total[i]);
                let q: Decimal = quarters.rows.iter().filter_map(|r| r[i]).sum();
                prop_assert_eq!(q, sum);
                // A quarter on its own equals its three months.
                for (k, qr) in quarters.rows.iter().enumerate() {
                    let alone = company_report(&c, &cube, &params(qr.period.unwrap(), PeriodKind::Quarter));
                    let m: Decimal = months.rows[k * 3..k * 3 + 3].iter().filter_map(|r| r[i]).sum();
                    prop_assert_eq!(alone.total.unwrap()[i], Some(m));
                }
            }
        }

        #[test]
        fn team_totals_are_the_sum_of_the_members(raw in leads_strategy()) {
            let people: Vec<UserId> = (0..4).map(|_| UserId::new()).collect();
            let c = ctx(&people);
            let f = Facts {
                leads: raw.iter().map(|(o, cr, d, s, a)| lead(people[*o].0, *cr, *d, *s, *a)).collect(),
                ..Default::default()
            };
            let cube = Cube::from_facts(c.tz, c.rates.clone(), c.kinds(), &[], &f.leads, &[]);
            let h1 = PeriodKind::HalfYear.containing("2026-03-01".parse().unwrap());
            let r = team_report(&c, &cube, &params(h1, PeriodKind::Month), true);
            let total = r.total.clone().unwrap();
            // created, won, revenue, lost, cancelled add up.
            for i in 0..5 {
                let sum: Decimal = r.rows.iter().filter_map(|x| x[i]).sum();
                prop_assert_eq!(Some(sum), total[i], "column {}", i);
            }
            // Conversion of the total is won-of-created over created, never a sum.
            if let (Some(conv), Some(created)) = (total[5], total[0]) {
                prop_assert!(conv >= Decimal::ZERO && conv <= Decimal::ONE && created > Decimal::ZERO);
            }
        }
    }
}
