//! A PostgreSQL streaming replica (`TEST_DATABASE_READ_URL`, a `pg_basebackup` of the server
//! `TEST_DATABASE_URL` names, as `.ci/run` starts it): dashboards and statistics read it, and
//! each answer is kept under the replica's own state, so a replica that lags shows the county
//! as it was and never keeps that older count as the newer one.

use api::{
    domain::AreaCode,
    service::{exit::progress, policy::Actor},
    testing::{TestApp, one_person_household},
};
use entities::user::Role;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

fn replica_url() -> Option<String> {
    std::env::var("TEST_DATABASE_READ_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

fn county() -> Actor {
    Actor {
        user_id: 13,
        role: Role::CountyOfficial,
        area: Some(AreaCode::parse("500235").unwrap()),
        household_id: None,
    }
}

async fn one_text(conn: &DatabaseConnection, sql: &str) -> String {
    let row = conn
        .query_one_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .expect("one row");
    row.try_get_by_index::<String>(0).expect("a text column")
}

/// Waits until the replica has replayed everything the primary had written when asked.
async fn caught_up(app: &TestApp) {
    let written = one_text(app.state.db.conn(), "SELECT pg_current_wal_lsn()::text").await;
    for _ in 0..200 {
        let replayed = one_text(
            app.state.db.reads(),
            &format!("SELECT (pg_last_wal_replay_lsn() >= '{written}'::pg_lsn)::text"),
        )
        .await;
        if replayed == "true" {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the replica did not replay {written} within 10 s");
}

async fn households_on_the_dashboard(app: &TestApp) -> u64 {
    progress::progress(
        &app.state.db,
        &app.state.cache,
        &app.state.exit_rules,
        &county(),
        None,
    )
    .await
    .expect("the county's progress")
    .people
    .households
}

#[tokio::test]
async fn the_dashboard_reads_the_replica_and_follows_it_when_it_catches_up() {
    let Some(replica) = replica_url() else {
        return;
    };
    let app = TestApp::spawn_with(|s| s.database_read_url = Some(replica.clone())).await;
    assert!(app.state.db.has_replica());
    let replay = |sql: &'static str| async {
        app.state.db.reads().execute_unprepared(sql).await.unwrap();
    };
    // A replica left paused by an earlier run would never catch up.
    replay("SELECT pg_wal_replay_resume()").await;
    one_person_household(&app.state, "500235101201", 1).await;
    caught_up(&app).await;
    let before = households_on_the_dashboard(&app).await;
    assert_eq!(before, 1);

    // The replica stops replaying: the primary has a second household it does not show yet.
    replay("SELECT pg_wal_replay_pause()").await;
    one_person_household(&app.state, "500235101201", 2).await;
    let while_behind = households_on_the_dashboard(&app).await;
    replay("SELECT pg_wal_replay_resume()").await;
    assert_eq!(
        while_behind, before,
        "a dashboard read on the primary would already count the new household"
    );

    // Caught up, the next read counts it: the answer kept while behind was kept under the
    // replica's older state, not the newer one.
    caught_up(&app).await;
    assert_eq!(households_on_the_dashboard(&app).await, before + 1);
}

#[tokio::test]
async fn a_replica_of_another_kind_of_database_is_refused_at_start() {
    let options = api::infra::db::DatabaseOptions::default();
    let err = api::infra::db::Database::connect_with_replica(
        "sqlite::memory:",
        "postgres://postgres@127.0.0.1:5432/test",
        &options,
    )
    .await
    .expect_err("SQLite has no replicas");
    assert!(err.to_string().contains("replica"), "{err}");
}
