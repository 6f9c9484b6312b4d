//! The weighted open pipeline by expected close month (SPEC "Forecasting",
//! its first piece): count, amount and weighted amount per month, in the
//! base currency at today's rates, per pipeline, team and user.

use crate::analytics::{Ctx, Scope};
use crate::cube::Cube;
use crate::permissions::Actor;
use crate::{App, Result};
use salesops_domain::{Currency, PipelineId, Rate, TeamId, UserId};
use salesops_store::analytics as facts;
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;

/// Count, amount and weighted amount (minor units of the base currency).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cell {
    pub count: i64,
    pub amount: i64,
    pub weighted: i64,
}

/// One line of the forecast: per month (`YYYY-MM`, or `none` without an
/// expected close date) and in total.
#[derive(Clone, Debug, Default)]
pub struct Line {
    pub id: Option<Uuid>,
    pub name: String,
    /// The months with open leads, in order: the number of the month in
    /// [`Forecast::months`] and the sums.
    pub months: Vec<(u16, Cell)>,
    pub total: Cell,
    /// The exact sum of amount × probability over every month.
    total_x100: i128,
}

/// Hundredths rounded half away from zero.
fn round_x100(x: i128) -> i64 {
    let q = x / 100;
    let r = x % 100;
    (if r >= 50 {
        q + 1
    } else if r <= -50 {
        q - 1
    } else {
        q
    }) as i64
}

impl Line {
    fn new(id: Option<Uuid>, name: String) -> Line {
        Line {
            id,
            name,
            ..Default::default()
        }
    }

    /// Adds the sums of `count` leads in `month` (months in order, each
    /// once); the weighted amount is rounded once per cell.
    fn add_sum(&mut self, month: u16, count: i64, amount: i64, weighted_x100: i128) {
        self.months.push((
            month,
            Cell {
                count,
                amount,
                weighted: round_x100(weighted_x100),
            },
        ));
        self.total.count += count;
        self.total.amount += amount;
        self.total_x100 += weighted_x100;
    }

    /// Rounds the weighted total.
    fn settle(&mut self) {
        self.total.weighted = round_x100(self.total_x100);
    }
}

#[derive(Clone, Debug)]
pub struct Forecast {
    /// The months that occur, in order (`none` last).
    pub months: Vec<String>,
    pub total: Line,
    pub by_pipeline: Vec<Line>,
    pub by_team: Vec<Line>,
    pub by_user: Vec<Line>,
    /// Open leads left out for want of an amount or a rate.
    pub without_amount: i64,
}

/// A month as `YYYY-MM`, or `none`.
fn month_name(m: Option<(i32, u32)>) -> String {
    match m {
        Some((y, mo)) => format!("{y:04}-{mo:02}"),
        None => "none".into(),
    }
}

/// A month (year, month), or none.
type Month = Option<(i32, u32)>;

/// Count, amount and amount × probability, summed exactly.
#[derive(Clone, Copy, Default)]
struct Acc {
    count: i64,
    amount: i64,
    weighted_x100: i128,
}

/// Which line a sum belongs to.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum LineKey {
    Total,
    Pipeline(Uuid),
    Team(Uuid),
    User(u32),
}

