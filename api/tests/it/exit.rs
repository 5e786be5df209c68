//! De-listing against a real database: the criteria at and around each threshold, every step
//! of the procedure by the right and the wrong officials, the notice ending by the clock across
//! a restart, objections, returns to poverty, and progress equal to an independent count.

use api::domain::county_time::SystemClock;
use api::{
    app::AppState,
    domain::{AreaCode, IdNumber},
    service::{
        changes,
        exit::{
            ExitError,
            assessment::{self, Failing, NewCheck, NewIndicators},
            cases::{self, ExitAction, ExitSubjectRef},
            progress,
        },
        households::{self, NewHousehold, NewMember, incomes},
        policy::Actor,
        users::Origin,
    },
    testing::TestApp,
};
use chrono::{Duration, Utc};
use entities::{
    area,
    exit_case::{self, ExitState},
    household::{self, HouseholdStatus, PovertyCause},
    household_check::CheckKind,
    household_income::IncomeSource,
    household_member::{self, Health, LabourCapacity, MemberRelation, Schooling},
    user::Role,
};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel, Iterable};

const VILLAGE: &str = "500235101201";
pub(crate) const YEAR: i32 = 2016;
/// The 2016 line, fen per person.
const LINE_FEN: i64 = 295_200;

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
fn township() -> Actor {
    official(Role::TownshipOfficial, "500235101", 12)
}
fn county() -> Actor {
    official(Role::CountyOfficial, "500235", 13)
}

fn member(name: &str, body: &str, relation: MemberRelation, insured: bool) -> NewMember {
    NewMember {
        name: name.into(),
        id_number: IdNumber::from_body(body).unwrap(),
        relation,
        declared_sex: None,
        declared_birth_date: None,
        labour_capacity: LabourCapacity::Full,
        health: Health::Healthy,
        schooling: Schooling::Primary,
        medical_insurance: insured,
    }
}

/// A two-person household in `VILLAGE`; `n` keeps numbers and people apart.
async fn household(app: &TestApp, n: u32) -> i64 {
    households::register(
        &app.state.db,
        &app.state.pii,
        &county(),
        NewHousehold {
            household_number: format!("X-{n}"),
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
                    true,
                ),
                member(
                    "配偶",
                    &format!("500235198202{n:02}022"),
                    MemberRelation::Spouse,
                    true,
                ),
            ],
        },
        &Origin::default(),
    )
    .await
    .unwrap()
    .household
    .id
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

/// A household that qualifies: income just above the line, every check passed.
pub(crate) async fn qualifying_household(app: &TestApp, n: u32) -> i64 {
    let id = household(app, n).await;
    set_income(app, id, 2 * LINE_FEN + 2).await;
    for kind in CheckKind::iter() {
        check(app, id, kind, true).await;
    }
    id
}

async fn assess(app: &TestApp, id: i64) -> Vec<Failing> {
    assessment::household_assessment(&app.state.db, &app.state.exit_rules, &cadre(), id, YEAR)
        .await
        .unwrap()
        .failing
}

#[tokio::test]
async fn a_household_qualifies_only_above_the_line_with_every_check_passed() {
    let app = TestApp::spawn().await;
    let id = household(&app, 1).await;
    let failing = assess(&app, id).await;
    assert!(failing.contains(&Failing::IncomeAtOrBelowLine {
        per_capita_fen: 0,
        line_fen: LINE_FEN
    }));
    assert!(failing.contains(&Failing::CheckMissing { check: "water" }));

    // Exactly at the line is not above it; one fen per person more is.
    set_income(&app, id, 2 * LINE_FEN).await;
    for kind in CheckKind::iter() {
        check(&app, id, kind, true).await;
    }
    assert_eq!(
        assess(&app, id).await,
        vec![Failing::IncomeAtOrBelowLine {
            per_capita_fen: LINE_FEN,
            line_fen: LINE_FEN
        }]
    );
    set_income(&app, id, 2 * LINE_FEN + 1).await;
    assert_eq!(
        assess(&app, id).await.len(),
        1,
        "half a fen each is not above"
    );
    set_income(&app, id, 2 * LINE_FEN + 2).await;
    assert_eq!(assess(&app, id).await, vec![]);

    // A failed check, and a member without medical insurance, each fail on their own.
    check(&app, id, CheckKind::Housing, false).await;
    assert_eq!(
        assess(&app, id).await,
        vec![Failing::CheckFailed { check: "housing" }]
    );
    check(&app, id, CheckKind::Housing, true).await;
    let spouse = household_member::Entity::find()
        .all(app.state.db.conn())
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.household_id == id && m.relation == MemberRelation::Spouse)
        .unwrap();
    let mut active = spouse.into_active_model();
    active.medical_insurance = Set(false);
    active.update(app.state.db.conn()).await.unwrap();
    assert_eq!(
        assess(&app, id).await,
        vec![Failing::MembersUninsured { count: 1 }]
    );

    // E-commerce income from orders counts toward the line.
    let other = household(&app, 2).await;
    set_income(&app, other, 2 * LINE_FEN).await;
    let txn = app.state.db.begin_write().await.unwrap();
    incomes::add_ecommerce(&txn, other, YEAR, 2).await.unwrap();
    txn.commit().await.unwrap();
    assert!(
        !assess(&app, other)
            .await
            .iter()
            .any(|f| matches!(f, Failing::IncomeAtOrBelowLine { .. }))
    );
}

