//! A throwaway database on the PostgreSQL server the tests are given
//! (`cargo xtask test` and `cargo xtask with-postgres` start one).

use anyhow::{Context, Result, bail};

/// The PostgreSQL server tests use: `postgres://USER@HOST:PORT`, no database
/// (each test creates its own). `cargo xtask test` starts one and sets it.
pub const POSTGRES_ENV: &str = "SEALTIP_TEST_POSTGRES";
/// Set by `cargo xtask test`: a test needing PostgreSQL fails without it
/// instead of skipping.
pub const REQUIRE_POSTGRES_ENV: &str = "SEALTIP_REQUIRE_POSTGRES";

/// A fresh database, dropped (with its connections) when this is.
pub struct TestDatabase {
    /// Its URL.
    pub url: String,
    server: String,
    name: String,
}

/// A fresh database on the test server for the test named `test`; `None`
/// (with a printed line) when no server is configured and none is required.
pub async fn test_database(test: &str) -> Result<Option<TestDatabase>> {
    let server = match std::env::var(POSTGRES_ENV) {
        Ok(server) => server.trim_end_matches('/').to_owned(),
        Err(_) if std::env::var_os(REQUIRE_POSTGRES_ENV).is_some() => {
            bail!("{test} needs PostgreSQL: {POSTGRES_ENV} is not set")
        }
        Err(_) => {
            eprintln!(
                "{test}: skipped, no PostgreSQL (set {POSTGRES_ENV}=postgres://USER@HOST:PORT)"
            );
            return Ok(None);
        }
    };
    let mut id = [0u8; 8];
    getrandom::fill(&mut id).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let name = format!("sealtip_test_{}", hex::encode(id));
    run(
        &format!("{server}/postgres"),
        &format!("CREATE DATABASE {name}"),
    )
    .await?;
    Ok(Some(TestDatabase {
        url: format!("{server}/{name}"),
        server,
        name,
    }))
}

/// Connects to the database at `url` for as long as `client` is used.
async fn connect(url: &str) -> Result<(tokio_postgres::Client, tokio::task::JoinHandle<()>)> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .with_context(|| format!("cannot connect to {url}"))?;
    let task = tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok((client, task))
}

/// Runs `sql` (one or more statements) on the database at `url`.
async fn run(url: &str, sql: &str) -> Result<()> {
    let (client, task) = connect(url).await?;
    client.batch_execute(sql).await?;
    drop(client);
    let _ = task.await;
    Ok(())
}

impl TestDatabase {
    /// Runs `sql` (one or more statements) on this database.
    pub async fn execute(&self, sql: &str) -> Result<()> {
        run(&self.url, sql).await
    }

    /// Runs `sql` on this database and returns the first column of the first row.
    pub async fn query_i64(&self, sql: &str) -> Result<i64> {
        let (client, task) = connect(&self.url).await?;
        let value = client.query_one(sql, &[]).await?.try_get(0)?;
        drop(client);
        let _ = task.await;
        Ok(value)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin, sql) = (
            format!("{}/postgres", self.server),
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
        // Drop may run inside a runtime, which cannot block: use a thread.
        let _ = std::thread::spawn(move || {
            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                let _ = runtime.block_on(run(&admin, &sql));
            }
        })
        .join();
    }
}
