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
//!
//! A cube is built from the tables (the live index, see `index.rs`) or from
//! the facts a report read for a filter the live index does not carry (a
//! pipeline): the reports run the same code on either. Every change is an
//! exact inverse pair (remove what a lead contributed, add what it
//! contributes now), so a cube kept current change by change equals one
//! built afresh; the tests check that.

use crate::rates::RateTable;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use salesops_domain::periods::Period;
use salesops_domain::{Currency, LeadStatus, Money};
use salesops_store::feed::{LeadKey, StageKey};
use std::collections::HashMap;
use uuid::Uuid;

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

    pub fn is_zero(&self) -> bool {
        *self == LeadSums::default()
    }
}

/// A lead as the index keeps it.
#[derive(Clone, Debug)]
pub struct Lead {
    pub id: Uuid,
    /// The owner's user number (0: nobody).
    pub owner: u32,
    pub pipeline: Uuid,
    pub stage: Uuid,
    pub status: LeadStatus,
    pub amount: Option<Money>,
    pub probability: Option<i32>,
    pub expected_close_date: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// A won lead's amount in the base currency at the rate of its close
    /// day (`None`: not won, no amount or no rate).
    pub revenue: Option<i64>,
}

/// A stage change of a lead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    pub from: Option<u32>,
    /// The stage (numbered in [`Cube::stages`]).
    pub to: u32,
    pub at: DateTime<Utc>,
}

/// A change to what the index counts of activities: one done activity of
/// `user`, `pair` and local `day` more (`+1`) or less (`-1`).
#[derive(Clone, Copy, Debug)]
pub struct ActivityKey {
    pub user: Uuid,
    pub type_id: Uuid,
    pub outcome_id: Option<Uuid>,
    pub at: DateTime<Utc>,
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
    /// Per day: counts laid out `[user][pair]`, `ucap × pcap`; empty for
    /// a day without activities.
    activities: DayVec<Vec<u32>>,
    ucap: usize,
    pcap: usize,
    /// The number of done activities counted.
    pub activity_count: u64,
    pub leads: Vec<Option<Lead>>,
    lead_ix: HashMap<Uuid, u32>,
    free: Vec<u32>,
    pub steps: Vec<Vec<Step>>,
    /// Per day: per user number, what leads add up to.
    lead_sums: DayVec<Vec<LeadSums>>,
    /// Per day: the same over every owner.
    lead_totals: DayVec<LeadSums>,
    /// Per day: the leads closed that day.
    closed_on: DayVec<Vec<u32>>,
    /// Per day: the leads with a stage change that day (once per change).
    moved_on: DayVec<Vec<u32>>,
}

