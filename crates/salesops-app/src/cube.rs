//! The analytic index of one organisation: what the reports read, kept in
//! memory in the shape they read it.
//!
//! - Activities as dense counters: per local day, per user, per (type,
//!   outcome) pair, the number of done activities. A report over a quarter
//!   adds up 91 day blocks instead of reading a million rows.
//! - Leads as compact records (owner, pipeline, stage, status, times,
//!   revenue in the base currency), with per day and per owner sums of what
//!   the reports add up (created, won, lost, cancelled, revenue, cycle
//!   time, won of those created), and per day the leads that closed or
//!   changed stage that day.
//! - Each lead's stage history, in time order.
//! - For the KPIs: per day and user the minutes of activities (selling
//!   and all), per day the leads with a proposal activity, and per day the
//!   leads created and the leads that became marketing-qualified.
//!
//! A cube is built from the tables (the live index, see `index.rs`) or from
//! the facts a report read for a filter the live index does not carry (a
//! pipeline): the reports run the same code on either. Every change is an
//! exact inverse pair (remove what a lead contributed, add what it
//! contributes now), so a cube kept current change by change equals one
//! built afresh; the tests check that.

use crate::rates::RateTable;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use salesops_domain::periods::Period;
use salesops_domain::{ActivityKind, Currency, LeadStatus, Money};
use salesops_store::activity_types::ActivityType;
use salesops_store::feed::{LeadKey, StageKey};
use std::collections::{BTreeSet, HashMap, HashSet};
use uuid::Uuid;

/// What the cube reads of the activity types when it counts: which ones
/// count as selling time and which are proposals. When they change the
/// index is built again (see `index.rs`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Kinds {
    pub selling: HashSet<Uuid>,
    pub proposal: HashSet<Uuid>,
}

impl Kinds {
    /// What the cube reads of `types`.
    pub fn of<'a>(types: impl IntoIterator<Item = &'a ActivityType>) -> Kinds {
        let mut k = Kinds::default();
        for t in types {
            if t.counts_as_selling {
                k.selling.insert(t.id.0);
            }
            if t.kind == ActivityKind::Proposal {
                k.proposal.insert(t.id.0);
            }
        }
        k
    }
}

/// Where a lead came from, as the KPIs read it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Source {
    #[default]
    None,
    Marketing,
    Sales,
    Other,
}

impl Source {
    fn parse(s: Option<&str>) -> Source {
        match s {
            None => Source::None,
            Some("marketing") => Source::Marketing,
            Some("sales") => Source::Sales,
            Some(_) => Source::Other,
        }
    }
}

/// Puts `item` on a day's list (`sign` 1) or takes one of it off (-1).
fn listed<T: PartialEq>(list: &mut Vec<T>, item: T, sign: impl Into<i64>) {
    if sign.into() > 0 {
        list.push(item);
    } else if let Some(i) = list.iter().position(|x| *x == item) {
        list.swap_remove(i);
    }
}

/// Per-day slots, growing at either end as days appear.
#[derive(Clone, Debug, Default)]
pub struct DayVec<T> {
    /// The day of slot 0 (days since the Common Era).
    base: i32,
    slots: Vec<T>,
}

fn day_number(d: NaiveDate) -> i32 {
    chrono::Datelike::num_days_from_ce(&d)
}

impl<T: Default> DayVec<T> {
    pub fn get(&self, d: NaiveDate) -> Option<&T> {
        let i = day_number(d) - self.base;
        (i >= 0).then(|| self.slots.get(i as usize)).flatten()
    }

    pub fn get_mut(&mut self, d: NaiveDate) -> &mut T {
        let n = day_number(d);
        if self.slots.is_empty() {
            self.base = n;
        }
        if n < self.base {
            let more = (self.base - n) as usize;
            let mut v: Vec<T> = (0..more).map(|_| T::default()).collect();
            v.append(&mut self.slots);
            self.slots = v;
            self.base = n;
        }
        let i = (n - self.base) as usize;
        if i >= self.slots.len() {
            self.slots.resize_with(i + 1, T::default);
        }
        &mut self.slots[i]
    }

    /// The slots of the days of `p` that exist.
    pub fn range(&self, p: Period) -> &[T] {
        let lo = (day_number(p.from) - self.base).clamp(0, self.slots.len() as i32) as usize;
        let hi = (day_number(p.to) - self.base).clamp(0, self.slots.len() as i32) as usize;
        &self.slots[lo..hi.max(lo)]
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.slots.iter_mut()
    }

    pub fn clear(&mut self) {
        self.slots.clear();
    }
}

/// Per-day slots and, beside them, per-month slots holding the sums of
/// their days: a range of whole months reads one slot a month.
#[derive(Clone, Debug, Default)]
pub struct Series<T> {
    pub days: DayVec<T>,
    /// Keyed by the first day of the month.
    months: DayVec<T>,
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).expect("day 1 exists")
}

fn next_month(d: NaiveDate) -> NaiveDate {
    first_of_month(d)
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(NaiveDate::MAX)
}

impl<T: Default> Series<T> {
    /// The slots of a day and of its month.
    pub fn slots_mut(&mut self, d: NaiveDate) -> (&mut T, &mut T) {
        (self.days.get_mut(d), self.months.get_mut(first_of_month(d)))
    }

    /// The slots covering `p`: a month slot for each whole month in it, a
    /// day slot for each other day.
    pub fn blocks(&self, p: Period) -> impl Iterator<Item = &T> {
        let mut d = p.from;
        std::iter::from_fn(move || {
            loop {
                if d >= p.to {
                    return None;
                }
                let slot = if d.day() == 1 && next_month(d) <= p.to {
                    let s = self.months.get(d);
                    d = next_month(d);
                    s
                } else {
                    let s = self.days.get(d);
                    d = d.succ_opt().unwrap_or(NaiveDate::MAX);
                    s
                };
                if let Some(s) = slot {
                    return Some(s);
                }
            }
        })
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.days.iter_mut().chain(self.months.iter_mut())
    }

    pub fn clear(&mut self) {
        self.days.clear();
        self.months.clear();
    }
}

/// Ids to dense numbers.
#[derive(Clone, Debug, Default)]
pub struct Dict {
    ix: HashMap<Uuid, u32>,
    pub ids: Vec<Uuid>,
}

impl Dict {
    pub fn get(&self, id: &Uuid) -> Option<u32> {
        self.ix.get(id).copied()
    }

    pub fn intern(&mut self, id: Uuid) -> u32 {
        if let Some(i) = self.ix.get(&id) {
            return *i;
        }
        let i = self.ids.len() as u32;
        self.ix.insert(id, i);
        self.ids.push(id);
        i
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// What the reports add up about leads, for one owner and day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LeadSums {
    /// Leads created that day.
    pub created: i64,
    /// Of those created that day, the ones won by now.
    pub won_of_created: i64,
    /// Leads closed that day, by status.
    pub won: i64,
    pub lost: i64,
    pub cancelled: i64,
    /// Revenue of the leads won that day, in minor units of the base
    /// currency at the rate of that day.
    pub revenue: i64,
    /// Won leads whose amount has no rate (not in `revenue`).
    pub won_without_rate: i64,
    /// Sum of the cycle times (created to won) of the leads won that day,
    /// in seconds.
    pub cycle_seconds: i64,
}

impl LeadSums {
    fn apply(&mut self, o: &LeadSums, sign: i64) {
        self.created += sign * o.created;
        self.won_of_created += sign * o.won_of_created;
        self.won += sign * o.won;
        self.lost += sign * o.lost;
        self.cancelled += sign * o.cancelled;
        self.revenue += sign * o.revenue;
        self.won_without_rate += sign * o.won_without_rate;
        self.cycle_seconds += sign * o.cycle_seconds;
    }

    pub fn add(&mut self, o: &LeadSums) {
        self.apply(o, 1);
    }

    fn add_owner(&mut self, o: &OwnerSums) {
        self.created += i64::from(o.created);
        self.won_of_created += i64::from(o.won_of_created);
        self.won += i64::from(o.won);
        self.lost += i64::from(o.lost);
        self.cancelled += i64::from(o.cancelled);
        self.revenue += o.revenue;
        self.won_without_rate += i64::from(o.won_without_rate);
        self.cycle_seconds += o.cycle_seconds;
    }

    pub fn is_zero(&self) -> bool {
        *self == LeadSums::default()
    }
}

/// [`LeadSums`] of one owner on one day or in one month, as kept: the
/// counts in 32 bits (40 bytes instead of 64, a million of them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct OwnerSums {
    created: i32,
    won_of_created: i32,
    won: i32,
    lost: i32,
    cancelled: i32,
    won_without_rate: i32,
    revenue: i64,
    cycle_seconds: i64,
}

impl OwnerSums {
    fn apply(&mut self, o: &LeadSums, sign: i64) {
        let n = |x: i64| (sign * x) as i32;
        self.created += n(o.created);
        self.won_of_created += n(o.won_of_created);
        self.won += n(o.won);
        self.lost += n(o.lost);
        self.cancelled += n(o.cancelled);
        self.won_without_rate += n(o.won_without_rate);
        self.revenue += sign * o.revenue;
        self.cycle_seconds += sign * o.cycle_seconds;
    }
}

/// A lead as the index keeps it.
#[derive(Clone, Debug)]
pub struct Lead {
    pub id: Uuid,
    /// The owner's user number (0: nobody).
    pub owner: u32,
    /// The pipeline and stage (numbered in [`Cube::pipelines`] and
    /// [`Cube::stages`]).
    pub pipeline: u32,
    pub stage: u32,
    pub status: LeadStatus,
    /// The amount (see [`Lead::amount`]), kept in parts: a cube holds
    /// millions of leads.
    amount_minor: i64,
    currency: Option<Currency>,
    /// The probability (see [`Lead::probability`]; -1: none).
    prob: i16,
    pub expected_close_date: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The local days of `created_at` and `closed_at`.
    pub created_day: NaiveDate,
    pub closed_day: Option<NaiveDate>,
    /// See [`Lead::revenue`] (`i64::MIN`: none).
    revenue_minor: i64,
    /// The company (numbered in [`Cube::companies`]; 0: none).
    pub company: u32,
    pub source: Source,
    /// The local day it became marketing-qualified, and whether it is
    /// sales-qualified.
    pub mql_day: Option<NaiveDate>,
    pub sql: bool,
}

