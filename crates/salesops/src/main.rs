//! `salesops`: the server and its command line.

mod config;
mod demo;
mod demo_data;
mod demo_large;
mod demo_prospecting;

use anyhow::Context;
use clap::{Parser, Subcommand};
use config::{Config, Overrides};
use salesops_app::{App, Settings};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

/// mimalloc rather than the system allocator: the bulk load allocates a
/// small buffer for nearly every value it binds on one thread and frees it
/// on SQLite's, where the system allocator spent about a third of the
/// load's CPU time (merging and splitting free blocks, cross-thread frees).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "salesops",
    version,
    about = "Self-hosted sales operations platform"
)]
struct Cli {
    /// Configuration file (default: ./salesops.toml when present).
    #[arg(long, global = true, env = "SALESOPS_CONFIG")]
    config: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://… (env SALESOPS_DATABASE_URL).
    #[arg(long, global = true)]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
// Parsed once per run: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
enum Command {
    /// Migrate the database, then serve the web UI and the API.
    Serve {
        /// Address to listen on (env SALESOPS_LISTEN).
        #[arg(long)]
        listen: Option<String>,
        /// Fill an empty database with the demo organisation and print its logins.
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Load the demo organisation (people, teams, companies, leads and
    /// activities over 18 months) into an empty database.
    Demo {
        /// Seed of the generated data (the same seed gives the same data).
        #[arg(long, default_value_t = demo::DEFAULT_SEED)]
        seed: u64,
        /// small: the Nordwind demo; large: the benchmark organisation
        /// (1,000 reps in teams of 20, 2,000,000 leads, 20,000,000 activities
        /// over three years).
        #[arg(long, value_enum, default_value_t = demo::Size::Small)]
        size: demo::Size,
    },
    /// Import a CSV file of companies, contacts, leads, prospects or
    /// activities (UTF-8, `,` or `;`). Nothing is written when a row is
    /// invalid, unless --skip-invalid.
    Import {
        /// companies, contacts, leads, prospects or activities.
        kind: String,
        file: PathBuf,
        /// Check every row and report, but write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Write the valid rows even when others are invalid.
        #[arg(long)]
        skip_invalid: bool,
        /// Prospects: the id of the prospecting list to fill.
        #[arg(long = "list")]
        list: Option<uuid::Uuid>,
        /// Act as the user with this e-mail (default: the first admin).
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// Export records as CSV (to standard output without FILE).
    Export {
        /// companies, contacts, leads, prospects or activities.
        kind: String,
        file: Option<PathBuf>,
        /// German Excel: a byte-order mark, `;` and decimal commas.
        #[arg(long)]
        excel: bool,
        /// Prospects: only this list's.
        #[arg(long = "list")]
        list: Option<uuid::Uuid>,
        /// Act as the user with this e-mail (default: the first admin).
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// Plan backwards from a revenue target to the deals, leads, prospects
    /// and activities it takes, per team segment and member; --apply turns
    /// the plan into goals.
    Plan {
        /// The revenue target in the organisation's base currency.
        #[arg(long)]
        target: String,
        /// next_quarter, this_year, ... (or --from and --to).
        #[arg(long)]
        preset: Option<String>,
        #[arg(long)]
        from: Option<String>,
        /// Exclusive end.
        #[arg(long)]
        to: Option<String>,
        /// history, best_quartile or manual.
        #[arg(long, default_value = "history")]
        source: String,
        /// The history window (default: the 12 months before the period).
        #[arg(long)]
        window_from: Option<String>,
        #[arg(long)]
        window_to: Option<String>,
        /// Ratios by hand (each overrides the source's value).
        #[arg(long)]
        deal_size: Option<String>,
        #[arg(long)]
        leads_per_deal: Option<String>,
        #[arg(long)]
        prospects_per_lead: Option<String>,
        #[arg(long)]
        calls_per_prospect: Option<String>,
        #[arg(long)]
        calls_per_lead: Option<String>,
        #[arg(long)]
        meetings_per_lead: Option<String>,
        #[arg(long)]
        proposals_per_lead: Option<String>,
        /// capacity or evenly.
        #[arg(long, default_value = "capacity")]
        split: String,
        /// Write the plan as goals.
        #[arg(long)]
        apply: bool,
        /// Print the plan as JSON (as the API returns it).
        #[arg(long)]
        json: bool,
        /// Act as the user with this e-mail (default: the first admin).
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// Send the daily digest of a day now (each recipient at most once a
    /// day, whoever sent it), or print it with --dry-run.
    Digest {
        /// The day it is sent for (default: today in the organisation's time zone).
        #[arg(long)]
        date: Option<String>,
        /// Print the digests (plain text) instead of sending them.
        #[arg(long)]
        dry_run: bool,
        /// Only this recipient's (an e-mail address).
        #[arg(long)]
        to: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user (the first admin, say).
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, ops, manager, rep or viewer.
        #[arg(long)]
        role: String,
        /// Read the password from standard input; otherwise one is generated and printed.
        #[arg(long)]
        password_stdin: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let listen = match &cli.command {
        Command::Serve { listen, .. } => listen.clone(),
        _ => None,
    };
    let overrides = Overrides {
        listen,
        database_url: cli.database.clone(),
    };
    let config = match Config::load(cli.config.as_deref(), &overrides) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    init_logging(&config);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(c: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&c.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    if c.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Opens and migrates the database and makes sure the organisation exists.
async fn open(config: &Config) -> anyhow::Result<App> {
    open_with(config, false).await
}

/// [`open`], for the server when `server` (see `connect_server`).
async fn open_with(config: &Config, server: bool) -> anyhow::Result<App> {
    let db = if server {
        salesops_store::connect_server(&config.database_url).await?
    } else {
        salesops_store::connect(&config.database_url).await?
    };
    db.migrate().await.with_context(|| {
        format!(
            "migrating {}",
            salesops_store::redact_url(&config.database_url)
        )
    })?;
    let settings = Settings {
        session_ttl: chrono::Duration::hours(config.session_ttl_hours),
        max_failures_per_account: config.max_failed_logins_per_account,
        max_failures_per_ip: config.max_failed_logins_per_ip,
        index_snapshot: config.index_snapshot_path(),
        notify: salesops_app::notify::NotifyConfig {
            base_url: config.base_url.clone(),
            mail: config.mail(),
            mail_from: config.mail_from.clone(),
            allow_private_webhooks: config.webhooks_allow_private,
            webhook_timeout: std::time::Duration::from_secs(config.webhook_timeout_secs),
            ..Default::default()
        },
        ..Settings::default()
    };
    let app = App::new(db, settings);
    app.ensure_default_org(&config.org_name).await?;
    Ok(app)
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { demo, .. } => serve(config, demo).await,
        Command::Migrate => {
            let app = open(&config).await?;
            let org = app.default_org().await?;
            println!(
                "database migrated; organisation: {} ({})",
                org.name, org.slug
            );
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Add {
                    email,
                    name,
                    role,
                    password_stdin,
                },
        } => {
            let app = open(&config).await?;
            let password = if password_stdin {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .context("reading the password from standard input")?;
                s.trim_end_matches(['\r', '\n']).to_string()
            } else {
                salesops_app::auth::random_token(15)
            };
            let org = app.default_org().await?;
            let v =
                salesops_app::users::add_user_cli(&app, org.id, &email, &name, &role, &password)
                    .await
                    .map_err(|e| anyhow::anyhow!("{}", describe(e)))?;
            println!("created {} {} ({})", v.user.role, v.user.email, v.user.id);
            if !password_stdin {
                println!("password: {password}");
            }
            Ok(())
        }
        Command::Demo { seed, size } => {
            let app = open(&config).await?;
            match size {
                demo::Size::Small => print_demo(&app, seed).await,
                demo::Size::Large => print_large_demo(&app, &config, seed).await,
            }
        }
        Command::Import {
            kind,
            file,
            dry_run,
            skip_invalid,
            list,
            as_user,
        } => import(&config, &kind, &file, dry_run, skip_invalid, list, as_user).await,
        Command::Export {
            kind,
            file,
            excel,
            list,
            as_user,
        } => export(&config, &kind, file, excel, list, as_user).await,
        Command::Plan {
            target,
            preset,
            from,
            to,
            source,
            window_from,
            window_to,
            deal_size,
            leads_per_deal,
            prospects_per_lead,
            calls_per_prospect,
            calls_per_lead,
            meetings_per_lead,
            proposals_per_lead,
            split,
            apply,
            json,
            as_user,
        } => {
            let dec =
                |field: &str, v: Option<String>| -> anyhow::Result<Option<rust_decimal::Decimal>> {
                    v.map(|s| {
                        s.trim()
                            .parse::<rust_decimal::Decimal>()
                            .map_err(|_| anyhow::anyhow!("{field}: not a decimal number: {s}"))
                    })
                    .transpose()
                };
            use salesops_web::api::planner::{PlannerRequest, RatiosIn};
            let req = PlannerRequest {
                target: dec("target", Some(target))?,
                preset,
                from,
                to,
                source: Some(source),
                window_from,
                window_to,
                ratios: RatiosIn {
                    deal_size: dec("deal_size", deal_size)?,
                    leads_per_deal: dec("leads_per_deal", leads_per_deal)?,
                    prospects_per_lead: dec("prospects_per_lead", prospects_per_lead)?,
                    calls_per_prospect: dec("calls_per_prospect", calls_per_prospect)?,
                    calls_per_lead: dec("calls_per_lead", calls_per_lead)?,
                    meetings_per_lead: dec("meetings_per_lead", meetings_per_lead)?,
                    proposals_per_lead: dec("proposals_per_lead", proposals_per_lead)?,
                },
                split: Some(split),
            };
            plan(&config, req, apply, json, as_user).await
        }
        Command::Digest { date, dry_run, to } => digest(&config, date, dry_run, to).await,
    }
}

async fn digest(
    config: &Config,
    date: Option<String>,
    dry_run: bool,
    to: Option<String>,
) -> anyhow::Result<()> {
    use salesops_app::notify::digest::DigestRenderer;
    let app = open(config).await?;
    let org = app.default_org().await?;
    let today = app
        .org_today(org.id)
        .await
        .map_err(|e| anyhow::anyhow!("{}", describe(e)))?;
    let date = match date {
        Some(d) => d
            .trim()
            .parse::<chrono::NaiveDate>()
            .map_err(|_| anyhow::anyhow!("--date: not a date like 2026-11-23: {d}"))?,
        None => today,
    };
    anyhow::ensure!(
        date <= today,
        "--date: {date} has not begun yet (today is {today} in the organisation's time zone)"
    );
    let renderer = salesops_web::mail::Renderer;
    let fail = |e| anyhow::anyhow!("{}", describe(e));
    if dry_run {
        let mut digests = app.digests_for_day(org.id, date).await.map_err(fail)?;
        if let Some(t) = &to {
            digests.retain(|d| d.email.eq_ignore_ascii_case(t));
        }
        if digests.is_empty() {
            println!("no digest for {date}: nobody has chosen one (managers get it by default)");
        }
        for d in digests {
            let r = renderer.render(&d);
            println!(
                "To: {} <{}>\nSubject: {}\n\n{}\n",
                d.recipient_name, d.email, r.subject, r.text
            );
        }
        return Ok(());
    }
    let mailer =
        salesops_app::notify::mail::Mailer::new(&config.mail()).map_err(|e| anyhow::anyhow!(e))?;
    anyhow::ensure!(
        !mailer.is_off(),
        "no mail transport is configured: set smtp_url (SALESOPS_SMTP_URL) or mail_dir, or use --dry-run"
    );
    anyhow::ensure!(to.is_none(), "--to only goes with --dry-run");
    let planned = app.plan_digests(org.id, date).await.map_err(fail)?;
    let run = app
        .send_due_digests(&mailer, &renderer)
        .await
        .map_err(fail)?;
    println!(
        "digest of {date}: {planned} planned now; {} sent, {} to retry, {} failed, {} skipped",
        run.sent, run.retrying, run.failed, run.skipped
    );
    anyhow::ensure!(
        run.failed == 0 && run.retrying == 0,
        "some digests were not sent; see the admin page (Digest & alerts) for the reasons"
    );
    Ok(())
}

async fn plan(
    config: &Config,
    req: salesops_web::api::planner::PlannerRequest,
    apply: bool,
    json: bool,
    as_user: Option<String>,
) -> anyhow::Result<()> {
    use salesops_web::api::planner::PlanOut;
    let app = open(config).await?;
    let actor = app
        .command_line_actor(as_user.as_deref())
        .await
        .map_err(|e| anyhow::anyhow!("{}", describe(e)))?;
    let today = app
        .org_today(actor.org_id)
        .await
        .map_err(|e| anyhow::anyhow!("{}", describe(e)))?;
    let input = req.input(today).map_err(|e| anyhow::anyhow!("{e}"))?;
    let out = if apply {
        let (p, n) = app
            .apply_plan(&actor, &input)
            .await
            .map_err(|e| anyhow::anyhow!("{}", describe(e)))?;
        PlanOut::new(p, Some(n))
    } else {
        let p = app
            .plan(&actor, &input)
            .await
            .map_err(|e| anyhow::anyhow!("{}", describe(e)))?;
        PlanOut::new(p, None)
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!(
        "Plan for {} {} from {} to {} (exclusive), {} weeks",
        out.target.amount, out.target.currency, out.from, out.to, out.weeks
    );
    println!(
        "Ratios (history window {} to {}):",
        out.window_from, out.window_to
    );
    for r in &out.ratios {
        let basis = match (&r.numerator, &r.denominator) {
            (Some(n), Some(d)) => format!(" ({n} / {d})"),
            _ => String::new(),
        };
        println!("  {:<20} {:>12}  {}{}", r.name, r.value, r.source, basis);
    }
    let t = &out.totals;
    println!("Needed in total:");
    for (k, v) in [
        ("deals", t.deals),
        ("leads", t.leads),
        ("prospects", t.prospects),
        ("cold calls", t.cold_calls),
        ("calls", t.calls),
        ("meetings", t.meetings),
        ("proposals", t.proposals),
    ] {
        println!("  {k:<20} {v:>12}");
    }
    for s in &out.segments {
        println!("Segment {}:", s.segment);
        for v in &s.values {
            println!(
                "  {:<20} {:>12}  ({} a week)",
                v.metric, v.total, v.per_week
            );
        }
        if s.members.is_empty() {
            println!("  (no team of this segment has members)");
        }
        for m in &s.members {
            let vals: Vec<String> = m
                .values
                .iter()
                .map(|v| format!("{} {} ({}/week)", v.metric, v.total, v.per_week))
                .collect();
            println!("  {:<24} {}", m.name, vals.join(", "));
        }
    }
    if let Some(n) = out.goals_created {
        println!("{n} goals created.");
    }
    Ok(())
}

async fn import(
    config: &Config,
    kind: &str,
    file: &std::path::Path,
    dry_run: bool,
    skip_invalid: bool,
    list: Option<uuid::Uuid>,
    as_user: Option<String>,
) -> anyhow::Result<()> {
    use salesops_app::csv_io::{ImportOptions, Kind, Phase};
    let kind: Kind = kind.parse().map_err(|e: String| anyhow::anyhow!(e))?;
    let data = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let app = open(config).await?;
    let actor = app
        .command_line_actor(as_user.as_deref())
        .await
        .map_err(|e| anyhow::anyhow!("{}", describe(e)))?;
    let opts = ImportOptions {
        kind: Some(kind),
        dry_run,
        skip_invalid,
        list_id: list.map(salesops_domain::ProspectListId),
        mapping: Default::default(),
    };
    let started = std::time::Instant::now();
    let progress = |p: salesops_app::csv_io::Progress| {
        let what = match p.phase {
            Phase::Checking => "checked",
            Phase::Writing => "written",
        };
        eprintln!("{} of {} rows {what}", p.done, p.total);
    };
    let report = app
        .import_csv(&actor, &data, &opts, &progress)
        .await
        .map_err(|e| anyhow::anyhow!("{}", describe(e)))?;
    for e in &report.errors {
        let row = e
            .row
            .map(|r| format!("row {r}"))
            .unwrap_or_else(|| "file".into());
        match &e.column {
            Some(c) => println!("{row}, column {c:?}: {}", e.message),
            None => println!("{row}: {}", e.message),
        }
    }
    if report.error_count as usize > report.errors.len() {
        println!("… and more: {} invalid rows in all", report.error_count);
    }
    println!("{}", report.summary());
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "import finished"
    );
    if dry_run && !skip_invalid && report.error_count > 0 {
        anyhow::bail!(
            "{} invalid rows (a dry run: nothing was written)",
            report.error_count
        );
    }
    if report.failed() {
        anyhow::bail!(
            "{}",
            report.failure.clone().unwrap_or_else(|| format!(
                "{} invalid rows; nothing was written (see above, or use --skip-invalid)",
                report.error_count
            ))
        );
    }
    Ok(())
}

async fn export(
    config: &Config,
    kind: &str,
    file: Option<PathBuf>,
    excel: bool,
    list: Option<uuid::Uuid>,
    as_user: Option<String>,
) -> anyhow::Result<()> {
    use salesops_app::csv_io::{ExportOptions, ExportSink, Kind};
    use std::io::Write;
    struct Out(Box<dyn Write + Send>, Option<std::io::Error>);
    impl ExportSink for Out {
        async fn write(&mut self, chunk: Vec<u8>) -> bool {
            match self.0.write_all(&chunk) {
                Ok(()) => true,
                Err(e) => {
                    self.1 = Some(e);
                    false
                }
            }
        }
    }
    let kind: Kind = kind.parse().map_err(|e: String| anyhow::anyhow!(e))?;
    let app = open(config).await?;
    let actor = app
        .command_line_actor(as_user.as_deref())
        .await
        .map_err(|e| anyhow::anyhow!("{}", describe(e)))?;
    let w: Box<dyn Write + Send> = match &file {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let mut out = Out(w, None);
    let opts = ExportOptions {
        kind,
        excel,
        list_id: list.map(salesops_domain::ProspectListId),
    };
    let n = app
        .export_csv(&actor, opts, &mut out)
        .await
        .map_err(|e| anyhow::anyhow!("{}", describe(e)))?;
    if let Some(e) = out.1 {
        return Err(e).context("writing the export");
    }
    out.0.flush().context("writing the export")?;
    eprintln!("{n} {kind} exported");
    Ok(())
}

/// A one-line reason for a use-case error.
fn describe(e: salesops_app::AppError) -> String {
    match e {
        salesops_app::AppError::Invalid(i) => i.to_string(),
        other => other.to_string(),
    }
}

async fn print_demo(app: &App, seed: u64) -> anyhow::Result<()> {
    let (logins, loaded) = demo::load(app, seed).await?;
    if loaded {
        println!(
            "Demo organisation \"{}\" loaded. Logins (password: {}):",
            demo::ORG_NAME,
            demo::DEMO_PASSWORD
        );
    } else {
        println!(
            "The database already has users; demo data not loaded. Demo logins (password {} unless changed):",
            demo::DEMO_PASSWORD
        );
    }
    for l in logins {
        println!("  {:<8} {}", l.role, l.email);
    }
    Ok(())
}

/// Page cache of the SQLite connection that loads the large demo: enough
/// for the indexes the load touches at random to stay in memory.
const LOAD_CACHE_MIB: u32 = 4096;

async fn print_large_demo(app: &App, config: &Config, seed: u64) -> anyhow::Result<()> {
    let plan = demo_large::Plan::large(salesops_store::now());
    let (logins, prepared) = demo_large::prepare(app, seed, &plan).await?;
    let summary = match prepared {
        Some(p) => {
            // The load connection must be the only one: SQLite leaves WAL
            // for the load only then.
            app.db.close().await;
            let bulk =
                salesops_store::connect_for_load(&config.database_url, LOAD_CACHE_MIB).await?;
            let summary = demo_large::write_prepared(&bulk, p, true).await;
            bulk.close().await;
            Some(summary?)
        }
        None => None,
    };
    let n = |x: usize| demo_large::thousands(x as u64);
    match summary {
        Some(s) => {
            let t = &s.stats;
            println!(
                "Benchmark data: {} users in {} teams; {} companies, {} contacts, {} leads, {} stage changes, {} activities.",
                n(t.users),
                n(t.teams),
                n(t.companies),
                n(t.contacts),
                n(t.leads),
                n(t.history),
                n(t.activities)
            );
            println!(
                "Inserted {} rows in {:.1} s: {} rows/s.",
                n(t.rows()),
                s.insert_seconds,
                n(s.insert_rows_per_second() as usize)
            );
            if let Some((mode, f)) = &s.bulk {
                println!(
                    "Bulk-load mode (journal {}, replication role {}): indexes {:.1} s, reference checks {:.1} s, ANALYZE {:.1} s.",
                    mode.journal_mode.as_deref().unwrap_or("-"),
                    mode.replication_role.as_deref().unwrap_or("-"),
                    f.indexes.as_secs_f64(),
                    f.checks.as_secs_f64(),
                    f.analyze.as_secs_f64()
                );
            }
            println!(
                "Loaded in {:.1} s all told: {} rows/s.",
                s.seconds,
                n(s.rows_per_second() as usize)
            );
            println!(
                "Demo organisation \"{}\" loaded. Logins (password: {}):",
                demo::ORG_NAME,
                demo::DEMO_PASSWORD
            );
        }
        None => println!(
            "The database already has users; demo data not loaded. Demo logins (password {} unless changed):",
            demo::DEMO_PASSWORD
        ),
    }
    for l in logins {
        println!("  {:<8} {}", l.role, l.email);
    }
    Ok(())
}

async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    tracing::info!(config = ?config.redacted(), "starting");
    // Take the port first: a second instance fails before it writes anything.
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let app = open_with(&config, true).await?;
    if demo {
        print_demo(&app, demo::DEFAULT_SEED).await?;
    }
    let web = salesops_web::WebConfig {
        secure_cookies: config.base_url.starts_with("https://"),
        body_limit: config.body_limit_bytes,
        trust_forwarded_for: config.trust_forwarded_for,
        base_url: config.base_url.clone(),
    };
    let state = salesops_web::state(app.clone(), web);
    // The analytic index: built from the tables, then kept current from
    // the change feed (reports read the tables until it is ready).
    let (stop_index, stopped) = tokio::sync::watch::channel(false);
    let index = tokio::spawn({
        let app = app.clone();
        async move { app.run_index(stopped).await }
    });
    // Webhook deliveries, alerts and the morning digest.
    let (stop_notify, notify_stopped) = tokio::sync::watch::channel(false);
    let notifications = tokio::spawn({
        let app = app.clone();
        async move {
            app.run_notifications(
                std::sync::Arc::new(salesops_web::mail::Renderer),
                notify_stopped,
            )
            .await
        }
    });
    let housekeeping = tokio::spawn({
        let app = app.clone();
        async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
            loop {
                tick.tick().await;
                if let Err(e) = app.housekeeping().await {
                    tracing::warn!(error = %e, "housekeeping failed");
                }
                let swept = salesops_web::sweep_uploads(std::time::Duration::from_secs(86_400));
                if swept > 0 {
                    tracing::info!(files = swept, "abandoned uploads removed");
                }
            }
        }
    });
    // SQLite: the write-ahead log is copied into the database here, off
    // the requests' path (see `connect_server`).
    let checkpoints = tokio::spawn({
        let db = app.db.clone();
        async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                tick.tick().await;
                if let Err(e) = db.checkpoint().await {
                    tracing::warn!(error = %e, "checkpoint failed");
                }
            }
        }
    });
    let addr = listener.local_addr()?;
    println!("salesops is serving on http://{addr}");
    tracing::info!(%addr, "listening");
    salesops_web::serve(listener, state, shutdown_signal())
        .await
        .context("serving")?;
    housekeeping.abort();
    checkpoints.abort();
    let _ = stop_notify.send(true);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(15), notifications).await;
    let _ = stop_index.send(true);
    index.abort();
    app.db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
