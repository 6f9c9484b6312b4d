//! `salesops`: the server and its command line.

mod config;
mod demo;
mod demo_data;
mod demo_large;

use anyhow::Context;
use clap::{Parser, Subcommand};
use config::{Config, Overrides};
use salesops_app::{App, Settings};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

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
        /// (1,000 reps, 2,000,000 leads, 20,000,000 activities).
        #[arg(long, value_enum, default_value_t = demo::Size::Small)]
        size: demo::Size,
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
    let db = salesops_store::connect(&config.database_url).await?;
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
    }
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
    let bulk = salesops_store::connect_for_load(&config.database_url, LOAD_CACHE_MIB).await?;
    let (logins, summary) = demo_large::load(app, &bulk, seed, &plan).await?;
    bulk.close().await;
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
                "Wrote {} rows in {:.1} s: {} rows/s.",
                n(t.rows()),
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
    let app = open(&config).await?;
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
    let housekeeping = tokio::spawn({
        let app = app.clone();
        async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
            loop {
                tick.tick().await;
                if let Err(e) = app.housekeeping().await {
                    tracing::warn!(error = %e, "housekeeping failed");
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
