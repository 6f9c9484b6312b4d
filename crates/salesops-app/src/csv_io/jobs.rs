//! Imports as jobs: stored in the database so that their progress and
//! report can be read from any app instance while they run.

use super::{ImportOptions, Kind, Progress, Report};
use crate::permissions::Actor;
use crate::{App, AppError, Result};
use salesops_store::imports::{self, ImportJob};
use salesops_store::now;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use uuid::Uuid;

impl App {
    /// Checks the actor may import, and records a queued job.
    pub async fn create_import_job(
        &self,
        actor: &Actor,
        opts: &ImportOptions,
        file_name: &str,
    ) -> Result<ImportJob> {
        let kind = opts.kind.ok_or_else(|| {
            AppError::Invalid(salesops_domain::Invalid::one("kind", "is required"))
        })?;
        self.may_import(actor, kind, opts.list_id).await?;
        let job = ImportJob {
            org_id: actor.org_id.0,
            id: Uuid::now_v7(),
            user_id: actor.user_id.0,
            kind: kind.as_str().into(),
            status: "queued".into(),
            dry_run: opts.dry_run,
            skip_invalid: opts.skip_invalid,
            list_id: opts.list_id.map(|l| l.0),
            file_name: file_name.chars().take(200).collect(),
            rows_total: 0,
            rows_done: 0,
            created_count: 0,
            updated_count: 0,
            skipped_count: 0,
            error_count: 0,
            report: "{}".into(),
            created_at: now(),
            started_at: None,
            finished_at: None,
        };
        imports::insert(&mut self.conn(), &job).await?;
        Ok(job)
    }

    /// Runs a queued job to its end, writing its progress every second and
    /// its report at the end. Meant to be spawned.
    pub async fn run_import_job(self, actor: Actor, job: Uuid, data: Vec<u8>, opts: ImportOptions) {
        let org = actor.org_id;
        let done = Arc::new(AtomicU64::new(0));
        let total = Arc::new(AtomicU64::new(0));
        let _ = imports::set(
            &mut self.conn(),
            org,
            job,
            vec![("status", "running".into()), ("started_at", now().into())],
        )
        .await;
        let ticker = tokio::spawn({
            let (app, done, total) = (self.clone(), done.clone(), total.clone());
            async move {
                let mut tick = tokio::time::interval(std::time::Duration::from_millis(700));
                loop {
                    tick.tick().await;
                    let d = done.load(Ordering::Relaxed) as i64;
                    let t = total.load(Ordering::Relaxed) as i64;
                    let _ = imports::set(
                        &mut app.conn(),
                        org,
                        job,
                        vec![("rows_done", d.into()), ("rows_total", t.into())],
                    )
                    .await;
                }
            }
        });
        let progress = {
            let (done, total) = (done.clone(), total.clone());
            move |p: Progress| {
                // Checking is the first half of the work, writing the second.
                let half = p.total.max(1);
                let d = match p.phase {
                    super::Phase::Checking => p.done,
                    super::Phase::Writing => p.total + p.done,
                };
                total.store(
                    if opts_writes(p) { 2 * half } else { half },
                    Ordering::Relaxed,
                );
                done.store(d, Ordering::Relaxed);
            }
        };
        let r = self.import_csv(&actor, &data, &opts, &progress).await;
        ticker.abort();
        let changes = match r {
            Ok(report) => {
                let status = if report.failure.is_some() {
                    "failed"
                } else {
                    "done"
                };
                vec![
                    ("status", status.into()),
                    ("rows_total", (report.rows as i64).into()),
                    ("rows_done", (report.rows as i64).into()),
                    ("created_count", (report.created as i64).into()),
                    ("updated_count", (report.updated as i64).into()),
                    ("skipped_count", (report.skipped as i64).into()),
                    ("error_count", (report.error_count as i64).into()),
                    (
                        "report",
                        serde_json::to_string(&report).unwrap_or_default().into(),
                    ),
                    ("finished_at", now().into()),
                ]
            }
            Err(e) => {
                tracing::warn!(error = %e, %job, "import failed");
                let report = Report {
                    kind: opts.kind.map(Kind::as_str).unwrap_or_default().into(),
                    dry_run: opts.dry_run,
                    failure: Some(match e {
                        AppError::Internal(_) => "the import failed; nothing was written".into(),
                        e => format!("{e}; nothing was written"),
                    }),
                    ..Report::default()
                };
                vec![
                    ("status", "failed".into()),
                    (
                        "report",
                        serde_json::to_string(&report).unwrap_or_default().into(),
                    ),
                    ("finished_at", now().into()),
                ]
            }
        };
        if let Err(e) = imports::set(&mut self.conn(), org, job, changes).await {
            tracing::warn!(error = %e, %job, "cannot record the end of an import");
        }
    }

    /// A job of the actor's (another user's job is not found).
    pub async fn get_import_job(&self, actor: &Actor, id: Uuid) -> Result<ImportJob> {
        let j = imports::get(&mut self.conn(), actor.org_id, id).await?;
        if j.user_id != actor.user_id.0 {
            return Err(AppError::NotFound);
        }
        Ok(j)
    }

    /// The actor's latest jobs.
    pub async fn recent_import_jobs(&self, actor: &Actor) -> Result<Vec<ImportJob>> {
        Ok(imports::recent(&mut self.conn(), actor.org_id, actor.user_id, 10).await?)
    }
}

/// The writing phase is reported only when rows are written.
fn opts_writes(p: Progress) -> bool {
    p.phase == super::Phase::Writing
}

impl App {
    /// Jobs still queued or running although created before `before` lost
    /// their server (a job runs in the process that took the upload, and
    /// no import takes hours): they are marked failed, so that nobody
    /// waits on them. An import writes in one transaction, so an
    /// interrupted one wrote nothing.
    pub async fn fail_abandoned_imports(
        &self,
        before: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64> {
        let report = Report {
            failure: Some(
                "the import was interrupted (its server stopped); nothing was written; upload the file again"
                    .into(),
            ),
            ..Report::default()
        };
        let n = salesops_store::imports::fail_abandoned(
            &mut self.conn(),
            before,
            &serde_json::to_string(&report).unwrap_or_default(),
            now(),
        )
        .await?;
        if n > 0 {
            tracing::warn!(jobs = n, "import jobs marked failed: their server stopped");
        }
        Ok(n)
    }
}

/// A job's report (empty until it ends).
pub fn job_report(j: &ImportJob) -> Option<Report> {
    serde_json::from_str::<Report>(&j.report).ok()
}
