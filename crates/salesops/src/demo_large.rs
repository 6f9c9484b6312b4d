//! The benchmark organisation (`salesops demo --size large`): 1,000 reps in
//! 50 teams of 20 under managers, 2,000,000 leads with about 6,000,000
//! stage changes and 20,000,000 activities over three years, deterministic
//! for a seed.
//!
//! The data is generated on a thread of its own, in chunks, and written
//! chunk by chunk (one transaction each, multi-row INSERTs) while the next
//! chunk is being generated. Leads come in the order they were created;
//! their stage changes and activities are held back until no later lead
//! can bring an earlier one, and are then written in id order (their ids
//! are time-ordered), so the primary keys grow at their end as they would
//! in a live database. In memory are a chunk, the rows held back (about
//! the work of the last months on the leads still open), the rep list and
//! the company index. As in the small set, stronger reps make more calls
//! and win more; conversion falls stage by stage; some deals rot in their
//! stage. On top of the work on leads, account managers keep in touch with
//! their customers (calls, e-mails and meetings outside a deal), which
//! brings the activities to exactly the planned count.

use crate::demo::{DEMO_PASSWORD, Login, ORG_NAME};
use crate::demo_data::{self as words, Rng};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use salesops_app::pipelines::{PipelineInput, StageInput};
use salesops_app::{Actor, App};
use salesops_domain::{
    ActivityId, ActivityKind, ActivityTypeId, CompanyId, ContactId, ForecastCategory, HistoryId,
    LeadId, LeadStatus, Locale, OrgId, PipelineId, Role, Segment, StageId, TeamId, UserId,
};
use salesops_store::activities::Activity;
use salesops_store::crm::{Company, Contact};
use salesops_store::leads::{HistoryEntry, Lead};
use salesops_store::{
    Backend, Conn, Db, Inserts, StoreError, activities, bulk, crm, leads, now, teams, users,
};
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Instant;
use uuid::Uuid;

/// Teams are grouped in regions of `TEAMS_PER_REGION` under a head of region.
pub const TEAMS_PER_REGION: usize = 10;
const LEADS_PER_COMPANY: usize = 5;
/// Companies are created from this many days before the history starts,
/// until this share of the history has passed.
const COMPANIES_BEFORE: i64 = 180;
const COMPANIES_UNTIL: f64 = 0.55;
/// Chance a lead is owned by its company's account owner.
const ACCOUNT_OWNER_LEADS: f64 = 0.75;
/// Base chance to move on from each stage (a strong rep does better):
/// qualifying weeds out most leads; after it, the later the stage, the
/// harder the step. About three stage changes a lead (with its creation
/// and its close), one lead in ten won.
const ADVANCE: [f64; 5] = [0.40, 0.68, 0.64, 0.60, 0.58];

/// How big the generated organisation is.
#[derive(Clone, Debug)]
pub struct Plan {
    pub reps: usize,
    /// Reps per team; every team has a manager.
    pub reps_per_team: usize,
    pub leads: usize,
    /// Activities in all: the work on the leads, topped up with account care
    /// to this count (the work on the leads alone takes about 80 % of it when
    /// there are ten activities per lead).
    pub activities: usize,
    /// Leads per chunk; a chunk is written in one transaction.
    pub leads_per_chunk: usize,
    /// Days of history before `today`.
    pub history_days: i64,
    /// The end of the history; scheduled activities are due around it.
    /// Counts, amounts and outcomes do not depend on it.
    pub today: DateTime<Utc>,
}

impl Plan {
    /// The benchmark organisation.
    pub fn large(today: DateTime<Utc>) -> Plan {
        Plan {
            reps: 1_000,
            reps_per_team: 20,
            leads: 2_000_000,
            activities: 20_000_000,
            leads_per_chunk: 10_000,
            history_days: 1_095,
            today,
        }
    }

    pub fn companies(&self) -> usize {
        self.leads.div_ceil(LEADS_PER_COMPANY).max(1)
    }

    fn teams(&self) -> usize {
        self.reps.div_ceil(self.reps_per_team.max(1))
    }

    fn regions(&self) -> usize {
        self.teams().div_ceil(TEAMS_PER_REGION)
    }

    fn companies_per_chunk(&self) -> usize {
        (self.leads_per_chunk * 4).max(1)
    }

    /// Days over which the companies are created (from `COMPANIES_BEFORE`
    /// days before the history starts).
    fn company_days(&self) -> i64 {
        COMPANIES_BEFORE + (self.history_days as f64 * COMPANIES_UNTIL) as i64
    }
}

/// What was generated and written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub users: usize,
    pub teams: usize,
    pub companies: usize,
    pub contacts: usize,
    pub leads: usize,
    pub history: usize,
    pub activities: usize,
    /// Activities on leads (the rest is account care).
    pub lead_activities: usize,
    pub won: usize,
    pub lost: usize,
    pub cancelled: usize,
    pub open: usize,
    /// Sum of all lead amounts, in minor units (mixed EUR and CHF).
    pub amount_minor: i64,
    pub won_amount_minor: i64,
}

impl Stats {
    /// Rows of the bulk tables (companies, contacts, leads, their history, activities).
    pub fn rows(&self) -> usize {
        self.companies + self.contacts + self.leads + self.history + self.activities
    }
}

/// The result of a load: what was written and how long the bulk part took.
pub struct Summary {
    pub stats: Stats,
    /// Seconds of the bulk part: inserts, then (in bulk-load mode) indexes,
    /// checks and statistics.
    pub seconds: f64,
    /// Seconds of the inserts alone.
    pub insert_seconds: f64,
    /// Bulk-load mode: the settings it ran with and how long its end took.
    pub bulk: Option<(bulk::Mode, bulk::Finished)>,
}

impl Summary {
    /// Rows per second over the whole bulk part.
    pub fn rows_per_second(&self) -> f64 {
        self.stats.rows() as f64 / self.seconds.max(1e-9)
    }

    /// Rows per second of the inserts alone.
    pub fn insert_rows_per_second(&self) -> f64 {
        self.stats.rows() as f64 / self.insert_seconds.max(1e-9)
    }
}

struct Person {
    id: UserId,
    email: String,
    name: String,
    role: Role,
    hire_date: NaiveDate,
    /// How good a seller the person is (reps only; 1.0 is average).
    skill: f64,
}

struct TeamPlan {
    id: TeamId,
    name: String,
    segment: Segment,
    manager: usize,
    parent: Option<usize>,
    members: Vec<usize>,
}

/// The people and teams of the organisation.
struct People {
    people: Vec<Person>,
    teams: Vec<TeamPlan>,
    /// Indexes of the reps in `people`.
    reps: Vec<usize>,
}

const REGIONS: [&str; 10] = [
    "Nord",
    "Süd",
    "West",
    "Ost",
    "Mitte",
    "Rhein-Main",
    "Bayern",
    "Baden",
    "Sachsen",
    "Hanse",
];