/// Builds the forecast from the open leads of a cube (pure; tested by
/// hand): those of `pipeline` (every pipeline when `None`) owned by the
/// user numbers `users` (every lead when `None`). `teams_allowed`: the
/// teams the lines per team may show (`None`: all).
pub fn build(
    ctx: &Ctx,
    cube: &Cube,
    pipeline: Option<Uuid>,
    users: Option<&HashSet<u32>>,
    teams_allowed: Option<&HashSet<TeamId>>,
) -> Forecast {
    // Today's rate of each currency, looked up once.
    let mut rates: Vec<(Currency, Option<Option<Rate>>)> = vec![];
    // Each stage's win probability, by the cube's stage number.
    let stage_prob: Vec<i64> = cube
        .stages
        .ids
        .iter()
        .map(|id| ctx.stages.get(id).map_or(0, |s| s.win_probability as i64))
        .collect();
    // First per owner, pipeline and month (dense, by numbers); then into
    // the lines (an owner's sums go to each of their teams once).
    struct Item {
        owner: u32,
        pipeline: u32,
        month: Option<i32>,
        count: i64,
        amount: i64,
        weighted_x100: i128,
    }
    let mut items: Vec<Item> = vec![];
    let mut without_amount = 0;
    let wanted = |owner: u32, p: u32| {
        pipeline.is_none_or(|x| x == cube.pipelines.ids[p as usize])
            && users.is_none_or(|s| owner != 0 && s.contains(&owner))
    };
    // With the layout the cube was given (the live index), the leads in
    // the base currency come summed per owner, pipeline and month; those
    // in other currencies are converted one by one.
    let summed = cube.layout() == Some(ctx.layout().as_slice());
    if summed {
        for ((owner, p, month), s) in cube.open_sums() {
            if !wanted(*owner, *p) {
                continue;
            }
            without_amount += s.without_amount;
            if s.count > 0 {
                items.push(Item {
                    owner: *owner,
                    pipeline: *p,
                    month: *month,
                    count: s.count,
                    amount: s.amount,
                    weighted_x100: s.weighted_x100,
                });
            }
        }
    }
    let one_by_one: Box<dyn Iterator<Item = &crate::cube::OpenLead>> = if summed {
        Box::new(cube.open_foreign().map(|(_, l)| l))
    } else {
        Box::new(cube.open_leads())
    };
    for l in one_by_one {
        if !wanted(l.owner, l.pipeline) {
            continue;
        }
        let amount = l.amount.and_then(|m| {
            let rate = match rates.iter().find(|(c, _)| *c == m.currency) {
                Some((_, r)) => *r,
                None => {
                    let r = ctx.rates.rate_on(m.currency, ctx.today);
                    rates.push((m.currency, r));
                    r
                }
            };
            match rate? {
                None => Some(m.minor),
                Some(r) => r.convert(m).map(|x| x.minor),
            }
        });
        let Some(amount) = amount else {
            without_amount += 1;
            continue;
        };
        let probability = l
            .probability
            .map(i64::from)
            .unwrap_or_else(|| stage_prob[l.stage as usize]);
        items.push(Item {
            owner: l.owner,
            pipeline: l.pipeline,
            month: crate::cube::close_month(l.expected_close_date),
            count: 1,
            amount,
            weighted_x100: i128::from(amount) * i128::from(probability),
        });
    }
    // Month slots: the months that occur, in order, then one for leads
    // without a date.
    let mut ms: Vec<i32> = items.iter().filter_map(|i| i.month).collect();
    ms.sort_unstable();
    ms.dedup();
    let nm = ms.len() + 1;
    let slot = |m: Option<i32>| m.map_or(nm - 1, |m| ms.binary_search(&m).unwrap_or(nm - 1));
    let np = cube.pipelines.len().max(1);
    let mut dense = vec![Acc::default(); cube.users.len() * np * nm];
    let mut used = vec![false; nm];
    for i in &items {
        let s = slot(i.month);
        used[s] = true;
        let a = &mut dense[(i.owner as usize * np + i.pipeline as usize) * nm + s];
        a.count += i.count;
        a.amount += i.amount;
        a.weighted_x100 += i.weighted_x100;
    }
    // The months that occur, in order (`none` last), numbered.
    let mut month_of_slot = vec![usize::MAX; nm];
    let mut months: Vec<Month> = vec![];
    for (s, u) in used.iter().enumerate() {
        if *u {
            month_of_slot[s] = months.len();
            months.push((s + 1 < nm).then(|| {
                let m = ms[s];
                (m.div_euclid(12), m.rem_euclid(12) as u32 + 1)
            }));
        }
    }
    let by_owner = dense
        .iter()
        .enumerate()
        .filter(|(_, a)| a.count > 0)
        .map(|(i, a)| {
            let owner = (i / nm / np) as u32;
            let pn = (i / nm) % np;
            (
                (owner, (pn, cube.pipelines.ids[pn]), month_of_slot[i % nm]),
                *a,
            )
        });
    let names: Vec<String> = months.iter().map(|m| month_name(*m)).collect();
    // The lines, numbered; each a row of sums per month.
    let mut keys: Vec<LineKey> = vec![LineKey::Total];
    let mut line_ix: HashMap<LineKey, usize> = HashMap::from([(LineKey::Total, 0)]);
    let mut user_line: Vec<Option<usize>> = vec![None; cube.users.len()];
    let mut team_lines: Vec<Option<Vec<usize>>> = vec![None; cube.users.len()];
    let mut pipeline_line: Vec<Option<usize>> = vec![None; np];
    // The teams of each owner (by number), and the teams above each team,
    // read once.
    let mut owner_teams: Vec<Vec<TeamId>> = vec![vec![]; cube.users.len()];
    for (t, u) in &ctx.members {
        if let Some(n) = cube.users.get(&u.0) {
            owner_teams[n as usize].push(*t);
        }
    }
    let mut ancestry: HashMap<TeamId, Vec<TeamId>> = HashMap::new();
    let mut sums: Vec<Vec<Acc>> = vec![vec![Acc::default(); months.len()]];
    let mut line = |k: LineKey, keys: &mut Vec<LineKey>, sums: &mut Vec<Vec<Acc>>| -> usize {
        *line_ix.entry(k).or_insert_with(|| {
            keys.push(k);
            sums.push(vec![Acc::default(); months.len()]);
            keys.len() - 1
        })
    };
    let add = |sums: &mut Vec<Vec<Acc>>, t: usize, mi: usize, x: &Acc| {
        let a = &mut sums[t][mi];
        a.count += x.count;
        a.amount += x.amount;
        a.weighted_x100 += x.weighted_x100;
    };
    for ((owner, (pn, pipeline), mi), x) in by_owner {
        add(&mut sums, 0, mi, &x);
        let pl = *pipeline_line[pn]
            .get_or_insert_with(|| line(LineKey::Pipeline(pipeline), &mut keys, &mut sums));
        add(&mut sums, pl, mi, &x);
        if owner == 0 {
            continue;
        }
        let o = owner as usize;
        let u =
            *user_line[o].get_or_insert_with(|| line(LineKey::User(owner), &mut keys, &mut sums));
        add(&mut sums, u, mi, &x);
        let ls = team_lines[o].get_or_insert_with(|| {
            // Each team the owner is in, and the teams above: once each.
            let mut teams: Vec<TeamId> = owner_teams[o]
                .iter()
                .flat_map(|t| {
                    ancestry
                        .entry(*t)
                        .or_insert_with(|| ctx.team_ancestry(*t))
                        .clone()
                })
                .filter(|t| teams_allowed.is_none_or(|a| a.contains(t)))
                .collect();
            teams.sort();
            teams.dedup();
            teams
                .into_iter()
                .map(|t| line(LineKey::Team(t.0), &mut keys, &mut sums))
                .collect()
        });
        for t in ls.iter() {
            add(&mut sums, *t, mi, &x);
        }
    }
    let mut lines: BTreeMap<LineKey, Line> = BTreeMap::new();
    for (k, row) in keys.into_iter().zip(sums) {
        let mut l = match k {
            LineKey::Total => Line::new(None, String::new()),
            LineKey::Pipeline(p) => Line::new(
                Some(p),
                ctx.pipelines
                    .iter()
                    .find(|x| x.pipeline.id.0 == p)
                    .map(|x| x.pipeline.name.clone())
                    .unwrap_or_default(),
            ),
            LineKey::Team(t) => Line::new(
                Some(t),
                ctx.team(TeamId(t))
                    .map(|x| x.name.clone())
                    .unwrap_or_default(),
            ),
            LineKey::User(u) => {
                let id = cube.user_id(u).unwrap_or_default();
                Line::new(Some(id), ctx.name_of(UserId(id)))
            }
        };
        for (i, a) in row.iter().enumerate().filter(|(_, a)| a.count > 0) {
            l.add_sum(i as u16, a.count, a.amount, a.weighted_x100);
        }
        lines.insert(k, l);
    }
    let mut total = lines
        .remove(&LineKey::Total)
        .unwrap_or_else(|| Line::new(None, String::new()));
    let mut by_pipeline = vec![];
    let mut by_team = vec![];
    let mut by_user = vec![];
    for (k, mut line) in lines {
        line.settle();
        match k {
            LineKey::Pipeline(_) => by_pipeline.push(line),
            LineKey::Team(_) => by_team.push(line),
            LineKey::User(_) => by_user.push(line),
            LineKey::Total => {}
        }
    }
    for v in [&mut by_pipeline, &mut by_team, &mut by_user] {
        v.sort_by(|a, b| a.name.cmp(&b.name));
    }
    total.settle();
    Forecast {
        months: names,
        total,
        by_pipeline,
        by_team,
        by_user,
        without_amount,
    }
}

