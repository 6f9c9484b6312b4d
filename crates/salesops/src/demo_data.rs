//! Sales data for the demo organisation: companies, contacts, leads moving
//! through two pipelines over 18 months, and the activities that moved them.
//! Deterministic for a seed. Stronger reps make more calls and win more;
//! conversion falls stage by stage; some deals rot in their stage.

use chrono::{DateTime, Duration, Utc};
use salesops_app::pipelines::{PipelineInput, StageInput};
use salesops_app::{Actor, App};
use salesops_domain::{
    ActivityId, ActivityKind, CompanyId, ContactId, ForecastCategory, HistoryId, LeadId,
    LeadStatus, OrgId, UserId,
};
use salesops_store::activities::Activity;
use salesops_store::crm::{Company, Contact};
use salesops_store::leads::{HistoryEntry, Lead};
use salesops_store::{activities, crm, leads, now};
use uuid::Uuid;

/// SplitMix64: small, fast and deterministic.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub(crate) fn f(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub(crate) fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.f() < p
    }
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
}

pub(crate) const PREFIXES: [&str; 16] = [
    "Nord", "Süd", "Rhein", "Elb", "Alpen", "Hanse", "Berg", "Stahl", "Präzi", "Fein", "Hoch",
    "Blau", "Main", "Weser", "Isar", "Spree",
];
pub(crate) const SUFFIXES: [&str; 14] = [
    "werk",
    "tec",
    "bau",
    "logistik",
    "metall",
    "plast",
    "form",
    "systeme",
    "automation",
    "technik",
    "chemie",
    "druck",
    "energie",
    "medizin",
];
pub(crate) const LEGAL: [&str; 5] = ["GmbH", "AG", "KG", "GmbH & Co. KG", "SE"];
pub(crate) const CITIES: [(&str, &str, &str); 12] = [
    ("Hamburg", "20095", "HH"),
    ("München", "80331", "BY"),
    ("Stuttgart", "70173", "BW"),
    ("Köln", "50667", "NW"),
    ("Düsseldorf", "40213", "NW"),
    ("Frankfurt am Main", "60311", "HE"),
    ("Leipzig", "04109", "SN"),
    ("Hannover", "30159", "NI"),
    ("Nürnberg", "90402", "BY"),
    ("Bremen", "28195", "HB"),
    ("Dortmund", "44135", "NW"),
    ("Freiburg", "79098", "BW"),
];
pub(crate) const INDUSTRIES: [&str; 10] = [
    "Maschinenbau",
    "Automobilzulieferer",
    "Chemie",
    "Logistik",
    "Elektrotechnik",
    "Medizintechnik",
    "Lebensmittel",
    "Kunststoff",
    "Energie",
    "Bau",
];
pub(crate) const SIZES: [&str; 5] = ["11-50", "51-200", "51-200", "201-1000", "1001-5000"];
pub(crate) const FIRST: [&str; 16] = [
    "Anna", "Thomas", "Julia", "Michael", "Sabine", "Stefan", "Katrin", "Andreas", "Petra",
    "Markus", "Claudia", "Jan", "Monika", "Frank", "Laura", "Tobias",
];
pub(crate) const LAST: [&str; 16] = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
];
pub(crate) const TITLES: [&str; 5] = [
    "Einkauf",
    "Geschäftsführung",
    "Technische Leitung",
    "Produktionsleitung",
    "IT-Leitung",
];
pub(crate) const PRODUCTS: [&str; 8] = [
    "Fräsmaschine",
    "Wartungsvertrag",
    "Automationszelle",
    "Prüfstand",
    "Drehzentrum",
    "Retrofit",
    "Schulungspaket",
    "Ersatzteilpaket",
];
pub(crate) const LOST_REASONS: [&str; 5] = [
    "Preis zu hoch",
    "Kein Budget",
    "Wettbewerber gewählt",
    "Projekt verschoben",
    "Kein Bedarf",
];
pub(crate) const COMPETITORS: [&str; 4] = [
    "Maschinen AG",
    "Technoform GmbH",
    "Präzisa SE",
    "Walter & Söhne",
];