fn ascii(s: &str) -> String {
    s.to_lowercase()
        .replace('ä', "ae")
        .replace('ö', "oe")
        .replace('ü', "ue")
        .replace('ß', "ss")
}

fn random10(rng: &mut Rng) -> [u8; 10] {
    let (a, b) = (rng.next(), rng.next());
    let mut r = [0u8; 10];
    r[..8].copy_from_slice(&a.to_le_bytes());
    r[8..].copy_from_slice(&b.to_le_bytes()[..2]);
    r
}

fn millis(t: DateTime<Utc>) -> u64 {
    t.timestamp_millis().max(0) as u64
}

/// Roughly normal with mean 0 and deviation 1 (the sum of three uniforms).
fn normalish(rng: &mut Rng) -> f64 {
    (rng.f() + rng.f() + rng.f() - 1.5) * 2.0
}

fn plan_people(plan: &Plan, rng: &mut Rng) -> People {
    let today = plan.today.date_naive();
    let mut people = Vec::new();
    let mut person = |rng: &mut Rng, email: Option<&str>, role: Role, years: (i64, i64)| {
        let (first, last) = (*rng.pick(&words::FIRST), *rng.pick(&words::LAST));
        let n = people.len();
        let hire_date = today - Duration::days(rng.range(years.0 * 365, years.1 * 365));
        let skill = (1.0 + 0.25 * normalish(rng)).clamp(0.55, 1.5);
        let id = UserId::at_millis(
            millis(hire_date.and_time(Default::default()).and_utc()),
            random10(rng),
        );
        people.push(Person {
            id,
            email: email
                .map(str::to_string)
                .unwrap_or_else(|| format!("{}.{}{n}@nordwind.example", ascii(first), ascii(last))),
            name: format!("{first} {last}"),
            role,
            hire_date,
            skill,
        });
        n
    };
    person(rng, Some("admin@nordwind.example"), Role::Admin, (5, 8));
    person(rng, Some("ops@nordwind.example"), Role::Ops, (2, 6));
    person(rng, Some("viewer@nordwind.example"), Role::Viewer, (2, 9));
    let heads: Vec<usize> = (0..plan.regions())
        .map(|_| person(rng, None, Role::Manager, (4, 12)))
        .collect();
    let managers: Vec<usize> = (0..plan.teams())
        .map(|_| person(rng, None, Role::Manager, (2, 10)))
        .collect();
    let reps: Vec<usize> = (0..plan.reps)
        .map(|_| person(rng, None, Role::Rep, (0, 8)))
        .collect();
    let mut teams = Vec::new();
    for (r, head) in heads.iter().enumerate() {
        let region = REGIONS[r % REGIONS.len()];
        let name = if r < REGIONS.len() {
            format!("Region {region}")
        } else {
            format!("Region {region} {}", r / REGIONS.len() + 1)
        };
        teams.push(TeamPlan {
            id: TeamId::at_millis(millis(plan.today), random10(rng)),
            name,
            segment: Segment::Sales,
            manager: *head,
            parent: None,
            members: managers
                .iter()
                .skip(r * TEAMS_PER_REGION)
                .take(TEAMS_PER_REGION)
                .copied()
                .collect(),
        });
    }
    for (t, manager) in managers.iter().enumerate() {
        let region = t / TEAMS_PER_REGION;
        let (segment, label) = match rng.below(20) {
            0..=11 => (Segment::Sales, "Vertrieb"),
            12..=15 => (Segment::Prospecting, "Kaltakquise"),
            16..=18 => (Segment::AccountManagement, "Bestandskunden"),
            _ => (Segment::Marketing, "Marketing"),
        };
        teams.push(TeamPlan {
            id: TeamId::at_millis(millis(plan.today), random10(rng)),
            name: format!("{} {label} {}", REGIONS[region % REGIONS.len()], t + 1),
            segment,
            manager: *manager,
            parent: Some(region),
            members: reps
                .iter()
                .skip(t * plan.reps_per_team)
                .take(plan.reps_per_team)
                .copied()
                .collect(),
        });
    }
    People {
        people,
        teams,
        reps,
    }
}

/// The logins worth printing: admin, ops, viewer, a manager and a rep.
fn logins(p: &People) -> Vec<Login> {
    let first = |role: Role| p.people.iter().find(|x| x.role == role);
    [
        Role::Admin,
        Role::Ops,
        Role::Manager,
        Role::Rep,
        Role::Viewer,
    ]
    .into_iter()
    .filter_map(first)
    .map(|x| Login {
        email: x.email.clone(),
        role: x.role,
    })
    .collect()
}

#[derive(Clone)]
struct PipelineRef {
    id: PipelineId,
    stages: Vec<StageId>,
}

#[derive(Clone, Copy)]
struct TypeRef {
    id: ActivityTypeId,
    positive: Option<Uuid>,
    negative: Option<Uuid>,
}

impl TypeRef {
    fn outcome(&self, positive: bool) -> Option<Uuid> {
        if positive {
            self.positive
        } else {
            self.negative
        }
    }
}

/// The settings rows the generated data refers to.
struct Refs {
    org: OrgId,
    acquisition: PipelineRef,
    upsell: PipelineRef,
    call: TypeRef,
    email: TypeRef,
    meeting: TypeRef,
    proposal: TypeRef,
}

#[derive(Clone, Copy)]
struct Seller {
    id: UserId,
    skill: f64,
}

/// What the generator keeps of a company for the leads that follow.
struct Account {
    id: CompanyId,
    owner: u32,
    first_contact: u32,
    contacts: u8,
    /// Indexes into PREFIXES, SUFFIXES, LEGAL: the company's name.
    name: [u8; 3],
}

impl Account {
    fn short_name(&self) -> String {
        format!(
            "{}{} {}",
            words::PREFIXES[self.name[0] as usize],
            words::SUFFIXES[self.name[1] as usize],
            words::LEGAL[self.name[2] as usize]
        )
    }
}

/// One transaction's worth of rows.
pub(crate) enum Chunk {
    Accounts {
        companies: Vec<Company>,
        contacts: Vec<Contact>,
    },
    Deals {
        leads: Vec<Lead>,
        history: Vec<HistoryEntry>,
        activities: Vec<Activity>,
    },
}

impl Chunk {
    fn rows(&self) -> usize {
        match self {
            Chunk::Accounts {
                companies,
                contacts,
            } => companies.len() + contacts.len(),
            Chunk::Deals {
                leads,
                history,
                activities,
            } => leads.len() + history.len() + activities.len(),
        }
    }
}

/// Generates the companies, then the leads with their history and
/// activities, a chunk at a time, from one random stream.
pub(crate) struct Generator {
    plan: Plan,
    refs: Refs,
    sellers: Vec<Seller>,
    rng: Rng,
    start: DateTime<Utc>,
    accounts: Vec<Account>,
    contact_ids: Vec<Uuid>,
    next_lead: usize,
    held_history: HeldBack<HistoryEntry>,
    held_activities: HeldBack<Activity>,
    stats: Stats,
}

