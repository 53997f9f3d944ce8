//! What the fleet leaves in the database: the rows of the tables that grow with use, the work
//! PostgreSQL did for the steady phase, and the database's size and growth against retention.

use std::time::Duration;

use crate::Fleet;
use crate::server;

/// The rows of the tables that grow with use, at one moment.
#[derive(Clone, Copy)]
pub struct Rows {
    activity: i64,
    jobs: i64,
    all_jobs: i64,
    alerts: i64,
}

pub async fn rows(fleet: &Fleet) -> Rows {
    let count = |table: &str| {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        async move {
            let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .fetch_one(fleet.store.pool())
                .await
                .unwrap();
            n
        }
    };
    Rows {
        activity: count("activity").await,
        // Done jobs: what retention keeps for its days (the queue is bounded by the fleet).
        jobs: count("jobs WHERE state = 'done'").await,
        all_jobs: count("jobs").await,
        alerts: count("alerts").await,
    }
}

/// PostgreSQL's own counters for the fleet's database (`pg_stat_database`): what the servers
/// asked of it, to divide by the check-ins. `None` on SQLite.
#[derive(Clone, Copy)]
pub struct PgWork {
    commits: i64,
    inserted: i64,
    updated: i64,
    deleted: i64,
    fetched: i64,
}

pub async fn pg_work(fleet: &Fleet) -> Option<PgWork> {
    if !matches!(fleet.data, server::Data::Postgres(_)) {
        return None;
    }
    let (commits, inserted, updated, deleted, fetched): (i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT xact_commit, tup_inserted, tup_updated, tup_deleted, tup_fetched \
             FROM pg_stat_database WHERE datname = current_database()",
    )
    .fetch_one(fleet.store.pool())
    .await
    .unwrap();
    Some(PgWork {
        commits,
        inserted,
        updated,
        deleted,
        fetched,
    })
}

/// What the steady state asked of PostgreSQL, per check-in. The servers have stopped by now, so
/// their connections have reported everything.
pub fn report_pg_work(before: PgWork, after: PgWork, checkins: u64, changed: u64) {
    let per = |a: i64, b: i64| (a - b) as f64 / checkins.max(1) as f64;
    println!(
        "\nPostgreSQL during the steady state ({checkins} check-ins, {changed} changed): per \
         check-in {:.2} commits, {:.2} rows inserted, {:.2} updated, {:.2} deleted, {:.1} read \
         by index",
        per(after.commits, before.commits),
        per(after.inserted, before.inserted),
        per(after.updated, before.updated),
        per(after.deleted, before.deleted),
        per(after.fetched, before.fetched),
    );
}

/// The server's defaults: `--retention-days` (the activity log, ended alerts) and
/// `--job-retention-days` (done jobs).
const HISTORY_DAYS: f64 = 90.0;
const JOB_DAYS: f64 = 7.0;

/// The database's size; what the steady state added, a day of it, and where the database levels
/// off under the default retention; and the offline monitor's verdict on the outage.
pub async fn storage(fleet: &Fleet, bound_bytes: u64, before: Rows, steady: Duration) {
    let after = server::database_bytes(&fleet.data, &fleet.store).await;
    let now = rows(fleet).await;
    let per_day = 86_400.0 / steady.as_secs_f64();
    let activity_day = (now.activity - before.activity) as f64 * per_day;
    let jobs_day = (now.jobs - before.jobs) as f64 * per_day;
    let activity_row = server::table_bytes(&fleet.data, &fleet.store, "activity").await as f64
        / now.activity.max(1) as f64;
    let jobs_row = server::table_bytes(&fleet.data, &fleet.store, "jobs").await as f64
        / now.all_jobs.max(1) as f64;
    let retained = activity_day * HISTORY_DAYS * activity_row + jobs_day * JOB_DAYS * jobs_row;
    println!(
        "\nstorage: {:.1} MiB with the fleet bound; {:.1} MiB at the end ({} activity rows, {} \
         jobs, {} alerts)\n  a day at the steady state's pace: {:.0} activity rows ({:.0} bytes \
         each with indexes), {:.0} done jobs ({:.0} bytes each); under the default retention ({} days, \
         {} for jobs) the history levels off at {:.1} GiB",
        bound_bytes as f64 / 1048576.0,
        after as f64 / 1048576.0,
        now.activity,
        now.jobs,
        now.alerts,
        activity_day,
        activity_row,
        jobs_day,
        jobs_row,
        HISTORY_DAYS,
        JOB_DAYS,
        retained / 1073741824.0,
    );
    assert_eq!(now.alerts, 0, "the outage flagged no device offline");
}
