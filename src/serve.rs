//! `standardise serve`: connect, migrate, make the first administrator, listen.

use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions_sqlx_store::PostgresStore;

use crate::{
    app::{AppState, router},
    auth::password,
    config::{Config, DbArgs, ServeArgs},
    db,
    users::{self, DisplayName, Email, NewUser},
};

/// Runs the server until Ctrl-C or SIGTERM, then stops a private cluster if
/// standardise started one.
pub async fn serve(db_args: &DbArgs, args: &ServeArgs) -> anyhow::Result<()> {
    let database = db::connect(db_args.database_url.as_deref(), &db_args.data_dir).await?;
    let result = run(database.pool.clone(), args).await;
    database.pool.close().await;
    if let Some(cluster) = database.cluster {
        cluster.stop();
    }
    result
}

async fn run(pool: PgPool, args: &ServeArgs) -> anyhow::Result<()> {
    db::migrate(&pool).await.context("applying migrations")?;
    create_first_admin(&pool, &args.admin_email).await?;

    let store = PostgresStore::new(pool.clone());
    tokio::spawn(async move {
        if let Err(e) = store.continuously_delete_expired(tokio::time::Duration::from_secs(3600)).await {
            tracing::warn!(error = %e, "expired-session cleanup stopped");
        }
    });

    let config = Config {
        secure_cookies: args.secure_cookies,
        session_idle: Duration::from_secs(args.session_idle_minutes.max(1) * 60),
        ..Config::default()
    };
    let state = AppState::new(pool, config);
    let hub = state.live.clone();
    let listener = tokio::net::TcpListener::bind(&args.bind)
        .await
        .with_context(|| format!("cannot listen on {} (is another program using it? choose another with --bind)", args.bind))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "standardise is listening");
    println!("standardise is running: open http://{addr}/ (Ctrl-C stops it)");
    // Open event streams would hold a graceful shutdown forever: end them first.
    // into_make_service shares one router among connections; serving the Router
    // itself would rebuild its route table for every connection (about 200 KB
    // each, which an open event stream keeps for as long as it is open).
    axum::serve(listener, router(state).into_make_service())
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            hub.close();
        })
        .await?;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// On the very first start, creates an administrator and prints a one-time
/// password once, so the person who installed standardise can sign in.
pub(crate) async fn create_first_admin(pool: &PgPool, email: &str) -> anyhow::Result<()> {
    let email = Email::parse(email).map_err(anyhow::Error::msg)?;
    let name = DisplayName::parse("Administrator").map_err(anyhow::Error::msg)?;
    let secret = password::one_time_password();
    let hash = password::hash(secret.clone()).await?;
    let new = NewUser { email: &email, name: &name, password_hash: &hash, is_admin: true, must_change_password: true };
    if let Some(user) = users::create_first_admin(pool, new).await.map_err(|e| anyhow::anyhow!("{e}"))? {
        println!(
            "\n  First start: an administrator account was created.\n\
             \x20   email:    {}\n\
             \x20   password: {secret}   (one-time: you choose your own at first sign-in)\n\
             \x20 This password is shown only now.\n",
            user.email
        );
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