/// Rows held back until no later lead can bring an earlier one, by day of
/// the history their id's time falls on.
struct HeldBack<T> {
    by_day: BTreeMap<i64, Vec<T>>,
}

impl<T> HeldBack<T> {
    fn new() -> Self {
        HeldBack {
            by_day: BTreeMap::new(),
        }
    }

    fn hold(&mut self, day: i64, row: T) {
        self.by_day.entry(day).or_default().push(row);
    }

    /// The rows of the days before `day` (all of them for `None`), sorted by `key`.
    fn release<K: Ord>(&mut self, day: Option<i64>, key: impl Fn(&T) -> K) -> Vec<T> {
        let later = match day {
            Some(d) => self.by_day.split_off(&d),
            None => BTreeMap::new(),
        };
        let earlier = std::mem::replace(&mut self.by_day, later);
        let mut rows = Vec::with_capacity(earlier.values().map(Vec::len).sum());
        for (_, day) in earlier {
            rows.extend(day);
        }
        rows.sort_unstable_by_key(key);
        rows
    }
}

/// The Unix time (milliseconds) a time-ordered id carries.
fn id_millis(id: &Uuid) -> i64 {
    let b = id.as_bytes();
    let mut ms = [0u8; 8];
    ms[2..].copy_from_slice(&b[..6]);
    i64::from_be_bytes(ms)
}

impl Generator {
    fn new(plan: Plan, refs: Refs, sellers: Vec<Seller>, seed: u64) -> Generator {
        let start = plan.today - Duration::days(plan.history_days);
        Generator {
            // A stream of its own, apart from the one the people came from.
            rng: Rng(seed ^ 0xA5A5_A5A5_A5A5_A5A5),
            start,
            accounts: Vec::with_capacity(plan.companies()),
            contact_ids: Vec::new(),
            next_lead: 0,
            held_history: HeldBack::new(),
            held_activities: HeldBack::new(),
            stats: Stats::default(),
            plan,
            refs,
            sellers,
        }
    }

    fn company_start(&self) -> DateTime<Utc> {
        self.start - Duration::days(COMPANIES_BEFORE)
    }

    /// How many companies exist at `t` (companies are created in index order).
    fn companies_at(&self, t: DateTime<Utc>) -> usize {
        let span = Duration::days(self.plan.company_days()).num_minutes() as f64;
        let frac = (t - self.company_start()).num_minutes() as f64 / span;
        ((frac * self.accounts.len() as f64) as usize).clamp(1, self.accounts.len())
    }

    pub(crate) fn next_chunk(&mut self) -> Option<Chunk> {
        let total = self.plan.companies();
        if self.accounts.len() < total {
            let n = self
                .plan
                .companies_per_chunk()
                .min(total - self.accounts.len());
            return Some(self.companies(n));
        }
        if self.next_lead < self.plan.leads {
            let n = self
                .plan
                .leads_per_chunk
                .max(1)
                .min(self.plan.leads - self.next_lead);
            return Some(self.deals(n));
        }
        None
    }

    fn companies(&mut self, n: usize) -> Chunk {
        let total = self.plan.companies();
        let org = self.refs.org;
        let mut companies = Vec::with_capacity(n);
        let mut contacts = Vec::with_capacity(n * 2);
        for _ in 0..n {
            let i = self.accounts.len();
            let rng = &mut self.rng;
            let offset = (i as f64 + rng.f()) / total as f64;
            let created = self.start - Duration::days(COMPANIES_BEFORE)
                + Duration::minutes((offset * (self.plan.company_days() * 1440) as f64) as i64);
            let name = [
                rng.below(words::PREFIXES.len()) as u8,
                rng.below(words::SUFFIXES.len()) as u8,
                rng.below(words::LEGAL.len()) as u8,
            ];
            let (city, postcode, region) = *rng.pick(&words::CITIES);
            let owner = rng.below(self.sellers.len());
            let id = CompanyId::at_millis(millis(created), random10(rng));
            let account = Account {
                id,
                owner: owner as u32,
                first_contact: self.contact_ids.len() as u32,
                contacts: rng.range(1, 3) as u8,
                name,
            };
            let short = account.short_name();
            let domain = format!(
                "{}{i}.example",
                ascii(short.split_whitespace().next().unwrap_or("firma"))
            );
            let owner_id = Some(self.sellers[owner].id.0);
            companies.push(Company {
                org_id: org,
                id,
                name: format!("{short} ({city})"),
                industry: Some(rng.pick(&words::INDUSTRIES).to_string()),
                size_band: Some(rng.pick(&words::SIZES).to_string()),
                country: Some("DE".into()),
                region: Some(region.into()),
                postcode: Some(postcode.into()),
                city: Some(city.into()),
                website: Some(format!("https://www.{domain}")),
                phone: Some(format!(
                    "+49 {} {}",
                    rng.range(30, 99),
                    rng.range(100_000, 999_999)
                )),
                problems: None,
                value_minor: None,
                value_currency: None,
                owner_id,
                // Zero-padded: the unique index on external ids grows at its end.
                external_id: Some(format!("bench-co-{i:08}")),
                created_at: created,
                updated_at: created,
                version: 1,
            });
            for j in 0..account.contacts {
                let (first, last) = (*rng.pick(&words::FIRST), *rng.pick(&words::LAST));
                let id = ContactId::at_millis(millis(created), random10(rng));
                self.contact_ids.push(id.0);
                contacts.push(Contact {
                    org_id: org,
                    id,
                    company_id: Some(account.id.0),
                    name: format!("{first} {last}"),
                    job_title: Some(rng.pick(&words::TITLES).to_string()),
                    email: Some(format!("{}.{}@{domain}", ascii(first), ascii(last))),
                    phone: None,
                    notes: None,
                    owner_id,
                    external_id: Some(format!("bench-ct-{i:08}-{j}")),
                    created_at: created,
                    updated_at: created,
                    version: 1,
                });
            }
            self.accounts.push(account);
        }
        self.stats.companies += companies.len();
        self.stats.contacts += contacts.len();
        Chunk::Accounts {
            companies,
            contacts,
        }
    }

    fn contact_of(&mut self, company: usize) -> Uuid {
        let a = &self.accounts[company];
        let k = self.rng.below(a.contacts as usize);
        self.contact_ids[a.first_contact as usize + k]
    }

    /// When lead `i` comes in: more recent months see more business.
    fn lead_created(&mut self, i: usize) -> DateTime<Utc> {
        let u = (i as f64 + self.rng.f()) / self.plan.leads as f64;
        let day = self.lead_day(u);
        self.start + Duration::days(day) + Duration::minutes(self.rng.range(8 * 60, 17 * 60))
    }

    /// The day of the history (from `start`) of a lead at `u` (0 to 1)
    /// through the leads: lead `i` comes at `u` from `i / leads` to
    /// `(i + 1) / leads`, so no lead after `i` comes on a day before
    /// `lead_day(i / leads)`.
    fn lead_day(&self, u: f64) -> i64 {
        (u.sqrt() * (self.plan.history_days - 8) as f64) as i64
    }

