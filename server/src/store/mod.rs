//! The store: Bindery's desired state (policies, enrollment tokens, devices, settings) and its
//! durable job queue, on SQLite (embedded, the default) or PostgreSQL (several servers sharing
//! one database). Both run the same SQL through sqlx's `Any` driver; where the two dialects
//! differ (job leasing), each gets its own statement. Each backend has its own migrations.

mod activity;
mod admins;
mod alert_events;
mod alerts;
mod api_tokens;
mod audit;
mod billing;
mod bindings;
mod conditions;
mod dashboard;
mod device_list;
mod devices;
mod enrollment;
mod held;
mod help;
mod integrations;
mod jobs;
mod policies;
mod retention;
mod settings;
mod targets;
mod ticket_changes;
mod tickets;
mod tokens;

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

pub use activity::{Activity, COUNTED_AT_MOST as ACTIVITY_COUNTED_AT_MOST};
pub use admins::{Admin, AdminSession};
pub use alert_events::AlertInput;
pub use alerts::{Alert, AlertFilter, AlertIntake, AlertState};
pub use api_tokens::{ApiToken, TokenHolder};
pub use audit::{AuditEntry, AuditFilter};
pub use billing::{BilledAddition, BilledDevice, PolicyBilling, Product};
pub use bindings::{Binding, BindingState, LinkState, PersonChoice, PolicyBindings};
pub use dashboard::Dashboard;
pub use device_list::{DeviceFilter, DeviceListRow};
pub use devices::{Device, DeviceAuth, facts_for_storage};
pub use enrollment::{Enrollment, NewDevice};
pub use held::{HeldAlert, Release};
pub use help::{HelpRequest, NewHelpRequest};
pub use integrations::Integration;
pub use jobs::{Job, JobCounts, NewJob};
pub use policies::{Policy, SiteRef};
pub use retention::Pruned;
pub use targets::{DeviceTarget, WrittenFields};
pub use tickets::{
    NewTicket, Ticket, TicketBoard, TicketBrief, TicketProgress, TicketRoute, TicketState,
};
pub use tokens::EnrollmentToken;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Config(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    /// A per-device limit is reached (answered 429).
    #[error("{0}")]
    Limited(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// (version, SQL) for each backend, applied in order, each once.
const SQLITE_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/sqlite/0001_initial.sql")),
    (2, include_str!("migrations/sqlite/0002_bindings.sql")),
    (3, include_str!("migrations/sqlite/0003_job_reruns.sql")),
    (4, include_str!("migrations/sqlite/0004_admins.sql")),
    (5, include_str!("migrations/sqlite/0005_alerts.sql")),
    (6, include_str!("migrations/sqlite/0006_activity.sql")),
    (7, include_str!("migrations/sqlite/0007_identity.sql")),
    (8, include_str!("migrations/sqlite/0008_attach_started.sql")),
    (9, include_str!("migrations/sqlite/0009_token_uses.sql")),
    (10, include_str!("migrations/sqlite/0010_device_search.sql")),
    (
        11,
        include_str!("migrations/sqlite/0011_two_way_tickets.sql"),
    ),
    (12, include_str!("migrations/sqlite/0012_maintenance.sql")),
    (13, include_str!("migrations/sqlite/0013_retention.sql")),
    (14, include_str!("migrations/sqlite/0014_scale.sql")),
    (15, include_str!("migrations/sqlite/0015_list_counts.sql")),
    (16, include_str!("migrations/sqlite/0016_job_urgency.sql")),
    (17, include_str!("migrations/sqlite/0017_sites.sql")),
    (18, include_str!("migrations/sqlite/0018_billing.sql")),
    (19, include_str!("migrations/sqlite/0019_billing_month.sql")),
    (20, include_str!("migrations/sqlite/0020_billing_cover.sql")),
    (21, include_str!("migrations/sqlite/0021_integrations.sql")),
    (22, include_str!("migrations/sqlite/0022_ticket_routes.sql")),
    (
        23,
        include_str!("migrations/sqlite/0023_written_fields.sql"),
    ),
    (
        24,
        include_str!("migrations/sqlite/0024_roles_tokens_audit.sql"),
    ),
];
const POSTGRES_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/postgres/0001_initial.sql")),
    (2, include_str!("migrations/postgres/0002_bindings.sql")),
    (3, include_str!("migrations/postgres/0003_job_reruns.sql")),
    (4, include_str!("migrations/postgres/0004_admins.sql")),
    (5, include_str!("migrations/postgres/0005_alerts.sql")),
    (6, include_str!("migrations/postgres/0006_activity.sql")),
    (7, include_str!("migrations/postgres/0007_identity.sql")),
    (
        8,
        include_str!("migrations/postgres/0008_attach_started.sql"),
    ),
    (9, include_str!("migrations/postgres/0009_token_uses.sql")),
    (
        10,
        include_str!("migrations/postgres/0010_device_search.sql"),
    ),
    (
        11,
        include_str!("migrations/postgres/0011_two_way_tickets.sql"),
    ),
    (12, include_str!("migrations/postgres/0012_maintenance.sql")),
    (13, include_str!("migrations/postgres/0013_retention.sql")),
    (14, include_str!("migrations/postgres/0014_scale.sql")),
    (15, include_str!("migrations/postgres/0015_list_counts.sql")),
    (16, include_str!("migrations/postgres/0016_job_urgency.sql")),
    (17, include_str!("migrations/postgres/0017_sites.sql")),
    (18, include_str!("migrations/postgres/0018_billing.sql")),
    (
        19,
        include_str!("migrations/postgres/0019_billing_month.sql"),
    ),
    (
        20,
        include_str!("migrations/postgres/0020_billing_cover.sql"),
    ),
    (
        21,
        include_str!("migrations/postgres/0021_integrations.sql"),
    ),
    (
        22,
        include_str!("migrations/postgres/0022_ticket_routes.sql"),
    ),
    (
        23,
        include_str!("migrations/postgres/0023_written_fields.sql"),
    ),
    (
        24,
        include_str!("migrations/postgres/0024_roles_tokens_audit.sql"),
    ),
];

