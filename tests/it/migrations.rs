//! Migrations carry existing data over: a database built with the migrations
//! before versioned mark schemes, holding a meeting with marks, is migrated to
//! the newest schema, and every mark is then tied to its scheme version.

use std::path::Path;

use sqlx::{Connection, PgConnection, migrate::Migrator};
use uuid::Uuid;

use crate::helpers::*;

/// The first migration of versioned mark schemes.
const VERSIONS_BEGIN: &str = "20261130130000";

/// Applies only the migrations older than `before`, from a copy of them.
async fn migrate_before(pool: &sqlx::PgPool, before: &str) {
    let dir = std::env::temp_dir().join(format!("standardise-old-migrations-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.as_str() < before {
            std::fs::copy(&path, dir.join(&name)).unwrap();
        }
    }
    Migrator::new(dir.as_path()).await.unwrap().run(pool).await.unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn marks_made_before_versions_are_tied_to_version_one() {
    let db = TestDb::empty().await;
    migrate_before(&db.pool, VERSIONS_BEGIN).await;
    let mut c = PgConnection::connect_with(&db.options).await.unwrap();

    // A meeting as the previous schema held it: marks with credited points as text.
    let q = |sql: &'static str| sqlx::query_scalar::<_, Uuid>(sql);
    let pe = q("INSERT INTO users (email, name, password_hash) VALUES ('pe@board.example', 'Pe', 'x') RETURNING id")
        .fetch_one(&mut c)
        .await
        .unwrap();
    let ex = q("INSERT INTO users (email, name, password_hash) VALUES ('ex@board.example', 'Ex', 'x') RETURNING id")
        .fetch_one(&mut c)
        .await
        .unwrap();
    let paper =
        q("INSERT INTO papers (board, code, title, series, guidance) VALUES ('B', 'C1', 'T', 'June 2025', 'Be fair.') RETURNING id")
            .fetch_one(&mut c)
            .await
            .unwrap();
    let question: Uuid = sqlx::query_scalar(
        "INSERT INTO questions (paper_id, number, position, prompt, max_mark, targets, kind, indicative_content)
         VALUES ($1, '01', 0, 'Explain.', 4, '{AO1}', 'levels', E'**Note:** any valid point.\\n\\n- the **first** point\\n- the second point\\n')
         RETURNING id",
    )
    .bind(paper)
    .fetch_one(&mut c)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO level_bands (question_id, level, min_mark, max_mark, descriptor) VALUES ($1, 0, 0, 0, 'None'), ($1, 1, 1, 2, 'Some'), ($1, 2, 3, 4, 'Good')",
    )
    .bind(question)
    .execute(&mut c)
    .await
    .unwrap();
    let script: Uuid = sqlx::query_scalar("INSERT INTO scripts (paper_id, candidate) VALUES ($1, '0001') RETURNING id")
        .bind(paper)
        .fetch_one(&mut c)
        .await
        .unwrap();
    let response: Uuid =
        sqlx::query_scalar("INSERT INTO responses (script_id, question_id, paper_id, text) VALUES ($1, $2, $3, 'An answer') RETURNING id")
            .bind(script)
            .bind(question)
            .bind(paper)
            .fetch_one(&mut c)
            .await
            .unwrap();
    let meeting: Uuid = sqlx::query_scalar("INSERT INTO meetings (paper_id, name, state) VALUES ($1, 'M', 'marking') RETURNING id")
        .bind(paper)
        .fetch_one(&mut c)
        .await
        .unwrap();
    sqlx::query("INSERT INTO meeting_participants (meeting_id, user_id, role) VALUES ($1, $2, 'pe'), ($1, $3, 'examiner')")
        .bind(meeting)
        .bind(pe)
        .bind(ex)
        .execute(&mut c)
        .await
        .unwrap();
    sqlx::query("INSERT INTO meeting_scripts (meeting_id, paper_id, script_id, purpose, position) VALUES ($1, $2, $3, 'practice', 0)")
        .bind(meeting)
        .bind(paper)
        .bind(script)
        .execute(&mut c)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO marks (meeting_id, response_id, examiner_id, level, mark, comment, credited, state)
         VALUES ($1, $2, $3, 2, 3, 'ok', '{\"the first point\", \"something the scheme never said\"}', 'submitted')",
    )
    .bind(meeting)
    .bind(response)
    .bind(ex)
    .execute(&mut c)
    .await
    .unwrap();
    sqlx::query("INSERT INTO definitive_marks (meeting_id, response_id, level, mark, rationale, set_by) VALUES ($1, $2, 2, 4, 'Good', $3)")
        .bind(meeting)
        .bind(response)
        .bind(pe)
        .execute(&mut c)
        .await
        .unwrap();

    // Now the rest of the migrations.
    standardise::db::migrate(&db.pool).await.unwrap();

    let version: Uuid = sqlx::query_scalar("SELECT id FROM scheme_versions WHERE paper_id = $1 AND number = 1")
        .bind(paper)
        .fetch_one(&mut c)
        .await
        .unwrap();
    let pinned: Option<Uuid> =
        sqlx::query_scalar("SELECT scheme_version_id FROM meetings WHERE id = $1").bind(meeting).fetch_one(&mut c).await.unwrap();
    assert_eq!(pinned, Some(version), "the marking meeting is pinned to version 1");
    let untied: i64 = sqlx::query_scalar("SELECT count(*) FROM marks WHERE scheme_version_id IS DISTINCT FROM $1")
        .bind(version)
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(untied, 0, "every mark is tied to version 1");
    let untied: i64 = sqlx::query_scalar("SELECT count(*) FROM definitive_marks WHERE scheme_version_id IS DISTINCT FROM $1")
        .bind(version)
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(untied, 0, "every definitive mark too");

    // The version reads back as the scheme was, with its points; the credited texts became points.
    let v = standardise::papers::versions::load(&db.pool, version).await.unwrap().unwrap();
    let (q1, points) = v.question(question).expect("question 01 in version 1");
    assert_eq!((q1.number.as_str(), q1.max_mark, q1.levels.len()), ("01", 4, 3));
    assert_eq!(v.scheme.guidance, "Be fair.");
    let texts: Vec<&str> = points.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(texts, ["the first point", "the second point"]);
    let credited: Vec<String> =
        sqlx::query_scalar("SELECT p.text FROM mark_credits mc JOIN indicative_points p ON p.id = mc.point_id ORDER BY p.text")
            .fetch_all(&mut c)
            .await
            .unwrap();
    assert_eq!(credited, ["something the scheme never said", "the first point"]);
    let first_credit: Uuid = sqlx::query_scalar(
        "SELECT mc.point_id FROM mark_credits mc JOIN indicative_points p ON p.id = mc.point_id WHERE p.text = 'the first point'",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    assert_eq!(first_credit, points[0].id, "the credited point is the version's point, by id");
    // Versions are immutable.
    let err = sqlx::query("UPDATE scheme_versions SET note = 'changed'").execute(&mut c).await.unwrap_err();
    assert!(err.to_string().contains("immutable"), "{err}");
}
