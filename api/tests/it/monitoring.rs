//! Return-to-poverty monitoring against a real database: every allowed and forbidden step of
//! identification and of risk elimination, by the right and the wrong officials, the notice
//! ending by the clock, objections returning a case, the risk re-checked at each forward step,
//! a household monitored again after elimination, keys, audit, and the 409 over HTTP.

use api::domain::county_time::SystemClock;
use api::{
    domain::{AreaCode, IdNumber},
    service::{
        exit::assessment::{self, Failing, NewCheck},
        households::{self, NewHousehold, NewMember, incomes},
        monitoring::{
            MonitoringError, RiskType,
            cases::{self, MonitoringAction, MonitoringRecord, NewMonitoring, StepBy},
        },
        policy::Actor,
        users::Origin,
    },
    testing::{FakeSmsGateway, TestApp},
};
use chrono::{Duration, Utc};
use entities::{
    audit_log,
    household::{self, HouseholdStatus, PovertyCause},
    household_check::CheckKind,
    household_income::IncomeSource,
    household_member::{Health, LabourCapacity, MemberRelation, Schooling},
    monitored_household::{DiscoveryChannel, MonitoringCategory, MonitoringStatus},
    monitoring_case::{self, MonitoringProcedure, MonitoringState},
    user::Role,
};
use poem::http::StatusCode;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, Iterable,
    PaginatorTrait, QueryFilter,
};
use serde_json::json;

use crate::support::{json_of, official as official_account, tokens};

const VILLAGE: &str = "500235101201";
const OTHER_VILLAGE: &str = "500235101202";
const YEAR: i32 = 2024;
/// The default monitoring line from 2021 on, fen per person.
const LINE_FEN: i64 = 600_000;

fn official(role: Role, area: &str, user_id: i64) -> Actor {
    Actor {
        user_id,
        role,
        area: Some(AreaCode::parse(area).unwrap()),
        household_id: None,
    }
}
fn cadre() -> Actor {
    official(Role::VillageCadre, VILLAGE, 11)
}
fn other_cadre() -> Actor {
    official(Role::VillageCadre, OTHER_VILLAGE, 14)
}
fn township() -> Actor {
    official(Role::TownshipOfficial, "500235101", 12)
}
fn county() -> Actor {
    official(Role::CountyOfficial, "500235", 13)
}
fn admin() -> Actor {
    Actor {
        user_id: 1,
        role: Role::Admin,
        area: None,
        household_id: None,
    }
}
fn farmer(household_id: i64) -> Actor {
    Actor {
        user_id: 20,
        role: Role::Farmer,
        area: None,
        household_id: Some(household_id),
    }
}

fn member(name: &str, body: &str, relation: MemberRelation) -> NewMember {
    NewMember {
        name: name.into(),
        id_number: IdNumber::from_body(body).unwrap(),
        relation,
        declared_sex: None,
        declared_birth_date: None,
        labour_capacity: LabourCapacity::Full,
        health: Health::Healthy,
        schooling: Schooling::Primary,
        medical_insurance: true,
    }
}

/// A two-person household in `VILLAGE` that has exited; `n` keeps households apart.
async fn household(app: &TestApp, n: u32) -> i64 {
    let id = households::register(
        &app.state.db,
        &app.state.pii,
        &county(),
        NewHousehold {
            household_number: format!("M-{n}"),
            village: AreaCode::parse(VILLAGE).unwrap(),
            phone: None,
            poverty_cause: PovertyCause::Illness,
            responsible_cadre_id: None,
            registered_year: 2014,
            members: vec![
                member(
                    "户主",
                    &format!("500235198001{n:02}011"),
                    MemberRelation::Head,
                ),
                member(
                    "配偶",
                    &format!("500235198202{n:02}022"),
                    MemberRelation::Spouse,
                ),
            ],
        },
        &Origin::default(),
    )
    .await
    .unwrap()
    .household
    .id;
    let found = household::Entity::find_by_id(id)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    let mut active = found.into_active_model();
    active.status = Set(HouseholdStatus::Exited);
    active.exit_year = Set(Some(2019));
    active.update(app.state.db.conn()).await.unwrap();
    id
}

