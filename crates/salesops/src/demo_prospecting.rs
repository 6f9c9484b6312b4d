//! Demo prospecting: the cold-calling team's lists, worked over the last
//! four months. Most prospects take a few calls before somebody answers;
//! some become leads (linked to leads of the demo data created after those
//! calls), some are disqualified as a bad fit, the rest are still open.

use crate::demo_data::Rng;
use chrono::Duration;
use salesops_app::App;
use salesops_app::permissions::Actor;
use salesops_app::prospecting::ListInput;
use salesops_app::scripts::{QuestionInput, ScriptInput};
use salesops_domain::{ActivityId, ActivityKind, OrgId, ProspectId, ProspectStatus, Segment};
use salesops_store::activities::{self, Activity};
use salesops_store::leads::{self, Filter};
use salesops_store::now;
use salesops_store::prospecting::{self, Prospect};

const FIRMS: [&str; 12] = [
    "Metallbau",
    "Präzisionstechnik",
    "Kunststoffwerk",
    "Antriebstechnik",
    "Werkzeugbau",
    "Gießerei",
    "Blechbearbeitung",
    "Fördertechnik",
    "Elektrotechnik",
    "Verpackung",
    "Lasertechnik",
    "Hydraulik",
];
const NAMES: [&str; 12] = [
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
];
const FIRST: [&str; 8] = [
    "Anna", "Thomas", "Sabine", "Michael", "Julia", "Stefan", "Petra", "Frank",
];
const CITIES: [(&str, &str); 6] = [
    ("80331", "München"),
    ("90402", "Nürnberg"),
    ("86150", "Augsburg"),
    ("93047", "Regensburg"),
    ("70173", "Stuttgart"),
    ("89073", "Ulm"),
];

pub struct Summary {
    pub lists: usize,
    pub prospects: usize,
    pub activities: usize,
}

