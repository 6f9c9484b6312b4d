//! The command line, run as a user would: the real binary in a temporary directory.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_salesops"));
    // Keep the developer's environment out of the tests.
    for (k, _) in std::env::vars() {
        if k.starts_with("SALESOPS_") {
            c.env_remove(k);
        }
    }
    c
}

fn run(dir: &std::path::Path, args: &[&str]) -> Output {
    bin().current_dir(dir).args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

fn wait_ready(child: &mut Child, port: u16) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if let Some(r) = http_get(port, "/readyz")
            && r.lines().next().is_some_and(|l| l.contains(" 200 "))
        {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("server exited early: {status}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("server not ready within 60 s");
}

#[test]
fn a_database_that_cannot_be_opened_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        dir.path(),
        &[
            "serve",
            "--database",
            "postgres://app:s3cretpw@127.0.0.1:1/salesops",
        ],
    );
    assert!(!o.status.success());
    let err = stderr(&o);
    let last = err.lines().last().unwrap();
    assert!(
        last.starts_with("error: cannot open database postgres://app:***@127.0.0.1:1/salesops"),
        "{err}"
    );
    assert!(!err.contains("s3cretpw"), "the password leaks: {err}");
    let o = run(dir.path(), &["migrate", "--database", "mysql://x"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("unsupported URL scheme"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_port_in_use_is_refused_and_nothing_else_breaks() {
    let dir = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let o = run(dir.path(), &["serve", "--listen", &addr]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.lines()
            .last()
            .unwrap()
            .starts_with(&format!("error: cannot listen on {addr}")),
        "{err}"
    );
}

#[test]
fn serve_demo_answers_then_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = bin()
        .current_dir(dir.path())
        .args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}")])
        .env("SALESOPS_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_ready(&mut child, port);
    assert!(
        dir.path().join("salesops.db").exists(),
        "the default database is ./salesops.db"
    );
    let login = http_get(port, "/login").unwrap();
    assert!(login.lines().next().unwrap().contains(" 200 "), "{login}");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "exit after SIGTERM: {:?} {}",
        out.status,
        stderr(&out)
    );
    let text = stdout(&out);
    assert!(
        text.contains("admin@nordwind.example") && text.contains("salesops-demo"),
        "{text}"
    );
    assert!(text.contains(&format!("serving on http://127.0.0.1:{port}")));
    let logs = stderr(&out);
    for line in logs.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON log line: {line}"));
        assert!(v.get("level").is_some());
    }
    assert!(logs.contains("finishing in-flight requests"), "{logs}");
    // A second start finds the demo data and does not load it twice.
    let o = run(dir.path(), &["demo"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("already has users"));
}

#[test]
fn migrate_and_user_add() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("x.db").display());
    let o = run(dir.path(), &["migrate", "--database", &db]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("organisation: My organisation"));
    let mut child = bin()
        .current_dir(dir.path())
        .args([
            "user",
            "add",
            "--email",
            "Boss@Example.com",
            "--name",
            "Erika Muster",
            "--role",
            "admin",
            "--password-stdin",
            "--database",
            &db,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a very long password\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("created admin boss@example.com"),
        "{}",
        stdout(&o)
    );
    // The same address again, a bad role, a short password: one line each, nothing written.
    let o = run(
        dir.path(),
        &[
            "user",
            "add",
            "--email",
            "boss@example.com",
            "--name",
            "Twin",
            "--role",
            "rep",
            "--database",
            &db,
        ],
    );
    assert!(!o.status.success());
    assert_eq!(
        stderr(&o).trim(),
        "error: email: is already used by another user"
    );
    let o = run(
        dir.path(),
        &[
            "user",
            "add",
            "--email",
            "x@example.com",
            "--name",
            "X",
            "--role",
            "boss",
            "--database",
            &db,
        ],
    );
    assert_eq!(
        stderr(&o).trim(),
        "error: role: must be one of: admin, ops, manager, rep, viewer"
    );
    // Without --password-stdin a password is generated and shown once.
    let o = run(
        dir.path(),
        &[
            "user",
            "add",
            "--email",
            "rep@example.com",
            "--name",
            "Rep",
            "--role",
            "rep",
            "--database",
            &db,
        ],
    );
    assert!(o.status.success());
    assert!(
        stdout(&o)
            .lines()
            .any(|l| l.starts_with("password: ") && l.len() > 25),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_broken_configuration_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("salesops.toml"), "listen = 5\n").unwrap();
    let o = run(dir.path(), &["migrate"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).starts_with("error: invalid configuration"),
        "{}",
        stderr(&o)
    );
    let o = run(dir.path(), &["--config", "/nonexistent.toml", "migrate"]);
    assert!(
        stderr(&o).contains("/nonexistent.toml does not exist"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn demo_data_is_the_same_for_the_same_seed() {
    let dir = tempfile::tempdir().unwrap();
    let run_demo = |name: &str, seed: &str| {
        let db = format!("sqlite://{}", dir.path().join(name).display());
        let o = run(dir.path(), &["demo", "--seed", seed, "--database", &db]);
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
            .lines()
            .find(|l| l.starts_with("Demo sales data:"))
            .unwrap()
            .to_string()
    };
    let a = run_demo("a.db", "7");
    let b = run_demo("b.db", "7");
    let c = run_demo("c.db", "8");
    assert_eq!(a, b, "same seed, same data");
    assert!(
        a.contains("400 companies") && a.contains("1500 leads"),
        "{a}"
    );
    let activities: usize = a
        .split(", ")
        .find(|p| p.ends_with("activities."))
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((20_000..40_000).contains(&activities), "{a}");
    assert_ne!(a, c, "another seed, other data");
}

/// A fresh database with an admin, for the commands that act as one.
fn database_with_admin(dir: &std::path::Path) -> String {
    let db = format!("sqlite://{}", dir.join("x.db").display());
    let mut child = bin()
        .current_dir(dir)
        .args([
            "user",
            "add",
            "--email",
            "ops@example.com",
            "--name",
            "Olga Ops",
            "--role",
            "admin",
            "--password-stdin",
            "--database",
            &db,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a very long password\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    db
}

#[test]
fn plan_computes_the_seeds_example_and_refuses_a_zero_ratio() {
    let dir = tempfile::tempdir().unwrap();
    let db = database_with_admin(dir.path());
    let base = [
        "plan",
        "--target",
        "90000",
        "--from",
        "2027-01-01",
        "--to",
        "2027-04-01",
        "--source",
        "manual",
        "--deal-size",
        "30000",
        "--prospects-per-lead",
        "20",
        "--calls-per-prospect",
        "3",
        "--calls-per-lead",
        "8",
        "--meetings-per-lead",
        "1",
        "--proposals-per-lead",
        "2",
        "--database",
        &db,
    ];
    let mut args = base.to_vec();
    args.extend(["--leads-per-deal", "4"]);
    let o = run(dir.path(), &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for line in [
        "deals                           3",
        "leads                          12",
        "prospects                     240",
        "cold calls                    720",
        "calls                          96",
        "meetings                       12",
        "proposals                      24",
    ] {
        assert!(out.contains(line), "{line:?} in\n{out}");
    }
    args.push("--json");
    let o = run(dir.path(), &args);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["totals"]["cold_calls"], serde_json::json!(720));

    let mut bad = base.to_vec();
    bad.extend(["--leads-per-deal", "0"]);
    let o = run(dir.path(), &bad);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("leads_per_deal: must be more than zero"),
        "{err}"
    );
}

#[test]
fn import_and_export_companies_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = database_with_admin(dir.path());
    let csv = dir.path().join("firmen.csv");
    std::fs::write(
        &csv,
        "\u{feff}Name;Stadt;external_id\nWeber GmbH;Köln;w-1\n;Bonn;w-2\nMüller AG;Bonn;w-3\n",
    )
    .unwrap();
    let path = csv.to_str().unwrap();
    // A dry run reports the bad row and writes nothing; without
    // --skip-invalid nothing is written either.
    for args in [
        vec!["import", "companies", path, "--dry-run", "--database", &db],
        vec!["import", "companies", path, "--database", &db],
    ] {
        let o = run(dir.path(), &args);
        assert!(!o.status.success(), "{}", stdout(&o));
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert!(all.contains("row 3"), "{all}");
    }
    let o = run(dir.path(), &["export", "companies", "--database", &db]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).lines().count(),
        1,
        "only the header: {}",
        stdout(&o)
    );
    let o = run(
        dir.path(),
        &[
            "import",
            "companies",
            path,
            "--skip-invalid",
            "--database",
            &db,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(dir.path(), &["export", "companies", "--database", &db]);
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(
        out.contains("Weber GmbH") && out.contains("Müller AG"),
        "{out}"
    );
    // Importing again is idempotent by external id.
    let o = run(
        dir.path(),
        &[
            "import",
            "companies",
            path,
            "--skip-invalid",
            "--database",
            &db,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(dir.path(), &["export", "companies", "--database", &db]);
    assert_eq!(stdout(&o).lines().count(), 3);
}

#[test]
fn digest_prints_sends_once_and_explains_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("d.db").display());
    let o = run(dir.path(), &["demo", "--database", &db]);
    assert!(o.status.success(), "{}", stderr(&o));
    // --dry-run prints every manager's digest and sends nothing.
    let o = run(
        dir.path(),
        &[
            "digest",
            "--dry-run",
            "--date",
            "2026-11-23",
            "--database",
            &db,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let managers = out.matches("\nSubject: ").count() + usize::from(out.starts_with("Subject: "));
    assert!(managers >= 2, "{out}");
    assert!(out.contains("To: ") && out.contains("Nordwind"), "{out}");
    // Without a mail transport: one line, non-zero.
    let o = run(
        dir.path(),
        &["digest", "--date", "2026-11-23", "--database", &db],
    );
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("no mail transport") && err.lines().count() == 1,
        "{err}"
    );
    let o = run(
        dir.path(),
        &["digest", "--date", "23.11.2026", "--database", &db],
    );
    assert!(
        !o.status.success() && stderr(&o).contains("--date"),
        "{}",
        stderr(&o)
    );
    let o = run(
        dir.path(),
        &[
            "digest",
            "--date",
            "2999-01-01",
            "--dry-run",
            "--database",
            &db,
        ],
    );
    assert!(
        !o.status.success() && stderr(&o).contains("has not begun"),
        "{}",
        stderr(&o)
    );
    // Into a directory: each manager once, however often it is run.
    let mail = dir.path().join("mail");
    let send = || {
        bin()
            .current_dir(dir.path())
            .env("SALESOPS_MAIL_DIR", &mail)
            .args(["digest", "--date", "2026-11-23", "--database", &db])
            .output()
            .unwrap()
    };
    let o = send();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(&format!("{managers} sent")),
        "{}",
        stdout(&o)
    );
    let o = send();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("0 planned now; 0 sent"),
        "{}",
        stdout(&o)
    );
    let files: Vec<_> = std::fs::read_dir(&mail)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .collect();
    assert_eq!(files.len(), managers);
    let text = std::fs::read_to_string(files[0].path()).unwrap();
    assert!(text.contains("multipart/alternative"), "{text}");
}