async fn set_income(app: &TestApp, id: i64, total_fen: i64) {
    incomes::record_year(
        &app.state.db,
        &cadre(),
        id,
        YEAR,
        &[(IncomeSource::Wages, total_fen)],
        &Origin::default(),
    )
    .await
    .unwrap();
}

async fn check(app: &TestApp, id: i64, kind: CheckKind, passed: bool) {
    assessment::record_check(
        &app.state.db,
        &app.state.exit_rules,
        &cadre(),
        id,
        YEAR,
        NewCheck {
            check: kind,
            passed,
            note: Some("入户核实".into()),
            evidence_url: None,
        },
        &Origin::default(),
    )
    .await
    .unwrap();
}

fn new_monitoring(household_id: i64) -> NewMonitoring {
    NewMonitoring {
        household_id,
        category: MonitoringCategory::UnstableExited,
        risk_types: vec![RiskType::Illness],
        channel: DiscoveryChannel::CadreVisit,
        year: YEAR,
        note: Some("户主住院，花了三万多".into()),
    }
}

async fn open(
    app: &TestApp,
    actor: &Actor,
    new: NewMonitoring,
) -> Result<MonitoringRecord, MonitoringError> {
    cases::open(
        &app.state.db,
        &SystemClock,
        &app.state.exit_rules,
        actor,
        new,
        None,
        &Origin::default(),
    )
    .await
}

async fn step(
    app: &TestApp,
    actor: &Actor,
    case_id: i64,
    action: MonitoringAction,
    reason: Option<&str>,
) -> Result<MonitoringRecord, MonitoringError> {
    cases::transition(
        &app.state.db,
        &SystemClock,
        &app.state.exit_rules,
        StepBy::Official(actor),
        case_id,
        action,
        reason.map(String::from),
        &Origin::default(),
    )
    .await
}

/// Moves the notice's end into the past, as the days passing would.
async fn end_notice(app: &TestApp, case_id: i64) {
    let case = monitoring_case::Entity::find_by_id(case_id)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    let mut active = case.into_active_model();
    active.notice_ends_at = Set(Some(Utc::now() - Duration::seconds(1)));
    active.update(app.state.db.conn()).await.unwrap();
}

fn state_of(record: &MonitoringRecord, case_id: i64) -> MonitoringState {
    record
        .cases
        .iter()
        .find(|c| c.case.id == case_id)
        .unwrap()
        .case
        .state
}

/// Every action and every official that the table does not allow from the case's state (or
/// role) is refused and leaves the case where it was.
async fn only_allowed(app: &TestApp, case_id: i64, allowed: &[(MonitoringAction, &[Role])]) {
    let everyone = [cadre(), township(), county()];
    for action in MonitoringAction::ALL {
        for actor in &everyone {
            let may = allowed
                .iter()
                .any(|(a, roles)| *a == action && roles.contains(&actor.role));
            if may {
                continue;
            }
            let before = monitoring_case::Entity::find_by_id(case_id)
                .one(app.state.db.conn())
                .await
                .unwrap()
                .unwrap();
            let err = step(app, actor, case_id, action, Some("理由"))
                .await
                .expect_err(&format!(
                    "{action:?} by {:?} from {:?}",
                    actor.role, before.state
                ));
            let in_table = allowed.iter().any(|(a, _)| *a == action);
            if in_table {
                assert!(
                    matches!(err, MonitoringError::Forbidden),
                    "{action:?} by {:?}: {err:?}",
                    actor.role
                );
            } else {
                match err {
                    MonitoringError::NotAllowedNow { next, state, .. } => {
                        assert_eq!(state, before.state);
                        let mut expected: Vec<_> = allowed.iter().map(|(a, _)| *a).collect();
                        expected.dedup();
                        assert_eq!(next, expected, "{action:?} from {state:?}");
                    }
                    other => panic!("{action:?} from {:?}: {other:?}", before.state),
                }
            }
            let after = monitoring_case::Entity::find_by_id(case_id)
                .one(app.state.db.conn())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(after.state, before.state);
        }
    }
}

use MonitoringAction as A;
use Role::{CountyOfficial as C, TownshipOfficial as T, VillageCadre as V};
const OFFICIALS: &[Role] = &[V, T, C];

