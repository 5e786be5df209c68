//! Migrations and seeding on the configured database.

use api::{
    service::{areas, seed},
    testing::TestDatabase,
};
use entities::area;
use sea_orm::{EntityTrait, QueryOrder};

#[tokio::test]
async fn migrations_apply_revert_and_apply_again() {
    let test_db = TestDatabase::empty().await;
    let db = &test_db.db;
    let states = db.migration_states().await.unwrap();
    assert!(!states.is_empty());
    assert!(states.iter().all(|s| !s.applied));

    db.migrate_up(None).await.unwrap();
    assert!(
        db.migration_states()
            .await
            .unwrap()
            .iter()
            .all(|s| s.applied)
    );
    assert!(!db.has_pending_migrations().await.unwrap());
    assert_eq!(areas::count(db).await.unwrap(), 0);

    db.migrate_down(Some(states.len() as u32)).await.unwrap();
    assert!(
        db.migration_states()
            .await
            .unwrap()
            .iter()
            .all(|s| !s.applied)
    );
    assert!(
        areas::count(db).await.is_err(),
        "the areas table is gone after down"
    );

    db.migrate_up(None).await.unwrap();
    assert_eq!(areas::count(db).await.unwrap(), 0);
}

#[tokio::test]
async fn seeding_the_demo_county_twice_changes_nothing() {
    let test_db = TestDatabase::migrated().await;
    let db = &test_db.db;
    let first = seed::seed_demo(db, None).await.unwrap();
    assert_eq!(
        first.areas_inserted,
        1 + seed::DEMO_TOWNSHIPS + seed::DEMO_VILLAGES
    );
    let snapshot = || async {
        area::Entity::find()
            .order_by_asc(area::Column::Code)
            .all(db.conn())
            .await
            .unwrap()
    };
    let before = snapshot().await;

    let second = seed::seed_demo(db, None).await.unwrap();
    assert_eq!(second.areas_inserted, 0);
    assert_eq!(snapshot().await, before);
}

#[tokio::test]
async fn seeding_fills_in_what_is_missing_and_keeps_what_is_there() {
    let test_db = TestDatabase::migrated().await;
    let db = &test_db.db;
    let demo = seed::demo_areas();
    // A county that already has its first township, renamed by hand.
    let mut township = demo[1].clone();
    township.name = "改过名的镇".into();
    areas::insert_missing(db, &[demo[0].clone(), township.clone()])
        .await
        .unwrap();

    let report = seed::seed_demo(db, None).await.unwrap();
    assert_eq!(report.areas_inserted, demo.len() - 2);
    let kept = area::Entity::find_by_id(township.code.to_string())
        .one(db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.name, "改过名的镇");
}

#[tokio::test]
async fn an_area_whose_parent_does_not_exist_is_refused_and_nothing_is_written() {
    let test_db = TestDatabase::migrated().await;
    let db = &test_db.db;
    let demo = seed::demo_areas();
    // The first village without its county and township: the foreign key refuses it, and the
    // county listed alongside is rolled back too.
    let village = demo
        .iter()
        .find(|a| a.code.level() == area::AreaLevel::Village)
        .unwrap()
        .clone();
    let orphan_county = areas::NewArea {
        code: api::domain::AreaCode::parse("500236").unwrap(),
        name: "别的县".into(),
        rural_population: 0,
        is_poor_village: false,
    };
    let err = areas::insert_missing(db, &[orphan_county, village]).await;
    assert!(err.is_err());
    assert_eq!(areas::count(db).await.unwrap(), 0);
}

#[tokio::test]
async fn population_on_a_township_is_refused() {
    let test_db = TestDatabase::migrated().await;
    let township = areas::NewArea {
        code: api::domain::AreaCode::parse("500235101").unwrap(),
        name: "示范镇".into(),
        rural_population: 10,
        is_poor_village: false,
    };
    let err = areas::insert_missing(&test_db.db, &[township])
        .await
        .unwrap_err();
    assert!(matches!(err, areas::AreaError::Invalid { .. }), "{err}");
}

/// Names the server the suite runs on, so CI output shows it was not skipped.
#[tokio::test]
async fn the_database_under_test_is_the_one_configured() {
    let test_db = TestDatabase::empty().await;
    let configured = std::env::var("TEST_DATABASE_URL").unwrap_or_default();
    let expected = match configured.split(':').next().unwrap_or_default() {
        "postgres" | "postgresql" => sea_orm::DbBackend::Postgres,
        "mysql" | "mariadb" => sea_orm::DbBackend::MySql,
        _ => sea_orm::DbBackend::Sqlite,
    };
    assert_eq!(test_db.backend(), expected);
    eprintln!("storage tests run on {:?}", test_db.backend());
}
