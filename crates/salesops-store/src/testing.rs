//! Test databases for the conformance suites of every crate: a fresh SQLite
//! file, and a fresh PostgreSQL schema when `SALESOPS_TEST_POSTGRES_URL` is set.

use crate::db::{Db, Result, StoreError};
use sqlx::postgres::PgConnectOptions;
use std::str::FromStr;
use std::sync::Once;

pub const POSTGRES_ENV: &str = "SALESOPS_TEST_POSTGRES_URL";

/// Says once, past the test harness's output capture, that a suite was skipped.
pub fn skip_notice(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// A migrated test database; keeps its temporary directory alive.
pub struct TestDb {
    pub db: Db,
    pub name: &'static str,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let db = crate::connect(&url).await.expect("open SQLite");
        db.migrate().await.expect("migrate SQLite");
        TestDb {
            db,
            name: "sqlite",
            _dir: Some(dir),
        }
    }

    /// A migrated database in a new schema of the PostgreSQL server named by
    /// `SALESOPS_TEST_POSTGRES_URL`, or `None` (said once) when it is unset.
    pub async fn postgres() -> Option<TestDb> {
        static SKIP: Once = Once::new();
        let Ok(url) = std::env::var(POSTGRES_ENV) else {
            SKIP.call_once(|| {
                skip_notice(&format!(
                    "skipping the PostgreSQL suites: {POSTGRES_ENV} is not set"
                ))
            });
            return None;
        };
        Some(
            Self::postgres_at(&url)
                .await
                .expect("PostgreSQL test schema"),
        )
    }

    async fn postgres_at(url: &str) -> Result<TestDb> {
        let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
        let admin = crate::connect(url).await?;
        if let Db::Pg(p) = &admin {
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(p)
                .await?;
        }
        admin.close().await;
        let opts = PgConnectOptions::from_str(url)
            .map_err(StoreError::Db)?
            .options([("search_path", schema.as_str())]);
        let db = Db::connect_pg(opts, url).await?;
        db.migrate().await?;
        Ok(TestDb {
            db,
            name: "postgres",
            _dir: None,
        })
    }

    /// SQLite, then PostgreSQL when configured.
    pub async fn all() -> Vec<TestDb> {
        let mut v = vec![Self::sqlite().await];
        v.extend(Self::postgres().await);
        v
    }
}