/// Makes `VILLAGE` a registered poor village of `people` rural residents.
async fn set_rural_population(app: &TestApp, people: i64) -> area::Model {
    let village = area::Entity::find_by_id(VILLAGE.to_owned())
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    let mut active = village.into_active_model();
    active.rural_population = Set(people);
    active.is_poor_village = Set(true);
    active.update(app.state.db.conn()).await.unwrap()
}

fn indicators(collective_income_fen: i64) -> NewIndicators {
    NewIndicators {
        hardened_road: true,
        safe_water: true,
        power: true,
        broadband: true,
        clinic: true,
        cultural_room: true,
        collective_income_fen,
    }
}

async fn village_failing(app: &TestApp) -> Vec<Failing> {
    assessment::village_assessment(
        &app.state.db,
        &app.state.exit_rules,
        &township(),
        &AreaCode::parse(VILLAGE).unwrap(),
        YEAR,
    )
    .await
    .unwrap()
    .failing
}

#[tokio::test]
async fn a_village_qualifies_only_below_the_threshold_with_its_indicators_met() {
    let app = TestApp::spawn().await;
    // Two households of two: four poor people in a village of 100 is 4%.
    let first = qualifying_household(&app, 1).await;
    household(&app, 2).await;
    set_rural_population(&app, 100).await;
    let failing = village_failing(&app).await;
    assert!(failing.contains(&Failing::IncidenceTooHigh {
        incidence_bp: 400,
        threshold_bp: 300
    }));
    assert!(failing.contains(&Failing::IndicatorsMissing));

    let record = |income| {
        let app = &app;
        async move {
            assessment::record_indicators(
                &app.state.db,
                &app.state.exit_rules,
                &township(),
                &AreaCode::parse(VILLAGE).unwrap(),
                YEAR,
                indicators(income),
                &Origin::default(),
            )
            .await
            .unwrap()
        }
    };
    // The collective income is met at the minimum (50,000 yuan), not a fen below.
    record(5_000_000 - 1).await;
    assert!(
        village_failing(&app)
            .await
            .contains(&Failing::IndicatorUnmet {
                indicator: "collective_income"
            })
    );
    record(5_000_000).await;

    // 4 poor of 133 is 3.008%, shown rounded up as 301 bp: still too high.
    set_rural_population(&app, 133).await;
    assert_eq!(
        village_failing(&app).await,
        vec![Failing::IncidenceTooHigh {
            incidence_bp: 301,
            threshold_bp: 300
        }]
    );
    // Exactly 3% is not below 3%.
    set_rural_population(&app, 400).await;
    household(&app, 3).await;
    household(&app, 4).await;
    household(&app, 5).await;
    household(&app, 6).await;
    assert_eq!(
        village_failing(&app).await,
        vec![Failing::IncidenceTooHigh {
            incidence_bp: 300,
            threshold_bp: 300
        }]
    );
    set_rural_population(&app, 401).await;
    assert_eq!(village_failing(&app).await, vec![]);

    // Households that exit no longer count as poor.
    run_to_the_end(&app, first).await;
    set_rural_population(&app, 334).await;
    assert_eq!(village_failing(&app).await, vec![], "10 of 334 is 2.99%");
}

/// Takes a household's case through every step with the right officials.
async fn run_to_the_end(app: &TestApp, id: i64) -> i64 {
    let db = &app.state.db;
    let rules = &app.state.exit_rules;
    let origin = Origin::default();
    let case = cases::propose(
        db,
        &SystemClock,
        rules,
        &cadre(),
        ExitSubjectRef::Household(id),
        YEAR,
        &origin,
    )
    .await
    .unwrap();
    walk_to_announced(app, case.case.id).await;
    case.case.id
}

