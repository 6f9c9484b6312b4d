use chrono::{DateTime, SubsecRound, Utc};
use sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};
use sea_query_sqlx::SqlxBinder;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, FromRow, Postgres, Sqlite, Transaction};
use std::collections::HashMap;
use std::future::Future;
use std::str::FromStr;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;
use thiserror::Error;

pub(crate) static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
pub(crate) static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// The row was changed by someone else since the version the caller read.
    #[error("the record was changed by someone else")]
    Stale,
    /// A uniqueness rule of the schema was violated (a duplicate).
    #[error("duplicate: {0}")]
    Conflict(String),
    /// A reference rule was violated: the referenced row does not exist (any
    /// more), or the row is still referenced.
    #[error("reference: {0}")]
    Reference(String),
    #[error("cannot open database {url}: {reason}")]
    Open { url: String, reason: String },
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Db(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let Some(d) = e.as_database_error() {
            if d.is_unique_violation() {
                return StoreError::Conflict(d.message().to_string());
            }
            if d.is_foreign_key_violation() {
                return StoreError::Reference(d.message().to_string());
            }
        }
        if matches!(e, sqlx::Error::RowNotFound) {
            return StoreError::NotFound;
        }
        StoreError::Db(e)
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection pool on one of the two supported databases.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Pg(PgPool),
}

