//! What the benchmarks share: a scratch database (on DATABASE_URL's server
//! when set, else on the private cluster; created empty, dropped at the
//! end) and generated repositories.
#![allow(dead_code)]

pub mod generate;
pub mod seed;

use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};

use snag::store::DatabaseTarget;

/// Connection options for the server's admin database and for `name`.
fn options(name: &'static str) -> anyhow::Result<(PgConnectOptions, PgConnectOptions)> {
    let url = std::env::var("DATABASE_URL").ok();
    match DatabaseTarget::from_url_or_default(url.as_deref(), &snag::config::data_dir()) {
        DatabaseTarget::Url(url) => {
            let admin: PgConnectOptions = url.parse()?;
            Ok((admin.clone(), admin.database(name)))
        }
        DatabaseTarget::Local(cluster) => {
            cluster.ensure_running()?;
            Ok((
                cluster.connect_options("postgres"),
                cluster.connect_options(name),
            ))
        }
    }
}

async fn admin(name: &'static str) -> anyhow::Result<(PgConnection, PgConnectOptions)> {
    let (admin, scratch) = tokio::task::spawn_blocking(move || options(name)).await??;
    Ok((PgConnection::connect_with(&admin).await?, scratch))
}

/// Drops `name` if it is there and creates it empty.
pub async fn create(name: &'static str) -> anyhow::Result<PgConnectOptions> {
    let (mut conn, scratch) = admin(name).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await?;
    Ok(scratch)
}

/// Connection options for `name` if the server has that database.
pub async fn existing(name: &'static str) -> anyhow::Result<Option<PgConnectOptions>> {
    let (mut conn, scratch) = admin(name).await?;
    let found: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await?;
    Ok(found.then_some(scratch))
}

pub async fn drop(name: &'static str) -> anyhow::Result<()> {
    let (mut conn, _) = admin(name).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    Ok(())
}

/// A URL for `name` on the same server, for a snag process to use.
pub fn url(name: &'static str) -> anyhow::Result<String> {
    let url = std::env::var("DATABASE_URL").ok();
    Ok(
        match DatabaseTarget::from_url_or_default(url.as_deref(), &snag::config::data_dir()) {
            DatabaseTarget::Url(url) => {
                let mut url = url::Url::parse(&url)?;
                url.set_path(&format!("/{name}"));
                url.to_string()
            }
            DatabaseTarget::Local(cluster) => cluster.url_for(name),
        },
    )
}