#[tokio::test]
async fn identification_allows_each_step_to_its_officials_and_refuses_every_other() {
    let app = TestApp::spawn().await;
    let id = household(&app, 1).await;
    let record = open(&app, &cadre(), new_monitoring(id)).await.unwrap();
    assert_eq!(record.monitored.status, MonitoringStatus::Identifying);
    let case = record.open_case().unwrap().case.clone();
    assert_eq!(case.procedure, MonitoringProcedure::Identification);
    assert_eq!(case.state, MonitoringState::Warning);
    let c = case.id;

    only_allowed(&app, c, &[(A::Check, &[V, T]), (A::Reject, OFFICIALS)]).await;
    step(&app, &cadre(), c, A::Check, None).await.unwrap();
    only_allowed(&app, c, &[(A::Authorize, &[V, T]), (A::Reject, OFFICIALS)]).await;
    step(&app, &township(), c, A::Authorize, None)
        .await
        .unwrap();
    only_allowed(&app, c, &[(A::Appraise, &[V]), (A::Reject, OFFICIALS)]).await;
    step(&app, &cadre(), c, A::Appraise, None).await.unwrap();
    only_allowed(
        &app,
        c,
        &[(A::StartNotice, &[V, T]), (A::Reject, OFFICIALS)],
    )
    .await;
    let noticed = step(&app, &cadre(), c, A::StartNotice, None).await.unwrap();
    let running = noticed.open_case().unwrap();
    assert!(running.notice_running);
    // Five days by default (村内公示不少于5天).
    assert!(running.case.notice_ends_at.unwrap() > Utc::now() + Duration::days(4));
    only_allowed(&app, c, &[(A::Object, OFFICIALS), (A::Reject, OFFICIALS)]).await;

    // An objection needs a reason and sends the case back to the home check.
    assert!(matches!(
        step(&app, &cadre(), c, A::Object, None).await.unwrap_err(),
        MonitoringError::Invalid(_)
    ));
    let objected = step(&app, &county(), c, A::Object, Some("邻居说他家新买了车"))
        .await
        .unwrap();
    assert_eq!(state_of(&objected, c), MonitoringState::Warning);

    for (actor, action) in [
        (cadre(), A::Check),
        (cadre(), A::Authorize),
        (cadre(), A::Appraise),
        (township(), A::StartNotice),
    ] {
        step(&app, &actor, c, action, None).await.unwrap();
    }
    end_notice(&app, c).await;
    only_allowed(&app, c, &[(A::Review, &[T]), (A::Reject, OFFICIALS)]).await;
    step(&app, &township(), c, A::Review, None).await.unwrap();
    only_allowed(&app, c, &[(A::Confirm, &[C]), (A::Reject, &[T, C])]).await;
    let confirmed = step(&app, &county(), c, A::Confirm, None).await.unwrap();
    assert_eq!(state_of(&confirmed, c), MonitoringState::Confirmed);
    assert_eq!(confirmed.monitored.status, MonitoringStatus::Monitored);
    assert!(confirmed.monitored.open);
    assert!(confirmed.open_case().is_none());
    only_allowed(&app, c, &[]).await;

    // Each step is on the case, and audited.
    let steps: Vec<&str> = confirmed.cases[0]
        .steps
        .iter()
        .map(|s| s.action.as_str())
        .collect();
    assert_eq!(
        steps,
        [
            "open",
            "check",
            "authorize",
            "appraise",
            "start_notice",
            "object",
            "check",
            "authorize",
            "appraise",
            "start_notice",
            "review",
            "confirm"
        ]
    );
    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("monitoring_case.step"))
        .filter(audit_log::Column::EntityId.eq(c.to_string()))
        .count(app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(audited, 12);
}

