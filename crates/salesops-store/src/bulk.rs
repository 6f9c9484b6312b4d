//! Bulk-load mode: for writing a large data set into a fresh database (the
//! benchmark organisation of `demo --size large`), not for a database in use.
//!
//! [`begin`] drops the secondary indexes of the bulk tables and, on SQLite,
//! turns off foreign keys, the rollback journal and `fsync` on the load
//! connection; [`finish`] recreates the indexes with their definitions from
//! the migrations, restores the connection's settings (WAL,
//! `synchronous=FULL`, foreign keys), checks every foreign key of the bulk
//! tables and fails if a row refers to a missing one, and updates the
//! planner's statistics. A crash in between leaves a database without
//! indexes and, on SQLite, possibly corrupt: the remedy is to load a fresh
//! database again, which is why only an empty database is loaded this way.

use crate::db::{Backend, Db, Result, StoreError};
use sqlx::AssertSqlSafe;
use std::time::{Duration, Instant};

/// The tables a bulk load fills.
pub const BULK_TABLES: [&str; 5] = [
    "companies",
    "contacts",
    "leads",
    "lead_stage_history",
    "activities",
];

/// An index of a bulk table that no primary key or `UNIQUE` table
/// constraint backs, as the migrations create it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecondaryIndex {
    pub table: &'static str,
    pub name: &'static str,
    /// The `CREATE INDEX` statement, word for word as in the migrations.
    pub create: &'static str,
}

const fn ix(table: &'static str, name: &'static str, create: &'static str) -> SecondaryIndex {
    SecondaryIndex {
        table,
        name,
        create,
    }
}

/// The same statements on both databases (migrations 0002, 0005, 0008, 0009
/// and 0014).
const INDEXES: [SecondaryIndex; 20] = [
    ix(
        "companies",
        "companies_owner",
        "CREATE INDEX companies_owner ON companies (org_id, owner_id)",
    ),
    ix(
        "companies",
        "companies_name",
        "CREATE INDEX companies_name ON companies (org_id, name)",
    ),
    ix(
        "contacts",
        "contacts_company",
        "CREATE INDEX contacts_company ON contacts (org_id, company_id)",
    ),
    ix(
        "contacts",
        "contacts_owner",
        "CREATE INDEX contacts_owner ON contacts (org_id, owner_id)",
    ),
    ix(
        "leads",
        "leads_stage",
        "CREATE INDEX leads_stage ON leads (org_id, stage_id, status)",
    ),
    ix(
        "leads",
        "leads_owner",
        "CREATE INDEX leads_owner ON leads (org_id, owner_id, status)",
    ),
    ix(
        "leads",
        "leads_company",
        "CREATE INDEX leads_company ON leads (org_id, company_id)",
    ),
    ix(
        "leads",
        "leads_contact",
        "CREATE INDEX leads_contact ON leads (org_id, contact_id)",
    ),
    ix(
        "leads",
        "leads_created",
        "CREATE INDEX leads_created ON leads (org_id, created_at)",
    ),
    ix(
        "leads",
        "leads_closed",
        "CREATE INDEX leads_closed ON leads (org_id, closed_at)",
    ),
    ix(
        "leads",
        "leads_status",
        "CREATE INDEX leads_status ON leads (org_id, status, id)",
    ),
    ix(
        "lead_stage_history",
        "lead_stage_history_lead",
        "CREATE INDEX lead_stage_history_lead ON lead_stage_history (org_id, lead_id, at)",
    ),
    ix(
        "lead_stage_history",
        "lead_stage_history_to",
        "CREATE INDEX lead_stage_history_to ON lead_stage_history (org_id, to_stage_id, at)",
    ),
    ix(
        "activities",
        "activities_user_happened",
        "CREATE INDEX activities_user_happened ON activities (org_id, user_id, happened_at)",
    ),
    ix(
        "activities",
        "activities_user_due",
        "CREATE INDEX activities_user_due ON activities (org_id, user_id, done, due_at)",
    ),
    ix(
        "activities",
        "activities_lead",
        "CREATE INDEX activities_lead ON activities (org_id, lead_id)",
    ),
    ix(
        "activities",
        "activities_company",
        "CREATE INDEX activities_company ON activities (org_id, company_id)",
    ),
    ix(
        "activities",
        "activities_contact",
        "CREATE INDEX activities_contact ON activities (org_id, contact_id)",
    ),
    ix(
        "activities",
        "activities_prospect",
        "CREATE INDEX activities_prospect ON activities (org_id, prospect_id)",
    ),
    // Unique: recreating it validates the loaded external ids.
    ix(
        "activities",
        "activities_external_id",
        "CREATE UNIQUE INDEX activities_external_id ON activities (org_id, external_id)",
    ),
];

