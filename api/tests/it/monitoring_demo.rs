//! The demo county's monitored households: brought by the procedures' services to every
//! stage — warning, checked, in notice, confirmed and helped, proposed for elimination,
//! eliminated — once, quickly, with their notices on the public board and the figures moving
//! by exactly them.

use std::time::Instant;

use api::{
    domain::{
        AreaCode,
        county_time::{Clock, SystemClock},
    },
    service::monitoring::{demo, figures},
};
use entities::{
    help_record, household,
    household::HouseholdStatus,
    household_visit,
    monitored_household::{self, MonitoringStatus},
    monitoring_case::{self, MonitoringState},
};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel, PaginatorTrait};

use crate::support;

const VILLAGE: &str = "500235101201";

#[tokio::test]
async fn the_demo_monitors_households_at_every_stage_through_the_services_once() {
    let app = support::app_with_admin().await;
    let conn = app.state.db.conn();
    for n in 1..=12 {
        let id = support::household_in(&app, VILLAGE, n).await;
        let found = household::Entity::find_by_id(id)
            .one(conn)
            .await
            .unwrap()
            .unwrap();
        let mut active = found.into_active_model();
        active.status = Set(HouseholdStatus::Exited);
        active.exit_year = Set(Some(2019));
        active.update(conn).await.unwrap();
    }
    let started = Instant::now();
    let seeded = demo::seed_demo_monitoring(
        &app.state.db,
        &SystemClock,
        &app.state.exit_rules,
        &app.state.photos,
    )
    .await
    .unwrap();
    assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
    assert_eq!(seeded.households, 10);
    assert_eq!(seeded.help_records, 10);
    assert_eq!(seeded.visits, 5);

    let records = monitored_household::Entity::find().all(conn).await.unwrap();
    let count = |status| records.iter().filter(|r| r.status == status).count();
    assert_eq!(count(MonitoringStatus::Identifying), 5);
    assert_eq!(count(MonitoringStatus::Monitored), 4);
    assert_eq!(count(MonitoringStatus::Eliminated), 1);
    let cases = monitoring_case::Entity::find().all(conn).await.unwrap();
    let open_in = |state| cases.iter().filter(|c| c.open && c.state == state).count();
    assert_eq!(open_in(MonitoringState::Warning), 2);
    assert_eq!(open_in(MonitoringState::Checked), 1);
    assert_eq!(open_in(MonitoringState::PublicNotice), 2);
    assert_eq!(open_in(MonitoringState::Proposed), 1);
    assert_eq!(help_record::Entity::find().count(conn).await.unwrap(), 10);
    assert_eq!(
        household_visit::Entity::find().count(conn).await.unwrap(),
        5
    );

    // The running notices are on the village's board, open to objections.
    let board = app.client.get(format!("/notices/{VILLAGE}")).send().await;
    board.assert_status_is_ok();
    let html = board.0.into_body().into_string().await.unwrap();
    assert_eq!(
        html.matches("href=\"/notices/objection/").count(),
        2,
        "{html}"
    );

    let shown = figures::of(
        conn,
        Some(&AreaCode::parse(VILLAGE).unwrap()),
        SystemClock.this_year(),
    )
    .await
    .unwrap();
    assert_eq!((shown.monitored, shown.identifying), (4, 5));

    // Once only.
    let again = demo::seed_demo_monitoring(
        &app.state.db,
        &SystemClock,
        &app.state.exit_rules,
        &app.state.photos,
    )
    .await
    .unwrap();
    assert_eq!(again, demo::DemoMonitoring::default());
}