/// A transaction on one of the two databases. Dropped without `commit`, it rolls back.
pub enum Tx {
    Sqlite(SqliteTx),
    Pg(Transaction<'static, Postgres>),
}

/// A SQLite transaction, holding its database's writer lane while it
/// writes (see [`writer_lane`]).
pub struct SqliteTx {
    tx: Transaction<'static, Sqlite>,
    _lane: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl SqliteTx {
    pub(crate) fn reading(tx: Transaction<'static, Sqlite>) -> SqliteTx {
        SqliteTx { tx, _lane: None }
    }
}

/// SQLite lets one transaction write at a time. The writers of this
/// process queue for it here, each woken as soon as the one before has
/// committed, instead of in SQLite's busy handler, which retries after
/// sleeping 1, 2, 5, 10, … ms: at a few hundred writes a second those
/// sleeps, not the work, made the slowest requests. (Another process
/// writing to the same file still meets the busy handler.)
static SQLITE_WRITERS: LazyLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> =
    LazyLock::new(Default::default);

fn writer_lane(p: &SqlitePool) -> Arc<tokio::sync::Mutex<()>> {
    let key = p
        .connect_options()
        .get_filename()
        .to_string_lossy()
        .into_owned();
    let mut lanes = SQLITE_WRITERS.lock().unwrap_or_else(|e| e.into_inner());
    lanes.entry(key).or_default().clone()
}

/// Bound parameters one statement may carry: SQLite's limit (PostgreSQL's,
/// 65535, is higher).
pub(crate) const MAX_PARAMS: usize = 32_766;

/// Rows per multi-row INSERT into a table of `cols` columns: as many as the
/// parameter limit allows, so a bulk load runs few, large statements.
pub(crate) const fn rows_per_insert(cols: usize) -> usize {
    MAX_PARAMS / cols
}

/// The current time, at the microsecond precision both databases keep.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// The URL with any password replaced, for logs and error messages.
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut out = redact_userinfo(base);
    if let Some(q) = query {
        let params: Vec<String> = q
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => kv.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

fn redact_userinfo(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((cred, host)) => match cred.split_once(':') {
                Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
                None => url.to_string(),
            },
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// Opens a pool for `url` (`sqlite://PATH`, `sqlite::memory:`, `postgres://…`).
pub async fn connect(url: &str) -> Result<Db> {
    connect_with(url, false).await
}

/// Opens a pool for a server: as [`connect`], but on SQLite a commit does
/// not copy the write-ahead log into the database when the log has grown
/// (`wal_autocheckpoint=0`), which would make that one request wait for
/// the copy and its `fsync`; the server calls [`Db::checkpoint`] in the
/// background instead.
pub async fn connect_server(url: &str) -> Result<Db> {
    connect_with(url, true).await
}

async fn connect_with(url: &str, server: bool) -> Result<Db> {
    let open_err = |reason: String| StoreError::Open {
        url: redact_url(url),
        reason,
    };
    if url.starts_with("sqlite:") {
        let mut opts = sqlite_options(url).map_err(open_err)?;
        if server {
            opts = opts.pragma("wal_autocheckpoint", "0");
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await
            .map_err(|e| open_err(e.to_string()))?;
        Ok(Db::Sqlite(pool))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let opts = PgConnectOptions::from_str(url).map_err(|e| open_err(e.to_string()))?;
        Db::connect_pg(opts, url).await
    } else {
        Err(open_err(
            "unsupported URL scheme (expected sqlite://PATH or postgres://…)".into(),
        ))
    }
}

fn sqlite_options(url: &str) -> std::result::Result<SqliteConnectOptions, String> {
    Ok(SqliteConnectOptions::from_str(url)
        .map_err(|e| e.to_string())?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL: an acknowledged commit survives a power loss, not only a crash.
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10)))
}

/// A pool for a bulk load (the benchmark data set) into `url`: one
/// connection, kept for the pool's life. On SQLite its page cache holds up
/// to `cache_mib` MiB, so the tables and indexes being filled stay in
/// memory from one transaction to the next; it opens as [`connect`] does
/// (WAL, `synchronous=FULL`, foreign keys), and [`crate::bulk::begin`]
/// relaxes that for the load. On PostgreSQL the session commits without
/// waiting for the WAL flush and, where permitted (a superuser), runs as a
/// replica, without foreign-key triggers. Neither logs statements: a batch
/// of thousands of rows is routinely slower than the slow-statement
/// threshold, and its text is hundreds of kilobytes.
pub async fn connect_for_load(url: &str, cache_mib: u32) -> Result<Db> {
    use sqlx::ConnectOptions;
    let open_err = |reason: String| StoreError::Open {
        url: redact_url(url),
        reason,
    };
    if !url.starts_with("sqlite:") {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return connect(url).await;
        }
        let opts = PgConnectOptions::from_str(url)
            .map_err(|e| open_err(e.to_string()))?
            .disable_statement_logging()
            .application_name("salesops");
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .max_lifetime(None)
            .idle_timeout(None)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(|conn, _| {
                Box::pin(async move {
                    // A commit need not wait for its WAL flush: a crash loses
                    // the last transactions, never consistency.
                    sqlx::raw_sql("SET synchronous_commit = off")
                        .execute(&mut *conn)
                        .await?;
                    // No foreign-key triggers (checked after the load, see
                    // `bulk::finish`); needs a superuser, else they stay.
                    if let Err(e) = sqlx::raw_sql("SET session_replication_role = replica")
                        .execute(&mut *conn)
                        .await
                    {
                        tracing::info!(error = %e, "load connection keeps foreign-key triggers");
                    }
                    Ok(())
                })
            })
            .connect_with(opts)
            .await
            .map_err(|e| open_err(e.to_string()))?;
        return Ok(Db::Pg(pool));
    }
    // A negative cache_size is a size in KiB rather than in pages.
    let kib = -(i64::from(cache_mib) * 1024);
    let opts = sqlite_options(url)
        .map_err(open_err)?
        .pragma("cache_size", kib.to_string())
        // A multi-row INSERT inside a transaction keeps a statement journal
        // (the pages it changes, to undo just that statement): in memory,
        // not in a temporary file.
        .pragma("temp_store", "memory")
        .disable_statement_logging();
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        // The settings of `bulk::begin` live on this one connection: it is
        // never replaced during a load.
        .max_lifetime(None)
        .idle_timeout(None)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(opts)
        .await
        .map_err(|e| open_err(e.to_string()))?;
    Ok(Db::Sqlite(pool))
}

impl Db {
    pub(crate) async fn connect_pg(opts: PgConnectOptions, url: &str) -> Result<Db> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts.application_name("salesops"))
            .await
            .map_err(|e| StoreError::Open {
                url: redact_url(url),
                reason: e.to_string(),
            })?;
        Ok(Db::Pg(pool))
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Pg(_) => Backend::Postgres,
        }
    }

    /// Copies what the write-ahead log holds into the database without
    /// waiting for readers or blocking writers (SQLite's passive
    /// checkpoint; PostgreSQL checkpoints by itself). Returns the pages
    /// in the log and those copied.
    pub async fn checkpoint(&self) -> Result<(i64, i64)> {
        match self {
            Db::Sqlite(pool) => {
                let row: (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
                    .fetch_one(pool)
                    .await?;
                Ok((row.1, row.2))
            }
            Db::Pg(_) => Ok((0, 0)),
        }
    }

    /// Applies every pending migration. On PostgreSQL an advisory lock makes
    /// concurrent starts of several instances safe.
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Sqlite(p) => SQLITE_MIGRATIONS.run(p).await?,
            Db::Pg(p) => POSTGRES_MIGRATIONS.run(p).await?,
        }
        Ok(())
    }

    /// Starts a transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so two writers never deadlock on lock upgrade.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite(p) => {
                // As long as SQLite's busy timeout: a writer waits that long
                // at most, then fails as it would have.
                let lane =
                    tokio::time::timeout(Duration::from_secs(10), writer_lane(p).lock_owned())
                        .await
                        .map_err(|_| StoreError::Db(sqlx::Error::PoolTimedOut))?;
                Tx::Sqlite(SqliteTx {
                    tx: p.begin_with("BEGIN IMMEDIATE").await?,
                    _lane: Some(lane),
                })
            }
            Db::Pg(p) => Tx::Pg(p.begin().await?),
        })
    }

    /// Is the database reachable?
    pub async fn ping(&self) -> Result<()> {
        match self {
            Db::Sqlite(p) => sqlx::query("SELECT 1").execute(p).await.map(|_| ())?,
            Db::Pg(p) => sqlx::query("SELECT 1").execute(p).await.map(|_| ())?,
        }
        Ok(())
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(p) => p.close().await,
            Db::Pg(p) => p.close().await,
        }
    }
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.tx.commit().await?,
            Tx::Pg(t) => t.commit().await?,
        }
        Ok(())
    }
}

