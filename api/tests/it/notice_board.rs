//! The public notice board: the county's lists the signed audit checkpoints beside the
//! notices, with when each was signed in Beijing time and a link to the page that verifies
//! them (a village's does not); and a villager objects to a running exit notice with a texted
//! code, which returns the case to verification, audited, and only while the notice runs.

use api::{
    domain::county_time,
    service::audit::checkpoints,
    testing::{FakeSmsGateway, TestApp},
};
use chrono::{Duration, Utc};
use entities::{
    audit_log,
    exit_case::{self, ExitState, ExitSubject},
    exit_case_step,
};
use poem::http::StatusCode;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use crate::support;

const VILLAGE: &str = "500235101201";

async fn page(app: &TestApp, path: &str) -> (StatusCode, String) {
    let resp = app.client.get(path).send().await;
    let status = resp.0.status();
    (status, resp.0.into_body().into_string().await.unwrap())
}

async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let resp = app
        .client
        .post(path)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).unwrap())
        .send()
        .await;
    let status = resp.0.status();
    (status, resp.0.into_body().into_string().await.unwrap())
}

/// A household's exit case whose public notice runs until `ends`.
async fn exit_on_notice(app: &TestApp, ends: chrono::DateTime<Utc>) -> i64 {
    let household = support::household_in(app, VILLAGE, 3).await;
    let now = Utc::now();
    exit_case::ActiveModel {
        subject: Set(ExitSubject::Household),
        household_id: Set(Some(household)),
        village_code: Set(VILLAGE.into()),
        year: Set(2024),
        state: Set(ExitState::PublicNotice),
        open: Set(true),
        notice_ends_at: Set(Some(ends)),
        proposed_by: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(app.state.db.conn())
    .await
    .unwrap()
    .id
}

#[tokio::test]
async fn a_villagers_objection_from_the_board_returns_an_exit_case_to_verification() {
    let gateway = FakeSmsGateway::start().await;
    let app = TestApp::spawn_with(|s| gateway.configure(s)).await;
    let case = exit_on_notice(&app, Utc::now() + Duration::days(5)).await;
    let path = format!("/notices/objection/exit/{case}");
    let (status, board) = page(&app, &format!("/notices/{VILLAGE}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(board.contains("脱贫退出"), "{board}");
    assert!(
        board.contains(&path),
        "the running exit notice takes objections"
    );
    // The monitoring form does not take an exit case's number.
    let (status, _) = page(&app, &format!("/notices/objection/{case}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, form) = page(&app, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains(&format!("action=\"{path}\"")), "{form}");
    let phone = "13912340002";
    let reason = "他家今年刚买了小车，又在镇上开了店";
    let (status, refused) = post_form(
        &app,
        &path,
        &[("phone", phone), ("reason", reason), ("step", "object")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains("短信验证码") && refused.contains(reason));
    let (status, _) = post_form(
        &app,
        &path,
        &[("phone", phone), ("reason", reason), ("step", "send")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let code = gateway.last_code_for(phone).unwrap();
    let (status, taken) = post_form(
        &app,
        &path,
        &[
            ("phone", phone),
            ("reason", reason),
            ("code", &code),
            ("step", "object"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{taken}");
    assert!(taken.contains("异议已收到") && taken.contains("重新核实"));

    let conn = app.state.db.conn();
    let found = exit_case::Entity::find_by_id(case)
        .one(conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.state, ExitState::Verified, "back to verification");
    let step = exit_case_step::Entity::find()
        .filter(exit_case_step::Column::CaseId.eq(case))
        .one(conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(step.action, "object");
    assert_eq!(step.actor_user_id, None);
    assert_eq!(step.reason.as_deref(), Some(reason));
    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("exit_case.step"))
        .filter(audit_log::Column::EntityId.eq(case.to_string()))
        .one(conn)
        .await
        .unwrap()
        .expect("the objection is audited");
    let after: serde_json::Value = serde_json::from_str(audited.after.as_deref().unwrap()).unwrap();
    assert_eq!(after["objector_phone"], "139****0002");
    assert!(audited.actor_user_id.is_none());

    // The notice no longer runs: no form, no link.
    let (status, _) = page(&app, &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, board) = page(&app, &format!("/notices/{VILLAGE}")).await;
    assert!(!board.contains(&path));
    assert!(
        board.contains("公示已中止"),
        "the board says the notice stopped: {board}"
    );
}

#[tokio::test]
async fn an_exit_notice_that_has_ended_takes_no_objection() {
    let app = TestApp::spawn().await;
    let case = exit_on_notice(&app, Utc::now() - Duration::minutes(1)).await;
    let (status, _) = page(&app, &format!("/notices/objection/exit/{case}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Straight to the service, too: the step is not allowed once the notice has ended.
    let phone = api::domain::Phone::parse("13912340003").unwrap();
    let refused = api::service::monitoring::notices::object_to_exit(
        &app.state.db,
        &api::domain::county_time::SystemClock,
        &app.state.exit_rules,
        case,
        &phone,
        "理由",
        &api::service::users::Origin::default(),
    )
    .await;
    assert!(
        matches!(
            refused,
            Err(api::service::exit::ExitError::NotAllowedNow { .. })
        ),
        "{refused:?}"
    );
}

#[tokio::test]
async fn the_county_board_lists_the_signed_checkpoints_and_links_to_their_check() {
    let app = support::app_with_admin().await;
    let empty = app.client.get("/notices").send().await;
    empty.assert_status_is_ok();
    let html = empty.0.into_body().into_string().await.unwrap();
    assert!(!html.contains("审计记录签名"), "no checkpoint, no list");

    // Something on record, then signed.
    support::household_in(&app, "500235101201", 1).await;
    let signed = checkpoints::create(&app.state.db, &app.state.audit_keys)
        .await
        .unwrap();
    let board = app.client.get("/notices").send().await;
    board.assert_status_is_ok();
    let html = board.0.into_body().into_string().await.unwrap();
    assert!(html.contains("审计记录签名"), "{html}");
    assert!(html.contains(&county_time::minute(signed.at)), "{html}");
    assert!(
        html.contains(&format!("截至第 {} 条记录", signed.seq)),
        "{html}"
    );
    assert!(html.contains("href=\"/audit\""));

    let village = app.client.get("/notices/500235101201").send().await;
    village.assert_status_is_ok();
    let html = village.0.into_body().into_string().await.unwrap();
    assert!(!html.contains("审计记录签名"));
}