    /// The day of the history `t` falls on.
    fn day_of(&self, unix_millis: i64) -> i64 {
        (unix_millis - self.start.timestamp_millis()).div_euclid(86_400_000)
    }

    fn deals(&mut self, n: usize) -> Chunk {
        let mut out = DealRows::default();
        let first = self.next_lead;
        let mut from = None;
        let mut to = self.start;
        for i in first..first + n {
            let created = self.lead_created(i);
            from.get_or_insert(created);
            to = to.max(created);
            self.lead(i, created, &mut out);
        }
        self.next_lead += n;
        self.stats.lead_activities += out.activities.len();
        // Account care fills the activities up to the plan's share of the
        // leads written so far.
        let due = (self.plan.activities as u128 * self.next_lead as u128
            / self.plan.leads.max(1) as u128) as usize;
        let so_far = self.stats.activities + out.activities.len();
        let from = from.unwrap_or(self.start);
        for _ in so_far..due.max(so_far) {
            let a = self.account_activity(from, to.max(from));
            out.activities.push(a);
        }
        self.stats.leads += out.leads.len();
        self.stats.history += out.history.len();
        self.stats.activities += out.activities.len();
        // Every stage change and activity happens after its lead came in.
        // What falls on a day before the first day a later lead can come on
        // is complete: it goes out now, in id order, after everything that
        // went out before (all of it earlier), so the primary keys grow at
        // their end.
        for h in out.history {
            self.held_history.hold(self.day_of(id_millis(&h.id.0)), h);
        }
        for a in out.activities {
            self.held_activities
                .hold(self.day_of(id_millis(&a.id.0)), a);
        }
        let complete = (self.next_lead < self.plan.leads)
            .then(|| self.lead_day(self.next_lead as f64 / self.plan.leads as f64));
        Chunk::Deals {
            leads: out.leads,
            history: self.held_history.release(complete, |h| h.id),
            activities: self.held_activities.release(complete, |a| a.id),
        }
    }

