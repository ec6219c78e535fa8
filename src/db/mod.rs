//! The database: finding it, connecting, and migrations.

pub mod binary_copy;
pub mod discover;
pub mod id;
pub mod text_enum;
pub mod tx;

use std::path::Path;

use sqlx::PgPool;

pub use discover::{PrivateCluster, Server};

/// Migrations from `migrations/`, embedded in the binary; shared by tests.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The connected database and, if standardise started one, the cluster to stop.
pub struct Database {
    /// The connection pool everything shares.
    pub pool: PgPool,
    /// A private cluster to stop on shutdown.
    pub cluster: Option<PrivateCluster>,
}

/// Connects: `DATABASE_URL` when given, else the server `discover` finds
/// (creating the database `standardise` there if missing). Logs the choice.
pub async fn connect(database_url: Option<&str>, data_dir: &Path) -> anyhow::Result<Database> {
    if let Some(url) = database_url {
        let options = discover::options_from_url(url)?;
        tracing::info!(host = ?options.get_host(), database = ?options.get_database(), "using DATABASE_URL");
        return Ok(Database { pool: discover::pool(options).await?, cluster: None });
    }
    let server = discover::find_server(&data_dir.join("postgres")).await?;
    tracing::info!("using {} (database standardise)", server.description);
    let result = async {
        discover::ensure_database(&server.admin, "standardise").await?;
        discover::pool(server.admin.clone().database("standardise")).await
    }
    .await;
    match result {
        Ok(pool) => Ok(Database { pool, cluster: server.cluster }),
        Err(e) => {
            if let Some(c) = &server.cluster {
                c.stop();
            }
            Err(e)
        }
    }
}

/// Runs pending migrations, including the session store's table.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(pool).await?;
    tower_sessions_sqlx_store::PostgresStore::new(pool.clone()).migrate().await?;
    Ok(())
}