impl Lead {
    /// The amount, in its currency.
    pub fn amount(&self) -> Option<Money> {
        self.currency.map(|c| Money::new(self.amount_minor, c))
    }

    /// The lead's own win probability (percent), if set.
    pub fn probability(&self) -> Option<i32> {
        (self.prob >= 0).then_some(i32::from(self.prob))
    }

    /// A won lead's amount in the base currency at the rate of its close
    /// day (`None`: not won, no amount or no rate).
    pub fn revenue(&self) -> Option<i64> {
        (self.revenue_minor != i64::MIN).then_some(self.revenue_minor)
    }

    fn set_revenue(&mut self, r: Option<i64>) {
        self.revenue_minor = r.unwrap_or(i64::MIN);
    }
}

/// A probability as kept (-1: none; out of range: none).
fn prob_of(p: Option<i32>) -> i16 {
    p.and_then(|p| i16::try_from(p).ok())
        .filter(|p| *p >= 0)
        .unwrap_or(-1)
}

/// A stage change of a lead, in 16 bytes (an index holds millions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// When, in microseconds since 1970 (what the databases keep).
    at_us: i64,
    /// The stage (numbered in [`Cube::stages`]) in the low 31 bits; the
    /// top bit: did the lead change stage (not set: a change of status
    /// recorded in the stage it was in)?
    to_moved: u32,
    /// The local day of `at`.
    pub day: NaiveDate,
}

const MOVED: u32 = 1 << 31;

impl Step {
    fn new(moved: bool, to: u32, at: DateTime<Utc>, tz: &Tz) -> Step {
        Step {
            at_us: at.timestamp_micros(),
            to_moved: (to & !MOVED) | if moved { MOVED } else { 0 },
            day: at.with_timezone(tz).date_naive(),
        }
    }

    /// Did the lead change stage?
    pub fn moved(&self) -> bool {
        self.to_moved & MOVED != 0
    }

    /// The stage it went to (or stayed in).
    pub fn to(&self) -> u32 {
        self.to_moved & !MOVED
    }

    pub fn at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.at_us).unwrap_or_default()
    }
}

/// A lead won on a day, with what the reports read of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Won {
    pub lead: u32,
    pub owner: u32,
    /// Seconds from created to won.
    pub cycle: i64,
}

/// A change to what the index counts of activities: one done activity of
/// `user`, `pair` and local `day` more (`+1`) or less (`-1`).
#[derive(Clone, Copy, Debug)]
pub struct ActivityKey {
    pub user: Uuid,
    pub type_id: Uuid,
    pub outcome_id: Option<Uuid>,
    pub at: DateTime<Utc>,
    pub lead: Option<Uuid>,
    pub minutes: Option<i32>,
}

/// The analytic index of one organisation.
#[derive(Clone, Debug)]
pub struct Cube {
    pub tz: Tz,
    pub base: Currency,
    rates: RateTable,
    /// User numbers; 0 is "nobody" (an unowned lead).
    pub users: Dict,
    /// (type, outcome) pairs; an activity without an outcome has its own.
    pub pairs: Vec<(Uuid, Option<Uuid>)>,
    pair_ix: HashMap<(Uuid, Option<Uuid>), u32>,
    pub stages: Dict,
    pub pipelines: Dict,
    /// Company numbers; 0 is "none".
    pub companies: Dict,
    pub kinds: Kinds,
    /// Per day: per user number, the minutes of activities that count as
    /// selling time and of all activities.
    minutes: Series<Vec<[u32; 2]>>,
    /// Per day: the leads of proposal activities (once per activity).
    proposals: DayVec<Vec<Uuid>>,
    /// Per day: the leads created, and those marketing-qualified, that day.
    created_on: DayVec<Vec<u32>>,
    mql_on: DayVec<Vec<u32>>,
    /// Per day: counts laid out `[user][pair]`, `ucap × pcap`; empty for
    /// a day without activities.
    activities: Series<Vec<u32>>,
    ucap: usize,
    pcap: usize,
    /// The number of done activities counted.
    pub activity_count: u64,
    pub leads: Vec<Option<Lead>>,
    lead_ix: HashMap<Uuid, u32>,
    free: Vec<u32>,
    pub steps: Vec<Vec<Step>>,
    /// Per day: per user number, what leads add up to.
    lead_sums: Series<Vec<OwnerSums>>,
    /// Per day: the same over every owner.
    lead_totals: Series<LeadSums>,
    /// Per day: the leads closed that day.
    closed_on: DayVec<Vec<u32>>,
    /// Per day: the leads won that day.
    won_on: DayVec<Vec<Won>>,
    /// Per day: the leads with a stage change that day (once per change).
    moved_on: DayVec<Vec<u32>>,
    /// The open leads, what the forecast reads of them, kept together.
    open: std::collections::BTreeMap<u32, OpenLead>,
    /// The organisation's stages as the pipeline report and the forecast
    /// read them (`None`: not given; then `flows` and `open_sums` are
    /// empty and those read the leads one by one).
    layout: Option<Vec<StagePlace>>,
    /// Per stage number, its place in the layout.
    place: Vec<Option<Place>>,
    /// Per day, per stage number: what the pipeline report counts of the
    /// leads that entered it, or left it, that day.
    flows: DayVec<Vec<Flow>>,
    /// The leads that entered a stage more than once: their entries are
    /// not in `flows` (which of them counts depends on the period).
    reentered: BTreeSet<u32>,
    /// Per day, the leads with a stage change into a stage at the fourth
    /// place of its pipeline or later (the proposal stage of the KPIs),
    /// once per change (empty without a layout).
    late_on: DayVec<Vec<u32>>,
    /// See [`Cube::first_wins`].
    first_wins: std::sync::OnceLock<HashMap<u32, DateTime<Utc>>>,
    /// The open leads in the base currency or without an amount, summed
    /// per owner, pipeline and expected close month.
    open_sums: HashMap<OpenKey, OpenSum>,
    /// The open leads with an amount in another currency (converted at
    /// the rate of the day the forecast is read).
    open_foreign: std::collections::BTreeMap<u32, OpenLead>,
}

/// A stage of an organisation as the index reads it: its pipeline, its
/// place there, how many stages the pipeline has, its win probability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StagePlace {
    pub stage: Uuid,
    pub pipeline: Uuid,
    pub position: u16,
    pub count: u16,
    pub win_probability: i32,
}

/// A [`StagePlace`] by numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Place {
    pipeline: u32,
    position: u16,
    count: u16,
    win_probability: i32,
}

/// What the pipeline report counts of one stage on one day: the leads
/// that entered it (each counted where it is now: moved on, still there,
/// lost or cancelled there), and the stays in it that ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flow {
    pub entered: i64,
    pub moved_on: i64,
    pub still: i64,
    pub lost: i64,
    pub cancelled: i64,
    pub stays: i64,
    pub stay_seconds: i64,
}

impl Flow {
    fn apply(&mut self, o: &Flow, sign: i64) {
        self.entered += sign * o.entered;
        self.moved_on += sign * o.moved_on;
        self.still += sign * o.still;
        self.lost += sign * o.lost;
        self.cancelled += sign * o.cancelled;
        self.stays += sign * o.stays;
        self.stay_seconds += sign * o.stay_seconds;
    }

    pub fn add(&mut self, o: &Flow) {
        self.apply(o, 1);
    }

    /// The entries, as the pipeline report's row counts them.
    pub fn row(&self) -> salesops_domain::metrics::StageRow {
        salesops_domain::metrics::StageRow {
            entered: self.entered,
            moved_on: self.moved_on,
            still: self.still,
            lost: self.lost,
            cancelled: self.cancelled,
        }
    }
}

/// Owner number, pipeline number and expected close month (months since
/// year 0; `None`: no date).
pub type OpenKey = (u32, u32, Option<i32>);

/// Open leads summed: how many have an amount, its sum, the sum of amount
/// × probability (percent), and how many have no amount.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenSum {
    pub count: i64,
    pub amount: i64,
    pub weighted_x100: i128,
    pub without_amount: i64,
}

impl OpenSum {
    fn is_zero(&self) -> bool {
        *self == OpenSum::default()
    }
}

/// An expected close date as the forecast groups it.
pub fn close_month(d: Option<NaiveDate>) -> Option<i32> {
    d.map(|d| d.year() * 12 + d.month0() as i32)
}

/// What the forecast reads of an open lead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenLead {
    pub id: Uuid,
    pub owner: u32,
    pub pipeline: u32,
    pub stage: u32,
    pub amount: Option<Money>,
    pub probability: Option<i32>,
    pub expected_close_date: Option<NaiveDate>,
}

impl Cube {
    pub fn new(tz: Tz, rates: RateTable, kinds: Kinds) -> Cube {
        let mut users = Dict::default();
        users.intern(Uuid::nil());
        let mut companies = Dict::default();
        companies.intern(Uuid::nil());
        let mut c = Cube {
            tz,
            base: rates.base,
            rates,
            users,
            pairs: vec![],
            pair_ix: HashMap::new(),
            stages: Dict::default(),
            pipelines: Dict::default(),
            companies,
            kinds,
            minutes: Series::default(),
            proposals: DayVec::default(),
            created_on: DayVec::default(),
            mql_on: DayVec::default(),
            activities: Series::default(),
            ucap: 0,
            pcap: 0,
            activity_count: 0,
            leads: vec![],
            lead_ix: HashMap::new(),
            free: vec![],
            steps: vec![],
            lead_sums: Series::default(),
            lead_totals: Series::default(),
            closed_on: DayVec::default(),
            won_on: DayVec::default(),
            moved_on: DayVec::default(),
            open: Default::default(),
            layout: None,
            place: vec![],
            flows: DayVec::default(),
            reentered: BTreeSet::new(),
            late_on: DayVec::default(),
            first_wins: Default::default(),
            open_sums: HashMap::new(),
            open_foreign: Default::default(),
        };
        c.grow(1, 1);
        c
    }

