//! Helpers shared by the server's integration tests.
#![allow(dead_code)] // each test file uses a part

use sqlx::Connection;

pub mod admin;
pub mod openapi;
pub mod world;

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
