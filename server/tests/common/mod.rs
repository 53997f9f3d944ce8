//! Helpers shared by the server's integration tests.
#![allow(dead_code, unused_macros)] // each test file uses a part

use sqlx::Connection;

pub mod admin;
pub mod openapi;
pub mod roles;
pub mod tour;

/// A fresh, empty database on the test PostgreSQL server that `scripts/test` starts and names in
/// BINDERY_TEST_POSTGRES_URL; returns its URL.
pub async fn fresh_postgres_url() -> String {
    let url = std::env::var("BINDERY_TEST_POSTGRES_URL").expect(
        "BINDERY_TEST_POSTGRES_URL is not set: run the tests with scripts/test, which starts PostgreSQL",
    );
    sqlx::any::install_default_drivers();
    let name: String = bindery_server::secrets::random_secret("")
        .unwrap()
        .to_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(24)
        .collect();
    let name = format!("t_{name}");
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    format!("{}/{name}", &url[..url.rfind('/').unwrap()])
}

/// A fresh SQLite store in a temporary directory (kept alive by the returned guard).
pub async fn sqlite() -> (bindery_server::store::Store, Option<tempfile::TempDir>) {
    let dir = tempfile::tempdir().unwrap();
    (
        bindery_server::store::Store::open_in_dir(dir.path())
            .await
            .unwrap(),
        Some(dir),
    )
}

/// A fresh PostgreSQL database on the test server.
pub async fn postgres() -> (bindery_server::store::Store, Option<tempfile::TempDir>) {
    (
        bindery_server::store::Store::open(&fresh_postgres_url().await)
            .await
            .unwrap(),
        None,
    )
}

/// Runs one async test body against both backends (`#[macro_use] mod common;`).
macro_rules! on_both {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                let (store, _guard) = crate::common::sqlite().await;
                assert_eq!(store.backend(), bindery_server::store::Backend::Sqlite);
                ($body)(store).await;
            }
            #[tokio::test]
            async fn postgres() {
                let (store, _guard) = crate::common::postgres().await;
                assert_eq!(store.backend(), bindery_server::store::Backend::Postgres);
                ($body)(store).await;
            }
        }
    };
}