/// A row type that decodes from both databases.
pub trait Row: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}
impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{}

/// Something a statement runs on: a pool or a transaction. Each call runs
/// exactly one sea-query statement.
pub trait Conn: Send {
    fn all<T: Row>(
        &mut self,
        q: &(impl SqlxBinder + Sync),
    ) -> impl Future<Output = Result<Vec<T>>> + Send;
    fn opt<T: Row>(
        &mut self,
        q: &(impl SqlxBinder + Sync),
    ) -> impl Future<Output = Result<Option<T>>> + Send;
    /// Runs a statement and returns the number of rows it affected.
    fn exec(&mut self, q: &(impl SqlxBinder + Sync)) -> impl Future<Output = Result<u64>> + Send;
    fn one<T: Row>(
        &mut self,
        q: &(impl SqlxBinder + Sync),
    ) -> impl Future<Output = Result<T>> + Send {
        async move { self.opt(q).await?.ok_or(StoreError::NotFound) }
    }
    /// The database the statements run on.
    fn backend(&self) -> Backend;
    /// Runs INSERT statements built (and bound) beforehand, in order.
    fn run(&mut self, inserts: Inserts) -> impl Future<Output = Result<()>> + Send;
}

/// Inserts `rows` into `table` with multi-row INSERTs of as many rows as
/// the parameter limit allows.
pub(crate) async fn insert_rows<R: BulkRow>(
    c: &mut impl Conn,
    table: &'static str,
    cols: &'static [&'static str],
    rows: &[R],
) -> Result<()> {
    let inserts = Inserts::new(c.backend(), table, cols, rows)?;
    c.run(inserts).await
}

/// Multi-row INSERT statements with their values bound, ready to run on a
/// connection to the database they were built for ([`Conn::run`]). They
/// can be built on another thread than the one that runs them: a bulk load
/// builds the next while the database writes the last.
#[derive(Default)]
pub struct Inserts(Vec<Insert>);

enum Insert {
    Sqlite(Arc<str>, sqlx::sqlite::SqliteArguments),
    Pg(Arc<str>, sqlx::postgres::PgArguments),
}

impl Inserts {
    /// The statements that insert `rows` into `table`, as many rows each as
    /// the parameter limit allows.
    pub fn new<R: BulkRow>(
        backend: Backend,
        table: &'static str,
        cols: &'static [&'static str],
        rows: &[R],
    ) -> Result<Inserts> {
        let mut out = Vec::new();
        for chunk in rows.chunks(rows_per_insert(cols.len())) {
            let sql = insert_sql(backend, table, cols, chunk.len());
            let n = chunk.len() * cols.len();
            out.push(match backend {
                Backend::Sqlite => {
                    let mut b = Args::<sqlx::sqlite::SqliteArguments>::with_capacity(n);
                    for r in chunk {
                        r.bind_values(&mut b);
                    }
                    Insert::Sqlite(sql, b.finish()?)
                }
                Backend::Postgres => {
                    let mut b = Args::<sqlx::postgres::PgArguments>::with_capacity(n);
                    for r in chunk {
                        r.bind_values(&mut b);
                    }
                    Insert::Pg(sql, b.finish()?)
                }
            });
        }
        Ok(Inserts(out))
    }

    /// These statements, then `other`'s.
    pub fn then(mut self, other: Inserts) -> Inserts {
        self.0.extend(other.0);
        self
    }
}

