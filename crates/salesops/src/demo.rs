//! The demo organisation: a German B2B company with an admin, a sales-ops
//! analyst, two managers, reps in three teams and a viewer.

use salesops_app::teams::NewTeam;
use salesops_app::users::NewUser;
use salesops_app::{Actor, App};
use salesops_domain::{Role, UserId};

pub const DEMO_PASSWORD: &str = "salesops-demo";
pub const ORG_NAME: &str = "Nordwind Maschinenbau GmbH";

/// (email, name, role, team index or none, hire date)
const PEOPLE: &[(&str, &str, Role, Option<usize>, &str)] = &[
    (
        "admin@nordwind.example",
        "Anna Admin",
        Role::Admin,
        None,
        "2019-01-02",
    ),
    (
        "ops@nordwind.example",
        "Olaf Berger",
        Role::Ops,
        None,
        "2020-03-01",
    ),
    (
        "miriam.keller@nordwind.example",
        "Miriam Keller",
        Role::Manager,
        Some(2),
        "2018-06-01",
    ),
    (
        "jonas.wolf@nordwind.example",
        "Jonas Wolf",
        Role::Manager,
        Some(1),
        "2019-09-15",
    ),
    (
        "lena.fischer@nordwind.example",
        "Lena Fischer",
        Role::Rep,
        Some(0),
        "2021-02-01",
    ),
    (
        "tim.schulz@nordwind.example",
        "Tim Schulz",
        Role::Rep,
        Some(0),
        "2023-04-01",
    ),
    (
        "sara.yilmaz@nordwind.example",
        "Sara Yılmaz",
        Role::Rep,
        Some(1),
        "2022-01-10",
    ),
    (
        "paul.neumann@nordwind.example",
        "Paul Neumann",
        Role::Rep,
        Some(1),
        "2024-08-01",
    ),
    (
        "nina.braun@nordwind.example",
        "Nina Braun",
        Role::Rep,
        Some(2),
        "2020-05-04",
    ),
    (
        "felix.hoffmann@nordwind.example",
        "Felix Hoffmann",
        Role::Rep,
        Some(2),
        "2021-11-15",
    ),
    (
        "julia.koch@nordwind.example",
        "Julia Koch",
        Role::Rep,
        Some(2),
        "2025-03-01",
    ),
    (
        "claudia.richter@nordwind.example",
        "Claudia Richter",
        Role::Viewer,
        None,
        "2017-01-01",
    ),
];

/// (name, segment, manager email)
const TEAMS: &[(&str, &str, &str)] = &[
    ("Marketing", "marketing", "jonas.wolf@nordwind.example"),
    ("Kaltakquise", "prospecting", "jonas.wolf@nordwind.example"),
    ("Vertrieb Nord", "sales", "miriam.keller@nordwind.example"),
];

/// The seed of the demo data (`salesops demo --seed N` picks another).
pub const DEFAULT_SEED: u64 = 20_261_123;

/// How big the demo organisation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Size {
    /// Nordwind with 7 reps, 1,500 leads and about 27,000 activities.
    Small,
    /// The benchmark organisation: 1,000 reps, 2,000,000 leads, 20,000,000 activities.
    Large,
}

pub struct Login {
    pub email: String,
    pub role: Role,
}

