//! Persistence for salesops: one sea-query statement per query, run by sqlx
//! on a SQLite or a PostgreSQL pool chosen from the database URL.
//!
//! Every function takes the organisation it acts in and filters by it; no
//! function returns another organisation's rows.

pub mod activities;
pub mod activity_types;
pub mod analytics;
pub mod auth;
pub mod bulk;
pub mod crm;
mod db;
pub mod feed;
pub mod goals;
pub mod idempotency;
pub mod imports;
pub mod leads;
pub mod notify;
pub mod orgs;
pub mod pipelines;
pub mod prospecting;
pub mod rates;
pub mod scripts;
pub mod teams;
pub mod testing;
pub mod users;
pub mod webhooks;

pub use db::{
    Backend, Bind, BulkRow, Conn, Db, Inserts, StoreError, Tx, bump_version, connect,
    connect_for_load, connect_server, like_pattern, now, redact_url, search_text,
};
