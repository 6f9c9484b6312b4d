//! Use cases over the store. Handlers, the command line and jobs call only
//! this crate; it is the one place where permissions are enforced.

pub mod activities;
pub mod activity_types;
pub mod analytics;
pub mod auth;
pub mod crm;
pub mod csv_io;
pub mod cube;
mod error;
mod fields;
pub mod forecast;
pub mod goals;
pub mod index;
pub mod kpis;
pub mod leads;
pub mod notify;
pub mod orgs;
pub mod permissions;
pub mod pipelines;
pub mod planner;
pub mod prospecting;
pub mod rates;
pub mod reports;
pub mod scripts;
pub mod teams;
pub mod tokens;
pub mod users;

pub use error::{AppError, Result};
pub use permissions::{Action, Actor, Resource, can};

use salesops_store::Db;

/// Settings the use cases need.
#[derive(Clone, Debug)]
pub struct Settings {
    /// How long a browser session lasts.
    pub session_ttl: chrono::Duration,
    /// Failed sign-ins allowed per account in the window before 429.
    pub max_failures_per_account: u32,
    /// Failed sign-ins allowed per client address in the window before 429.
    pub max_failures_per_ip: u32,
    pub failure_window: chrono::Duration,
    /// Where the analytic index is saved, so that a restart loads it
    /// instead of reading every table (`None`: not saved).
    pub index_snapshot: Option<std::path::PathBuf>,
    /// The digest, alerts and webhooks.
    pub notify: notify::NotifyConfig,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            session_ttl: chrono::Duration::hours(12),
            max_failures_per_account: 5,
            max_failures_per_ip: 30,
            failure_window: chrono::Duration::minutes(15),
            index_snapshot: None,
            notify: Default::default(),
        }
    }
}

/// The application: the store plus settings. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub settings: Settings,
    /// The analytic index the reports read (see `index.rs`).
    pub index: std::sync::Arc<index::Index>,
}

impl App {
    pub fn new(db: Db, settings: Settings) -> App {
        App {
            db,
            settings,
            index: Default::default(),
        }
    }

    /// A handle on the pool for one statement.
    pub(crate) fn conn(&self) -> Db {
        self.db.clone()
    }
}

/// A page of a list: the items and the cursor of the next page.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<uuid::Uuid>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` fetched rows.
    pub(crate) fn from_rows(
        mut rows: Vec<T>,
        limit: u64,
        id: impl Fn(&T) -> uuid::Uuid,
    ) -> Page<T> {
        let more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = if more { rows.last().map(&id) } else { None };
        Page {
            items: rows,
            next_cursor,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

/// Page size limits shared by every list.
pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 200;

pub fn clamp_limit(limit: Option<u64>) -> std::result::Result<u64, salesops_domain::Invalid> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(0) => Err(salesops_domain::Invalid::one(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        )),
        Some(n) if n > MAX_LIMIT => Err(salesops_domain::Invalid::one(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        )),
        Some(n) => Ok(n),
    }
}