/// Every step from proposed to announced, each by its officials, the notice outwaited.
async fn walk_to_announced(app: &TestApp, case_id: i64) {
    let (db, rules, origin) = (&app.state.db, &app.state.exit_rules, Origin::default());
    for (actor, action) in [
        (cadre(), ExitAction::Appraise),
        (cadre(), ExitAction::Verify),
        (cadre(), ExitAction::StartNotice),
    ] {
        cases::transition(
            db,
            &SystemClock,
            rules,
            &actor,
            case_id,
            action,
            None,
            &origin,
        )
        .await
        .unwrap();
    }
    end_notice(app, case_id).await;
    for (actor, action) in [
        (township(), ExitAction::Review),
        (county(), ExitAction::Approve),
        (county(), ExitAction::Announce),
    ] {
        cases::transition(
            db,
            &SystemClock,
            rules,
            &actor,
            case_id,
            action,
            None,
            &origin,
        )
        .await
        .unwrap();
    }
}

/// Moves the notice's end into the past, as the days passing would.
async fn end_notice(app: &TestApp, case_id: i64) {
    let case = exit_case::Entity::find_by_id(case_id)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    let mut active = case.into_active_model();
    active.notice_ends_at = Set(Some(Utc::now() - Duration::seconds(1)));
    active.update(app.state.db.conn()).await.unwrap();
}

async fn status_of(app: &TestApp, id: i64) -> HouseholdStatus {
    household::Entity::find_by_id(id)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap()
        .status
}

/// Finding: the admin got 404 reading an exit case and 403 proposing. Admins read every case
/// and take no step of the procedure, and are told so.
#[tokio::test]
async fn an_admin_reads_every_exit_case_and_takes_no_step() {
    let app = crate::support::with_admin(TestApp::spawn().await).await;
    let (db, rules, origin) = (&app.state.db, &app.state.exit_rules, Origin::default());
    let id = qualifying_household(&app, 1).await;
    let case = cases::propose(
        db,
        &SystemClock,
        rules,
        &cadre(),
        ExitSubjectRef::Household(id),
        YEAR,
        &origin,
    )
    .await
    .unwrap();
    let case_id = case.case.id;
    let (admin, _) = crate::support::tokens(&app, crate::support::ADMIN_PHONE).await;
    let bearer = format!("Bearer {admin}");

    let resp = app
        .client
        .get(format!("/api/v1/exit-cases/{case_id}"))
        .header("authorization", &bearer)
        .send()
        .await;
    resp.assert_status_is_ok();
    let read = crate::support::json_of(resp).await;
    assert_eq!(read["id"], case_id, "{read}");

    let other = qualifying_household(&app, 2).await;
    for (path, body) in [
        (
            format!("/api/v1/exit-cases/{case_id}/steps"),
            serde_json::json!({ "action": "appraise" }),
        ),
        (
            "/api/v1/exit-cases".to_owned(),
            serde_json::json!({ "subject": "household", "household_id": other, "year": YEAR }),
        ),
    ] {
        let resp = app
            .client
            .post(&path)
            .header("authorization", &bearer)
            .body_json(&body)
            .send()
            .await;
        let status = resp.0.status().as_u16();
        let refused = crate::support::json_of(resp).await;
        assert_eq!(
            (status, refused["details"]["reason_code"].as_str()),
            (403, Some("exit.admin_takes_no_step")),
            "{path}: {refused}"
        );
    }
    let still = exit_case::Entity::find_by_id(case_id)
        .one(db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.state, ExitState::Proposed);
    assert_eq!(status_of(&app, other).await, HouseholdStatus::Poor);
}

#[tokio::test]
async fn a_proposal_sent_again_with_its_key_opens_one_case() {
    let app = TestApp::spawn().await;
    let id = qualifying_household(&app, 1).await;
    let other = qualifying_household(&app, 2).await;
    crate::support::official(&app, "13900000031", Role::VillageCadre, VILLAGE).await;
    let (token, _) = crate::support::tokens(&app, "13900000031").await;
    let propose = |key: &'static str, household: i64| {
        let (app, token) = (&app, &token);
        async move {
            let resp = app
                .client
                .post("/api/v1/exit-cases")
                .header("authorization", format!("Bearer {token}"))
                .header("idempotency-key", key)
                .body_json(&serde_json::json!({
                    "subject": "household", "household_id": household, "year": YEAR
                }))
                .send()
                .await;
            let status = resp.0.status().as_u16();
            (status, crate::support::json_of(resp).await)
        }
    };
    let first = propose("propose-1", id).await;
    let again = propose("propose-1", id).await;
    assert_eq!(first.0, 201, "{first:?}");
    assert_eq!(
        again, first,
        "the replay answers the case the first one opened"
    );
    let (status, refused) = propose("propose-1", other).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (422, Some("request.idempotency_key_reused"))
    );
    let open = exit_case::Entity::find()
        .all(app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(open.len(), 1, "one case");
    assert_eq!(status_of(&app, other).await, HouseholdStatus::Poor);
}