/// The secondary indexes of the bulk tables on `backend`: what [`begin`]
/// drops and [`finish`] creates again.
pub fn secondary_indexes(backend: Backend) -> &'static [SecondaryIndex] {
    match backend {
        Backend::Sqlite | Backend::Postgres => &INDEXES,
    }
}

/// What the load connection runs with during a bulk load.
#[derive(Clone, Debug)]
pub struct Mode {
    /// SQLite's journal mode (`off` unless another connection kept the
    /// database in WAL mode).
    pub journal_mode: Option<String>,
    /// PostgreSQL's `session_replication_role` (`replica`: no foreign-key
    /// triggers; needs a superuser).
    pub replication_role: Option<String>,
    /// The change-feed triggers suspended for the load (SQLite: their
    /// `CREATE TRIGGER` text, dropped and created again by [`finish`];
    /// PostgreSQL: `table.trigger`, disabled and enabled again). The
    /// analytic index is built from the tables after a bulk load, so the
    /// feed need not carry millions of rows nobody reads.
    pub feed_triggers: Vec<String>,
}

/// How long [`finish`] took, by step.
#[derive(Clone, Debug, Default)]
pub struct Finished {
    pub indexes: Duration,
    /// Each index, in the order they were created.
    pub each_index: Vec<(&'static str, Duration)>,
    pub checks: Duration,
    pub analyze: Duration,
}

async fn exec(db: &Db, sql: &str) -> Result<()> {
    match db {
        Db::Sqlite(p) => sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
            .execute(p)
            .await
            .map(|_| ())?,
        Db::Pg(p) => sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
            .execute(p)
            .await
            .map(|_| ())?,
    }
    Ok(())
}

async fn text(db: &Db, sql: &str) -> Result<String> {
    Ok(match db {
        Db::Sqlite(p) => {
            sqlx::query_scalar::<_, String>(AssertSqlSafe(sql.to_string()))
                .fetch_one(p)
                .await?
        }
        Db::Pg(p) => {
            sqlx::query_scalar::<_, String>(AssertSqlSafe(sql.to_string()))
                .fetch_one(p)
                .await?
        }
    })
}

async fn count(db: &Db, sql: &str) -> Result<i64> {
    Ok(match db {
        Db::Sqlite(p) => {
            sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql.to_string()))
                .fetch_one(p)
                .await?
        }
        Db::Pg(p) => {
            sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql.to_string()))
                .fetch_one(p)
                .await?
        }
    })
}

/// Enters bulk-load mode on `db`, a pool from [`crate::connect_for_load`]
/// (on SQLite its single connection carries the settings).
pub async fn begin(db: &Db) -> Result<Mode> {
    let mut mode = Mode {
        journal_mode: None,
        replication_role: None,
        feed_triggers: vec![],
    };
    match db {
        Db::Sqlite(p) => {
            if p.options().get_max_connections() != 1 {
                return Err(StoreError::Db(sqlx::Error::Configuration(
                    "bulk-load mode on SQLite needs a pool of one connection (connect_for_load)"
                        .into(),
                )));
            }
            exec(db, "PRAGMA foreign_keys = OFF").await?;
            exec(db, "PRAGMA synchronous = OFF").await?;
            // Leaving WAL needs the only connection to the database; if
            // another one is open, the load keeps WAL.
            mode.journal_mode = Some(match text(db, "PRAGMA journal_mode = OFF").await {
                Ok(m) => m,
                Err(_) => text(db, "PRAGMA journal_mode").await?,
            });
            exec(db, "PRAGMA temp_store = MEMORY").await?;
            // Sorting for CREATE INDEX may use a helper thread.
            exec(db, "PRAGMA threads = 2").await?;
        }
        Db::Pg(_) => {
            mode.replication_role = Some(text(db, "SHOW session_replication_role").await?);
        }
    }
    for ix in secondary_indexes(db.backend()) {
        exec(db, &format!("DROP INDEX IF EXISTS {}", ix.name)).await?;
    }
    mode.feed_triggers = feed_triggers(db).await?;
    for t in &mode.feed_triggers {
        match db {
            Db::Sqlite(_) => {
                let name = t
                    .split_whitespace()
                    .nth(2)
                    .ok_or_else(|| StoreError::Db(sqlx::Error::Protocol(t.clone())))?;
                exec(db, &format!("DROP TRIGGER {name}")).await?;
            }
            Db::Pg(_) => {
                let (table, name) = t.split_once('.').unwrap_or(("", t));
                exec(db, &format!("ALTER TABLE {table} DISABLE TRIGGER {name}")).await?;
            }
        }
    }
    Ok(mode)
}