    /// A call, e-mail or meeting of an account owner with a customer,
    /// outside a deal, between `from` and `to`.
    fn account_activity(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> Activity {
        let span = (to - from).num_minutes().max(1);
        let when = from + Duration::minutes(self.rng.range(0, span));
        let company = self.rng.below(self.companies_at(when));
        let contact = self.contact_of(company);
        let (company_id, owner) = {
            let a = &self.accounts[company];
            (a.id.0, self.sellers[a.owner as usize].id)
        };
        let r = &self.refs;
        let (t, outcome, minutes) = match self.rng.below(20) {
            0..=9 => {
                let answered = self.rng.chance(0.6);
                (r.call, r.call.outcome(answered), (3, 20))
            }
            10..=16 => (r.email, r.email.outcome(true), (5, 10)),
            _ => {
                let held = self.rng.chance(0.85);
                (r.meeting, r.meeting.outcome(held), (30, 90))
            }
        };
        done_activity(
            &mut self.rng,
            r.org,
            t.id,
            outcome,
            owner,
            (None, Some(company_id), Some(contact)),
            when,
            minutes,
        )
    }

    /// One lead, walked through the stages of its pipeline.
    fn lead(&mut self, i: usize, created: DateTime<Utc>, out: &mut DealRows) {
        let org = self.refs.org;
        let at = self.plan.today;
        let company = self.rng.below(self.companies_at(created));
        let owner = if self.rng.chance(ACCOUNT_OWNER_LEADS) {
            self.sellers[self.accounts[company].owner as usize]
        } else {
            *self.rng.pick(&self.sellers)
        };
        let contact = self.contact_of(company);
        let refs = &self.refs;
        let rng = &mut self.rng;
        let upsell = rng.chance(0.15);
        let p = if upsell {
            &refs.upsell
        } else {
            &refs.acquisition
        };
        let amount = ((8_000.0 * (rng.f() * 2.6).exp()) / 100.0).round() as i64 * 100 * 100;
        let currency = if rng.chance(0.03) { "CHF" } else { "EUR" };
        let source = *rng.pick(&[
            "marketing",
            "marketing",
            "sales",
            "sales",
            "partner",
            "referral",
            "event",
        ]);
        let title = format!(
            "{} für {}",
            rng.pick(&words::PRODUCTS),
            self.accounts[company].short_name()
        );
        let campaign = (source == "marketing").then(|| format!("Kampagne Q{}", rng.range(1, 4)));
        let mut lead = Lead {
            org_id: org,
            id: LeadId::at_millis(millis(created), random10(rng)),
            title,
            pipeline_id: p.id,
            stage_id: p.stages[0],
            status: LeadStatus::Open,
            amount_minor: Some(amount),
            currency: Some(currency.into()),
            probability: None,
            expected_close_date: None,
            owner_id: Some(owner.id.0),
            company_id: Some(self.accounts[company].id.0),
            contact_id: Some(contact),
            source: Some(source.into()),
            campaign,
            forecast_category: ForecastCategory::Pipeline,
            next_step_date: None,
            mql_at: (source == "marketing").then_some(created),
            sql_at: None,
            closed_at: None,
            lost_reason: None,
            competitor: None,
            stage_entered_at: created,
            external_id: Some(format!("bench-lead-{i:08}")),
            created_at: created,
            updated_at: created,
            version: 1,
        };
        let on = (Some(lead.id.0), lead.company_id, lead.contact_id);
        let hist = |rng: &mut Rng,
                    lead: &Lead,
                    from: Option<(Uuid, LeadStatus)>,
                    when: DateTime<Utc>| HistoryEntry {
            org_id: org,
            id: HistoryId::at_millis(millis(when), random10(rng)),
            lead_id: lead.id,
            from_stage_id: from.map(|f| f.0),
            to_stage_id: lead.stage_id.0,
            from_status: from.map(|f| f.1.to_string()),
            to_status: lead.status.to_string(),
            at: when,
            by_user_id: Some(owner.id.0),
        };
        out.history.push(hist(rng, &lead, None, created));
        let skill = owner.skill;
        let mut act = |rng: &mut Rng,
                       t: TypeRef,
                       outcome: Option<Uuid>,
                       when: DateTime<Utc>,
                       minutes: (i64, i64)| {
            out.activities.push(done_activity(
                rng, org, t.id, outcome, owner.id, on, when, minutes,
            ));
        };
        // Walk the stages: in each, the work it takes; then advance, close, or stay.
        let mut t = created;
        let mut k = 0;
        loop {
            let stage_end = t + Duration::days(rng.range(3, 24));
            let span = (stage_end.min(at) - t).num_minutes().max(1);
            let first = if k == 0 { 1.6 } else { 1.0 };
            let calls = (rng.range(1, 3) as f64 * skill * first).round() as i64;
            for _ in 0..calls {
                let answered = rng.chance(0.55);
                let w = t + Duration::minutes(rng.range(0, span));
                act(rng, refs.call, refs.call.outcome(answered), w, (3, 20));
            }
            if rng.chance(0.4) {
                let w = t + Duration::minutes(rng.range(0, span));
                act(rng, refs.email, refs.email.outcome(true), w, (5, 10));
            }
            if k >= 1 && rng.chance(0.5) {
                let held = rng.chance(0.85);
                let w = t + Duration::minutes(rng.range(0, span));
                act(rng, refs.meeting, refs.meeting.outcome(held), w, (45, 90));
            }
            if k + 2 >= p.stages.len() && rng.chance(0.6) {
                let w = t + Duration::minutes(rng.range(0, span));
                act(rng, refs.proposal, None, w, (30, 60));
            }
            if stage_end > at {
                // Still in this stage today; some have been stuck for long (rotting).
                if rng.chance(0.12) {
                    lead.stage_entered_at = t - Duration::days(rng.range(20, 60)).min(t - created);
                }
                break;
            }
            t = stage_end;
            let last = k + 1 == p.stages.len();
            let advance = (ADVANCE[k.min(ADVANCE.len() - 1)] * (0.6 + 0.4 * skill)).min(0.95);
            if rng.chance(advance) {
                let from = (lead.stage_id.0, lead.status);
                if last {
                    lead.status = LeadStatus::Won;
                    lead.closed_at = Some(t);
                    lead.forecast_category = ForecastCategory::Closed;
                } else {
                    k += 1;
                    lead.stage_id = p.stages[k];
                    lead.stage_entered_at = t;
                    if k == 2 && lead.sql_at.is_none() {
                        lead.sql_at = Some(t);
                    }
                }
                out.history.push(hist(rng, &lead, Some(from), t));
                if last {
                    break;
                }
            } else if rng.chance(0.85) {
                let from = (lead.stage_id.0, lead.status);
                if rng.chance(0.88) {
                    lead.status = LeadStatus::Lost;
                    lead.lost_reason = Some(rng.pick(&words::LOST_REASONS).to_string());
                    lead.competitor = rng
                        .chance(0.4)
                        .then(|| rng.pick(&words::COMPETITORS).to_string());
                } else {
                    lead.status = LeadStatus::Cancelled;
                    lead.lost_reason = Some("Projekt gestoppt".into());
                }
                lead.closed_at = Some(t);
                out.history.push(hist(rng, &lead, Some(from), t));
                break;
            }
        }
        if lead.status == LeadStatus::Open {
            lead.expected_close_date = Some((at + Duration::days(rng.range(-10, 90))).date_naive());
            lead.forecast_category = match k {
                k if k + 1 >= p.stages.len() => ForecastCategory::Commit,
                k if k + 2 >= p.stages.len() => ForecastCategory::BestCase,
                _ => ForecastCategory::Pipeline,
            };
            // The next step, sometimes already overdue.
            let due = at + Duration::hours(rng.range(-5 * 24, 10 * 24));
            out.activities.push(Activity {
                org_id: org,
                id: ActivityId::at_millis(millis(at), random10(rng)),
                type_id: refs.call.id,
                outcome_id: None,
                user_id: owner.id,
                lead_id: on.0,
                company_id: on.1,
                contact_id: on.2,
                prospect_id: None,
                done: false,
                happened_at: None,
                due_at: Some(due),
                duration_minutes: Some(rng.range(5, 15) as i32),
                notes: None,
                created_at: at,
                updated_at: at,
                version: 1,
            });
        }
        lead.updated_at = lead.closed_at.unwrap_or(lead.stage_entered_at);
        let s = &mut self.stats;
        match lead.status {
            LeadStatus::Open => s.open += 1,
            LeadStatus::Won => {
                s.won += 1;
                s.won_amount_minor += amount;
            }
            LeadStatus::Lost => s.lost += 1,
            LeadStatus::Cancelled => s.cancelled += 1,
        }
        s.amount_minor += amount;
        out.leads.push(lead);
    }
}

#[derive(Default)]
struct DealRows {
    leads: Vec<Lead>,
    history: Vec<HistoryEntry>,
    activities: Vec<Activity>,
}

/// A done activity on a lead, company and/or contact.
#[allow(clippy::too_many_arguments)]
fn done_activity(
    rng: &mut Rng,
    org: OrgId,
    type_id: ActivityTypeId,
    outcome: Option<Uuid>,
    user: UserId,
    on: (Option<Uuid>, Option<Uuid>, Option<Uuid>),
    when: DateTime<Utc>,
    minutes: (i64, i64),
) -> Activity {
    Activity {
        org_id: org,
        id: ActivityId::at_millis(millis(when), random10(rng)),
        type_id,
        outcome_id: outcome,
        user_id: user,
        lead_id: on.0,
        company_id: on.1,
        contact_id: on.2,
        prospect_id: None,
        done: true,
        happened_at: Some(when),
        due_at: None,
        duration_minutes: Some(rng.range(minutes.0, minutes.1) as i32),
        notes: None,
        created_at: when,
        updated_at: when,
        version: 1,
    }
}

/// Loads the benchmark organisation into an empty database: the people,
/// teams and settings through `app`, the bulk through `bulk` (here the
/// app's own pool, without bulk-load mode; see [`prepare`] and
/// [`write_prepared`]). Returns the logins to print, and the summary (none
/// when the database already had users and nothing was written).
#[cfg(test)]
pub async fn load(
    app: &App,
    bulk: &Db,
    seed: u64,
    plan: &Plan,
) -> anyhow::Result<(Vec<Login>, Option<Summary>)> {
    let (logins, prepared) = prepare(app, seed, plan).await?;
    match prepared {
        Some(p) => Ok((logins, Some(write_prepared(bulk, p, false).await?))),
        None => Ok((logins, None)),
    }
}

/// The people, teams and settings, written; what the bulk part needs.
pub struct Prepared {
    generator: Generator,
    users: usize,
    teams: usize,
}

/// Writes the people, teams and settings of the benchmark organisation
/// through `app`. Returns the logins to print and what [`write_prepared`]
/// needs, or no such thing when the database already has users: then
/// nothing is written, since the bulk load is only for an empty database.
pub async fn prepare(
    app: &App,
    seed: u64,
    plan: &Plan,
) -> anyhow::Result<(Vec<Login>, Option<Prepared>)> {
    anyhow::ensure!(
        plan.reps > 0 && plan.leads > 0,
        "the plan needs reps and leads"
    );
    let org = app.default_org().await?;
    let mut rng = Rng(seed);
    let people = plan_people(plan, &mut rng);
    let logins = logins(&people);
    if users::count(&mut app.db.clone(), org.id).await? > 0 {
        return Ok((logins, None));
    }
    app.rename_org(org.id, ORG_NAME).await?;
    let admin_person = &people.people[0];
    let admin = salesops_app::users::bootstrap_admin(
        app,
        org.id,
        &admin_person.email,
        &admin_person.name,
        DEMO_PASSWORD,
    )
    .await?;
    let actor: Actor = app.actor(org.id, admin).await?;
    // One password for all: hashed once (for the admin), not a thousand times.
    let hash = users::get(&mut app.db.clone(), org.id, admin)
        .await?
        .password_hash;
    let mut ids: Vec<UserId> = people.people.iter().map(|p| p.id).collect();
    ids[0] = admin;
    let at = now();
    let mut tx = app.db.begin().await?;
    for (p, id) in people.people.iter().zip(&ids).skip(1) {
        users::insert(
            &mut tx,
            &users::User {
                org_id: org.id,
                id: *id,
                email: p.email.clone(),
                name: p.name.clone(),
                password_hash: hash.clone(),
                role: p.role,
                locale: Locale::De,
                time_zone: "Europe/Berlin".into(),
                hire_date: Some(p.hire_date),
                leave_date: None,
                active: true,
                created_at: at,
                updated_at: at,
                version: 1,
            },
        )
        .await?;
    }
    for t in &people.teams {
        teams::insert(
            &mut tx,
            &teams::Team {
                org_id: org.id,
                id: t.id,
                name: t.name.clone(),
                segment: t.segment,
                manager_id: Some(ids[t.manager].0),
                parent_id: t.parent.map(|p| people.teams[p].id.0),
                created_at: at,
                updated_at: at,
                version: 1,
            },
        )
        .await?;
        for m in &t.members {
            teams::add_member(&mut tx, org.id, t.id, ids[*m]).await?;
        }
    }
    tx.commit().await?;

    let refs = settings(app, &actor, plan.history_days).await?;
    let sellers = people
        .reps
        .iter()
        .map(|&i| Seller {
            id: ids[i],
            skill: people.people[i].skill,
        })
        .collect();
    let generator = Generator::new(plan.clone(), refs, sellers, seed);
    Ok((
        logins,
        Some(Prepared {
            generator,
            users: people.people.len(),
            teams: people.teams.len(),
        }),
    ))
}

/// Writes the bulk of the benchmark organisation through `db`. With
/// `bulk_mode` (a pool from `salesops_store::connect_for_load` on a fresh
/// database, no other connection open), in bulk-load mode: without
/// secondary indexes, foreign keys and, on SQLite, journal and `fsync`
/// during the inserts; see `salesops_store::bulk`.
pub async fn write_prepared(db: &Db, p: Prepared, bulk_mode: bool) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let mode = if bulk_mode {
        Some(bulk::begin(db).await?)
    } else {
        None
    };
    let (mut stats, insert_seconds) = write(db, p.generator).await?;
    stats.users = p.users;
    stats.teams = p.teams;
    let bulk = match mode {
        Some(mode) => {
            let _ = writeln!(
                std::io::stderr().lock(),
                "demo: creating indexes, checking references"
            );
            let finished = bulk::finish(db, &mode).await?;
            let mut err = std::io::stderr().lock();
            for (name, took) in &finished.each_index {
                let _ = writeln!(err, "demo: index {name}: {:.1} s", took.as_secs_f64());
            }
            Some((mode, finished))
        }
        None => None,
    };
    Ok(Summary {
        stats,
        seconds: started.elapsed().as_secs_f64(),
        insert_seconds,
        bulk,
    })
}