#[tokio::test]
async fn every_step_needs_its_state_its_official_and_a_qualifying_subject() {
    let app = TestApp::spawn().await;
    let db = &app.state.db;
    let rules = &app.state.exit_rules;
    let origin = Origin::default();
    let id = qualifying_household(&app, 1).await;

    // Not the county proposing a household, not a cadre of another village.
    let stranger = official(Role::VillageCadre, "500235102201", 20);
    let err = cases::propose(
        db,
        &SystemClock,
        rules,
        &stranger,
        ExitSubjectRef::Household(id),
        YEAR,
        &origin,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ExitError::NotFound), "{err:?}");
    let case = cases::propose(
        db,
        &SystemClock,
        rules,
        &cadre(),
        ExitSubjectRef::Household(id),
        YEAR,
        &origin,
    )
    .await
    .unwrap();
    assert_eq!(status_of(&app, id).await, HouseholdStatus::ExitPending);
    let case_id = case.case.id;
    assert_eq!(
        case.next_actions,
        vec![ExitAction::Appraise, ExitAction::Reject]
    );
    let err = cases::propose(
        db,
        &SystemClock,
        rules,
        &cadre(),
        ExitSubjectRef::Household(id),
        YEAR,
        &origin,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ExitError::CaseOpen(open) if open == case_id));

    let origin = &origin;
    let step = |actor: Actor, action: ExitAction, reason: Option<&str>| {
        let reason = reason.map(str::to_owned);
        async move {
            cases::transition(
                db,
                &SystemClock,
                rules,
                &actor,
                case_id,
                action,
                reason,
                origin,
            )
            .await
        }
    };
    // Out of order: a clear refusal naming what may come next.
    match step(county(), ExitAction::Approve, None).await.unwrap_err() {
        ExitError::NotAllowedNow { state, next, .. } => {
            assert_eq!(state, ExitState::Proposed);
            assert_eq!(next, vec![ExitAction::Appraise, ExitAction::Reject]);
        }
        other => panic!("{other:?}"),
    }
    // The right step by the wrong official.
    assert!(matches!(
        step(county(), ExitAction::Appraise, None)
            .await
            .unwrap_err(),
        ExitError::Forbidden
    ));
    step(cadre(), ExitAction::Appraise, None).await.unwrap();
    step(township(), ExitAction::Verify, None).await.unwrap();
    let noticed = step(cadre(), ExitAction::StartNotice, None).await.unwrap();
    assert!(noticed.notice_running);
    let ends = noticed.case.notice_ends_at.unwrap();
    assert!(ends > Utc::now() + Duration::days(6));

    // During the notice the township cannot review; an objection needs a reason and sends
    // the case back to verification.
    assert!(matches!(
        step(township(), ExitAction::Review, None)
            .await
            .unwrap_err(),
        ExitError::NotAllowedNow { .. }
    ));
    assert!(matches!(
        step(cadre(), ExitAction::Object, None).await.unwrap_err(),
        ExitError::Invalid(_)
    ));
    let objected = step(cadre(), ExitAction::Object, Some("村民反映收入核算有误"))
        .await
        .unwrap();
    assert_eq!(objected.case.state, ExitState::Verified);

    // The subject must still qualify: a failed check stops the next step.
    check(&app, id, CheckKind::Water, false).await;
    assert!(matches!(
        step(cadre(), ExitAction::StartNotice, None).await.unwrap_err(),
        ExitError::NotQualified(failing) if failing == vec![Failing::CheckFailed { check: "water" }]
    ));
    check(&app, id, CheckKind::Water, true).await;
    step(cadre(), ExitAction::StartNotice, None).await.unwrap();

    // The notice ends by the clock, and a restarted server sees it ended: nothing in memory.
    end_notice(&app, case_id).await;
    let files = tempfile::tempdir().unwrap();
    let mut settings = app.state.settings.as_ref().clone();
    // Its own scan journal: the first app still holds its own.
    settings.scan_journal_dir = Some(files.path().to_owned());
    let restarted = AppState::new(settings, app.state.db.clone(), app.state.cache.clone()).unwrap();
    let after = cases::get(&restarted.db, &SystemClock, &township(), case_id)
        .await
        .unwrap();
    assert!(!after.notice_running);
    assert_eq!(
        after.next_actions,
        vec![ExitAction::Review, ExitAction::Reject]
    );
    assert!(matches!(
        step(cadre(), ExitAction::Object, Some("太晚了"))
            .await
            .unwrap_err(),
        ExitError::NotAllowedNow { .. }
    ));
    assert!(matches!(
        step(cadre(), ExitAction::Review, None).await.unwrap_err(),
        ExitError::Forbidden
    ));
    step(township(), ExitAction::Review, None).await.unwrap();
    assert!(matches!(
        step(township(), ExitAction::Approve, None)
            .await
            .unwrap_err(),
        ExitError::Forbidden
    ));
    // A cadre can no longer reject once the township has reviewed.
    assert!(matches!(
        step(cadre(), ExitAction::Reject, Some("x"))
            .await
            .unwrap_err(),
        ExitError::Forbidden
    ));
    step(county(), ExitAction::Approve, None).await.unwrap();
    let done = step(county(), ExitAction::Announce, None).await.unwrap();
    assert_eq!(done.case.state, ExitState::Announced);
    assert!(!done.case.open);
    assert!(done.next_actions.is_empty());
    assert_eq!(status_of(&app, id).await, HouseholdStatus::Exited);
    let actions: Vec<&str> = done.steps.iter().map(|s| s.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "propose",
            "appraise",
            "verify",
            "start_notice",
            "object",
            "start_notice",
            "review",
            "approve",
            "announce"
        ]
    );
    assert!(matches!(
        step(county(), ExitAction::Reject, Some("x"))
            .await
            .unwrap_err(),
        ExitError::NotAllowedNow { .. }
    ));
}