/// The change-feed triggers on the bulk tables (see [`Mode::feed_triggers`];
/// those on settings tables stay: a bulk load does not write them).
async fn feed_triggers(db: &Db) -> Result<Vec<String>> {
    Ok(match db {
        Db::Sqlite(p) => {
            sqlx::query_scalar::<_, String>(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' \
                 AND name LIKE 'analytics_feed_%' \
                 AND tbl_name IN ('activities', 'leads', 'lead_stage_history') ORDER BY name",
            )
            .fetch_all(p)
            .await?
        }
        Db::Pg(p) => {
            sqlx::query_scalar::<_, String>(
                "SELECT c.relname || '.' || t.tgname FROM pg_trigger t \
                 JOIN pg_class c ON c.oid = t.tgrelid \
                 WHERE NOT t.tgisinternal AND t.tgname LIKE 'analytics_feed_%' \
                 AND c.relname IN ('activities', 'leads', 'lead_stage_history') \
                 AND c.relnamespace = current_schema()::regnamespace ORDER BY 1",
            )
            .fetch_all(p)
            .await?
        }
    })
}

/// Leaves bulk-load mode: recreates the indexes, restores the settings,
/// checks the foreign keys of the bulk tables (an error names the first
/// reference that dangles) and runs `ANALYZE`.
pub async fn finish(db: &Db, mode: &Mode) -> Result<Finished> {
    let mut done = Finished::default();
    for t in &mode.feed_triggers {
        match db {
            Db::Sqlite(_) => exec(db, t).await?,
            Db::Pg(_) => {
                let (table, name) = t.split_once('.').unwrap_or(("", t));
                exec(db, &format!("ALTER TABLE {table} ENABLE TRIGGER {name}")).await?;
            }
        }
    }
    let t = Instant::now();
    for ix in secondary_indexes(db.backend()) {
        let started = Instant::now();
        exec(db, ix.create).await?;
        done.each_index.push((ix.name, started.elapsed()));
    }
    done.indexes = t.elapsed();

    let t = Instant::now();
    match db {
        Db::Sqlite(_) => {
            exec(db, "PRAGMA foreign_keys = ON").await?;
            let mode = text(db, "PRAGMA journal_mode = WAL").await?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(StoreError::Db(sqlx::Error::Protocol(format!(
                    "the journal mode is {mode} after the load, not wal"
                ))));
            }
            exec(db, "PRAGMA synchronous = FULL").await?;
            check_references(db).await?;
        }
        Db::Pg(_) => {
            // Foreign keys went unchecked only as a replica.
            if text(db, "SHOW session_replication_role").await? == "replica" {
                check_references(db).await?;
            }
        }
    }
    done.checks = t.elapsed();

    let t = Instant::now();
    match db {
        // Statistics from a sample of each index, not a full scan.
        Db::Sqlite(_) => exec(db, "PRAGMA analysis_limit = 1000; ANALYZE").await?,
        Db::Pg(_) => exec(db, &format!("ANALYZE {}", BULK_TABLES.join(", "))).await?,
    }
    done.analyze = t.elapsed();
    Ok(done)
}

/// Checks every foreign key of the bulk tables; a `Reference` error names
/// the first table with references to rows that do not exist.
pub async fn check_references(db: &Db) -> Result<()> {
    match db {
        Db::Sqlite(p) => check_sqlite_foreign_keys(db, p).await,
        Db::Pg(p) => check_pg_foreign_keys(db, p).await,
    }
}

/// One foreign key as `pragma_foreign_key_list` reports it, a row per column.
#[derive(sqlx::FromRow)]
struct SqliteFkColumn {
    id: i64,
    parent: String,
    child_col: String,
    parent_col: Option<String>,
}