#[tokio::test]
async fn a_rejected_identification_closes_the_record_and_the_household_may_be_raised_again() {
    let app = TestApp::spawn().await;
    let id = household(&app, 2).await;
    let record = open(&app, &cadre(), new_monitoring(id)).await.unwrap();
    let c = record.cases[0].case.id;
    // A second record while the first is open is refused.
    assert!(matches!(
        open(&app, &cadre(), new_monitoring(id)).await.unwrap_err(),
        MonitoringError::Open(m) if m == record.monitored.id
    ));
    assert!(matches!(
        step(&app, &cadre(), c, A::Reject, None).await.unwrap_err(),
        MonitoringError::Invalid(_)
    ));
    step(&app, &cadre(), c, A::Check, None).await.unwrap();
    step(&app, &cadre(), c, A::Authorize, None).await.unwrap();
    step(&app, &cadre(), c, A::Appraise, None).await.unwrap();
    step(&app, &cadre(), c, A::StartNotice, None).await.unwrap();
    end_notice(&app, c).await;
    step(&app, &township(), c, A::Review, None).await.unwrap();
    // Once reviewed, only the township and the county reject.
    assert!(matches!(
        step(&app, &cadre(), c, A::Reject, Some("不符合"))
            .await
            .unwrap_err(),
        MonitoringError::Forbidden
    ));
    let rejected = step(
        &app,
        &county(),
        c,
        A::Reject,
        Some("收入核实后高于监测范围"),
    )
    .await
    .unwrap();
    assert_eq!(rejected.monitored.status, MonitoringStatus::NotIdentified);
    assert!(!rejected.monitored.open);
    let again = open(&app, &cadre(), new_monitoring(id)).await.unwrap();
    assert_ne!(again.monitored.id, record.monitored.id);
}

/// A household identified and monitored, whose records in `YEAR` clear the risk.
async fn monitored_and_recovered(app: &TestApp, n: u32) -> (i64, i64) {
    let id = household(app, n).await;
    let record = open(app, &cadre(), new_monitoring(id)).await.unwrap();
    let c = record.cases[0].case.id;
    for (actor, action) in [
        (cadre(), A::Check),
        (cadre(), A::Authorize),
        (cadre(), A::Appraise),
        (cadre(), A::StartNotice),
    ] {
        step(app, &actor, c, action, None).await.unwrap();
    }
    end_notice(app, c).await;
    step(app, &township(), c, A::Review, None).await.unwrap();
    step(app, &county(), c, A::Confirm, None).await.unwrap();
    set_income(app, id, 2 * LINE_FEN + 2).await;
    for kind in CheckKind::iter() {
        check(app, id, kind, true).await;
    }
    (id, record.monitored.id)
}

async fn propose(
    app: &TestApp,
    actor: &Actor,
    monitored: i64,
) -> Result<MonitoringRecord, MonitoringError> {
    cases::propose_elimination(
        &app.state.db,
        &SystemClock,
        &app.state.exit_rules,
        actor,
        monitored,
        YEAR,
        &Origin::default(),
    )
    .await
}

#[tokio::test]
async fn elimination_needs_income_above_the_monitoring_line_and_every_check() {
    let app = TestApp::spawn().await;
    let (id, monitored) = monitored_and_recovered(&app, 3).await;
    // Exactly at the line is not above it.
    set_income(&app, id, 2 * LINE_FEN).await;
    match propose(&app, &cadre(), monitored).await.unwrap_err() {
        MonitoringError::NotQualified(failing) => assert_eq!(
            failing,
            vec![Failing::IncomeAtOrBelowLine {
                per_capita_fen: LINE_FEN,
                line_fen: LINE_FEN
            }]
        ),
        other => panic!("{other:?}"),
    }
    set_income(&app, id, 2 * LINE_FEN + 2).await;
    check(&app, id, CheckKind::Water, false).await;
    match propose(&app, &cadre(), monitored).await.unwrap_err() {
        MonitoringError::NotQualified(failing) => {
            assert_eq!(failing, vec![Failing::CheckFailed { check: "water" }])
        }
        other => panic!("{other:?}"),
    }
    check(&app, id, CheckKind::Water, true).await;
    // Counties and admins do not propose; other villages do not see it.
    assert!(matches!(
        propose(&app, &county(), monitored).await.unwrap_err(),
        MonitoringError::Forbidden
    ));
    assert!(matches!(
        propose(&app, &admin(), monitored).await.unwrap_err(),
        MonitoringError::Refused(_)
    ));
    assert!(matches!(
        propose(&app, &other_cadre(), monitored).await.unwrap_err(),
        MonitoringError::NotFound
    ));
    let record = propose(&app, &cadre(), monitored).await.unwrap();
    let case = record.open_case().unwrap();
    assert_eq!(case.case.procedure, MonitoringProcedure::Elimination);
    assert_eq!(case.case.state, MonitoringState::Proposed);
    // One open elimination at a time.
    assert!(matches!(
        propose(&app, &cadre(), monitored).await.unwrap_err(),
        MonitoringError::Open(_)
    ));

    // A forward step re-checks: income fallen back stops it, and nothing moves.
    let c = case.case.id;
    set_income(&app, id, 2 * LINE_FEN - 2).await;
    assert!(matches!(
        step(&app, &cadre(), c, A::Check, None).await.unwrap_err(),
        MonitoringError::NotQualified(_)
    ));
    // Rejecting needs no recovery.
    let rejected = step(&app, &cadre(), c, A::Reject, Some("收入又下降了"))
        .await
        .unwrap();
    assert_eq!(state_of(&rejected, c), MonitoringState::Rejected);
    assert_eq!(rejected.monitored.status, MonitoringStatus::Monitored);
    assert!(rejected.monitored.open);
}