pub struct Summary {
    pub companies: usize,
    pub contacts: usize,
    pub leads: usize,
    pub activities: usize,
}

/// Generates and writes the demo sales data (in one transaction).
pub async fn load(app: &App, admin: &Actor, org: OrgId, seed: u64) -> anyhow::Result<Summary> {
    let mut rng = Rng(seed);
    let at = now();
    let start = at - Duration::days(548);
    // People: the sales reps of the teams, with how good they are.
    let people = app
        .list_users(admin, Default::default(), None, salesops_app::MAX_LIMIT)
        .await?
        .items;
    let sellers: Vec<(UserId, f64)> = people
        .iter()
        .filter(|u| {
            matches!(
                u.user.role,
                salesops_domain::Role::Rep | salesops_domain::Role::Manager
            )
        })
        .enumerate()
        .map(|(i, u)| {
            (
                u.user.id,
                [1.35, 0.8, 1.0, 0.7, 1.15, 0.9, 1.05, 0.85, 1.2][i % 9],
            )
        })
        .collect();
    anyhow::ensure!(
        !sellers.is_empty(),
        "the demo organisation has no sales reps"
    );

    // A second pipeline for existing customers.
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
    let pipelines = app.list_pipelines(admin).await?;
    let acquisition = pipelines
        .iter()
        .find(|p| p.pipeline.is_default)
        .expect("the default pipeline exists")
        .clone();

    // Activity types by kind, with their outcomes (positive first).
    let types = app.list_activity_types(admin, false).await?;
    let type_of = |k: ActivityKind| {
        types
            .iter()
            .find(|t| t.activity_type.kind == k)
            .expect("default activity types exist")
    };
    let (call, email, meeting, proposal) = (
        type_of(ActivityKind::Call),
        type_of(ActivityKind::Email),
        type_of(ActivityKind::Meeting),
        type_of(ActivityKind::Proposal),
    );
    let outcome = |t: &salesops_app::activity_types::TypeView, positive: bool| {
        t.outcomes
            .iter()
            .find(|o| o.positive == positive)
            .map(|o| o.id.0)
    };

    let mut companies = Vec::new();
    let mut contacts: Vec<Contact> = Vec::new();
    for i in 0..400 {
        let (city, postcode, region) = *rng.pick(&CITIES);
        let name = format!(
            "{}{} {}",
            rng.pick(&PREFIXES),
            rng.pick(&SUFFIXES),
            rng.pick(&LEGAL)
        );
        let domain = format!(
            "{}{}.example",
            name.split_whitespace()
                .next()
                .unwrap_or("firma")
                .to_lowercase()
                .replace(['ä', 'ö', 'ü'], "e"),
            i
        );
        let owner = rng.pick(&sellers).0;
        let created = start + Duration::days(rng.range(0, 200));
        let c = Company {
            org_id: org,
            id: CompanyId::new(),
            name: format!("{name} ({city})"),
            industry: Some(rng.pick(&INDUSTRIES).to_string()),
            size_band: Some(rng.pick(&SIZES).to_string()),
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
            owner_id: Some(owner.0),
            external_id: Some(format!("demo-co-{i}")),
            created_at: created,
            updated_at: created,
            version: 1,
        };
        for j in 0..rng.range(1, 3) {
            let (first, last) = (rng.pick(&FIRST), rng.pick(&LAST));
            contacts.push(Contact {
                org_id: org,
                id: ContactId::new(),
                company_id: Some(c.id.0),
                name: format!("{first} {last}"),
                job_title: Some(rng.pick(&TITLES).to_string()),
                email: Some(
                    format!("{}.{}@{domain}", first.to_lowercase(), last.to_lowercase())
                        .replace(['ä', 'ö', 'ü'], "e"),
                ),
                phone: None,
                notes: None,
                owner_id: Some(owner.0),
                external_id: Some(format!("demo-ct-{i}-{j}")),
                created_at: created,
                updated_at: created,
                version: 1,
            });
        }
        companies.push(c);
    }

    let mut lead_rows = Vec::new();
    let mut history = Vec::new();
    let mut acts = Vec::new();
    let activity = |rng: &mut Rng,
                    lead: &Lead,
                    user: UserId,
                    t: &salesops_app::activity_types::TypeView,
                    out: Option<Uuid>,
                    when: DateTime<Utc>,
                    minutes: (i64, i64)| Activity {
        org_id: org,
        id: ActivityId(Uuid::now_v7()),
        type_id: t.activity_type.id,
        outcome_id: out,
        user_id: user,
        lead_id: Some(lead.id.0),
        company_id: lead.company_id,
        contact_id: lead.contact_id,
        prospect_id: None,
        done: true,
        happened_at: Some(when),
        due_at: None,
        duration_minutes: Some(rng.range(minutes.0, minutes.1) as i32),
        notes: None,
        created_at: when,
        updated_at: when,
        version: 1,
    };
    for i in 0..1500 {
        // More recent months see a little more business.
        let day = ((rng.f().sqrt()) * 540.0) as i64;
        let created = start + Duration::days(day) + Duration::minutes(rng.range(8 * 60, 17 * 60));
        let (owner, skill) = *rng.pick(&sellers);
        let company = rng.pick(&companies).clone();
        let contact = contacts
            .iter()
            .find(|c| c.company_id == Some(company.id.0))
            .map(|c| c.id.0);
        let upsell_lead = rng.chance(0.15);
        let p = if upsell_lead { &upsell } else { &acquisition };
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
        let mut lead = Lead {
            org_id: org,
            id: LeadId::new(),
            title: format!(
                "{} für {}",
                rng.pick(&PRODUCTS),
                company.name.split(" (").next().unwrap_or(&company.name)
            ),
            pipeline_id: p.pipeline.id,
            stage_id: p.stages[0].id,
            status: LeadStatus::Open,
            amount_minor: Some(amount),
            currency: Some(currency.into()),
            probability: None,
            expected_close_date: None,
            owner_id: Some(owner.0),
            company_id: Some(company.id.0),
            contact_id: contact,
            source: Some(source.into()),
            campaign: (source == "marketing").then(|| format!("Kampagne Q{}", rng.range(1, 4))),
            forecast_category: ForecastCategory::Pipeline,
            next_step_date: None,
            mql_at: (source == "marketing").then_some(created),
            sql_at: None,
            closed_at: None,
            lost_reason: None,
            competitor: None,
            stage_entered_at: created,
            external_id: Some(format!("demo-lead-{i}")),
            created_at: created,
            updated_at: created,
            version: 1,
        };
        let hist =
            |lead: &Lead, from: Option<(Uuid, LeadStatus)>, when: DateTime<Utc>| HistoryEntry {
                org_id: org,
                id: HistoryId(Uuid::now_v7()),
                lead_id: lead.id,
                from_stage_id: from.map(|f| f.0),
                to_stage_id: lead.stage_id.0,
                from_status: from.map(|f| f.1.to_string()),
                to_status: lead.status.to_string(),
                at: when,
                by_user_id: Some(owner.0),
            };
        history.push(hist(&lead, None, created));
        // Walk the stages: in each, the work it takes; then advance, close, or stay.
        let mut t = created;
        let mut k = 0;
        loop {
            let days = rng.range(3, 24);
            let stage_end = t + Duration::days(days);
            let window_end = stage_end.min(at);
            let span = (window_end - t).num_minutes().max(1);
            let when = |rng: &mut Rng| t + Duration::minutes(rng.range(0, span));
            let calls =
                ((rng.range(2, 5) as f64) * skill * if k == 0 { 1.6 } else { 1.0 }).round() as i64;
            for _ in 0..calls {
                let answered = rng.chance(0.55);
                let w = when(&mut rng);
                acts.push(activity(
                    &mut rng,
                    &lead,
                    owner,
                    call,
                    outcome(call, answered),
                    w,
                    (3, 20),
                ));
            }
            for _ in 0..rng.range(1, 3) {
                let w = when(&mut rng);
                acts.push(activity(
                    &mut rng,
                    &lead,
                    owner,
                    email,
                    outcome(email, true),
                    w,
                    (5, 10),
                ));
            }
            if k >= 1 && rng.chance(0.8) {
                let held = rng.chance(0.85);
                let w = when(&mut rng);
                acts.push(activity(
                    &mut rng,
                    &lead,
                    owner,
                    meeting,
                    outcome(meeting, held),
                    w,
                    (45, 90),
                ));
            }
            if k + 2 >= p.stages.len() && rng.chance(0.9) {
                let w = when(&mut rng);
                acts.push(activity(
                    &mut rng,
                    &lead,
                    owner,
                    proposal,
                    None,
                    w,
                    (30, 60),
                ));
            }
            if stage_end > at {
                // Still in this stage today; a few have been stuck for long (rotting).
                if rng.chance(0.12) {
                    lead.stage_entered_at = t - Duration::days(rng.range(20, 60)).min(t - created);
                }
                break;
            }
            t = stage_end;
            let last = k + 1 == p.stages.len();
            let advance = ([0.62, 0.6, 0.58, 0.62, 0.6][k.min(4)] * skill).min(0.95);
            if rng.chance(advance) {
                let from = (lead.stage_id.0, lead.status);
                if last {
                    lead.status = LeadStatus::Won;
                    lead.closed_at = Some(t);
                    lead.forecast_category = ForecastCategory::Closed;
                } else {
                    k += 1;
                    lead.stage_id = p.stages[k].id;
                    lead.stage_entered_at = t;
                    if k == 2 && lead.sql_at.is_none() {
                        lead.sql_at = Some(t);
                    }
                }
                history.push(hist(&lead, Some(from), t));
                if last {
                    break;
                }
            } else if rng.chance(0.85) {
                let from = (lead.stage_id.0, lead.status);
                if rng.chance(0.88) {
                    lead.status = LeadStatus::Lost;
                    lead.lost_reason = Some(rng.pick(&LOST_REASONS).to_string());
                    lead.competitor = rng.chance(0.4).then(|| rng.pick(&COMPETITORS).to_string());
                } else {
                    lead.status = LeadStatus::Cancelled;
                    lead.lost_reason = Some("Projekt gestoppt".into());
                }
                lead.closed_at = Some(t);
                history.push(hist(&lead, Some(from), t));
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
            let mut next = activity(&mut rng, &lead, owner, call, None, due, (5, 15));
            next.done = false;
            next.happened_at = None;
            next.due_at = Some(due);
            next.created_at = at;
            next.updated_at = at;
            acts.push(next);
        }
        lead.updated_at = lead.closed_at.unwrap_or(lead.stage_entered_at);
        lead_rows.push(lead);
    }

    // Swiss customers pay in CHF; ops keep the rate.
    app.set_rate(admin, "CHF", start.date_naive(), "1.0650")
        .await?;
    let mut tx = app.db.begin().await?;
    crm::insert_companies(&mut tx, &companies).await?;
    crm::insert_contacts(&mut tx, &contacts).await?;
    leads::insert_many(&mut tx, &lead_rows).await?;
    leads::insert_history_many(&mut tx, &history).await?;
    activities::insert_many(&mut tx, &acts).await?;
    tx.commit().await?;
    Ok(Summary {
        companies: companies.len(),
        contacts: contacts.len(),
        leads: lead_rows.len(),
        activities: acts.len(),
    })
}