fn wrong_backend() -> StoreError {
    StoreError::Db(sqlx::Error::Protocol(
        "INSERT statements built for the other database".into(),
    ))
}

/// Takes the values of a row, in column order, for a statement of either
/// database.
pub trait Bind {
    fn add<'q, T>(&mut self, value: T)
    where
        T: sqlx::Encode<'q, Sqlite>
            + sqlx::Type<Sqlite>
            + sqlx::Encode<'q, Postgres>
            + sqlx::Type<Postgres>;
}

/// A row that binds its values straight to an INSERT statement, one per
/// column of the statement and in its order: no expression tree per row.
pub trait BulkRow: Sync {
    fn bind_values<B: Bind>(&self, b: &mut B);
}

/// The arguments of one statement and the first value that failed to encode.
struct Args<A> {
    args: A,
    failed: Option<sqlx::error::BoxDynError>,
}

impl<A: Default + sqlx::Arguments> Args<A> {
    fn with_capacity(n: usize) -> Self {
        let mut args = A::default();
        args.reserve(n, n * 16);
        Args { args, failed: None }
    }

    fn finish(self) -> Result<A> {
        match self.failed {
            None => Ok(self.args),
            Some(e) => Err(StoreError::Db(sqlx::Error::Encode(e))),
        }
    }
}

impl Bind for Args<sqlx::sqlite::SqliteArguments> {
    fn add<'q, T>(&mut self, value: T)
    where
        T: sqlx::Encode<'q, Sqlite> + sqlx::Type<Sqlite>,
    {
        if let Err(e) = sqlx::Arguments::add(&mut self.args, value) {
            self.failed.get_or_insert(e);
        }
    }
}

impl Bind for Args<sqlx::postgres::PgArguments> {
    fn add<'q, T>(&mut self, value: T)
    where
        T: sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres>,
    {
        if let Err(e) = sqlx::Arguments::add(&mut self.args, value) {
            self.failed.get_or_insert(e);
        }
    }
}

/// The text of `INSERT INTO table (cols) VALUES (…), … ` for `rows` rows
/// on `backend`, built with sea-query. Statements of a full batch (and of a
/// few rows) are built once and kept, so a bulk load sends the same text
/// again and the driver reuses its prepared statement.
fn insert_sql(
    backend: Backend,
    table: &'static str,
    cols: &'static [&'static str],
    rows: usize,
) -> Arc<str> {
    type Key = (Backend, &'static str, usize, usize);
    static BUILT: LazyLock<Mutex<HashMap<Key, Arc<str>>>> = LazyLock::new(Default::default);
    let keep = rows <= 16 || rows == rows_per_insert(cols.len());
    let key = (backend, table, cols.len(), rows);
    if keep && let Some(sql) = BUILT.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return sql.clone();
    }
    let mut q = sea_query::Query::insert();
    q.into_table(table).columns(cols.iter().copied());
    for _ in 0..rows {
        q.values_panic(cols.iter().map(|_| sea_query::SimpleExpr::from(0i32)));
    }
    let sql: Arc<str> = match backend {
        Backend::Sqlite => q.build(SqliteQueryBuilder).0,
        Backend::Postgres => q.build(PostgresQueryBuilder).0,
    }
    .into();
    if keep {
        BUILT
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, sql.clone());
    }
    sql
}

macro_rules! dispatch {
    ($self:ident, $q:ident, |$ex:ident, $sql:ident, $vals:ident| $body:expr) => {
        match $self {
            Self::Sqlite(inner) => {
                let ($sql, $vals) = $q.build_sqlx(SqliteQueryBuilder);
                let $ex = dispatch!(@ex inner);
                $body
            }
            Self::Pg(inner) => {
                let ($sql, $vals) = $q.build_sqlx(PostgresQueryBuilder);
                let $ex = dispatch!(@ex inner);
                $body
            }
        }
    };
    (@ex $inner:ident) => { $inner.as_executor() };
}

/// Gives a pool and a transaction one way to be used as an executor.
trait AsExecutor {
    type Ex<'c>
    where
        Self: 'c;
    fn as_executor(&mut self) -> Self::Ex<'_>;
}