/// The upsell pipeline and the CHF rate (through the use cases, as ops
/// would), and the ids the data refers to.
async fn settings(app: &App, admin: &Actor, history_days: i64) -> anyhow::Result<Refs> {
    let upsell = app
        .create_pipeline(
            admin,
            PipelineInput {
                name: Some("Bestandskunden".into()),
                kind: Some("upsell".into()),
                is_default: None,
            },
            [
                ("Bedarf erkannt", 20, "#8fa8c8"),
                ("Angebot", 50, "#3f7fbf"),
                ("Verhandlung", 75, "#e0a030"),
            ]
            .iter()
            .map(|(n, p, c)| StageInput {
                name: Some(n.to_string()),
                win_probability: Some(*p),
                rotting_days: Some(Some(21)),
                colour: Some(c.to_string()),
                checklist: None,
            })
            .collect(),
        )
        .await?;
    let start = (now() - Duration::days(history_days + COMPANIES_BEFORE)).date_naive();
    app.set_rate(admin, "CHF", start, "1.0650").await?;
    let acquisition = app
        .list_pipelines(admin)
        .await?
        .into_iter()
        .find(|p| p.pipeline.is_default)
        .ok_or_else(|| anyhow::anyhow!("the organisation has no default pipeline"))?;
    let pipeline = |p: &salesops_app::pipelines::PipelineView| PipelineRef {
        id: p.pipeline.id,
        stages: p.stages.iter().map(|s| s.id).collect(),
    };
    let types = app.list_activity_types(admin, false).await?;
    let type_of = |k: ActivityKind| -> anyhow::Result<TypeRef> {
        let t = types
            .iter()
            .find(|t| t.activity_type.kind == k)
            .ok_or_else(|| anyhow::anyhow!("no activity type of kind {k}"))?;
        let outcome = |positive: bool| {
            t.outcomes
                .iter()
                .find(|o| o.positive == positive)
                .map(|o| o.id.0)
        };
        Ok(TypeRef {
            id: t.activity_type.id,
            positive: outcome(true),
            negative: outcome(false),
        })
    };
    anyhow::ensure!(
        !acquisition.stages.is_empty() && !upsell.stages.is_empty(),
        "the pipelines have no stages"
    );
    Ok(Refs {
        org: admin.org_id,
        acquisition: pipeline(&acquisition),
        upsell: pipeline(&upsell),
        call: type_of(ActivityKind::Call)?,
        email: type_of(ActivityKind::Email)?,
        meeting: type_of(ActivityKind::Meeting)?,
        proposal: type_of(ActivityKind::Proposal)?,
    })
}

impl Chunk {
    /// The INSERT statements of the chunk, its values bound, for `backend`.
    fn inserts(&self, backend: Backend) -> Result<Inserts, StoreError> {
        Ok(match self {
            Chunk::Accounts {
                companies,
                contacts,
            } => crm::company_inserts(backend, companies)?
                .then(crm::contact_inserts(backend, contacts)?),
            Chunk::Deals {
                leads: l,
                history,
                activities: a,
            } => leads::inserts(backend, l)?
                .then(leads::history_inserts(backend, history)?)
                .then(activities::inserts(backend, a)?),
        })
    }
}