#[tokio::test]
async fn elimination_allows_each_step_to_its_officials_and_the_household_may_be_monitored_again() {
    let app = TestApp::spawn().await;
    let (id, monitored) = monitored_and_recovered(&app, 4).await;
    let record = propose(&app, &township(), monitored).await.unwrap();
    let c = record.open_case().unwrap().case.id;

    only_allowed(&app, c, &[(A::Check, &[V, T]), (A::Reject, OFFICIALS)]).await;
    step(&app, &township(), c, A::Check, None).await.unwrap();
    only_allowed(&app, c, &[(A::Appraise, &[V]), (A::Reject, OFFICIALS)]).await;
    step(&app, &cadre(), c, A::Appraise, None).await.unwrap();
    only_allowed(
        &app,
        c,
        &[(A::StartNotice, &[V, T]), (A::Reject, OFFICIALS)],
    )
    .await;
    step(&app, &cadre(), c, A::StartNotice, None).await.unwrap();
    only_allowed(&app, c, &[(A::Object, OFFICIALS), (A::Reject, OFFICIALS)]).await;
    let objected = step(&app, &township(), c, A::Object, Some("他家还欠着医药费"))
        .await
        .unwrap();
    assert_eq!(state_of(&objected, c), MonitoringState::Proposed);
    step(&app, &cadre(), c, A::Check, None).await.unwrap();
    step(&app, &cadre(), c, A::Appraise, None).await.unwrap();
    step(&app, &cadre(), c, A::StartNotice, None).await.unwrap();
    end_notice(&app, c).await;
    only_allowed(&app, c, &[(A::Review, &[T]), (A::Reject, OFFICIALS)]).await;
    step(&app, &township(), c, A::Review, None).await.unwrap();
    only_allowed(&app, c, &[(A::Eliminate, &[C]), (A::Reject, &[T, C])]).await;
    let eliminated = step(&app, &county(), c, A::Eliminate, None).await.unwrap();
    assert_eq!(state_of(&eliminated, c), MonitoringState::Eliminated);
    assert_eq!(eliminated.monitored.status, MonitoringStatus::Eliminated);
    assert!(!eliminated.monitored.open);
    only_allowed(&app, c, &[]).await;
    // The household is not touched in the registry.
    let household = household::Entity::find_by_id(id)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(household.status, HouseholdStatus::Exited);

    // A new hardship: monitored again, from a new warning.
    let mut again = new_monitoring(id);
    again.category = MonitoringCategory::SuddenHardship;
    again.risk_types = vec![RiskType::Disaster, RiskType::Accident];
    let again = open(&app, &cadre(), again).await.unwrap();
    assert_ne!(again.monitored.id, monitored);
    assert_eq!(again.cases[0].case.state, MonitoringState::Warning);
    assert_eq!(again.monitored.risk_types, "disaster,accident");
}