/// Two officials take a step on the same case at the same moment: they take it one after the
/// other, the second on the case as the first left it. The same step twice is taken once (the
/// second is told the case has moved on); every step taken is recorded once; and the case and
/// its household agree at the end.
#[tokio::test]
async fn two_officials_stepping_one_case_at_once_step_it_one_after_the_other() {
    let app = TestApp::spawn().await;
    let (db, rules, origin) = (&app.state.db, &app.state.exit_rules, Origin::default());
    let races = [
        (ExitAction::Verify, ExitAction::Verify),
        (ExitAction::StartNotice, ExitAction::StartNotice),
        (ExitAction::StartNotice, ExitAction::Reject),
        (ExitAction::Reject, ExitAction::Reject),
    ];
    for (n, (first, second)) in races.into_iter().enumerate() {
        let id = qualifying_household(&app, 10 + n as u32).await;
        let case = cases::propose(
            db,
            &SystemClock,
            rules,
            &cadre(),
            ExitSubjectRef::Household(id),
            YEAR,
            &origin,
        )
        .await
        .unwrap();
        let case_id = case.case.id;
        let mut before = vec![ExitAction::Appraise];
        if first != ExitAction::Verify {
            before.push(ExitAction::Verify);
        }
        for action in before.iter().copied() {
            cases::transition(
                db,
                &SystemClock,
                rules,
                &cadre(),
                case_id,
                action,
                None,
                &origin,
            )
            .await
            .unwrap();
        }
        let take = |action: ExitAction, actor: Actor| {
            let origin = &origin;
            let reason = (action == ExitAction::Reject).then(|| "材料不全".to_owned());
            async move {
                cases::transition(
                    db,
                    &SystemClock,
                    rules,
                    &actor,
                    case_id,
                    action,
                    reason,
                    origin,
                )
                .await
            }
        };
        let (a, b) = tokio::join!(take(first, cadre()), take(second, township()));
        let taken = [&a, &b].iter().filter(|r| r.is_ok()).count();
        if first == second {
            assert_eq!(taken, 1, "{first:?} twice at once: {a:?} / {b:?}");
            let refused = if a.is_ok() { &b } else { &a };
            assert!(
                matches!(refused, Err(ExitError::NotAllowedNow { .. })),
                "{refused:?}"
            );
        }
        let record = cases::get(db, &SystemClock, &county(), case_id)
            .await
            .unwrap();
        assert_eq!(
            record.steps.len(),
            1 + before.len() + taken,
            "{first:?} / {second:?}: {record:?}"
        );
        let household = status_of(&app, id).await;
        match record.case.state {
            ExitState::PublicNotice | ExitState::Verified => {
                assert!(record.case.open);
                assert_eq!(household, HouseholdStatus::ExitPending);
            }
            ExitState::Rejected => {
                assert!(!record.case.open);
                assert_eq!(household, HouseholdStatus::Poor);
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn a_rejected_case_returns_the_household_and_a_returned_household_counts_as_poor() {
    let app = TestApp::spawn().await;
    let db = &app.state.db;
    let rules = &app.state.exit_rules;
    let origin = Origin::default();
    let id = qualifying_household(&app, 1).await;

    let case = cases::propose(
        db,
        &SystemClock,
        rules,
        &cadre(),
        ExitSubjectRef::Household(id),
        YEAR,
        &origin,
    )
    .await
    .unwrap();
    let err = cases::transition(
        db,
        &SystemClock,
        rules,
        &cadre(),
        case.case.id,
        ExitAction::Reject,
        None,
        &origin,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ExitError::Invalid(_)));
    cases::transition(
        db,
        &SystemClock,
        rules,
        &cadre(),
        case.case.id,
        ExitAction::Reject,
        Some("评议未通过".into()),
        &origin,
    )
    .await
    .unwrap();
    assert_eq!(status_of(&app, id).await, HouseholdStatus::Poor);

    // Poor households cannot be "returned"; exited ones can, and then count as poor.
    assert!(matches!(
        cases::mark_returned(db, &SystemClock, &cadre(), id, "因病", &origin)
            .await
            .unwrap_err(),
        ExitError::Invalid(_)
    ));
    run_to_the_end(&app, id).await;
    let before = county_progress(&app).await;
    assert_eq!(before.people.lifted_out, 2);
    let returned = cases::mark_returned(db, &SystemClock, &cadre(), id, "因病返贫", &origin)
        .await
        .unwrap();
    assert_eq!(returned.status, HouseholdStatus::Returned);
    let after = county_progress(&app).await;
    assert_eq!(after.people.lifted_out, 0);
    assert_eq!(after.people.still_poor, before.people.still_poor + 2);

    // A returned household may go through the procedure again; a rejection leaves it returned.
    let again = cases::propose(
        db,
        &SystemClock,
        rules,
        &cadre(),
        ExitSubjectRef::Household(id),
        YEAR,
        &origin,
    )
    .await
    .unwrap();
    cases::transition(
        db,
        &SystemClock,
        rules,
        &cadre(),
        again.case.id,
        ExitAction::Reject,
        Some("未稳定".into()),
        &origin,
    )
    .await
    .unwrap();
    assert_eq!(status_of(&app, id).await, HouseholdStatus::Returned);
}

async fn county_progress(app: &TestApp) -> progress::Progress {
    progress::progress(
        &app.state.db,
        &app.state.cache,
        &app.state.exit_rules,
        &county(),
        None,
    )
    .await
    .unwrap()
}

async fn county_progress_rendered(
    app: &TestApp,
    renders: &std::sync::atomic::AtomicU32,
) -> Vec<u8> {
    let stamp = changes::stamp(app.state.cache.as_ref()).await;
    progress::progress_rendered(
        &app.state.db,
        &app.state.cache,
        &app.state.progress,
        stamp.as_ref(),
        &app.state.exit_rules,
        &county(),
        None,
        |p| {
            renders.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            serde_json::to_vec(&p).unwrap()
        },
    )
    .await
    .unwrap()
    .to_vec()
}

#[tokio::test]
async fn the_rendered_progress_is_handed_back_as_stored_until_the_records_change() {
    let app = TestApp::spawn().await;
    set_rural_population(&app, 10_000).await;
    let exiting = qualifying_household(&app, 1).await;
    let renders = std::sync::atomic::AtomicU32::new(0);
    let cold = county_progress_rendered(&app, &renders).await;
    assert_eq!(
        cold,
        serde_json::to_vec(&county_progress(&app).await).unwrap()
    );
    let warm = county_progress_rendered(&app, &renders).await;
    assert_eq!(warm, cold);
    assert_eq!(
        renders.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "rendered once"
    );

    run_to_the_end(&app, exiting).await;
    // As the HTTP layer does after every write.
    changes::changed(app.state.cache.as_ref()).await;
    let after = county_progress_rendered(&app, &renders).await;
    assert_eq!(renders.load(std::sync::atomic::Ordering::SeqCst), 2);
    let read = |bytes: &[u8]| serde_json::from_slice::<progress::Progress>(bytes).unwrap();
    assert_eq!(
        read(&after).people.lifted_out,
        read(&cold).people.lifted_out + 2
    );
    // Another area is rendered on its own.
    let township = progress::progress_rendered(
        &app.state.db,
        &app.state.cache,
        &app.state.progress,
        None,
        &app.state.exit_rules,
        &township(),
        None,
        |p| serde_json::to_vec(&p).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(read(&township).area_code, "500235101000");
}

#[tokio::test]
async fn progress_equals_a_count_from_the_rows_and_moves_with_each_exit() {
    let app = TestApp::spawn().await;
    set_rural_population(&app, 10_000).await;
    let exiting = qualifying_household(&app, 1).await;
    for n in 2..=4 {
        household(&app, n).await;
    }
    let before = county_progress(&app).await;

    // An independent count: every member of every household, by its household's status.
    let households = household::Entity::find()
        .all(app.state.db.conn())
        .await
        .unwrap();
    let members = household_member::Entity::find()
        .all(app.state.db.conn())
        .await
        .unwrap();
    let count = |exited: bool| {
        members
            .iter()
            .filter(|m| {
                let h = households.iter().find(|h| h.id == m.household_id).unwrap();
                (h.status == HouseholdStatus::Exited) == exited
            })
            .count() as u64
    };
    assert_eq!(before.people.registered, members.len() as u64);
    assert_eq!(before.people.lifted_out, count(true));
    assert_eq!(before.people.still_poor, count(false));
    assert_eq!(before.goal_villages, 162);
    assert_eq!(before.goal_people, 135_000);
    let poor_villages = area::Entity::find()
        .all(app.state.db.conn())
        .await
        .unwrap()
        .iter()
        .filter(|a| a.is_poor_village)
        .count() as u32;
    assert_eq!(before.villages.poor, poor_villages);
    assert_eq!(before.villages.not_started, poor_villages);
    assert_eq!(before.parts.len(), 40);
    let township_total: u64 = before.parts.iter().map(|p| p.people.registered).sum();
    assert_eq!(township_total, before.people.registered);

    // The cached answer is the same until something changes, then moves by exactly the
    // household's members.
    assert_eq!(county_progress(&app).await.computed_at, before.computed_at);
    run_to_the_end(&app, exiting).await;
    let after = county_progress(&app).await;
    assert_eq!(after.people.lifted_out, before.people.lifted_out + 2);
    assert_eq!(after.people.still_poor, before.people.still_poor - 2);
    assert_eq!(after.people.households_exited, 1);
    assert!(after.as_of_change > before.as_of_change);

    // A village that exits moves from not started to de-listed, and leaves the ranking.
    let village = AreaCode::parse(VILLAGE).unwrap();
    assessment::record_indicators(
        &app.state.db,
        &app.state.exit_rules,
        &township(),
        &village,
        YEAR,
        indicators(5_000_000),
        &Origin::default(),
    )
    .await
    .unwrap();
    let db = &app.state.db;
    let rules = &app.state.exit_rules;
    let origin = Origin::default();
    let case = cases::propose(
        db,
        &SystemClock,
        rules,
        &township(),
        ExitSubjectRef::Village(village.clone()),
        YEAR,
        &origin,
    )
    .await
    .unwrap();
    let middle = county_progress(&app).await;
    assert_eq!(middle.villages.in_progress, 1);
    walk_to_announced(&app, case.case.id).await;
    let done = county_progress(&app).await;
    assert_eq!(done.villages.delisted, 1);
    assert_eq!(done.villages.not_started, poor_villages - 1);
    assert!(!done.villages_by_incidence.iter().any(|v| v.code == VILLAGE));
    let township_part = done
        .parts
        .iter()
        .find(|p| p.code == "500235101000")
        .unwrap();
    assert_eq!(township_part.villages.delisted, 1);
    // The de-listing is on record on the village itself, as reached through the procedure.
    let delisted = area::Entity::find_by_id(VILLAGE.to_owned())
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(delisted.delisted_year, Some(YEAR));
    assert_eq!(
        delisted.delist_source,
        Some(entities::household::ExitSource::Procedure)
    );

    // Only officials of the area see it.
    let stranger = official(Role::TownshipOfficial, "500235102", 30);
    assert!(matches!(
        progress::progress(
            &app.state.db,
            &app.state.cache,
            &app.state.exit_rules,
            &stranger,
            Some(AreaCode::parse("500235101").unwrap()),
        )
        .await
        .unwrap_err(),
        ExitError::NotFound
    ));
}

#[tokio::test]
async fn daily_snapshots_draw_progress_over_time_and_project_the_goal_date() {
    use entities::progress_snapshot;
    use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter};

    // A small goal, so the projected date is near.
    let app = TestApp::spawn_with(|s| {
        s.goal_people = 12;
        s.yearly_goal_people = [(2017, 5), (2018, 10)].into();
        s.yearly_goal_villages = [(2018, 1)].into();
    })
    .await;
    let db = &app.state.db;
    let rules = &app.state.exit_rules;
    let exiting = qualifying_household(&app, 1).await;

    // The county and its 40 townships; taking it again the same day replaces the day's rows.
    assert_eq!(progress::take_snapshots(db, rules).await.unwrap(), 41);
    assert_eq!(progress::take_snapshots(db, rules).await.unwrap(), 41);
    assert_eq!(
        progress_snapshot::Entity::find()
            .count(db.conn())
            .await
            .unwrap(),
        41
    );
    let today = progress_snapshot::Entity::find()
        .filter(progress_snapshot::Column::AreaCode.eq("500235000000"))
        .one(db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(today.people_lifted_out, 0);
    assert_eq!(today.people_still_poor, 2);

    // Ten days ago nobody had exited; today (the county's) two people have: 0.2 a day.
    let county_today = today.day;
    let mut earlier = today.into_active_model();
    earlier.id = sea_orm::ActiveValue::NotSet;
    earlier.day = Set(county_today - chrono::Days::new(10));
    earlier.insert(db.conn()).await.unwrap();
    run_to_the_end(&app, exiting).await;
    let progress = county_progress(&app).await;
    assert_eq!(progress.history.len(), 2);
    assert_eq!(progress.projection.basis_days, 10);
    assert_eq!(progress.projection.people_per_day, Some(0.2));
    assert_eq!(
        progress.yearly_goals,
        vec![
            progress::YearGoal {
                year: 2017,
                villages: None,
                people: Some(5)
            },
            progress::YearGoal {
                year: 2018,
                villages: Some(1),
                people: Some(10)
            },
        ]
    );
    // Ten more people at 0.2 a day: 50 days.
    assert_eq!(
        progress.projection.people_goal_date,
        Some(county_today + chrono::Days::new(50))
    );
}

#[tokio::test]
async fn the_demo_progress_is_backed_by_the_records() {
    use api::service::{exit::demo, seed};
    use std::collections::HashSet;

    let app = TestApp::spawn().await;
    let db = &app.state.db;
    let rules = &app.state.exit_rules;
    // One demo household in each poor village keeps the test small.
    let mut seen = HashSet::new();
    for household in seed::demo_households() {
        if seen.insert(household.village.clone()) {
            households::register(db, &app.state.pii, &county(), household, &Origin::default())
                .await
                .unwrap();
        }
    }
    let txn = db.begin_write().await.unwrap();
    let report = demo::seed_demo_progress(&txn, rules).await.unwrap();
    txn.commit().await.unwrap();
    assert!(report.households_exited >= 80, "{report:?}");
    // Once only.
    let txn = db.begin_write().await.unwrap();
    let again = demo::seed_demo_progress(&txn, rules).await.unwrap();
    txn.commit().await.unwrap();
    assert_eq!(again, demo::DemoProgress::default());

    // Every exited household qualifies on its records, and so does every de-listed village.
    for h in household::Entity::find().all(db.conn()).await.unwrap() {
        let a = assessment::assess_household(db.conn(), rules, h.id, demo::DEMO_YEAR)
            .await
            .unwrap();
        if matches!(
            h.status,
            HouseholdStatus::Exited | HouseholdStatus::ExitPending
        ) {
            assert_eq!(a.failing, vec![], "household {}", h.household_number);
        }
    }
    let village_cases: Vec<exit_case::Model> = exit_case::Entity::find()
        .all(db.conn())
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.household_id.is_none())
        .collect();
    for case in &village_cases {
        let village = area::Entity::find_by_id(case.village_code.clone())
            .one(db.conn())
            .await
            .unwrap()
            .unwrap();
        let a = assessment::assess_village(db.conn(), rules, &village, demo::DEMO_YEAR)
            .await
            .unwrap();
        assert_eq!(a.failing, vec![], "village {}", village.code);
    }
    let progress = county_progress(&app).await;
    assert_eq!(
        progress.villages.delisted as usize,
        demo::DEMO_VILLAGES_EXITED
    );
    assert!(progress.villages.in_progress as usize >= demo::DEMO_VILLAGES_IN_NOTICE);
    assert_eq!(
        progress.people.households_exited as usize,
        report.households_exited
    );
}

/// Two officials propose the same household at the same moment: one case is opened, the other
/// is told it is open; the household is pending once.
#[tokio::test]
async fn two_proposals_of_one_household_at_once_open_one_case() {
    let app = TestApp::spawn().await;
    let (db, rules, origin) = (&app.state.db, &app.state.exit_rules, Origin::default());
    let id = qualifying_household(&app, 14).await;
    let propose = |actor: Actor| {
        let origin = &origin;
        async move {
            cases::propose(
                db,
                &SystemClock,
                rules,
                &actor,
                ExitSubjectRef::Household(id),
                YEAR,
                origin,
            )
            .await
        }
    };
    let (a, b) = tokio::join!(propose(cadre()), propose(township()));
    let opened: Vec<_> = [&a, &b]
        .into_iter()
        .filter_map(|r| r.as_ref().ok())
        .collect();
    assert_eq!(opened.len(), 1, "{a:?} / {b:?}");
    let refused = if a.is_ok() { &b } else { &a };
    assert!(
        matches!(refused, Err(ExitError::CaseOpen(case)) if *case == opened[0].case.id),
        "{refused:?}"
    );
    assert_eq!(status_of(&app, id).await, HouseholdStatus::ExitPending);
}