/// Writes the generator's chunks as they come, one transaction each, and
/// reports progress on stderr. Returns what was written and the seconds it
/// took. The generator's thread also builds each chunk's statements and
/// binds their values, so the writing side only hands them to the database
/// (on SQLite, to the thread of its connection).
async fn write(db: &Db, generator: Generator) -> anyhow::Result<(Stats, f64)> {
    let (send, mut chunks) = tokio::sync::mpsc::channel::<(usize, Inserts)>(2);
    let backend = db.backend();
    let producer = std::thread::spawn(move || -> anyhow::Result<Stats> {
        let mut g = generator;
        while let Some(chunk) = g.next_chunk() {
            let rows = chunk.rows();
            let inserts = chunk.inserts(backend)?;
            drop(chunk);
            if send.blocking_send((rows, inserts)).is_err() {
                break;
            }
        }
        Ok(g.stats)
    });
    let started = Instant::now();
    let mut progress = Progress::new(started);
    while let Some((rows, inserts)) = chunks.recv().await {
        let mut tx = db.begin().await?;
        tx.run(inserts).await?;
        tx.commit().await?;
        progress.add(rows);
    }
    let stats = producer
        .join()
        .map_err(|_| anyhow::anyhow!("the data generator failed"))??;
    let seconds = started.elapsed().as_secs_f64();
    progress.finish();
    Ok((stats, seconds))
}

/// Rows written and the rate, on stderr, every few seconds.
struct Progress {
    started: Instant,
    last: Instant,
    last_rows: usize,
    rows: usize,
}

impl Progress {
    fn new(started: Instant) -> Progress {
        Progress {
            started,
            last: started,
            last_rows: 0,
            rows: 0,
        }
    }

    fn add(&mut self, rows: usize) {
        self.rows += rows;
        if self.last.elapsed().as_secs_f64() >= 2.0 {
            self.print();
        }
    }

    fn print(&mut self) {
        let now = Instant::now();
        let recent = (self.rows - self.last_rows) as f64
            / now.duration_since(self.last).as_secs_f64().max(1e-9);
        let overall = self.rows as f64 / now.duration_since(self.started).as_secs_f64().max(1e-9);
        let _ = writeln!(
            std::io::stderr().lock(),
            "demo: {} rows written in {:.0} s ({} rows/s now, {} rows/s overall)",
            thousands(self.rows as u64),
            now.duration_since(self.started).as_secs_f64(),
            thousands(recent as u64),
            thousands(overall as u64),
        );
        self.last = now;
        self.last_rows = self.rows;
    }

    fn finish(&mut self) {
        if self.rows != self.last_rows {
            self.print();
        }
    }
}