#[tokio::test]
async fn only_village_and_township_officials_of_the_area_start_monitoring() {
    let app = TestApp::spawn().await;
    let id = household(&app, 5).await;
    assert!(matches!(
        open(&app, &county(), new_monitoring(id)).await.unwrap_err(),
        MonitoringError::Forbidden
    ));
    assert!(matches!(
        open(&app, &admin(), new_monitoring(id)).await.unwrap_err(),
        MonitoringError::Refused(_)
    ));
    assert!(matches!(
        open(&app, &farmer(id), new_monitoring(id))
            .await
            .unwrap_err(),
        MonitoringError::Forbidden
    ));
    assert!(matches!(
        open(&app, &other_cadre(), new_monitoring(id))
            .await
            .unwrap_err(),
        MonitoringError::NotFound
    ));
    let mut none = new_monitoring(id);
    none.risk_types.clear();
    assert!(matches!(
        open(&app, &cadre(), none).await.unwrap_err(),
        MonitoringError::Invalid(r) if r.code == "monitoring.no_risk_type"
    ));
    let mut early = new_monitoring(id);
    early.year = 2020;
    assert!(matches!(
        open(&app, &cadre(), early).await.unwrap_err(),
        MonitoringError::Invalid(r) if r.code == "monitoring.no_line"
    ));
    // Only an exited household is an unstable exited one.
    let found = household::Entity::find_by_id(id)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    let mut active = found.into_active_model();
    active.status = Set(HouseholdStatus::Poor);
    active.update(app.state.db.conn()).await.unwrap();
    assert!(matches!(
        open(&app, &cadre(), new_monitoring(id)).await.unwrap_err(),
        MonitoringError::Invalid(r) if r.code == "monitoring.unstable_needs_exit"
    ));
    let mut edge = new_monitoring(id);
    edge.category = MonitoringCategory::Edge;
    open(&app, &township(), edge).await.unwrap();
    let opened = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("monitoring.opened"))
        .count(app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(opened, 1);
}

#[tokio::test]
async fn a_key_sent_again_answers_the_first_record() {
    let app = TestApp::spawn().await;
    let id = household(&app, 6).await;
    let first = cases::open(
        &app.state.db,
        &SystemClock,
        &app.state.exit_rules,
        &cadre(),
        new_monitoring(id),
        Some("k-1"),
        &Origin::default(),
    )
    .await
    .unwrap();
    let second = cases::open(
        &app.state.db,
        &SystemClock,
        &app.state.exit_rules,
        &cadre(),
        new_monitoring(id),
        Some("k-1"),
        &Origin::default(),
    )
    .await
    .unwrap();
    assert_eq!(first.monitored.id, second.monitored.id);
    let mut other = new_monitoring(id);
    other.note = Some("另一件事".into());
    assert!(matches!(
        cases::open(
            &app.state.db,
            &SystemClock,
            &app.state.exit_rules,
            &cadre(),
            other,
            Some("k-1"),
            &Origin::default(),
        )
        .await
        .unwrap_err(),
        MonitoringError::KeyReused
    ));
}

#[tokio::test]
async fn a_step_out_of_turn_answers_409_with_the_allowed_steps() {
    let app = crate::support::app_with_admin().await;
    let id = household(&app, 7).await;
    official_account(&app, "13900000011", Role::VillageCadre, VILLAGE).await;
    let (token, _) = tokens(&app, "13900000011").await;
    let resp = app
        .client
        .post("/api/v1/monitoring")
        .header("Authorization", format!("Bearer {token}"))
        .header("Idempotency-Key", "open-7")
        .body_json(&json!({
            "household_id": id,
            "category": "unstable_exited",
            "risk_types": ["illness", "schooling"],
            "channel": "cadre_visit",
            "year": YEAR,
            "note": "孩子上大学，学费重",
        }))
        .send()
        .await;
    resp.assert_status(StatusCode::CREATED);
    let body = json_of(resp).await;
    assert_eq!(body["status"], "identifying");
    assert_eq!(body["risk_types"], json!(["illness", "schooling"]));
    let case_id = body["cases"][0]["id"].as_i64().unwrap();
    assert_eq!(body["cases"][0]["next_actions"], json!(["check", "reject"]));

    let resp = app
        .client
        .post(format!("/api/v1/monitoring-cases/{case_id}/steps"))
        .header("Authorization", format!("Bearer {token}"))
        .body_json(&json!({ "action": "confirm" }))
        .send()
        .await;
    resp.assert_status(StatusCode::CONFLICT);
    let body = json_of(resp).await;
    assert_eq!(body["code"], "monitoring.step_not_allowed");
    assert_eq!(body["details"]["allowed"], json!(["check", "reject"]));
    assert_eq!(body["details"]["state"], "warning");

    let resp = app
        .client
        .post(format!("/api/v1/monitoring-cases/{case_id}/steps"))
        .header("Authorization", format!("Bearer {token}"))
        .body_json(&json!({ "action": "check" }))
        .send()
        .await;
    resp.assert_status_is_ok();
    let body = json_of(resp).await;
    assert_eq!(body["cases"][0]["state"], "checked");
    let monitored = body["id"].as_i64().unwrap();
    let resp = app
        .client
        .get(format!("/api/v1/monitoring/{monitored}"))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await;
    resp.assert_status_is_ok();
    assert_eq!(
        json_of(resp).await["cases"][0]["steps"][1]["action"],
        "check"
    );
}