impl AsExecutor for SqlitePool {
    type Ex<'c> = &'c SqlitePool;
    fn as_executor(&mut self) -> &SqlitePool {
        self
    }
}
impl AsExecutor for PgPool {
    type Ex<'c> = &'c PgPool;
    fn as_executor(&mut self) -> &PgPool {
        self
    }
}
impl AsExecutor for SqliteTx {
    type Ex<'c> = &'c mut sqlx::SqliteConnection;
    fn as_executor(&mut self) -> &mut sqlx::SqliteConnection {
        &mut self.tx
    }
}
impl AsExecutor for Transaction<'static, Postgres> {
    type Ex<'c> = &'c mut sqlx::PgConnection;
    fn as_executor(&mut self) -> &mut sqlx::PgConnection {
        self
    }
}

macro_rules! impl_conn {
    ($ty:ty) => {
        impl Conn for $ty {
            async fn all<T: Row>(&mut self, q: &(impl SqlxBinder + Sync)) -> Result<Vec<T>> {
                dispatch!(self, q, |ex, sql, vals| Ok(sqlx::query_as_with::<_, T, _>(
                    AssertSqlSafe(sql),
                    vals
                )
                .fetch_all(ex)
                .await?))
            }
            async fn opt<T: Row>(&mut self, q: &(impl SqlxBinder + Sync)) -> Result<Option<T>> {
                dispatch!(self, q, |ex, sql, vals| Ok(sqlx::query_as_with::<_, T, _>(
                    AssertSqlSafe(sql),
                    vals
                )
                .fetch_optional(ex)
                .await?))
            }
            async fn exec(&mut self, q: &(impl SqlxBinder + Sync)) -> Result<u64> {
                dispatch!(self, q, |ex, sql, vals| Ok(sqlx::query_with(
                    AssertSqlSafe(sql),
                    vals
                )
                .execute(ex)
                .await?
                .rows_affected()))
            }
            fn backend(&self) -> Backend {
                match self {
                    Self::Sqlite(_) => Backend::Sqlite,
                    Self::Pg(_) => Backend::Postgres,
                }
            }
            async fn run(&mut self, inserts: Inserts) -> Result<()> {
                for insert in inserts.0 {
                    match (&mut *self, insert) {
                        (Self::Sqlite(inner), Insert::Sqlite(sql, args)) => {
                            sqlx::query_with(AssertSqlSafe(sql), args)
                                .execute(inner.as_executor())
                                .await?;
                        }
                        (Self::Pg(inner), Insert::Pg(sql, args)) => {
                            sqlx::query_with(AssertSqlSafe(sql), args)
                                .execute(inner.as_executor())
                                .await?;
                        }
                        _ => return Err(wrong_backend()),
                    }
                }
                Ok(())
            }
        }
    };
}

impl_conn!(Db);
impl_conn!(Tx);

/// A count decoded from `COUNT(*)` on both databases.
#[derive(sqlx::FromRow)]
pub(crate) struct Count {
    pub n: i64,
}

/// A table and the columns its row type decodes.
pub struct Table {
    pub name: &'static str,
    pub cols: &'static [&'static str],
}

/// `SELECT cols FROM table WHERE org_id = ? AND id = ?`.
pub async fn get_by_id<T: Row>(
    c: &mut impl Conn,
    t: &Table,
    org: salesops_domain::OrgId,
    id: uuid::Uuid,
) -> Result<T> {
    use sea_query::{Expr, ExprTrait, Query};
    let q = Query::select()
        .columns(t.cols.iter().copied())
        .from(t.name)
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("id").eq(id))
        .to_owned();
    c.one(&q).await
}

/// Applies `changes` to one row when its version equals `expected` (any
/// version when `None`), bumping the version and `updated_at`; returns the
/// new row. `NotFound` when there is no such row, `Stale` when it changed.
pub(crate) async fn update_versioned<T: Row>(
    c: &mut impl Conn,
    t: &Table,
    org: salesops_domain::OrgId,
    id: uuid::Uuid,
    expected: Option<i64>,
    changes: Vec<(&'static str, sea_query::SimpleExpr)>,
    at: DateTime<Utc>,
) -> Result<T> {
    use sea_query::{Expr, ExprTrait, Query};
    let mut q = Query::update();
    q.table(t.name)
        .value("updated_at", at)
        .value("version", Expr::col("version").add(1));
    for (col, v) in changes {
        q.value(col, v);
    }
    q.and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("id").eq(id));
    if let Some(v) = expected {
        q.and_where(Expr::col("version").eq(v));
    }
    q.returning(Query::returning().columns(t.cols.iter().copied()));
    match c.opt::<T>(&q).await? {
        Some(row) => Ok(row),
        None => {
            get_by_id::<T>(c, t, org, id).await?;
            Err(StoreError::Stale)
        }
    }
}