/// 1234567 → "1,234,567".
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use salesops_app::Settings;
    use salesops_store::testing::TestDb;
    use std::collections::HashMap;

    /// The large generator at a thousandth of its size (reps at a 25th:
    /// two teams of 20).
    fn scaled_down() -> Plan {
        Plan {
            reps: 40,
            reps_per_team: 20,
            leads: 2_000,
            activities: 20_000,
            leads_per_chunk: 300,
            history_days: 1_095,
            today: "2026-06-01T12:00:00Z".parse().unwrap(),
        }
    }

    /// The generator on its own, with made-up settings ids: its chunks.
    fn generate(plan: &Plan, seed: u64) -> (Vec<Chunk>, Stats) {
        let id = |n: u128| Uuid::from_u128(n);
        let ty = |n: u128, outcomes: bool| TypeRef {
            id: ActivityTypeId(id(n)),
            positive: outcomes.then(|| id(n + 100)),
            negative: outcomes.then(|| id(n + 200)),
        };
        let refs = Refs {
            org: OrgId(id(1)),
            acquisition: PipelineRef {
                id: PipelineId(id(2)),
                stages: (0..5).map(|k| StageId(id(10 + k))).collect(),
            },
            upsell: PipelineRef {
                id: PipelineId(id(3)),
                stages: (0..3).map(|k| StageId(id(20 + k))).collect(),
            },
            call: ty(30, true),
            email: ty(31, true),
            meeting: ty(32, true),
            proposal: ty(33, false),
        };
        let people = plan_people(plan, &mut Rng(seed));
        let sellers = people
            .reps
            .iter()
            .map(|&i| Seller {
                id: people.people[i].id,
                skill: people.people[i].skill,
            })
            .collect();
        let mut g = Generator::new(plan.clone(), refs, sellers, seed);
        let mut chunks = Vec::new();
        while let Some(c) = g.next_chunk() {
            chunks.push(c);
        }
        (chunks, g.stats)
    }

    #[test]
    fn stage_changes_and_activities_come_in_id_order_about_three_changes_a_lead() {
        let plan = Plan {
            leads: 20_000,
            activities: 200_000,
            leads_per_chunk: 1_000,
            ..scaled_down()
        };
        let (chunks, stats) = generate(&plan, 1);
        eprintln!("{stats:?}");
        let (mut history, mut activities, mut leads) = (Vec::new(), Vec::new(), 0);
        for c in &chunks {
            if let Chunk::Deals {
                leads: l,
                history: h,
                activities: a,
            } = c
            {
                leads += l.len();
                history.extend(h.iter().map(|h| h.id.0));
                activities.extend(a.iter().map(|a| a.id.0));
            }
        }
        assert_eq!(leads, 20_000);
        assert_eq!(history.len(), stats.history);
        assert_eq!(activities.len(), 200_000);
        // Across all chunks, each table's rows come in strictly increasing id order.
        assert!(history.windows(2).all(|w| w[0] < w[1]));
        assert!(activities.windows(2).all(|w| w[0] < w[1]));
        // About 6,000,000 stage changes for 2,000,000 leads.
        let per_lead = stats.history as f64 / stats.leads as f64;
        assert!((2.85..3.15).contains(&per_lead), "{per_lead}");
    }

    struct Loaded {
        stats: Stats,
        leads: Vec<Lead>,
        activities: Vec<Activity>,
        stages: Vec<StageId>,
        call_type: ActivityTypeId,
        org: OrgId,
    }

    async fn load_into(t: &TestDb, seed: u64, plan: &Plan) -> Loaded {
        let app = App::new(t.db.clone(), Settings::default());
        let org = app.ensure_default_org("Test").await.unwrap().id;
        let (logins, summary) = load(&app, &t.db, seed, plan).await.unwrap();
        assert_eq!(logins.len(), 5);
        let stats = summary.expect("an empty database is loaded").stats;
        // A second load finds the users and writes nothing.
        let (_, again) = load(&app, &t.db, seed, plan).await.unwrap();
        assert!(again.is_none());
        let mut c = t.db.clone();
        let leads = leads::list(&mut c, org, &Default::default(), None, 1_000_000)
            .await
            .unwrap();
        let activities = activities::list(&mut c, org, &Default::default(), 1_000_000, false)
            .await
            .unwrap();
        let admin = app
            .actor(
                org,
                users::by_email(&mut c, org, "admin@nordwind.example")
                    .await
                    .unwrap()
                    .unwrap()
                    .id,
            )
            .await
            .unwrap();
        let stages = app
            .list_pipelines(&admin)
            .await
            .unwrap()
            .into_iter()
            .find(|p| p.pipeline.is_default)
            .unwrap()
            .stages
            .iter()
            .map(|s| s.id)
            .collect();
        let call_type = app
            .list_activity_types(&admin, false)
            .await
            .unwrap()
            .into_iter()
            .find(|t| t.activity_type.kind == ActivityKind::Call)
            .unwrap()
            .activity_type
            .id;
        Loaded {
            stats,
            leads,
            activities,
            stages,
            call_type,
            org,
        }
    }

    #[tokio::test]
    async fn the_large_generator_scaled_down_is_deterministic_and_plausible() {
        let plan = scaled_down();
        let (a, b, c) = (
            TestDb::sqlite().await,
            TestDb::sqlite().await,
            TestDb::sqlite().await,
        );
        let first = load_into(&a, 7, &plan).await;
        let again = load_into(&b, 7, &plan).await;
        let other = load_into(&c, 8, &plan).await;

        // The plan's counts, in the statistics and in the database.
        let s = &first.stats;
        eprintln!("{s:?}");
        assert_eq!(s.users, 3 + 1 + 2 + 40);
        assert_eq!(s.teams, 1 + 2);
        assert_eq!(s.leads, 2_000);
        assert_eq!(s.activities, 20_000);
        assert_eq!(s.companies, 400);
        assert_eq!(first.leads.len(), s.leads);
        assert_eq!(first.activities.len(), s.activities);
        assert_eq!(s.won + s.lost + s.cancelled + s.open, s.leads);
        assert!(s.history > s.leads);
        // Most activities are work on leads; account care tops them up.
        let share = s.lead_activities as f64 / s.activities as f64;
        assert!((0.7..0.97).contains(&share), "{share}");

        // The same seed gives the same data, ids included; another seed does not.
        assert_eq!(first.stats, again.stats);
        let key = |l: &Lead| {
            (
                l.id,
                l.external_id.clone(),
                l.title.clone(),
                l.status,
                l.amount_minor,
                l.closed_at,
                l.stage_entered_at,
            )
        };
        let keys = |x: &Loaded| x.leads.iter().map(key).collect::<Vec<_>>();
        assert_eq!(keys(&first), keys(&again));
        let act_keys = |x: &Loaded| {
            x.activities
                .iter()
                .map(|a| (a.id, a.happened_at, a.due_at, a.lead_id, a.duration_minutes))
                .collect::<Vec<_>>()
        };
        assert_eq!(act_keys(&first), act_keys(&again));
        assert_ne!(first.stats, other.stats);
        // So does a bulk load (without indexes and foreign keys while it
        // inserts) on a pool of its own, as the command runs it.
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("bulk.db").display());
        let db = salesops_store::connect(&url).await.unwrap();
        db.migrate().await.unwrap();
        let app = App::new(db.clone(), Settings::default());
        let bulk_org = app.ensure_default_org("Test").await.unwrap().id;
        let (_, prepared) = prepare(&app, 7, &plan).await.unwrap();
        db.close().await;
        let pool = salesops_store::connect_for_load(&url, 64).await.unwrap();
        let summary = write_prepared(&pool, prepared.unwrap(), true)
            .await
            .unwrap();
        assert_eq!(summary.stats, first.stats);
        let (mode, _) = summary.bulk.expect("bulk-load mode");
        assert_eq!(mode.journal_mode.as_deref(), Some("off"));
        let bulk_leads = leads::list(
            &mut pool.clone(),
            bulk_org,
            &Default::default(),
            None,
            1_000_000,
        )
        .await
        .unwrap();
        assert!(bulk_leads.iter().map(key).collect::<Vec<_>>() == keys(&first));
        pool.close().await;
        // PostgreSQL gets the very same data.
        if let Some(pg) = TestDb::postgres().await {
            let on_pg = load_into(&pg, 7, &plan).await;
            assert_eq!(on_pg.stats, first.stats);
            assert_eq!(keys(&on_pg), keys(&first));
            assert_eq!(act_keys(&on_pg), act_keys(&first));
        }

        // Conversion falls stage by stage: fewer leads reach each later stage
        // of the acquisition pipeline, and fewer still are won.
        let pos: HashMap<StageId, usize> = first
            .stages
            .iter()
            .enumerate()
            .map(|(i, s)| (*s, i))
            .collect();
        let acquisition: Vec<&Lead> = first
            .leads
            .iter()
            .filter(|l| pos.contains_key(&l.stage_id))
            .collect();
        let reached: Vec<usize> = (0..first.stages.len())
            .map(|k| acquisition.iter().filter(|l| pos[&l.stage_id] >= k).count())
            .collect();
        let won = acquisition
            .iter()
            .filter(|l| l.status == LeadStatus::Won)
            .count();
        assert!(
            reached.windows(2).all(|w| w[1] < w[0]) && won < reached[reached.len() - 1],
            "{reached:?} then {won} won"
        );
        assert!(won > 0);

        // Top performers make more calls and win more: the quarter of reps
        // with the most calls per lead wins a larger share of its closed deals
        // than the quarter with the fewest.
        let call_type = first.call_type;
        let mut per_rep: HashMap<Uuid, (usize, usize, usize, usize)> = HashMap::new();
        for l in &first.leads {
            let e = per_rep.entry(l.owner_id.unwrap()).or_default();
            e.0 += 1;
            match l.status {
                LeadStatus::Won => e.2 += 1,
                LeadStatus::Lost | LeadStatus::Cancelled => e.3 += 1,
                LeadStatus::Open => {}
            }
        }
        for a in &first.activities {
            if a.type_id == call_type && a.lead_id.is_some() && a.done {
                per_rep.entry(a.user_id.0).or_default().1 += 1;
            }
        }
        let mut reps: Vec<(f64, usize, usize)> = per_rep
            .values()
            .map(|&(leads, calls, won, lost)| (calls as f64 / leads as f64, won, lost))
            .collect();
        assert_eq!(reps.len(), 40, "every rep owns leads");
        reps.sort_by(|x, y| x.0.total_cmp(&y.0));
        let win_rate = |r: &[(f64, usize, usize)]| {
            let (won, lost) = r.iter().fold((0, 0), |a, x| (a.0 + x.1, a.1 + x.2));
            won as f64 / (won + lost) as f64
        };
        let (bottom, top) = (win_rate(&reps[..10]), win_rate(&reps[30..]));
        assert!(top > bottom * 1.3, "top {top:.3} vs bottom {bottom:.3}");

        // Some open deals rot: in their stage for more than a month.
        let rotting = first
            .leads
            .iter()
            .filter(|l| {
                l.status == LeadStatus::Open && plan.today - l.stage_entered_at > Duration::days(30)
            })
            .count();
        assert!(rotting > 0);

        // Every lead's history starts in the first stage and ends where the lead is.
        let mut c = a.db.clone();
        for l in first.leads.iter().step_by(97) {
            let h = leads::history(&mut c, first.org, l.id).await.unwrap();
            assert!(h[0].from_stage_id.is_none());
            let last = h.last().unwrap();
            assert_eq!(last.to_stage_id, l.stage_id.0);
            assert_eq!(last.to_status, l.status.as_str());
        }
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(20_000_000), "20,000,000");
    }
}