impl App {
    /// The open pipeline of a scope by expected close month.
    pub async fn forecast(
        &self,
        actor: &Actor,
        scope: Scope,
        pipeline: Option<PipelineId>,
    ) -> Result<(Forecast, std::sync::Arc<Ctx>)> {
        let ctx = self.analytics_ctx(actor).await?;
        self.check_scope(actor, &ctx, scope)?;
        if let Some(p) = pipeline
            && !ctx.pipelines.iter().any(|x| x.pipeline.id == p)
        {
            return Err(crate::AppError::NotFound);
        }
        // Lines per team stay inside the scope: a team's own tree, none
        // for one person.
        let allowed: Option<HashSet<TeamId>> = match scope {
            Scope::Org => None,
            Scope::Team(t) => Some(ctx.team_tree(t).into_iter().collect()),
            Scope::User(_) => Some(HashSet::new()),
        };
        let users: Option<Vec<UserId>> = ctx.users(scope);
        let run = |cube: &Cube| {
            let set: Option<HashSet<u32>> = users
                .as_ref()
                .map(|v| cube.numbers(v).into_iter().collect());
            build(
                &ctx,
                cube,
                pipeline.map(|p| p.0),
                set.as_ref(),
                allowed.as_ref(),
            )
        };
        let f = match self.live_cube(&ctx, actor.org_id).await? {
            Some(cube) => run(&cube.read().expect("index lock")),
            None => {
                let leads = facts::lead_facts(
                    &mut self.conn(),
                    actor.org_id,
                    &facts::LeadScope {
                        owners: users.clone(),
                        pipeline,
                        open_only: true,
                        ..Default::default()
                    },
                )
                .await?;
                run(&Cube::from_facts(
                    ctx.tz,
                    ctx.rates.clone(),
                    ctx.kinds(),
                    &[],
                    &leads,
                    &[],
                ))
            }
        };
        Ok((f, ctx))
    }
}
