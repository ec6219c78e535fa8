//! Finding or starting PostgreSQL with no configuration.

use sqlx::{Connection, PgConnection};
use standardise::db::discover;

#[tokio::test]
async fn a_private_cluster_is_created_started_and_stopped() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/test-private-cluster")
        .join(uuid::Uuid::new_v4().simple().to_string());
    let server = discover::start_private(&dir).await.expect("a private cluster starts");
    assert!(dir.join("PG_VERSION").exists(), "initdb ran");
    assert!(server.description.contains("private PostgreSQL cluster"));
    discover::ensure_database(&server.admin, "standardise").await.unwrap();
    discover::ensure_database(&server.admin, "standardise").await.expect("idempotent");
    let mut conn = PgConnection::connect_with(&server.admin.clone().database("standardise")).await.unwrap();
    let one: i32 = sqlx::query_scalar("SELECT 1").fetch_one(&mut conn).await.unwrap();
    assert_eq!(one, 1);
    conn.close().await.unwrap();

    let cluster = server.cluster.expect("standardise owns this cluster");
    cluster.stop();
    assert!(PgConnection::connect_with(&server.admin).await.is_err(), "stopped cleanly");

    // A second start reuses the initialised folder.
    let again = discover::start_private(&dir).await.expect("restarts");
    again.cluster.expect("owned").stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn database_names_are_checked_before_use() {
    let admin = crate::helpers::server().await;
    let err = discover::ensure_database(&admin, "bad\"; DROP").await.unwrap_err();
    assert!(err.to_string().contains("letters, digits and underscores"));
}