    /// The rates the revenue was converted with.
    pub fn rates(&self) -> &RateTable {
        &self.rates
    }

    pub fn day(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    /// The number of a user, registering them.
    pub fn user(&mut self, id: Uuid) -> u32 {
        let u = self.users.intern(id);
        self.grow(self.users.len(), self.pairs.len());
        u
    }

    /// The number of a (type, outcome) pair, registering it.
    pub fn pair(&mut self, type_id: Uuid, outcome: Option<Uuid>) -> u32 {
        if let Some(p) = self.pair_ix.get(&(type_id, outcome)) {
            return *p;
        }
        let p = self.pairs.len() as u32;
        self.pairs.push((type_id, outcome));
        self.pair_ix.insert((type_id, outcome), p);
        self.grow(self.users.len(), self.pairs.len());
        p
    }

    pub fn pair_of(&self, type_id: Uuid, outcome: Option<Uuid>) -> Option<u32> {
        self.pair_ix.get(&(type_id, outcome)).copied()
    }

    /// Makes room for `users` users and `pairs` pairs in every day block
    /// (capacities double, so this is rare).
    fn grow(&mut self, users: usize, pairs: usize) {
        if users <= self.ucap && pairs <= self.pcap {
            return;
        }
        // A little more than needed: few re-layouts (a new user or type),
        // little waste.
        let ucap = if users > self.ucap {
            users + users / 16 + 16
        } else {
            self.ucap
        };
        let pcap = if pairs > self.pcap {
            pairs + 2
        } else {
            self.pcap
        };
        let (old_u, old_p) = (self.ucap, self.pcap);
        for block in self.activities.iter_mut() {
            if block.is_empty() {
                continue;
            }
            let mut next = vec![0u32; ucap * pcap];
            for u in 0..old_u {
                next[u * pcap..u * pcap + old_p]
                    .copy_from_slice(&block[u * old_p..(u + 1) * old_p]);
            }
            *block = next;
        }
        for block in self.lead_sums.iter_mut() {
            if !block.is_empty() {
                block.resize(ucap, OwnerSums::default());
            }
        }
        for block in self.minutes.iter_mut() {
            if !block.is_empty() {
                block.resize(ucap, [0, 0]);
            }
        }
        self.ucap = ucap;
        self.pcap = pcap;
    }

    /// Counts one done activity more (`sign` 1) or less (-1).
    pub fn count_activity(&mut self, a: &ActivityKey, sign: i32) {
        let u = self.user(a.user) as usize;
        let p = self.pair(a.type_id, a.outcome_id) as usize;
        let day = self.day(a.at);
        let (ucap, pcap) = (self.ucap, self.pcap);
        let (block, month) = self.activities.slots_mut(day);
        for b in [&mut *block, &mut *month] {
            if b.is_empty() {
                *b = vec![0; ucap * pcap];
            }
        }
        let i = u * pcap + p;
        if sign > 0 {
            block[i] += 1;
            month[i] += 1;
            self.activity_count += 1;
        } else if block[i] > 0 {
            block[i] -= 1;
            month[i] -= 1;
            self.activity_count -= 1;
        } else {
            tracing::warn!("analytic index: an activity removed that was never counted");
            return;
        }
        let m = a.minutes.unwrap_or(0).max(0) as u32;
        if m > 0 {
            let selling = self.kinds.selling.contains(&a.type_id);
            let (block, month) = self.minutes.slots_mut(day);
            for b in [&mut *block, &mut *month] {
                if b.is_empty() {
                    *b = vec![[0, 0]; ucap];
                }
                let cell = &mut b[u];
                if sign > 0 {
                    cell[0] += if selling { m } else { 0 };
                    cell[1] += m;
                } else {
                    cell[0] = cell[0].saturating_sub(if selling { m } else { 0 });
                    cell[1] = cell[1].saturating_sub(m);
                }
            }
        }
        if let Some(lead) = a.lead
            && self.kinds.proposal.contains(&a.type_id)
        {
            listed(self.proposals.get_mut(day), lead, sign);
        }
    }

    /// The minutes of activities over `p` that count as selling time and
    /// of all activities, summed over `only` (every user when `None`).
    pub fn minutes(&self, p: Period, only: Option<&[u32]>) -> (i64, i64) {
        let (mut selling, mut all) = (0i64, 0i64);
        for block in self.minutes.blocks(p) {
            if block.is_empty() {
                continue;
            }
            let mut add = |u: usize| {
                selling += i64::from(block[u][0]);
                all += i64::from(block[u][1]);
            };
            match only {
                Some(us) => us.iter().for_each(|u| add(*u as usize)),
                None => (0..self.users.len()).for_each(add),
            }
        }
        (selling, all)
    }

    /// The leads with a proposal activity on the days of `p` (a lead once
    /// per activity).
    pub fn proposals_in(&self, p: Period) -> impl Iterator<Item = &Uuid> {
        self.proposals.range(p).iter().flatten()
    }

    /// The leads created on the days of `p`.
    pub fn created_in(&self, p: Period) -> impl Iterator<Item = u32> {
        self.created_on.range(p).iter().flatten().copied()
    }

    /// The leads that became marketing-qualified on the days of `p`.
    pub fn mql_in(&self, p: Period) -> impl Iterator<Item = u32> {
        self.mql_on.range(p).iter().flatten().copied()
    }

    /// The leads closed on `day` or later.
    pub fn closed_from(&self, day: NaiveDate) -> impl Iterator<Item = u32> {
        self.closed_on
            .range(Period {
                from: day,
                to: NaiveDate::MAX,
            })
            .iter()
            .flatten()
            .copied()
    }

    /// Per owner number, when they first won a lead (worked out on the
    /// first call after a won lead changed, then kept).
    pub fn first_wins(&self) -> &HashMap<u32, DateTime<Utc>> {
        self.first_wins.get_or_init(|| self.find_first_wins())
    }

    fn find_first_wins(&self) -> HashMap<u32, DateTime<Utc>> {
        let mut out: HashMap<u32, DateTime<Utc>> = HashMap::new();
        for w in self.won_on.slots.iter().flatten() {
            let Some(at) = self.leads[w.lead as usize]
                .as_ref()
                .and_then(|l| l.closed_at)
            else {
                continue;
            };
            let e = out.entry(w.owner).or_insert(at);
            if at < *e {
                *e = at;
            }
        }
        out
    }

    /// A lead's number.
    pub fn lead_number(&self, id: &Uuid) -> Option<u32> {
        self.lead_ix.get(id).copied()
    }

    /// Per user number, the activity counts per pair over the days of `p`
    /// for the users `only` (every user when `None`).
    pub fn activity_counts(&self, p: Period, only: Option<&[u32]>) -> Vec<Vec<i64>> {
        let n = self.pairs.len();
        let mut out = vec![vec![0i64; n]; self.users.len()];
        for block in self.activities.blocks(p) {
            if block.is_empty() {
                continue;
            }
            let mut add = |u: usize| {
                let row = &block[u * self.pcap..u * self.pcap + n];
                for (o, c) in out[u].iter_mut().zip(row) {
                    *o += i64::from(*c);
                }
            };
            match only {
                Some(us) => us.iter().for_each(|u| add(*u as usize)),
                None => (0..self.users.len()).for_each(add),
            }
        }
        out
    }

    /// The activity counts per pair over `p`, summed over `only` (every
    /// user when `None`).
    pub fn activity_totals(&self, p: Period, only: Option<&[u32]>) -> Vec<i64> {
        let n = self.pairs.len();
        let mut out = vec![0i64; n];
        for block in self.activities.blocks(p) {
            if block.is_empty() {
                continue;
            }
            let mut add = |u: usize| {
                for (o, c) in out.iter_mut().zip(&block[u * self.pcap..u * self.pcap + n]) {
                    *o += i64::from(*c);
                }
            };
            match only {
                Some(us) => us.iter().for_each(|u| add(*u as usize)),
                None => (0..self.users.len()).for_each(add),
            }
        }
        out
    }

    /// What a lead adds to the sums of its created day and of its close
    /// day.
    fn contribution(&self, l: &Lead) -> [(NaiveDate, LeadSums); 2] {
        let won = l.status == LeadStatus::Won;
        let created = LeadSums {
            created: 1,
            won_of_created: i64::from(won),
            ..Default::default()
        };
        let mut closed = LeadSums::default();
        let close_day = l.closed_day;
        if let Some(c) = l.closed_at {
            match l.status {
                LeadStatus::Won => {
                    closed.won = 1;
                    match l.revenue() {
                        Some(r) => closed.revenue = r,
                        None => closed.won_without_rate = 1,
                    }
                    closed.cycle_seconds = (c - l.created_at).num_seconds();
                }
                LeadStatus::Lost => closed.lost = 1,
                LeadStatus::Cancelled => closed.cancelled = 1,
                LeadStatus::Open => {}
            }
        }
        [
            (l.created_day, created),
            (close_day.unwrap_or(l.created_day), closed),
        ]
    }

    fn apply_lead(&mut self, ix: u32, sign: i64) {
        let Some(l) = self.leads[ix as usize].as_ref() else {
            return;
        };
        let owner = l.owner as usize;
        let closed = l.closed_day;
        let (created_day, mql_day) = (l.created_day, l.mql_day);
        let won_cycle = (l.status == LeadStatus::Won)
            .then(|| l.closed_at.map(|c| (c - l.created_at).num_seconds()))
            .flatten();
        let open = (l.status == LeadStatus::Open).then_some(OpenLead {
            id: l.id,
            owner: l.owner,
            pipeline: l.pipeline,
            stage: l.stage,
            amount: l.amount(),
            probability: l.probability(),
            expected_close_date: l.expected_close_date,
        });
        let parts = self.contribution(l);
        let ucap = self.ucap;
        for (day, sums) in parts {
            if sums.is_zero() {
                continue;
            }
            let (block, month) = self.lead_sums.slots_mut(day);
            for b in [&mut *block, &mut *month] {
                if b.is_empty() {
                    b.resize(ucap, OwnerSums::default());
                }
                b[owner].apply(&sums, sign);
            }
            let (total, month) = self.lead_totals.slots_mut(day);
            total.apply(&sums, sign);
            month.apply(&sums, sign);
        }
        if let Some(o) = open {
            if sign > 0 {
                self.open.insert(ix, o);
            } else {
                self.open.remove(&ix);
            }
        }
        self.apply_placed(ix, sign);
        listed(self.created_on.get_mut(created_day), ix, sign);
        if let Some(day) = mql_day {
            listed(self.mql_on.get_mut(day), ix, sign);
        }
        if let Some(day) = closed {
            listed(self.closed_on.get_mut(day), ix, sign);
            if let Some(cycle) = won_cycle {
                self.first_wins.take();
                // Taken off with what it was put on with (the same record).
                let won = Won {
                    lead: ix,
                    owner: owner as u32,
                    cycle,
                };
                listed(self.won_on.get_mut(day), won, sign);
            }
        }
    }

    fn revenue_of(
        &self,
        status: LeadStatus,
        amount: Option<Money>,
        closed: Option<DateTime<Utc>>,
    ) -> Option<i64> {
        if status != LeadStatus::Won {
            return None;
        }
        let day = self.day(closed?);
        self.rates.to_base(amount?, day).map(|m| m.minor)
    }

    /// Adds or replaces a lead.
    pub fn upsert_lead(&mut self, k: &LeadKey) {
        let owner = k.owner_id.map(|o| self.user(o)).unwrap_or(0);
        let status: LeadStatus = k.status.parse().unwrap_or(LeadStatus::Open);
        let amount = match (k.amount_minor, k.currency.as_deref()) {
            (Some(m), Some(c)) => Currency::parse(c).ok().map(|c| Money::new(m, c)),
            _ => None,
        };
        let lead = Lead {
            id: k.id,
            owner,
            pipeline: self.pipelines.intern(k.pipeline_id),
            stage: self.stage_number(k.stage_id),
            status,
            amount_minor: amount.map_or(0, |m| m.minor),
            currency: amount.map(|m| m.currency),
            prob: prob_of(k.probability),
            expected_close_date: k.expected_close_date,
            created_at: k.created_at,
            closed_at: k.closed_at,
            created_day: self.day(k.created_at),
            closed_day: k.closed_at.map(|c| self.day(c)),
            revenue_minor: self
                .revenue_of(status, amount, k.closed_at)
                .unwrap_or(i64::MIN),
            company: k.company_id.map(|c| self.companies.intern(c)).unwrap_or(0),
            source: Source::parse(k.source.as_deref()),
            mql_day: k.mql_at.map(|t| self.day(t)),
            sql: k.sql_at.is_some(),
        };
        self.put_lead(lead);
    }

    /// Adds or replaces a lead record.
    fn put_lead(&mut self, lead: Lead) {
        let ix = match self.lead_ix.get(&lead.id).copied() {
            Some(ix) => {
                self.apply_flows(ix, -1);
                self.apply_lead(ix, -1);
                ix
            }
            None => {
                let ix = match self.free.pop() {
                    Some(ix) => ix,
                    None => {
                        self.leads.push(None);
                        self.steps.push(vec![]);
                        (self.leads.len() - 1) as u32
                    }
                };
                self.lead_ix.insert(lead.id, ix);
                ix
            }
        };
        self.leads[ix as usize] = Some(lead);
        self.apply_lead(ix, 1);
        self.apply_flows(ix, 1);
    }

    /// Forgets a lead (deleted) and its stage history.
    pub fn remove_lead(&mut self, id: Uuid) {
        let Some(ix) = self.lead_ix.get(&id).copied() else {
            return;
        };
        self.set_steps(ix, vec![]);
        self.apply_lead(ix, -1);
        self.leads[ix as usize] = None;
        self.lead_ix.remove(&id);
        self.free.push(ix);
    }

    /// Replaces the stage history of a lead by `history` (in time order).
    pub fn set_stage_history(&mut self, lead: Uuid, history: &[StageKey]) {
        let Some(ix) = self.lead_ix.get(&lead).copied() else {
            return;
        };
        let steps = history
            .iter()
            .map(|h| {
                let to = self.stage_number(h.to_stage_id);
                Step::new(h.from_stage_id != Some(h.to_stage_id), to, h.at, &self.tz)
            })
            .collect();
        self.set_steps(ix, steps);
    }

    /// Appends a stage change to a lead's history while building; the
    /// histories are put in time order by [`Cube::sort_steps`] afterwards.
    pub fn push_step(&mut self, h: &StageKey) {
        let Some(ix) = self.lead_ix.get(&h.lead_id).copied() else {
            return;
        };
        // Histories pushed are in no order yet: what the layout derives
        // from them is computed again by `set_layout`.
        self.drop_layout();
        let to = self.stage_number(h.to_stage_id);
        let step = Step::new(h.from_stage_id != Some(h.to_stage_id), to, h.at, &self.tz);
        self.moved_on.get_mut(step.day).push(ix);
        self.steps[ix as usize].push(step);
    }

    /// Puts every history in time order (stable: changes at the same
    /// instant keep the order they were pushed in).
    pub fn sort_steps(&mut self) {
        for h in &mut self.steps {
            h.sort_by_key(|s| s.at_us);
        }
        // The histories grew interleaved while building; copied afresh in
        // lead order they lie together as a loaded index's do, which the
        // reports that walk them feel (the old copies go afterwards, so the
        // new ones do not fill their holes).
        let fresh: Vec<Vec<Step>> = self.steps.iter().map(|h| h.as_slice().to_vec()).collect();
        self.steps = fresh;
        self.shrink();
    }

    /// Gives back what the lists grown while building hold in reserve.
    pub fn shrink(&mut self) {
        for h in &mut self.steps {
            h.shrink_to_fit();
        }
        self.steps.shrink_to_fit();
        self.leads.shrink_to_fit();
        for d in [
            &mut self.closed_on,
            &mut self.moved_on,
            &mut self.created_on,
            &mut self.mql_on,
        ] {
            d.slots.iter_mut().for_each(Vec::shrink_to_fit);
        }
        self.won_on.slots.iter_mut().for_each(Vec::shrink_to_fit);
        self.proposals.slots.iter_mut().for_each(Vec::shrink_to_fit);
    }

    fn set_steps(&mut self, ix: u32, steps: Vec<Step>) {
        self.apply_flows(ix, -1);
        let old = std::mem::take(&mut self.steps[ix as usize]);
        for s in &old {
            listed(self.moved_on.get_mut(s.day), ix, -1);
        }
        for s in &steps {
            listed(self.moved_on.get_mut(s.day), ix, 1);
        }
        self.steps[ix as usize] = steps;
        self.apply_flows(ix, 1);
    }

    /// Numbers a stage (and places it, when a layout is given).
    fn stage_number(&mut self, id: Uuid) -> u32 {
        let n = self.stages.intern(id);
        while self.place.len() < self.stages.len() {
            let id = self.stages.ids[self.place.len()];
            let p = self.place_of(id);
            self.place.push(p);
        }
        n
    }

    fn place_of(&mut self, stage: Uuid) -> Option<Place> {
        let layout = self.layout.as_ref()?;
        let i = layout.binary_search_by_key(&stage, |s| s.stage).ok()?;
        let s = layout[i];
        Some(Place {
            pipeline: self.pipelines.intern(s.pipeline),
            position: s.position,
            count: s.count,
            win_probability: s.win_probability,
        })
    }

    /// The layout the flows and open sums were computed with.
    pub fn layout(&self) -> Option<&[StagePlace]> {
        self.layout.as_deref()
    }

    /// Gives the organisation's stages (in any order); computes the flows
    /// and the open sums afresh when they differ from those given before.
    pub fn set_layout(&mut self, mut layout: Vec<StagePlace>) {
        layout.sort_by_key(|s| s.stage);
        if self.layout.as_ref() == Some(&layout) {
            return;
        }
        self.drop_layout();
        self.layout = Some(layout);
        self.place = (0..self.stages.len())
            .map(|n| self.place_of(self.stages.ids[n]))
            .collect();
        for ix in 0..self.leads.len() as u32 {
            self.apply_placed(ix, 1);
            self.apply_flows(ix, 1);
        }
    }

    /// Forgets the layout and what was derived from it.
    fn drop_layout(&mut self) {
        if self.layout.take().is_some() {
            self.place.iter_mut().for_each(|p| *p = None);
            self.flows.clear();
            self.reentered.clear();
            self.late_on.clear();
            self.open_sums.clear();
            self.open_foreign.clear();
        }
    }

    /// Calls `f` with what a lead adds to the flows (day, stage number,
    /// flow); returns whether it entered a stage more than once (then
    /// only its stays are given: its entries are counted per report).
    /// The same walk as the pipeline report's (see `reports.rs`).
    fn flow_parts(
        &self,
        l: &Lead,
        steps: &[Step],
        mut f: impl FnMut(NaiveDate, u32, Flow),
    ) -> bool {
        let placed = |s: u32| {
            self.place
                .get(s as usize)
                .copied()
                .flatten()
                .filter(|p| p.pipeline == l.pipeline)
        };
        // (stage number, position, stages in the pipeline, day)
        let mut entries: Vec<(u32, u16, u16, NaiveDate)> = vec![];
        let mut last: Option<(u16, u32, DateTime<Utc>)> = None;
        for h in steps {
            let Some(p) = placed(h.to()) else { continue };
            // A status change within the same stage is not an entry.
            if !h.moved() {
                continue;
            }
            if let Some((j, stage, since)) = last
                && j != p.position
            {
                let stay = Flow {
                    stays: 1,
                    stay_seconds: (h.at() - since).num_seconds(),
                    ..Default::default()
                };
                f(h.day, stage, stay);
            }
            if last.is_none_or(|(j, _, _)| j != p.position) {
                entries.push((h.to(), p.position, p.count, h.day));
                last = Some((p.position, h.to(), h.at()));
            }
        }
        // Leaving the last stage by closing ends the stay too.
        if let (Some((_, stage, since)), Some(c), Some(day)) = (last, l.closed_at, l.closed_day) {
            let stay = Flow {
                stays: 1,
                stay_seconds: (c - since).num_seconds(),
                ..Default::default()
            };
            f(day, stage, stay);
        }
        let again = entries
            .iter()
            .enumerate()
            .any(|(k, e)| entries[..k].iter().any(|x| x.1 == e.1));
        if again {
            return true;
        }
        for (k, &(stage, position, count, day)) in entries.iter().enumerate() {
            let later = entries[k + 1..].iter().any(|x| x.1 > position);
            let last_stage = position + 1 == count;
            let mut e = Flow {
                entered: 1,
                ..Default::default()
            };
            if (later && !last_stage) || l.status == LeadStatus::Won {
                e.moved_on = 1;
            } else {
                match l.status {
                    LeadStatus::Lost => e.lost = 1,
                    LeadStatus::Cancelled => e.cancelled = 1,
                    LeadStatus::Open | LeadStatus::Won => e.still = 1,
                }
            }
            f(day, stage, e);
        }
        false
    }

    /// Adds (`sign` 1) or takes off (-1) what a lead and its history add to
    /// the flows.
    fn apply_flows(&mut self, ix: u32, sign: i64) {
        if self.layout.is_none() {
            return;
        }
        let Some(l) = self.leads[ix as usize].as_ref() else {
            return;
        };
        let mut parts = vec![];
        let steps = &self.steps[ix as usize];
        let again = self.flow_parts(l, steps, |d, s, f| parts.push((d, s, f)));
        let late: Vec<NaiveDate> = steps
            .iter()
            .filter(|s| self.place[s.to() as usize].is_some_and(|p| p.position >= 3))
            .map(|s| s.day)
            .collect();
        for day in late {
            listed(self.late_on.get_mut(day), ix, sign);
        }
        let n = self.stages.len();
        for (day, stage, f) in parts {
            let v = self.flows.get_mut(day);
            if v.len() < n {
                v.resize(n, Flow::default());
            }
            v[stage as usize].apply(&f, sign);
        }
        if again {
            if sign > 0 {
                self.reentered.insert(ix);
            } else {
                self.reentered.remove(&ix);
            }
        }
    }

    /// Adds or takes off what an open lead adds to the open sums.
    fn apply_placed(&mut self, ix: u32, sign: i64) {
        if self.layout.is_none() {
            return;
        }
        let Some(l) = self.leads[ix as usize].as_ref() else {
            return;
        };
        if l.status != LeadStatus::Open {
            return;
        }
        let key = (l.owner, l.pipeline, close_month(l.expected_close_date));
        let mut add = OpenSum::default();
        match l.amount() {
            None => add.without_amount = 1,
            Some(m) if m.currency == self.base => {
                let p = l.probability().map(i64::from).unwrap_or_else(|| {
                    self.place[l.stage as usize].map_or(0, |p| i64::from(p.win_probability))
                });
                add.count = 1;
                add.amount = m.minor;
                add.weighted_x100 = i128::from(m.minor) * i128::from(p);
            }
            Some(_) => {
                // A copy beside `open`: the forecast reads these one by
                // one, and looking each up there misses the cache.
                if sign > 0 {
                    if let Some(o) = self.open.get(&ix).copied() {
                        self.open_foreign.insert(ix, o);
                    }
                } else {
                    self.open_foreign.remove(&ix);
                }
                return;
            }
        }
        let s = self.open_sums.entry(key).or_default();
        s.count += sign * add.count;
        s.amount += sign * add.amount;
        s.weighted_x100 += i128::from(sign) * add.weighted_x100;
        s.without_amount += sign * add.without_amount;
        if s.is_zero() {
            self.open_sums.remove(&key);
        }
    }

    /// Per stage number, the flows summed over the days of `p` (empty
    /// without a layout).
    pub fn flows_in(&self, p: Period) -> Vec<Flow> {
        let mut out = vec![Flow::default(); self.stages.len()];
        for day in self.flows.range(p) {
            for (o, f) in out.iter_mut().zip(day) {
                o.add(f);
            }
        }
        out
    }

    /// The leads that entered a stage more than once and have a stage
    /// change on a day of `p`, each once, in number order.
    pub fn reentered_in(&self, p: Period) -> Vec<u32> {
        if self.reentered.is_empty() {
            return vec![];
        }
        let changes: usize = self.moved_on.range(p).iter().map(Vec::len).sum();
        let mut v: Vec<u32> = if self.reentered.len() <= changes {
            self.reentered
                .iter()
                .copied()
                .filter(|ix| {
                    self.steps[*ix as usize]
                        .iter()
                        .any(|s| p.from <= s.day && s.day < p.to)
                })
                .collect()
        } else {
            self.moved_on
                .range(p)
                .iter()
                .flatten()
                .copied()
                .filter(|ix| self.reentered.contains(ix))
                .collect()
        };
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The leads with a stage change on a day of `p` into a stage at the
    /// fourth place of its pipeline or later, each once (empty without a
    /// layout).
    pub fn late_in(&self, p: Period) -> HashSet<u32> {
        self.late_on.range(p).iter().flatten().copied().collect()
    }

    /// The open sums (empty without a layout).
    pub fn open_sums(&self) -> impl Iterator<Item = (&OpenKey, &OpenSum)> {
        self.open_sums.iter()
    }

    /// The open leads with an amount in another currency than the base.
    pub fn open_foreign(&self) -> impl Iterator<Item = (u32, &OpenLead)> {
        self.open_foreign.iter().map(|(ix, o)| (*ix, o))
    }

    /// Converts the revenue again after the rates changed.
    pub fn set_rates(&mut self, rates: RateTable) {
        // The open sums hold amounts in the base currency: a new base
        // sorts the open leads afresh (below, through `apply_lead`).
        self.base = rates.base;
        self.rates = rates;
        self.lead_sums.clear();
        self.lead_totals.clear();
        self.closed_on.clear();
        self.won_on.clear();
        self.open.clear();
        self.open_sums.clear();
        self.open_foreign.clear();
        self.created_on.clear();
        self.mql_on.clear();
        for ix in 0..self.leads.len() {
            if let Some(l) = &self.leads[ix] {
                let revenue = self.revenue_of(l.status, l.amount(), l.closed_at);
                if let Some(l) = self.leads[ix].as_mut() {
                    l.set_revenue(revenue);
                }
                self.apply_lead(ix as u32, 1);
            }
        }
    }

    /// Per user number, the lead sums over the days of `p`.
    pub fn lead_sums(&self, p: Period, only: Option<&[u32]>) -> Vec<LeadSums> {
        let mut out = vec![LeadSums::default(); self.users.len()];
        for block in self.lead_sums.blocks(p) {
            if block.is_empty() {
                continue;
            }
            match only {
                Some(us) => {
                    for u in us {
                        out[*u as usize].add_owner(&block[*u as usize]);
                    }
                }
                None => {
                    for (o, s) in out.iter_mut().zip(block) {
                        o.add_owner(s);
                    }
                }
            }
        }
        out
    }

    /// The lead sums over `p` for `only`, or over every lead (the unowned
    /// ones included) when `None`.
    pub fn lead_total(&self, p: Period, only: Option<&[u32]>) -> LeadSums {
        let mut out = LeadSums::default();
        match only {
            None => self.lead_totals.blocks(p).for_each(|s| out.add(s)),
            Some(us) => {
                for block in self.lead_sums.blocks(p) {
                    if !block.is_empty() {
                        us.iter().for_each(|u| out.add_owner(&block[*u as usize]));
                    }
                }
            }
        }
        out
    }

    /// The leads closed on the days of `p`.
    pub fn closed_in(&self, p: Period) -> impl Iterator<Item = u32> {
        self.closed_on.range(p).iter().flatten().copied()
    }

    /// The leads won on the days of `p`.
    pub fn won_in(&self, p: Period) -> impl Iterator<Item = &Won> {
        self.won_on.range(p).iter().flatten()
    }

    /// The leads (numbers) with a stage change or closed on the days of
    /// `p`, each once.
    pub fn moved_or_closed_in(&self, p: Period) -> Vec<u32> {
        let mut seen = vec![0u64; self.leads.len().div_ceil(64)];
        let all = self
            .moved_on
            .range(p)
            .iter()
            .flatten()
            .copied()
            .chain(self.closed_on.range(p).iter().flatten().copied());
        for ix in all {
            seen[ix as usize / 64] |= 1u64 << (ix % 64);
        }
        // In number order: the records are then read front to back.
        let mut v = vec![];
        for (w, mut bits) in seen.into_iter().enumerate() {
            while bits != 0 {
                let b = bits.trailing_zeros();
                v.push((w * 64) as u32 + b);
                bits &= bits - 1;
            }
        }
        v
    }

    /// The open leads.
    pub fn open_leads(&self) -> impl Iterator<Item = &OpenLead> {
        self.open.values()
    }

    /// The open leads with their numbers.
    pub fn open_entries(&self) -> impl Iterator<Item = (u32, &OpenLead)> {
        self.open.iter().map(|(ix, o)| (*ix, o))
    }

    pub fn lead_count(&self) -> usize {
        self.lead_ix.len()
    }

    /// A user's id from their number (`None` for nobody).
    pub fn user_id(&self, u: u32) -> Option<Uuid> {
        (u != 0).then(|| self.users.ids[u as usize])
    }
}

impl Cube {
    /// A cube of the facts a report read (for filters the live index does
    /// not carry): the same figures from the same code.
    pub fn from_facts(
        tz: Tz,
        rates: RateTable,
        kinds: Kinds,
        activities: &[salesops_store::analytics::ActivityFact],
        leads: &[salesops_store::analytics::LeadFact],
        stages: &[salesops_store::analytics::StageFact],
    ) -> Cube {
        let mut c = Cube::new(tz, rates, kinds);
        for a in activities {
            c.count_activity(
                &ActivityKey {
                    user: a.user_id,
                    type_id: a.type_id,
                    outcome_id: a.outcome_id,
                    at: a.happened_at,
                    lead: a.lead_id,
                    minutes: a.duration_minutes,
                },
                1,
            );
        }
        for l in leads {
            c.upsert_lead(&LeadKey {
                id: l.id,
                pipeline_id: l.pipeline_id,
                stage_id: l.stage_id,
                status: l.status.clone(),
                amount_minor: l.amount_minor,
                currency: l.currency.clone(),
                probability: l.probability,
                expected_close_date: l.expected_close_date,
                owner_id: l.owner_id,
                closed_at: l.closed_at,
                created_at: l.created_at,
                company_id: l.company_id,
                source: l.source.clone(),
                mql_at: l.mql_at,
                sql_at: l.sql_at,
            });
        }
        // Stage facts come per lead in time order.
        let mut i = 0;
        while i < stages.len() {
            let lead = stages[i].lead_id;
            let mut j = i;
            while j < stages.len() && stages[j].lead_id == lead {
                j += 1;
            }
            let h: Vec<StageKey> = stages[i..j]
                .iter()
                .map(|s| StageKey {
                    id: Uuid::nil(),
                    lead_id: s.lead_id,
                    from_stage_id: s.from_stage_id,
                    to_stage_id: s.to_stage_id,
                    at: s.at,
                })
                .collect();
            c.set_stage_history(lead, &h);
            i = j;
        }
        c
    }

    /// The user numbers of `users` (those the cube knows).
    pub fn numbers(&self, users: &[salesops_domain::UserId]) -> Vec<u32> {
        users.iter().filter_map(|u| self.users.get(&u.0)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn rates() -> RateTable {
        RateTable {
            base: Currency::parse("EUR").unwrap(),
            rates: vec![],
        }
    }

    fn at(day: i64, hour: i64) -> DateTime<Utc> {
        "2026-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
            + chrono::Duration::days(day)
            + chrono::Duration::hours(hour)
    }

    /// A lead from drawn numbers: owner (3: nobody), created day, days to
    /// close, status, amount.
    fn lead(id: Uuid, (owner, c, d, s, a): (u8, i64, i64, u8, i64), users: &[Uuid]) -> LeadKey {
        let status = ["open", "won", "lost", "cancelled"][s as usize % 4];
        LeadKey {
            id,
            pipeline_id: Uuid::nil(),
            stage_id: Uuid::nil(),
            status: status.into(),
            amount_minor: Some(a),
            currency: Some("EUR".into()),
            probability: (a % 7 == 0).then_some((a % 101) as i32),
            expected_close_date: (a % 2 == 0).then(|| at(c + 30, 0).date_naive()),
            owner_id: users.get(owner as usize).copied(),
            closed_at: (status != "open").then(|| at(c + d, 15)),
            created_at: at(c, 9),
            company_id: (a % 3 != 0).then(|| Uuid::from_u128(1 + (a % 3) as u128)),
            source: [None, Some("marketing"), Some("sales"), Some("event")][(a % 4) as usize]
                .map(Into::into),
            mql_at: (d % 2 == 0).then(|| at(c + d / 2, 12)),
            sql_at: (d % 4 == 0).then(|| at(c + d / 2, 13)),
        }
    }

    /// Activity types: 0 counts as selling and is a proposal, 2 counts as
    /// selling.
    fn kinds(types: &[(Uuid, Option<Uuid>)]) -> Kinds {
        Kinds {
            selling: [types[0].0, types[2].0].into_iter().collect(),
            proposal: [types[0].0].into_iter().collect(),
        }
    }

    /// What the KPIs read of a cube over `p`, in a comparable form.
    fn observe(c: &Cube, p: Period) -> Vec<String> {
        let id = |ix: u32| c.leads[ix as usize].as_ref().unwrap().id;
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };
        let mut first: Vec<(Uuid, DateTime<Utc>)> = c
            .first_wins()
            .iter()
            .map(|(u, t)| (c.users.ids[*u as usize], *t))
            .collect();
        first.sort();
        vec![
            format!("{:?}", c.minutes(p, None)),
            format!(
                "{:?}",
                sorted(c.proposals_in(p).map(|x| x.to_string()).collect())
            ),
            format!(
                "{:?}",
                sorted(c.created_in(p).map(|x| id(x).to_string()).collect())
            ),
            format!(
                "{:?}",
                sorted(
                    c.mql_in(p)
                        .map(|x| {
                            let l = c.leads[x as usize].as_ref().unwrap();
                            format!("{} {:?} {:?}", l.id, l.sql, l.source)
                        })
                        .collect()
                )
            ),
            format!(
                "{:?}",
                sorted(
                    c.closed_from(p.from)
                        .map(|x| {
                            let l = c.leads[x as usize].as_ref().unwrap();
                            format!("{} {}", l.id, c.companies.ids[l.company as usize])
                        })
                        .collect()
                )
            ),
            format!("{first:?}"),
            format!("{:?}", c.lead_total(p, None)),
            format!(
                "{:?}",
                sorted(
                    c.flows_in(p)
                        .iter()
                        .enumerate()
                        .filter(|(_, f)| **f != Flow::default())
                        .map(|(s, f)| format!("{} {f:?}", c.stages.ids[s]))
                        .collect()
                )
            ),
            format!(
                "{:?}",
                sorted(
                    c.reentered_in(p)
                        .into_iter()
                        .map(|x| id(x).to_string())
                        .collect()
                )
            ),
            format!(
                "{:?}",
                sorted(
                    c.open_sums()
                        .map(|((o, pl, m), s)| {
                            format!(
                                "{} {} {m:?} {s:?}",
                                c.users.ids[*o as usize], c.pipelines.ids[*pl as usize]
                            )
                        })
                        .collect()
                )
            ),
        ]
    }

    /// The three stages of the tests' pipeline (the nil id).
    fn layout(stages: &[Uuid]) -> Vec<StagePlace> {
        stages
            .iter()
            .enumerate()
            .map(|(i, s)| StagePlace {
                stage: *s,
                pipeline: Uuid::nil(),
                position: i as u16,
                count: stages.len() as u16,
                win_probability: 25 * i as i32,
            })
            .collect()
    }

    /// A new base currency sorts the open leads afresh: those in it are
    /// summed, the others converted one by one.
    #[test]
    fn a_new_base_currency_sorts_the_open_leads_afresh() {
        let stages = [Uuid::now_v7()];
        let mut c = Cube::new(chrono_tz::Europe::Berlin, rates(), Kinds::default());
        c.set_layout(layout(&stages));
        let users = [Uuid::now_v7()];
        for cur in ["EUR", "CHF"] {
            let mut k = lead(Uuid::now_v7(), (0, 10, 0, 0, 700), &users);
            k.currency = Some(cur.into());
            k.stage_id = stages[0];
            c.upsert_lead(&k);
        }
        let summed = |c: &Cube| c.open_sums().map(|(_, s)| s.amount).sum::<i64>();
        let foreign = |c: &Cube| -> Vec<String> {
            c.open_foreign()
                .map(|(_, o)| o.amount.unwrap().currency.code().to_string())
                .collect()
        };
        assert_eq!((summed(&c), foreign(&c)), (700, vec!["CHF".to_string()]));
        let chf = Currency::parse("CHF").unwrap();
        c.set_rates(RateTable {
            base: chf,
            rates: vec![],
        });
        assert_eq!((summed(&c), foreign(&c)), (700, vec!["EUR".to_string()]));
    }

    type Steps = Vec<(Uuid, DateTime<Utc>)>;

    #[derive(Clone, Debug)]
    enum Op {
        Lead(usize, (u8, i64, i64, u8, i64)),
        Remove(usize),
        Stages(usize, Vec<(u8, i64)>),
        Activity(u8, u8, i64, bool),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (
                0usize..8,
                (0u8..4, 0i64..200, 0i64..60, 0u8..4, 0i64..1_000_000)
            )
                .prop_map(|(i, l)| Op::Lead(i, l)),
            (0usize..8).prop_map(Op::Remove),
            (
                0usize..8,
                proptest::collection::vec((0u8..3, 0i64..200), 0..4)
            )
                .prop_map(|(i, s)| Op::Stages(i, s)),
            (0u8..3, 0u8..3, 0i64..200, any::<bool>())
                .prop_map(|(u, p, d, add)| Op::Activity(u, p, d, add)),
        ]
    }

    proptest! {
        /// A cube kept current change by change equals one built afresh
        /// from the end state.
        #[test]
        fn changes_applied_one_by_one_equal_a_fresh_build(ops in proptest::collection::vec(op(), 0..60)) {
            let tz = chrono_tz::Europe::Berlin;
            let users: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
            let ids: Vec<Uuid> = (0..8).map(|_| Uuid::now_v7()).collect();
            let stages: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
            let types: Vec<(Uuid, Option<Uuid>)> = vec![(Uuid::now_v7(), None), (Uuid::now_v7(), Some(Uuid::now_v7())), (Uuid::now_v7(), None)];
            let mut live = Cube::new(tz, rates(), kinds(&types));
            live.set_layout(layout(&stages));
            let mut leads: BTreeMap<usize, LeadKey> = BTreeMap::new();
            let mut histories: BTreeMap<usize, Vec<StageKey>> = BTreeMap::new();
            let mut acts: BTreeMap<(u8, u8, i64), i64> = BTreeMap::new();
            for o in &ops {
                match o {
                    Op::Lead(i, l) => {
                        let k = lead(ids[*i], *l, &users);
                        live.upsert_lead(&k);
                        leads.insert(*i, k);
                    }
                    Op::Remove(i) => {
                        live.remove_lead(ids[*i]);
                        leads.remove(i);
                        histories.remove(i);
                    }
                    Op::Stages(i, s) => {
                        if !leads.contains_key(i) {
                            continue;
                        }
                        let mut h: Vec<StageKey> = s.iter().map(|(st, d)| StageKey {
                            id: Uuid::now_v7(),
                            lead_id: ids[*i],
                            from_stage_id: None,
                            to_stage_id: stages[*st as usize],
                            at: at(*d, 11),
                        }).collect();
                        h.sort_by_key(|x| x.at);
                        live.set_stage_history(ids[*i], &h);
                        histories.insert(*i, h);
                    }
                    Op::Activity(u, p, d, add) => {
                        let n = acts.entry((*u, *p, *d)).or_default();
                        if !*add && *n == 0 {
                            continue;
                        }
                        *n += if *add { 1 } else { -1 };
                        let (type_id, outcome_id) = types[*p as usize];
                        live.count_activity(&ActivityKey { user: users[*u as usize], type_id, outcome_id, at: at(*d, 10), lead: Some(ids[(*d % 8) as usize]), minutes: Some((*d % 50) as i32) }, if *add { 1 } else { -1 });
                    }
                }
            }
            let mut fresh = Cube::new(tz, rates(), kinds(&types));
            for ((u, p, d), n) in &acts {
                let (type_id, outcome_id) = types[*p as usize];
                for _ in 0..*n {
                    fresh.count_activity(&ActivityKey { user: users[*u as usize], type_id, outcome_id, at: at(*d, 10), lead: Some(ids[(*d % 8) as usize]), minutes: Some((*d % 50) as i32) }, 1);
                }
            }
            for k in leads.values() {
                fresh.upsert_lead(k);
            }
            for (i, h) in &histories {
                fresh.set_stage_history(ids[*i], h);
            }
            fresh.set_layout(layout(&stages));
            let uid = |c: &Cube, n: usize| c.users.ids[n];
            let mut saved = vec![];
            live.write(&mut saved).unwrap();
            let mut reloaded = Cube::read(&mut saved.as_slice(), rates()).unwrap();
            reloaded.set_layout(layout(&stages));
            prop_assert_eq!(&reloaded.kinds, &live.kinds);
            for p in [
                Period { from: at(0, 0).date_naive(), to: at(400, 0).date_naive() },
                Period { from: at(30, 0).date_naive(), to: at(90, 0).date_naive() },
                Period { from: at(100, 0).date_naive(), to: at(101, 0).date_naive() },
            ] {
                prop_assert_eq!(live.lead_total(p, None), fresh.lead_total(p, None));
                prop_assert_eq!(observe(&live, p), observe(&fresh, p));
                prop_assert_eq!(observe(&reloaded, p), observe(&fresh, p));
                let by_user = |c: &Cube| -> BTreeMap<Uuid, LeadSums> {
                    c.lead_sums(p, None).into_iter().enumerate().filter(|(_, s)| !s.is_zero()).map(|(n, s)| (uid(c, n), s)).collect()
                };
                prop_assert_eq!(by_user(&live), by_user(&fresh));
                let counts = |c: &Cube| -> BTreeMap<(Uuid, Uuid, Option<Uuid>), i64> {
                    let mut m = BTreeMap::new();
                    for (n, row) in c.activity_counts(p, None).into_iter().enumerate() {
                        for (pi, x) in row.into_iter().enumerate() {
                            if x != 0 {
                                m.insert((uid(c, n), c.pairs[pi].0, c.pairs[pi].1), x);
                            }
                        }
                    }
                    m
                };
                prop_assert_eq!(counts(&live), counts(&fresh));
                let closed = |c: &Cube| -> Vec<Uuid> {
                    let mut v: Vec<Uuid> = c
                        .closed_in(p)
                        .map(|x| c.leads[x as usize].as_ref().unwrap().id)
                        .collect();
                    v.sort();
                    v
                };
                prop_assert_eq!(closed(&live), closed(&fresh));
                let won = |c: &Cube| -> Vec<(Uuid, i64)> {
                    let mut v: Vec<(Uuid, i64)> = c
                        .won_in(p)
                        .map(|x| (c.leads[x.lead as usize].as_ref().unwrap().id, x.cycle))
                        .collect();
                    v.sort();
                    v
                };
                prop_assert_eq!(won(&live), won(&fresh));
                let moved = |c: &Cube| -> Vec<(Uuid, Steps)> {
                    let mut v: Vec<_> = c.moved_or_closed_in(p).into_iter().map(|ix| {
                        let l = c.leads[ix as usize].as_ref().unwrap();
                        (l.id, c.steps[ix as usize].iter().map(|s| (c.stages.ids[s.to() as usize], s.at())).collect())
                    }).collect();
                    v.sort();
                    v
                };
                prop_assert_eq!(moved(&live), moved(&fresh));
            }
            prop_assert_eq!(live.lead_count(), fresh.lead_count());
            let open = |c: &Cube| -> Vec<Uuid> {
                let mut v: Vec<Uuid> = c.open_leads().map(|l| l.id).collect();
                v.sort();
                v
            };
            prop_assert_eq!(open(&live), open(&fresh));
            prop_assert_eq!(live.activity_count, fresh.activity_count);
        }
    }
}

/// Writes and reads a cube in the index snapshot (see `index.rs`): the
/// records it was built from (activity counters, leads, stage histories),
/// not what is derived from them, which loading computes again.
pub mod file {
    use super::*;
    use std::io::{self, Read, Write};

    pub fn u8_<W: Write + ?Sized>(w: &mut W, v: u8) -> io::Result<()> {
        w.write_all(&[v])
    }
    pub fn u32_<W: Write + ?Sized>(w: &mut W, v: u32) -> io::Result<()> {
        w.write_all(&v.to_le_bytes())
    }
    pub fn i64_<W: Write + ?Sized>(w: &mut W, v: i64) -> io::Result<()> {
        w.write_all(&v.to_le_bytes())
    }
    pub fn uuid<W: Write + ?Sized>(w: &mut W, v: Uuid) -> io::Result<()> {
        w.write_all(v.as_bytes())
    }
    pub fn str_<W: Write + ?Sized>(w: &mut W, v: &str) -> io::Result<()> {
        u32_(w, v.len() as u32)?;
        w.write_all(v.as_bytes())
    }
    pub fn time<W: Write + ?Sized>(w: &mut W, t: DateTime<Utc>) -> io::Result<()> {
        i64_(w, t.timestamp())?;
        u32_(w, t.timestamp_subsec_nanos())
    }
    fn opt<T: Copy, W: Write>(
        w: &mut W,
        v: Option<T>,
        f: impl Fn(&mut dyn Write, T) -> io::Result<()>,
    ) -> io::Result<()> {
        match v {
            None => u8_(w, 0),
            Some(x) => {
                u8_(w, 1)?;
                f(w, x)
            }
        }
    }

    pub fn r_u8<R: Read + ?Sized>(r: &mut R) -> io::Result<u8> {
        let mut b = [0u8; 1];
        r.read_exact(&mut b)?;
        Ok(b[0])
    }
    pub fn r_u32<R: Read + ?Sized>(r: &mut R) -> io::Result<u32> {
        let mut b = [0u8; 4];
        r.read_exact(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    pub fn r_i64<R: Read + ?Sized>(r: &mut R) -> io::Result<i64> {
        let mut b = [0u8; 8];
        r.read_exact(&mut b)?;
        Ok(i64::from_le_bytes(b))
    }
    pub fn r_uuid<R: Read + ?Sized>(r: &mut R) -> io::Result<Uuid> {
        let mut b = [0u8; 16];
        r.read_exact(&mut b)?;
        Ok(Uuid::from_bytes(b))
    }
    pub fn r_str<R: Read + ?Sized>(r: &mut R) -> io::Result<String> {
        let n = r_u32(r)? as usize;
        if n > 1 << 20 {
            return Err(bad("string too long"));
        }
        let mut b = vec![0u8; n];
        r.read_exact(&mut b)?;
        String::from_utf8(b).map_err(|_| bad("not UTF-8"))
    }
    pub fn r_time<R: Read + ?Sized>(r: &mut R) -> io::Result<DateTime<Utc>> {
        let s = r_i64(r)?;
        let n = r_u32(r)?;
        DateTime::from_timestamp(s, n).ok_or_else(|| bad("time out of range"))
    }
    fn r_opt<T, R: Read>(
        r: &mut R,
        f: impl Fn(&mut dyn Read) -> io::Result<T>,
    ) -> io::Result<Option<T>> {
        Ok(match r_u8(r)? {
            0 => None,
            _ => Some(f(r)?),
        })
    }
    pub fn bad(why: &str) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, format!("index snapshot: {why}"))
    }

    impl Cube {
        /// Writes the cube's records.
        pub fn write(&self, w: &mut impl Write) -> io::Result<()> {
            str_(w, self.tz.name())?;
            for set in [&self.kinds.selling, &self.kinds.proposal] {
                let mut ids: Vec<&Uuid> = set.iter().collect();
                ids.sort();
                u32_(w, ids.len() as u32)?;
                for id in ids {
                    uuid(w, *id)?;
                }
            }
            // Activity counters: the users and pairs, then each day's
            // non-empty block, dense.
            u32_(w, self.users.len() as u32)?;
            for id in &self.users.ids {
                uuid(w, *id)?;
            }
            u32_(w, self.pairs.len() as u32)?;
            for (t, o) in &self.pairs {
                uuid(w, *t)?;
                opt(w, *o, |w, x| uuid(w, x))?;
            }
            let days: Vec<(i32, &Vec<u32>)> = self
                .activities
                .days
                .slots
                .iter()
                .enumerate()
                .filter(|(_, b)| !b.is_empty())
                .map(|(i, b)| (self.activities.days.base + i as i32, b))
                .collect();
            u32_(w, days.len() as u32)?;
            for (day, block) in days {
                u32_(w, day as u32)?;
                for u in 0..self.users.len() {
                    for p in 0..self.pairs.len() {
                        u32_(w, block[u * self.pcap + p])?;
                    }
                }
            }
            // Minutes per day and user.
            let days: Vec<(i32, &Vec<[u32; 2]>)> = self
                .minutes
                .days
                .slots
                .iter()
                .enumerate()
                .filter(|(_, b)| !b.is_empty())
                .map(|(i, b)| (self.minutes.days.base + i as i32, b))
                .collect();
            u32_(w, days.len() as u32)?;
            for (day, block) in days {
                u32_(w, day as u32)?;
                for cell in &block[..self.users.len()] {
                    u32_(w, cell[0])?;
                    u32_(w, cell[1])?;
                }
            }
            // Proposal activities' leads per day.
            let days: Vec<(i32, &Vec<Uuid>)> = self
                .proposals
                .slots
                .iter()
                .enumerate()
                .filter(|(_, b)| !b.is_empty())
                .map(|(i, b)| (self.proposals.base + i as i32, b))
                .collect();
            u32_(w, days.len() as u32)?;
            for (day, leads) in days {
                u32_(w, day as u32)?;
                u32_(w, leads.len() as u32)?;
                for id in leads {
                    uuid(w, *id)?;
                }
            }
            // Leads, each with its stage history.
            u32_(w, self.lead_count() as u32)?;
            for (ix, l) in self.leads.iter().enumerate() {
                let Some(l) = l else { continue };
                uuid(w, l.id)?;
                uuid(w, self.users.ids[l.owner as usize])?;
                uuid(w, self.pipelines.ids[l.pipeline as usize])?;
                uuid(w, self.stages.ids[l.stage as usize])?;
                str_(w, l.status.as_str())?;
                opt(w, l.amount(), |w, m| {
                    i64_(w, m.minor)?;
                    str_(w, m.currency.code())
                })?;
                opt(w, l.probability(), |w, p| u32_(w, p as u32))?;
                opt(w, l.expected_close_date, |w, d| {
                    u32_(w, day_number(d) as u32)
                })?;
                time(w, l.created_at)?;
                opt(w, l.closed_at, |w, t| time(w, t))?;
                opt(w, (l.company != 0).then_some(l.company), |w, c| {
                    uuid(w, self.companies.ids[c as usize])
                })?;
                u8_(
                    w,
                    match l.source {
                        Source::None => 0,
                        Source::Marketing => 1,
                        Source::Sales => 2,
                        Source::Other => 3,
                    },
                )?;
                opt(w, l.mql_day, |w, d| u32_(w, day_number(d) as u32))?;
                u8_(w, u8::from(l.sql))?;
                let steps = &self.steps[ix];
                u32_(w, steps.len() as u32)?;
                for s in steps {
                    u8_(w, u8::from(s.moved()))?;
                    uuid(w, self.stages.ids[s.to() as usize])?;
                    time(w, s.at())?;
                }
            }
            Ok(())
        }

        /// Reads a cube written by [`Cube::write`], with today's rates.
        pub fn read(r: &mut impl Read, rates: RateTable) -> io::Result<Cube> {
            let tz: Tz = r_str(r)?.parse().map_err(|_| bad("time zone"))?;
            let mut kinds = Kinds::default();
            for set in [&mut kinds.selling, &mut kinds.proposal] {
                for _ in 0..r_u32(r)? {
                    set.insert(r_uuid(r)?);
                }
            }
            let mut c = Cube::new(tz, rates, kinds);
            let n = r_u32(r)? as usize;
            let mut users = Vec::with_capacity(n);
            for _ in 0..n {
                let id = r_uuid(r)?;
                users.push(c.user(id));
            }
            let n = r_u32(r)? as usize;
            let mut pairs = Vec::with_capacity(n);
            for _ in 0..n {
                let t = r_uuid(r)?;
                let o = r_opt(r, |r| r_uuid(r))?;
                pairs.push(c.pair(t, o));
            }
            let days = r_u32(r)?;
            for _ in 0..days {
                let day = NaiveDate::from_num_days_from_ce_opt(r_u32(r)? as i32)
                    .ok_or_else(|| bad("day"))?;
                let (ucap, pcap) = (c.ucap, c.pcap);
                let (block, month) = c.activities.slots_mut(day);
                for b in [&mut *block, &mut *month] {
                    if b.is_empty() {
                        *b = vec![0u32; ucap * pcap];
                    }
                }
                for u in &users {
                    for p in &pairs {
                        let n = r_u32(r)?;
                        let i = *u as usize * pcap + *p as usize;
                        block[i] = n;
                        month[i] += n;
                        c.activity_count += u64::from(n);
                    }
                }
            }
            for _ in 0..r_u32(r)? {
                let day = NaiveDate::from_num_days_from_ce_opt(r_u32(r)? as i32)
                    .ok_or_else(|| bad("day"))?;
                let ucap = c.ucap;
                let (block, month) = c.minutes.slots_mut(day);
                for b in [&mut *block, &mut *month] {
                    if b.is_empty() {
                        *b = vec![[0, 0]; ucap];
                    }
                }
                for u in &users {
                    let cell = [r_u32(r)?, r_u32(r)?];
                    let u = *u as usize;
                    block[u] = cell;
                    month[u][0] += cell[0];
                    month[u][1] += cell[1];
                }
            }
            for _ in 0..r_u32(r)? {
                let day = NaiveDate::from_num_days_from_ce_opt(r_u32(r)? as i32)
                    .ok_or_else(|| bad("day"))?;
                let n = r_u32(r)? as usize;
                let list = c.proposals.get_mut(day);
                list.reserve(n);
                for _ in 0..n {
                    list.push(r_uuid(r)?);
                }
            }
            let n = r_u32(r)?;
            let mut history = vec![];
            for _ in 0..n {
                let id = r_uuid(r)?;
                let owner = Some(r_uuid(r)?).filter(|o| !o.is_nil());
                let pipeline_id = r_uuid(r)?;
                let stage_id = r_uuid(r)?;
                let status = r_str(r)?;
                let amount = r_opt(r, |r| Ok((r_i64(r)?, r_str(r)?)))?;
                let probability = r_opt(r, |r| Ok(r_u32(r)? as i32))?;
                let expected_close_date = r_opt(r, |r| {
                    NaiveDate::from_num_days_from_ce_opt(r_u32(r)? as i32)
                        .ok_or_else(|| bad("date"))
                })?;
                let created_at = r_time(r)?;
                let closed_at = r_opt(r, |r| r_time(r))?;
                let company = r_opt(r, |r| r_uuid(r))?;
                let source = match r_u8(r)? {
                    0 => Source::None,
                    1 => Source::Marketing,
                    2 => Source::Sales,
                    3 => Source::Other,
                    _ => return Err(bad("source")),
                };
                let mql_day = r_opt(r, |r| {
                    NaiveDate::from_num_days_from_ce_opt(r_u32(r)? as i32)
                        .ok_or_else(|| bad("date"))
                })?;
                let sql = r_u8(r)? != 0;
                let status: LeadStatus = status.parse().map_err(|_| bad("status"))?;
                let amount = match amount {
                    Some((m, code)) => Some(Money::new(
                        m,
                        Currency::parse(&code).map_err(|_| bad("currency"))?,
                    )),
                    None => None,
                };
                let lead = Lead {
                    id,
                    owner: owner.map(|o| c.user(o)).unwrap_or(0),
                    pipeline: c.pipelines.intern(pipeline_id),
                    stage: c.stage_number(stage_id),
                    status,
                    amount_minor: amount.map_or(0, |m| m.minor),
                    currency: amount.map(|m| m.currency),
                    prob: prob_of(probability),
                    expected_close_date,
                    created_at,
                    closed_at,
                    created_day: c.day(created_at),
                    closed_day: closed_at.map(|t| c.day(t)),
                    revenue_minor: c.revenue_of(status, amount, closed_at).unwrap_or(i64::MIN),
                    company: company.map(|x| c.companies.intern(x)).unwrap_or(0),
                    source,
                    mql_day,
                    sql,
                };
                c.put_lead(lead);
                let steps = r_u32(r)?;
                history.clear();
                for _ in 0..steps {
                    let moved = r_u8(r)? != 0;
                    let to_stage_id = r_uuid(r)?;
                    let at = r_time(r)?;
                    history.push(StageKey {
                        id: Uuid::nil(),
                        lead_id: id,
                        // What `moved` says is all the index keeps.
                        from_stage_id: (!moved).then_some(to_stage_id),
                        to_stage_id,
                        at,
                    });
                }
                for h in &history {
                    c.push_step(h);
                }
            }
            c.shrink();
            Ok(c)
        }
    }
}