/// SQLite: each foreign key of each bulk table in one pass of its own. The
/// distinct keys a table refers to (read from an index that starts with
/// them where there is one, the references of a table being far fewer than
/// its rows) are each looked up in the parent's key; a reference counts as
/// present on the terms `PRAGMA foreign_key_check` applies (a key with a
/// NULL column refers to nothing).
async fn check_sqlite_foreign_keys(db: &Db, p: &sqlx::SqlitePool) -> Result<()> {
    for table in BULK_TABLES {
        let cols: Vec<SqliteFkColumn> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT id, \"table\" AS parent, \"from\" AS child_col, \"to\" AS parent_col \
             FROM pragma_foreign_key_list('{table}') ORDER BY id, seq"
        )))
        .fetch_all(p)
        .await?;
        let mut fks: Vec<ForeignKey> = Vec::new();
        let mut last = None;
        for c in cols {
            if last != Some(c.id) {
                last = Some(c.id);
                fks.push(ForeignKey {
                    name: format!("{table} -> {}", c.parent),
                    child: table.to_string(),
                    parent: c.parent.clone(),
                    child_cols: Vec::new(),
                    parent_cols: Vec::new(),
                });
            }
            let fk = fks.last_mut().expect("pushed above");
            fk.child_cols.push(c.child_col);
            // No parent column named: the parent's primary key.
            fk.parent_cols.extend(c.parent_col);
        }
        for fk in &mut fks {
            if fk.parent_cols.is_empty() {
                fk.parent_cols = sqlx::query_scalar(AssertSqlSafe(format!(
                    "SELECT name FROM pragma_table_info('{}') WHERE pk > 0 ORDER BY pk",
                    fk.parent
                )))
                .fetch_all(p)
                .await?;
            }
            if fk.parent_cols.len() != fk.child_cols.len() {
                return Err(StoreError::Reference(format!(
                    "the foreign key {} names {} columns of {} for {} of {}",
                    fk.name,
                    fk.parent_cols.len(),
                    fk.parent,
                    fk.child_cols.len(),
                    fk.child
                )));
            }
            let list = |prefix: &str, cols: &[String]| {
                cols.iter()
                    .map(|c| format!("{prefix}\"{c}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let present = fk
                .child_cols
                .iter()
                .map(|c| format!("\"{c}\" IS NOT NULL"))
                .collect::<Vec<_>>()
                .join(" AND ");
            let join = fk
                .child_cols
                .iter()
                .zip(&fk.parent_cols)
                .map(|(c, p)| format!("p.\"{p}\" = c.\"{c}\""))
                .collect::<Vec<_>>()
                .join(" AND ");
            let n = count(
                db,
                &format!(
                    "SELECT count(*) FROM (SELECT DISTINCT {} FROM \"{}\" WHERE {present}) c \
                     WHERE NOT EXISTS (SELECT 1 FROM \"{}\" p WHERE {join})",
                    list("", &fk.child_cols),
                    fk.child,
                    fk.parent
                ),
            )
            .await?;
            if n > 0 {
                return Err(StoreError::Reference(format!(
                    "{n} distinct references from {} ({}) to rows of {} that do not exist",
                    fk.child,
                    list("", &fk.child_cols),
                    fk.parent
                )));
            }
        }
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct ForeignKey {
    name: String,
    child: String,
    parent: String,
    child_cols: Vec<String>,
    parent_cols: Vec<String>,
}

async fn check_pg_foreign_keys(db: &Db, p: &sqlx::PgPool) -> Result<()> {
    let fks: Vec<ForeignKey> = sqlx::query_as(
        "SELECT c.conname::text AS name, ch.relname::text AS child, pa.relname::text AS parent,
            ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n
                  ORDER BY k.i) AS child_cols,
            ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                  JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n
                  ORDER BY k.i) AS parent_cols
         FROM pg_constraint c
         JOIN pg_class ch ON ch.oid = c.conrelid
         JOIN pg_class pa ON pa.oid = c.confrelid
         JOIN pg_namespace ns ON ns.oid = ch.relnamespace
         WHERE c.contype = 'f' AND ns.nspname = current_schema()
           AND ch.relname::text = ANY($1)
         ORDER BY ch.relname, c.conname",
    )
    .bind(BULK_TABLES.map(String::from).to_vec())
    .fetch_all(p)
    .await?;
    for fk in fks {
        let present = fk
            .child_cols
            .iter()
            .map(|c| format!("c.\"{c}\" IS NOT NULL"))
            .collect::<Vec<_>>()
            .join(" AND ");
        let join = fk
            .child_cols
            .iter()
            .zip(&fk.parent_cols)
            .map(|(c, p)| format!("p.\"{p}\" = c.\"{c}\""))
            .collect::<Vec<_>>()
            .join(" AND ");
        let n = count(
            db,
            &format!(
                "SELECT count(*) FROM \"{}\" c WHERE {present} AND NOT EXISTS \
                 (SELECT 1 FROM \"{}\" p WHERE {join})",
                fk.child, fk.parent
            ),
        )
        .await?;
        if n > 0 {
            return Err(StoreError::Reference(format!(
                "{n} references from {} to rows of {} that do not exist ({})",
                fk.child, fk.parent, fk.name
            )));
        }
    }
    Ok(())
}
