//! Scratch PostgreSQL databases for tests and benchmarks: the suites that
//! run on both engines point `NANOCHAT_TEST_POSTGRES` at a PostgreSQL
//! server (`scripts/postgres.sh` starts one) and get a new, empty database
//! per store, so tests running in parallel never see each other's rows.

use sqlx::Connection as _;

use super::{Location, Result, StoreError};

/// The variable that names the PostgreSQL server tests run against: a URL
/// whose role may create databases.
pub const TEST_POSTGRES_VAR: &str = "NANOCHAT_TEST_POSTGRES";

/// The PostgreSQL server of [`TEST_POSTGRES_VAR`], if it is set.
pub fn test_postgres() -> Option<String> {
    std::env::var(TEST_POSTGRES_VAR)
        .ok()
        .filter(|url| !url.is_empty())
}

/// Creates an empty database `nanochat_test_<random>` on the server
/// `admin_url` points at; returns its location (the same URL with the new
/// database name).
pub async fn scratch_postgres(admin_url: &str) -> Result<Location> {
    let name = format!("nanochat_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    Ok(Location::Postgres(with_database(admin_url, &name)?))
}

/// Runs a plain SQL script (`pg_dump --inserts` output; psql's backslash
/// commands are skipped) on the PostgreSQL database `url`, on a connection
/// of its own that is closed afterwards (a dump resets `search_path`).
pub async fn run_postgres_script(url: &str, script: &str) -> Result<()> {
    let sql: String = script
        .lines()
        .filter(|line| !line.starts_with('\\'))
        .map(|line| format!("{line}\n"))
        .collect();
    let mut connection = sqlx::PgConnection::connect(url).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut connection)
        .await?;
    connection.close().await?;
    Ok(())
}

/// `url` naming database `name` instead of its own.
fn with_database(url: &str, name: &str) -> Result<String> {
    let bad = || {
        StoreError::Invalid(format!(
            "not a postgres:// URL: {}",
            Location::Postgres(url.into())
        ))
    };
    let scheme_end = url.find("://").ok_or_else(bad)? + 3;
    let (head, query) = match url.find('?') {
        Some(q) => url.split_at(q),
        None => (url, ""),
    };
    let authority_end = head[scheme_end..]
        .find('/')
        .map_or(head.len(), |i| scheme_end + i);
    Ok(format!("{}/{name}{query}", &head[..authority_end]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_is_replaced_and_nothing_else() {
        assert_eq!(
            with_database(
                "postgres://u:p@127.0.0.1:5433/postgres?sslmode=disable",
                "t1"
            )
            .unwrap(),
            "postgres://u:p@127.0.0.1:5433/t1?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://u@localhost", "t2").unwrap(),
            "postgres://u@localhost/t2"
        );
        assert!(with_database("localhost/db", "t3").is_err());
    }
}