pub async fn load(app: &App, admin: &Actor, org: OrgId, seed: u64) -> anyhow::Result<Summary> {
    let mut rng = Rng(seed ^ 0x5052_4F53_5045_4354);
    let at = now();
    let script = app
        .create_script(
            admin,
            ScriptInput {
                name: Some("Erstgespräch Kaltakquise".into()),
                description: Some(Some(
                    "Bedarf, Entscheider und Passung im ersten Anruf klären".into(),
                )),
                archived: None,
                questions: Some(vec![
                    question("Wer entscheidet über neue Maschinen?", "text", &[]),
                    question("Wie viele Maschinen sind im Einsatz?", "number", &[]),
                    question(
                        "Wann steht die nächste Investition an?",
                        "choice",
                        &["dieses Quartal", "dieses Jahr", "später", "unklar"],
                    ),
                    question(
                        "Passt der Interessent?",
                        "choice",
                        &["Top fit", "Good fit", "Bad fit"],
                    ),
                ]),
            },
        )
        .await?;
    let teams = app
        .list_teams(admin, None, None, salesops_app::MAX_LIMIT)
        .await?
        .items;
    let Some(team) = teams
        .iter()
        .find(|t| t.team.segment == Segment::Prospecting)
    else {
        anyhow::bail!("the demo organisation has no prospecting team");
    };
    let reps = team.member_ids.clone();
    anyhow::ensure!(!reps.is_empty(), "the prospecting team has no members");
    let types = app.list_activity_types(admin, false).await?;
    let call = types
        .iter()
        .find(|t| t.activity_type.kind == ActivityKind::Call)
        .expect("the default call type exists");
    let answered = call
        .outcomes
        .iter()
        .find(|o| o.positive)
        .expect("answered")
        .id;
    let unanswered = call
        .outcomes
        .iter()
        .find(|o| !o.positive)
        .expect("unanswered")
        .id;

    // The lists first (through the use cases), then the rows in one
    // transaction.
    let mut lists = vec![];
    for name in ["Maschinenbau Bayern", "Zulieferer Baden-Württemberg"] {
        let list = app
            .create_prospect_list(
                admin,
                ListInput {
                    name: Some(name.to_string()),
                    description: Some(Some(
                        "Aus einer Messeliste und einer Branchendatenbank".into(),
                    )),
                    team_id: Some(Some(team.team.id)),
                    script_id: Some(Some(script.script.id)),
                    archived: None,
                    reps: Some(reps.clone()),
                },
            )
            .await?
            .list;
        lists.push(list);
    }
    // Leads of the last four months from sales: the ones prospects became.
    let window = at - Duration::days(120);
    let mut tx = app.db.begin().await?;
    let mut candidates: Vec<_> = leads::list(&mut tx, org, &Filter::default(), None, 1_000_000)
        .await?
        .into_iter()
        .filter(|l| {
            l.created_at > window + Duration::days(10) && l.source.as_deref() == Some("sales")
        })
        .collect();
    candidates.sort_by_key(|l| l.created_at);

    let mut summary = Summary {
        lists: 0,
        prospects: 0,
        activities: 0,
    };
    for (li, list) in lists.iter().enumerate() {
        summary.lists += 1;
        let mut rows = vec![];
        let mut acts = vec![];
        let n = 160 + li * 60;
        for pos in 1..=n as i64 {
            let rep = reps[(pos as usize + li) % reps.len()];
            let (postcode, city) = *rng.pick(&CITIES);
            let surname = *rng.pick(&NAMES);
            let created = window + Duration::hours(rng.range(0, 24 * 20));
            let mut p = Prospect {
                org_id: org,
                id: ProspectId::new(),
                list_id: list.id,
                position: pos,
                company_name: Some(format!("{} {} GmbH", surname, rng.pick(&FIRMS))),
                contact_name: Some(format!("{} {}", rng.pick(&FIRST), surname)),
                job_title: Some(
                    rng.pick(&[
                        "Geschäftsführer",
                        "Einkaufsleiter",
                        "Produktionsleiter",
                        "Technischer Leiter",
                    ])
                    .to_string(),
                ),
                phone: Some(format!(
                    "+49 {} {}",
                    800 + rng.range(0, 199),
                    rng.range(100_000, 999_999)
                )),
                email: Some(format!(
                    "{}@{}-{}.example",
                    surname.to_lowercase(),
                    surname.to_lowercase(),
                    pos
                )),
                website: None,
                city: Some(city.into()),
                postcode: Some(postcode.into()),
                country: Some("DE".into()),
                industry: Some("Maschinenbau".into()),
                notes: None,
                fields: format!(r#"{{"Mitarbeiter":"{}"}}"#, rng.range(20, 900)),
                assigned_to: Some(rep.0),
                status: ProspectStatus::Open,
                disqualify_reason: None,
                lead_id: None,
                company_id: None,
                contact_id: None,
                closed_at: None,
                external_id: None,
                created_at: created,
                updated_at: created,
                version: 1,
            };
            // Rows further down the list have not been reached yet.
            let worked = (pos as usize) < n * 3 / 4;
            if worked {
                let mut t =
                    office_hours(created + Duration::hours(rng.range(24, 24 * 60)), &mut rng);
                let tries = 1 + rng.below(4);
                for k in 0..tries {
                    let got_through = k + 1 == tries && rng.chance(0.7);
                    if t > at - Duration::hours(1) {
                        break;
                    }
                    acts.push(Activity {
                        org_id: org,
                        id: ActivityId::new(),
                        type_id: call.activity_type.id,
                        outcome_id: Some(if got_through {
                            answered.0
                        } else {
                            unanswered.0
                        }),
                        user_id: rep,
                        lead_id: None,
                        company_id: None,
                        contact_id: None,
                        prospect_id: Some(p.id.0),
                        done: true,
                        happened_at: Some(t),
                        due_at: None,
                        duration_minutes: Some(if got_through {
                            rng.range(4, 15) as i32
                        } else {
                            1
                        }),
                        notes: None,
                        created_at: t,
                        updated_at: t,
                        version: 1,
                    });
                    if got_through {
                        // After the conversation: a lead, a bad fit, or wait.
                        let r = rng.f();
                        let lead = candidates.iter().position(|l| l.created_at > t);
                        if let Some(i) = lead.filter(|_| r < 0.3) {
                            let l = candidates.remove(i);
                            p.status = ProspectStatus::Converted;
                            p.lead_id = Some(l.id.0);
                            p.company_id = l.company_id;
                            p.contact_id = l.contact_id;
                            p.closed_at = Some(l.created_at);
                            p.updated_at = l.created_at;
                        } else if r < 0.6 {
                            p.status = ProspectStatus::Disqualified;
                            p.disqualify_reason = Some(
                                rng.pick(&["Bad fit", "Kein Bedarf", "Wettbewerber gesetzt"])
                                    .to_string(),
                            );
                            p.closed_at = Some(t);
                            p.updated_at = t;
                        }
                    }
                    t = office_hours(t + Duration::hours(rng.range(20, 24 * 8)), &mut rng);
                }
            }
            rows.push(p);
        }
        summary.prospects += rows.len();
        summary.activities += acts.len();
        prospecting::insert_prospects(&mut tx, &rows).await?;
        activities::insert_many(&mut tx, &acts).await?;
    }
    tx.commit().await?;
    Ok(summary)
}

/// The same day (or the Monday after a weekend) between 8:00 and 17:00
/// German time (7:00 to 16:00 UTC is close enough for demo data).
fn office_hours(t: chrono::DateTime<chrono::Utc>, rng: &mut Rng) -> chrono::DateTime<chrono::Utc> {
    use chrono::{Datelike, TimeZone, Weekday};
    let mut day = t.date_naive();
    while matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
        day = day.succ_opt().expect("a next day");
    }
    let minutes = rng.range(7 * 60, 16 * 60) as u32;
    chrono::Utc.from_utc_datetime(
        &day.and_hms_opt(minutes / 60, minutes % 60, 0)
            .expect("a valid time"),
    )
}

fn question(text: &str, kind: &str, choices: &[&str]) -> QuestionInput {
    QuestionInput {
        text: Some(text.into()),
        kind: Some(kind.into()),
        choices: (!choices.is_empty()).then(|| choices.iter().map(|c| c.to_string()).collect()),
        archived: None,
    }
}