/// `DELETE FROM table WHERE org_id = ? AND id = ?`; `NotFound` when absent.
pub(crate) async fn delete_by_id(
    c: &mut impl Conn,
    table: &'static str,
    org: salesops_domain::OrgId,
    id: uuid::Uuid,
) -> Result<()> {
    use sea_query::{Expr, ExprTrait, Query};
    let q = Query::delete()
        .from_table(table)
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("id").eq(id))
        .to_owned();
    match c.exec(&q).await? {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

/// `owner_id IS NULL OR owner_id IN (owners)`: records without an owner and
/// those of the given users.
pub(crate) fn owned_by_or_unowned(owners: &[salesops_domain::UserId]) -> sea_query::Condition {
    use sea_query::{Cond, Expr, ExprTrait};
    Cond::any()
        .add(Expr::col("owner_id").is_null())
        .add(Expr::col("owner_id").is_in(owners.iter().map(|u| u.0).collect::<Vec<_>>()))
}

/// A `LIKE` pattern for a search text, lower-cased in Rust so that both
/// databases fold case alike (against `search_text` columns written the
/// same way). Wildcards and the escape character are removed.
pub fn like_pattern(text: &str) -> String {
    format!("%{}%", search_text(&[text]).replace(['%', '_', '\\'], ""))
}

/// The lower-cased text a row is found by (Unicode-aware, done in Rust
/// because SQLite's `lower()` folds only ASCII).
pub fn search_text(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| p.trim().to_lowercase())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Bumps a row's version (a change that touches it from elsewhere, such as a
/// team membership edited from the team's side).
pub async fn bump_version(
    c: &mut impl Conn,
    table: &'static str,
    org: salesops_domain::OrgId,
    id: uuid::Uuid,
    at: DateTime<Utc>,
) -> Result<u64> {
    use sea_query::{Expr, ExprTrait, Query};
    let q = Query::update()
        .table(table)
        .value("updated_at", at)
        .value("version", Expr::col("version").add(1))
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("id").eq(id))
        .to_owned();
    c.exec(&q).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server's pool leaves the write-ahead log to the checkpoint it
    /// runs in the background; the checkpoint copies all of it.
    #[tokio::test]
    async fn a_server_checkpoints_in_the_background_not_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = connect_server(&url).await.unwrap();
        let Db::Sqlite(pool) = &db else {
            unreachable!()
        };
        sqlx::query("CREATE TABLE t (x TEXT)")
            .execute(pool)
            .await
            .unwrap();
        // Far more than the 1,000 pages after which a commit would copy
        // the log itself.
        let big = "x".repeat(3_000);
        for _ in 0..1_500 {
            sqlx::query("INSERT INTO t VALUES (?)")
                .bind(&big)
                .execute(pool)
                .await
                .unwrap();
        }
        let (log, copied) = db.checkpoint().await.unwrap();
        assert!(log > 1_000, "the commits left the log alone: {log} pages");
        assert_eq!(copied, log, "the checkpoint copied it all");
    }

    #[test]
    fn migration_lists_are_identical() {
        let list = |m: &Migrator| {
            m.iter()
                .map(|m| (m.version, m.description.to_string()))
                .collect::<Vec<_>>()
        };
        assert!(SQLITE_MIGRATIONS.iter().next().is_some());
        assert_eq!(
            list(&SQLITE_MIGRATIONS),
            list(&POSTGRES_MIGRATIONS),
            "migrations/sqlite and migrations/postgres must carry the same versions"
        );
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db.example:5432/salesops"),
            "postgres://app:***@db.example:5432/salesops"
        );
        assert_eq!(redact_url("postgres://app@db/x"), "postgres://app@db/x");
        assert_eq!(redact_url("sqlite://salesops.db"), "sqlite://salesops.db");
        assert_eq!(
            redact_url("postgres://app@db/x?sslmode=require&password=s3cret"),
            "postgres://app@db/x?sslmode=require&password=***"
        );
    }
}