impl Cube {
    pub fn new(tz: Tz, rates: RateTable) -> Cube {
        let mut users = Dict::default();
        users.intern(Uuid::nil());
        let mut c = Cube {
            tz,
            base: rates.base,
            rates,
            users,
            pairs: vec![],
            pair_ix: HashMap::new(),
            stages: Dict::default(),
            activities: DayVec::default(),
            ucap: 0,
            pcap: 0,
            activity_count: 0,
            leads: vec![],
            lead_ix: HashMap::new(),
            free: vec![],
            steps: vec![],
            lead_sums: DayVec::default(),
            lead_totals: DayVec::default(),
            closed_on: DayVec::default(),
            moved_on: DayVec::default(),
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
        let ucap = if users > self.ucap {
            users.next_power_of_two().max(16)
        } else {
            self.ucap
        };
        let pcap = if pairs > self.pcap {
            pairs.next_power_of_two().max(8)
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
                block.resize(ucap, LeadSums::default());
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
        let block = self.activities.get_mut(day);
        if block.is_empty() {
            *block = vec![0; ucap * pcap];
        }
        let cell = &mut block[u * pcap + p];
        if sign > 0 {
            *cell += 1;
            self.activity_count += 1;
        } else if *cell > 0 {
            *cell -= 1;
            self.activity_count -= 1;
        } else {
            tracing::warn!("analytic index: an activity removed that was never counted");
        }
    }

    /// Per user number, the activity counts per pair over the days of `p`
    /// for the users `only` (every user when `None`).
    pub fn activity_counts(&self, p: Period, only: Option<&[u32]>) -> Vec<Vec<i64>> {
        let n = self.pairs.len();
        let mut out = vec![vec![0i64; n]; self.users.len()];
        for block in self.activities.range(p) {
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
        for block in self.activities.range(p) {
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
        let close_day = l.closed_at.map(|c| self.day(c));
        if let Some(c) = l.closed_at {
            match l.status {
                LeadStatus::Won => {
                    closed.won = 1;
                    match l.revenue {
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
            (self.day(l.created_at), created),
            (close_day.unwrap_or(self.day(l.created_at)), closed),
        ]
    }

    fn apply_lead(&mut self, ix: u32, sign: i64) {
        let Some(l) = self.leads[ix as usize].as_ref() else {
            return;
        };
        let owner = l.owner as usize;
        let closed = l.closed_at.map(|c| self.day(c));
        let parts = self.contribution(l);
        let ucap = self.ucap;
        for (day, sums) in parts {
            if sums.is_zero() {
                continue;
            }
            let block = self.lead_sums.get_mut(day);
            if block.is_empty() {
                block.resize(ucap, LeadSums::default());
            }
            block[owner].apply(&sums, sign);
            self.lead_totals.get_mut(day).apply(&sums, sign);
        }
        if let Some(day) = closed {
            let list = self.closed_on.get_mut(day);
            if sign > 0 {
                list.push(ix);
            } else if let Some(i) = list.iter().position(|x| *x == ix) {
                list.swap_remove(i);
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
            pipeline: k.pipeline_id,
            stage: k.stage_id,
            status,
            amount,
            probability: k.probability,
            expected_close_date: k.expected_close_date,
            created_at: k.created_at,
            closed_at: k.closed_at,
            revenue: self.revenue_of(status, amount, k.closed_at),
        };
        let ix = match self.lead_ix.get(&k.id).copied() {
            Some(ix) => {
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
                self.lead_ix.insert(k.id, ix);
                ix
            }
        };
        self.leads[ix as usize] = Some(lead);
        self.apply_lead(ix, 1);
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

    pub fn lead_number(&self, id: &Uuid) -> Option<u32> {
        self.lead_ix.get(id).copied()
    }

    /// Replaces the stage history of a lead by `history` (in time order).
    pub fn set_stage_history(&mut self, lead: Uuid, history: &[StageKey]) {
        let Some(ix) = self.lead_ix.get(&lead).copied() else {
            return;
        };
        let steps = history
            .iter()
            .map(|h| Step {
                from: h.from_stage_id.map(|s| self.stages.intern(s)),
                to: self.stages.intern(h.to_stage_id),
                at: h.at,
            })
            .collect();
        self.set_steps(ix, steps);
    }

    fn set_steps(&mut self, ix: u32, steps: Vec<Step>) {
        let old = std::mem::take(&mut self.steps[ix as usize]);
        for s in &old {
            let list = self
                .moved_on
                .get_mut(s.at.with_timezone(&self.tz).date_naive());
            if let Some(i) = list.iter().position(|x| *x == ix) {
                list.swap_remove(i);
            }
        }
        for s in &steps {
            let day = s.at.with_timezone(&self.tz).date_naive();
            self.moved_on.get_mut(day).push(ix);
        }
        self.steps[ix as usize] = steps;
    }

    /// Converts the revenue again after the rates changed.
    pub fn set_rates(&mut self, rates: RateTable) {
        self.rates = rates;
        self.lead_sums.clear();
        self.lead_totals.clear();
        self.closed_on.clear();
        for ix in 0..self.leads.len() {
            if let Some(l) = &self.leads[ix] {
                let revenue = self.revenue_of(l.status, l.amount, l.closed_at);
                if let Some(l) = self.leads[ix].as_mut() {
                    l.revenue = revenue;
                }
                self.apply_lead(ix as u32, 1);
            }
        }
    }

    /// Per user number, the lead sums over the days of `p`.
    pub fn lead_sums(&self, p: Period, only: Option<&[u32]>) -> Vec<LeadSums> {
        let mut out = vec![LeadSums::default(); self.users.len()];
        for block in self.lead_sums.range(p) {
            if block.is_empty() {
                continue;
            }
            match only {
                Some(us) => {
                    for u in us {
                        out[*u as usize].add(&block[*u as usize]);
                    }
                }
                None => {
                    for (o, s) in out.iter_mut().zip(block) {
                        o.add(s);
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
            None => self.lead_totals.range(p).iter().for_each(|s| out.add(s)),
            Some(us) => {
                for block in self.lead_sums.range(p) {
                    if !block.is_empty() {
                        us.iter().for_each(|u| out.add(&block[*u as usize]));
                    }
                }
            }
        }
        out
    }

    /// The leads closed on the days of `p`.
    pub fn closed_in(&self, p: Period) -> impl Iterator<Item = &Lead> {
        self.closed_on
            .range(p)
            .iter()
            .flatten()
            .filter_map(|ix| self.leads[*ix as usize].as_ref())
    }

    /// The leads (numbers) with a stage change or closed on the days of
    /// `p`, each once.
    pub fn moved_or_closed_in(&self, p: Period) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .moved_on
            .range(p)
            .iter()
            .flatten()
            .chain(self.closed_on.range(p).iter().flatten())
            .copied()
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Every lead.
    pub fn all_leads(&self) -> impl Iterator<Item = &Lead> {
        self.leads.iter().flatten()
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
        activities: &[salesops_store::analytics::ActivityFact],
        leads: &[salesops_store::analytics::LeadFact],
        stages: &[salesops_store::analytics::StageFact],
    ) -> Cube {
        let mut c = Cube::new(tz, rates);
        for a in activities {
            c.count_activity(
                &ActivityKey {
                    user: a.user_id,
                    type_id: a.type_id,
                    outcome_id: a.outcome_id,
                    at: a.happened_at,
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
            probability: None,
            expected_close_date: None,
            owner_id: users.get(owner as usize).copied(),
            closed_at: (status != "open").then(|| at(c + d, 15)),
            created_at: at(c, 9),
        }
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
            let mut live = Cube::new(tz, rates());
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
                        live.count_activity(&ActivityKey { user: users[*u as usize], type_id, outcome_id, at: at(*d, 10) }, if *add { 1 } else { -1 });
                    }
                }
            }
            let mut fresh = Cube::new(tz, rates());
            for ((u, p, d), n) in &acts {
                let (type_id, outcome_id) = types[*p as usize];
                for _ in 0..*n {
                    fresh.count_activity(&ActivityKey { user: users[*u as usize], type_id, outcome_id, at: at(*d, 10) }, 1);
                }
            }
            for k in leads.values() {
                fresh.upsert_lead(k);
            }
            for (i, h) in &histories {
                fresh.set_stage_history(ids[*i], h);
            }
            let uid = |c: &Cube, n: usize| c.users.ids[n];
            for p in [
                Period { from: at(0, 0).date_naive(), to: at(400, 0).date_naive() },
                Period { from: at(30, 0).date_naive(), to: at(90, 0).date_naive() },
                Period { from: at(100, 0).date_naive(), to: at(101, 0).date_naive() },
            ] {
                prop_assert_eq!(live.lead_total(p, None), fresh.lead_total(p, None));
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
                    let mut v: Vec<Uuid> = c.closed_in(p).map(|l| l.id).collect();
                    v.sort();
                    v
                };
                prop_assert_eq!(closed(&live), closed(&fresh));
                let moved = |c: &Cube| -> Vec<(Uuid, Steps)> {
                    let mut v: Vec<_> = c.moved_or_closed_in(p).into_iter().map(|ix| {
                        let l = c.leads[ix as usize].as_ref().unwrap();
                        (l.id, c.steps[ix as usize].iter().map(|s| (c.stages.ids[s.to as usize], s.at)).collect())
                    }).collect();
                    v.sort();
                    v
                };
                prop_assert_eq!(moved(&live), moved(&fresh));
            }
            prop_assert_eq!(live.lead_count(), fresh.lead_count());
            prop_assert_eq!(live.activity_count, fresh.activity_count);
        }
    }
}