/// Loads the demo organisation into an empty database. Returns the logins,
/// and whether anything was written (nothing when users already exist).
pub async fn load(app: &App, seed: u64) -> anyhow::Result<(Vec<Login>, bool)> {
    let org = app.default_org().await?;
    let logins = PEOPLE
        .iter()
        .map(|p| Login {
            email: p.0.to_string(),
            role: p.2,
        })
        .collect();
    if salesops_store::users::count(&mut app.db.clone(), org.id).await? > 0 {
        return Ok((logins, false));
    }
    app.rename_org(org.id, ORG_NAME).await?;
    // The first admin is created directly; everything else goes through the
    // use cases with that admin's permissions.
    let admin =
        salesops_app::users::bootstrap_admin(app, org.id, PEOPLE[0].0, PEOPLE[0].1, DEMO_PASSWORD)
            .await?;
    let actor: Actor = app.actor(org.id, admin).await?;
    let mut ids: Vec<(&str, UserId)> = vec![(PEOPLE[0].0, admin)];
    for (email, name, role, _, hire) in &PEOPLE[1..] {
        let v = app
            .create_user(
                &actor,
                NewUser {
                    email: email.to_string(),
                    name: name.to_string(),
                    role: role.to_string(),
                    password: DEMO_PASSWORD.into(),
                    locale: Some("de".into()),
                    time_zone: Some("Europe/Berlin".into()),
                    hire_date: hire.parse().ok(),
                    ..Default::default()
                },
            )
            .await?;
        ids.push((email, v.user.id));
    }
    let id_of = |email: &str| ids.iter().find(|(e, _)| *e == email).map(|(_, id)| *id);
    let mut team_ids = vec![];
    for (i, (name, segment, manager)) in TEAMS.iter().enumerate() {
        let members = PEOPLE
            .iter()
            .filter(|p| p.3 == Some(i) && p.2 == Role::Rep)
            .filter_map(|p| id_of(p.0))
            .collect();
        let team = app
            .create_team(
                &actor,
                NewTeam {
                    name: name.to_string(),
                    segment: segment.to_string(),
                    manager_id: id_of(manager),
                    parent_id: None,
                    member_ids: members,
                },
            )
            .await?;
        team_ids.push((segment.to_string(), team.team.id));
    }
    let summary = crate::demo_data::load(app, &actor, org.id, seed).await?;
    println!(
        "Demo sales data: {} companies, {} contacts, {} leads, {} activities.",
        summary.companies, summary.contacts, summary.leads, summary.activities
    );
    let p = crate::demo_prospecting::load(app, &actor, org.id, seed).await?;
    println!(
        "Demo prospecting: {} lists, {} prospects, {} calls on them.",
        p.lists, p.prospects, p.activities
    );
    let goals = demo_goals(app, &actor, &team_ids).await?;
    println!("Demo goals: {goals} goals for the teams.");
    Ok((logins, true))
}

/// The goals a sales manager of Nordwind would set: calls and answered
/// calls a week and a monthly revenue quota for each sales rep, cold calls
/// a day for each cold caller.
async fn demo_goals(
    app: &App,
    actor: &Actor,
    teams: &[(String, salesops_domain::TeamId)],
) -> anyhow::Result<usize> {
    use salesops_app::goals::GoalInput;
    use salesops_domain::ActivityKind;
    let types = app.list_activity_types(actor, false).await?;
    let call = types
        .iter()
        .find(|t| t.activity_type.kind == ActivityKind::Call)
        .ok_or_else(|| anyhow::anyhow!("the demo needs a call type"))?;
    let answered = call.outcomes.iter().find(|o| o.positive).map(|o| o.id.0);
    let team = |seg: &str| teams.iter().find(|(s, _)| s == seg).map(|(_, t)| *t);
    let from = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("a date");
    let goal = |team, metric: &str, ty, outcome, period: &str, target: i64| GoalInput {
        assignee: "each_member".into(),
        user_id: None,
        team_id: team,
        metric: metric.into(),
        activity_type_id: ty,
        outcome_id: outcome,
        period: period.into(),
        target: Some(rust_decimal::Decimal::from(target)),
        valid_from: Some(from),
        valid_until: None,
        pipeline_id: None,
    };
    let call_id = Some(call.activity_type.id.0);
    let inputs = vec![
        goal(team("sales"), "activities", call_id, None, "week", 60),
        goal(team("sales"), "activities", call_id, answered, "week", 25),
        goal(team("sales"), "revenue_won", None, None, "month", 60_000),
        goal(team("prospecting"), "activities", call_id, None, "day", 40),
    ];
    Ok(app.create_goals(actor, inputs).await?.len())
}