/// A household whose identification notice runs now.
async fn on_notice(app: &TestApp, n: u32) -> i64 {
    let id = household(app, n).await;
    let record = open(app, &cadre(), new_monitoring(id)).await.unwrap();
    let c = record.cases[0].case.id;
    for action in [A::Check, A::Authorize, A::Appraise, A::StartNotice] {
        step(app, &cadre(), c, action, None).await.unwrap();
    }
    c
}

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

#[tokio::test]
async fn the_notice_board_shows_masked_notices_and_an_objection_returns_the_case() {
    let gateway = FakeSmsGateway::start().await;
    let app = TestApp::spawn_with(|s| gateway.configure(s)).await;
    let c = on_notice(&app, 8).await;

    // Anyone reads the village's board and the county's, without signing in; the head's name
    // is masked.
    for path in [format!("/notices/{VILLAGE}"), "/notices".to_owned()] {
        let (status, html) = page(&app, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(html.contains("纳入防返贫监测"), "{path}");
        assert!(html.contains("纳入防返贫监测 · 户*"), "{path}");
        assert!(!html.contains("· 户主"), "{path}");
        assert!(html.contains(&format!("/notices/objection/{c}")), "{path}");
        assert!(html.len() < 30_000);
    }
    let (_, other) = page(&app, &format!("/notices/{OTHER_VILLAGE}")).await;
    assert!(!other.contains("纳入防返贫监测"));

    // Without the texted code the objection is refused, and the form keeps what was typed.
    let path = format!("/notices/objection/{c}");
    let (status, html) = page(&app, &path).await;
    assert_eq!(status, StatusCode::OK);
    let phone = "13912340001";
    let reason = "他家儿子在城里开店，收入不低";
    let (status, html_refused) = post_form(
        &app,
        &path,
        &[("phone", phone), ("reason", reason), ("step", "object")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html_refused.contains(reason) && html_refused.contains(phone));
    assert!(html.contains("获取短信验证码"));

    let (status, sent) = post_form(
        &app,
        &path,
        &[("phone", phone), ("reason", reason), ("step", "send")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(sent.contains("验证码已发到") && sent.contains(reason));
    let code = gateway.last_code_for(phone).unwrap();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, _) = post_form(
        &app,
        &path,
        &[
            ("phone", phone),
            ("reason", reason),
            ("code", wrong),
            ("step", "object"),
        ],
    )
    .await;
    // A wrong code is the sign-in's refusal, said on the form that keeps what was typed.
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let case = monitoring_case::Entity::find_by_id(c)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(case.state, MonitoringState::PublicNotice);

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
    assert!(taken.contains("异议已收到"));
    let case = monitoring_case::Entity::find_by_id(c)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(case.state, MonitoringState::Warning);
    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("monitoring_case.step"))
        .filter(audit_log::Column::EntityId.eq(c.to_string()))
        .all(app.state.db.conn())
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.after.as_deref().is_some_and(|a| a.contains("\"object\"")))
        .expect("the objection is audited");
    let after: serde_json::Value = serde_json::from_str(audited.after.as_deref().unwrap()).unwrap();
    assert_eq!(after["objector_phone"], "139****0001");
    assert_eq!(after["reason"], reason);
    assert!(audited.actor_user_id.is_none());

    // The notice no longer runs: the form is gone, and the board offers no objection.
    let (status, _) = page(&app, &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, html) = page(&app, &format!("/notices/{VILLAGE}")).await;
    assert!(!html.contains(&format!("/notices/objection/{c}")));
}