/// A handle on the store; cheap to clone (a connection pool).
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Opens `postgres://…` / `postgresql://…`, or a SQLite file given as `sqlite://PATH` or a
    /// plain path (created when missing), and brings its schema up to date.
    pub async fn open(location: &str) -> Result<Store> {
        let store = Store::connect(location).await?;
        store.migrate(i64::MAX).await?;
        store.fill_search_text().await?;
        Ok(store)
    }

    /// The store with its schema brought up to `version` only: a database as an older release
    /// left it, for the tests of upgrading it.
    #[doc(hidden)]
    pub async fn open_as_of(location: &str, version: i64) -> Result<Store> {
        let store = Store::connect(location).await?;
        store.migrate(version).await?;
        Ok(store)
    }

    async fn connect(location: &str) -> Result<Store> {
        install_default_drivers();
        let (url, backend) =
            if location.starts_with("postgres://") || location.starts_with("postgresql://") {
                (location.to_owned(), Backend::Postgres)
            } else {
                let path = location.strip_prefix("sqlite://").unwrap_or(location);
                if path.is_empty() || path.contains('?') {
                    return Err(StoreError::Config(format!(
                        "{location:?} is not a database path or postgres:// URL"
                    )));
                }
                (format!("sqlite://{path}?mode=rwc"), Backend::Sqlite)
            };
        let options = AnyPoolOptions::new();
        let pool = match backend {
            // One writer at a time is SQLite's rule; WAL lets readers go on meanwhile, so there
            // are connections enough that writers waiting for the lock (jobs, the last-seen
            // flush) never leave a check-in's read without one. No memory map: each connection
            // would map the file on its own and count its pages again in the server's RSS, and
            // with lists that read through indexes it no longer pays (docs/BENCHMARKS.md).
            Backend::Sqlite => {
                options
                    .max_connections(12)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; \
                             PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await?
            }
            Backend::Postgres => options.max_connections(16).connect(&url).await?,
        };
        Ok(Store { pool, backend })
    }

    /// The SQLite database in `dir` (`bindery.db`).
    pub async fn open_in_dir(dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Config(format!("cannot create data dir {}: {e}", dir.display()))
        })?;
        let path = dir.join("bindery.db");
        let path = path
            .to_str()
            .ok_or_else(|| StoreError::Config("the data dir path is not UTF-8".into()))?;
        Store::open(path).await
    }

    /// A transaction that writes. On SQLite it takes the write lock up front (`BEGIN
    /// IMMEDIATE`): a transaction that reads first and writes later cannot wait for the lock
    /// and would fail with "database is locked" when another writer got in between.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// True when the database answers (readiness).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Applies the migrations up to `up_to` not yet applied. On PostgreSQL an advisory lock
    /// keeps two servers starting together from migrating at once.
    async fn migrate(&self, up_to: i64) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        if self.backend == Backend::Postgres {
            conn.execute("SELECT pg_advisory_lock(7369287)").await?;
        }
        let result = async {
            conn.execute("CREATE TABLE IF NOT EXISTS bindery_migrations (version BIGINT PRIMARY KEY, applied_ms BIGINT NOT NULL)")
                .await?;
            let migrations = match self.backend {
                Backend::Sqlite => SQLITE_MIGRATIONS,
                Backend::Postgres => POSTGRES_MIGRATIONS,
            };
            for (version, sql) in migrations.iter().filter(|(v, _)| *v <= up_to) {
                let done: Option<(i64,)> = sqlx::query_as("SELECT version FROM bindery_migrations WHERE version = $1")
                    .bind(*version)
                    .fetch_optional(&mut *conn)
                    .await?;
                if done.is_some() {
                    continue;
                }
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                sqlx::raw_sql(*sql).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO bindery_migrations (version, applied_ms) VALUES ($1, $2)")
                    .bind(*version)
                    .bind(now_ms())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
            Ok::<(), sqlx::Error>(())
        }
        .await;
        if self.backend == Backend::Postgres {
            conn.execute("SELECT pg_advisory_unlock(7369287)").await?;
        }
        Ok(result?)
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// True when a database error is a unique-constraint violation (on either backend).
fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}
