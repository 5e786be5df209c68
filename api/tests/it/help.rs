//! Help and visits (帮扶与走访) against a real database: recorded by the officials of the
//! household's area only, append-only, keyed, audited, a visit's photo stored as listings'
//! are; the responsible cadre named from the household's own area; the exit and monitoring
//! cases showing what is on file; and the officials' page keeping a refused form as typed.

use api::{
    domain::{
        AreaCode,
        county_time::{Clock, SystemClock},
    },
    infra::imaging::declared_format,
    service::{
        monitoring::help::{self, HelpError, NewHelp, NewVisit},
        policy::Actor,
        users::Origin,
    },
    testing::TestApp,
};
use chrono::{Duration, NaiveDate};
use entities::{
    audit_log,
    exit_case::{ExitState, ExitSubject},
    help_record::HelpKind,
    household_visit,
    user::Role,
};
use poem::{
    http::StatusCode,
    test::{TestForm, TestFormField},
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
};
use serde_json::json;

use crate::support::{self, json_of};

const VILLAGE: &str = "500235101201";
const OTHER_VILLAGE: &str = "500235102201";
const CADRE_PHONE: &str = "13700000011";
const OTHER_PHONE: &str = "13700000012";
const TOWNSHIP_PHONE: &str = "13700000013";

fn actor_of(user: &entities::user::Model) -> Actor {
    Actor {
        user_id: user.id,
        role: user.role,
        area: user
            .area_code
            .as_deref()
            .map(|a| AreaCode::parse(a).unwrap()),
        household_id: None,
    }
}

fn admin() -> Actor {
    Actor {
        user_id: 1,
        role: Role::Admin,
        area: None,
        household_id: None,
    }
}

fn today() -> NaiveDate {
    SystemClock.today()
}

fn new_help(household_id: i64) -> NewHelp {
    NewHelp {
        household_id,
        kind: HelpKind::PublicWelfareJob,
        given_on: today(),
        amount_fen: Some(60_000),
        note: Some("村里护林员岗位，每月 600 元".into()),
    }
}

struct World {
    app: TestApp,
    household: i64,
    elsewhere: i64,
    cadre: entities::user::Model,
    other: entities::user::Model,
    township: entities::user::Model,
}

async fn world() -> World {
    let app = support::app_with_admin().await;
    let household = support::household_in(&app, VILLAGE, 1).await;
    let elsewhere = support::household_in(&app, OTHER_VILLAGE, 2).await;
    let cadre = support::official(&app, CADRE_PHONE, Role::VillageCadre, VILLAGE).await;
    let other = support::official(&app, OTHER_PHONE, Role::VillageCadre, OTHER_VILLAGE).await;
    let township =
        support::official(&app, TOWNSHIP_PHONE, Role::TownshipOfficial, "500235101").await;
    World {
        app,
        household,
        elsewhere,
        cadre,
        other,
        township,
    }
}

#[tokio::test]
async fn help_is_recorded_once_per_key_audited_and_only_in_the_officials_area() {
    let w = world().await;
    let db = &w.app.state.db;
    let cadre = actor_of(&w.cadre);
    let origin = Origin::default();
    let first = help::record_help(
        db,
        &SystemClock,
        &cadre,
        new_help(w.household),
        Some("k-1"),
        &origin,
    )
    .await
    .unwrap();
    let again = help::record_help(
        db,
        &SystemClock,
        &cadre,
        new_help(w.household),
        Some("k-1"),
        &origin,
    )
    .await
    .unwrap();
    assert_eq!(first.id, again.id, "the same key records once");
    let mut other_request = new_help(w.household);
    other_request.amount_fen = Some(1);
    assert!(matches!(
        help::record_help(
            db,
            &SystemClock,
            &cadre,
            other_request,
            Some("k-1"),
            &origin
        )
        .await,
        Err(HelpError::KeyReused)
    ));
    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("help.recorded"))
        .count(db.conn())
        .await
        .unwrap();
    assert_eq!(audited, 1);

    // Another village's cadre neither adds to nor reads this household.
    let other = actor_of(&w.other);
    assert!(matches!(
        help::record_help(
            db,
            &SystemClock,
            &other,
            new_help(w.household),
            None,
            &origin
        )
        .await,
        Err(HelpError::NotFound)
    ));
    assert!(matches!(
        help::on_file(db.conn(), &other, w.household).await,
        Err(HelpError::NotFound)
    ));
    // The admin reads but records nothing.
    assert!(matches!(
        help::record_help(db, &SystemClock, &admin(), new_help(w.household), None, &origin)
            .await,
        Err(HelpError::Invalid(r)) if r.code == "help.admin_records_nothing"
    ));
    let file = help::on_file(db.conn(), &admin(), w.household)
        .await
        .unwrap();
    assert_eq!(file.help.len(), 1);
    assert_eq!(file.help_fen(), 60_000);
    // The township over the village reads it too; the other village's household is not theirs.
    let township = actor_of(&w.township);
    assert_eq!(
        help::on_file(db.conn(), &township, w.household)
            .await
            .unwrap()
            .help[0]
            .id,
        first.id
    );
    let elsewhere = help::on_file(db.conn(), &township, w.elsewhere).await;
    assert!(
        matches!(elsewhere, Err(HelpError::NotFound | HelpError::Forbidden)),
        "{elsewhere:?}"
    );
}

#[tokio::test]
async fn help_in_the_future_before_the_registry_or_with_a_negative_sum_is_refused() {
    let w = world().await;
    let db = &w.app.state.db;
    let cadre = actor_of(&w.cadre);
    let origin = Origin::default();
    let cases = [
        (
            NewHelp {
                given_on: today() + Duration::days(1),
                ..new_help(w.household)
            },
            "help.day",
        ),
        (
            NewHelp {
                given_on: NaiveDate::from_ymd_opt(2013, 12, 31).unwrap(),
                ..new_help(w.household)
            },
            "help.day",
        ),
        (
            NewHelp {
                amount_fen: Some(-1),
                ..new_help(w.household)
            },
            "help.amount_range",
        ),
        (
            NewHelp {
                note: Some("字".repeat(501)),
                ..new_help(w.household)
            },
            "help.note_length",
        ),
    ];
    for (new, code) in cases {
        match help::record_help(db, &SystemClock, &cadre, new, None, &origin).await {
            Err(HelpError::Invalid(reason)) => assert_eq!(reason.code, code),
            other => panic!("{code}: {other:?}"),
        }
    }
    // The first day of the registry and today both stand; no sum is fine.
    for (day, amount) in [(help::first_day(), None), (today(), Some(0))] {
        let new = NewHelp {
            given_on: day,
            amount_fen: amount,
            ..new_help(w.household)
        };
        help::record_help(db, &SystemClock, &cadre, new, None, &origin)
            .await
            .unwrap();
    }
    assert_eq!(
        help::on_file(db.conn(), &cadre, w.household)
            .await
            .unwrap()
            .help
            .len(),
        2
    );
}

#[tokio::test]
async fn a_visit_keeps_its_photo_and_a_bad_photo_records_nothing() {
    let w = world().await;
    let db = &w.app.state.db;
    let cadre = actor_of(&w.cadre);
    let origin = Origin::default();
    let mut png = Vec::new();
    support::picture(64, 48)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let visit = help::record_visit(
        db,
        &SystemClock,
        &w.app.state.photos,
        &cadre,
        NewVisit {
            household_id: w.household,
            visited_on: today(),
            findings: "户主出院在家休养，家里的猪卖了两头".into(),
        },
        Some((png, declared_format(Some("image/png"), Some("visit.png")))),
        Some("visit-1"),
        &origin,
    )
    .await
    .unwrap();
    let photo = visit.photo_id.clone().expect("the photo is kept");
    let served = w
        .app
        .client
        .get(format!("/api/v1/photos/{photo}/240"))
        .send()
        .await;
    served.assert_status_is_ok();

    let refused = help::record_visit(
        db,
        &SystemClock,
        &w.app.state.photos,
        &cadre,
        NewVisit {
            household_id: w.household,
            visited_on: today(),
            findings: "又去了一次".into(),
        },
        Some((
            b"not a picture".to_vec(),
            declared_format(Some("image/jpeg"), Some("visit.jpg")),
        )),
        None,
        &origin,
    )
    .await;
    assert!(matches!(refused, Err(HelpError::Photo(_))), "{refused:?}");
    let empty = help::record_visit(
        db,
        &SystemClock,
        &w.app.state.photos,
        &cadre,
        NewVisit {
            household_id: w.household,
            visited_on: today(),
            findings: "   ".into(),
        },
        None,
        None,
        &origin,
    )
    .await;
    assert!(
        matches!(empty, Err(HelpError::Invalid(ref r)) if r.code == "visit.findings_length"),
        "{empty:?}"
    );
    assert_eq!(
        household_visit::Entity::find()
            .count(db.conn())
            .await
            .unwrap(),
        1
    );
    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("visit.recorded"))
        .count(db.conn())
        .await
        .unwrap();
    assert_eq!(audited, 1);
}

#[tokio::test]
async fn the_responsible_cadre_is_an_official_of_the_households_own_area() {
    let w = world().await;
    let db = &w.app.state.db;
    let township = actor_of(&w.township);
    let origin = Origin::default();
    let file = help::assign_cadre(
        db,
        &SystemClock,
        &township,
        w.household,
        Some(w.cadre.id),
        &origin,
    )
    .await
    .unwrap();
    assert_eq!(file.cadre.as_ref().map(|c| c.user_id), Some(w.cadre.id));
    // The township official is of the household's area too; the other village's cadre is not.
    help::assign_cadre(
        db,
        &SystemClock,
        &township,
        w.household,
        Some(w.township.id),
        &origin,
    )
    .await
    .unwrap();
    let outside = help::assign_cadre(
        db,
        &SystemClock,
        &township,
        w.household,
        Some(w.other.id),
        &origin,
    )
    .await;
    assert!(
        matches!(outside, Err(HelpError::Invalid(ref r)) if r.code == "help.cadre_outside"),
        "{outside:?}"
    );
    // Only the household's village or township names one.
    let other = actor_of(&w.other);
    let refused = help::assign_cadre(db, &SystemClock, &other, w.household, None, &origin).await;
    assert!(
        matches!(refused, Err(HelpError::NotFound | HelpError::Forbidden)),
        "{refused:?}"
    );
    let eligible = help::eligible_cadres(db.conn(), &file.household)
        .await
        .unwrap();
    let ids: Vec<i64> = eligible.iter().map(|c| c.user_id).collect();
    assert!(ids.contains(&w.cadre.id) && ids.contains(&w.township.id));
    assert!(!ids.contains(&w.other.id));
    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("household.cadre_assigned"))
        .count(db.conn())
        .await
        .unwrap();
    assert_eq!(audited, 2);
}

#[tokio::test]
async fn the_api_records_help_and_visits_and_the_exit_case_shows_them() {
    let w = world().await;
    let (token, _) = support::tokens(&w.app, CADRE_PHONE).await;
    let bearer = format!("Bearer {token}");
    let body = json!({
        "kind": "consumption",
        "given_on": today().to_string(),
        "amount_fen": 12_345,
        "note": "网店卖出蜂蜜 20 斤",
    });
    let mut ids = Vec::new();
    for _ in 0..2 {
        let resp = w
            .app
            .client
            .post(format!("/api/v1/households/{}/help", w.household))
            .header("authorization", &bearer)
            .header("Idempotency-Key", "api-help-1")
            .body_json(&body)
            .send()
            .await;
        resp.assert_status(StatusCode::CREATED);
        ids.push(json_of(resp).await["id"].as_i64().unwrap());
    }
    assert_eq!(ids[0], ids[1]);
    let refused = w
        .app
        .client
        .post(format!("/api/v1/households/{}/help", w.household))
        .header("authorization", &bearer)
        .header("accept-language", "zh")
        .body_json(&json!({ "kind": "industry", "given_on": "2099-01-01" }))
        .send()
        .await;
    refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let refused = json_of(refused).await;
    assert_eq!(refused["code"], "help.invalid");
    assert_eq!(refused["details"]["reason_code"], "help.day");

    let visit = w
        .app
        .client
        .post(format!("/api/v1/households/{}/visits", w.household))
        .header("authorization", &bearer)
        .multipart(
            TestForm::new()
                .field(TestFormField::text(today().to_string()).name("visited_on"))
                .field(TestFormField::text("家里人都在，孩子上学正常").name("findings")),
        )
        .send()
        .await;
    visit.assert_status(StatusCode::CREATED);
    let listed = w
        .app
        .client
        .get(format!("/api/v1/households/{}/visits", w.household))
        .header("authorization", &bearer)
        .send()
        .await;
    listed.assert_status_is_ok();
    assert_eq!(json_of(listed).await.as_array().unwrap().len(), 1);

    let (other, _) = support::tokens(&w.app, OTHER_PHONE).await;
    let hidden = w
        .app
        .client
        .get(format!("/api/v1/households/{}/help", w.household))
        .header("authorization", format!("Bearer {other}"))
        .send()
        .await;
    hidden.assert_status(StatusCode::NOT_FOUND);

    // An exit case of the household shows what is on file.
    let now = chrono::Utc::now();
    let case = entities::exit_case::ActiveModel {
        subject: Set(ExitSubject::Household),
        household_id: Set(Some(w.household)),
        village_code: Set(VILLAGE.into()),
        year: Set(2024),
        state: Set(ExitState::Proposed),
        open: Set(true),
        notice_ends_at: Set(None),
        proposed_by: Set(w.cadre.id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(w.app.state.db.conn())
    .await
    .unwrap();
    let shown = w
        .app
        .client
        .get(format!("/api/v1/exit-cases/{}", case.id))
        .header("authorization", &bearer)
        .send()
        .await;
    shown.assert_status_is_ok();
    let shown = json_of(shown).await;
    assert_eq!(shown["help"]["help"].as_array().unwrap().len(), 1);
    assert_eq!(shown["help"]["help_fen"], 12_345);
    assert_eq!(shown["help"]["visits"].as_array().unwrap().len(), 1);
    assert_eq!(shown["help"]["household_id"], w.household);
}

#[tokio::test]
async fn the_officials_page_records_help_and_keeps_a_refused_form_as_typed() {
    let w = world().await;
    let cookie = crate::page_snapshots::cookie_for(&w.app, CADRE_PHONE).await;
    let path = format!("/o/households/{}/help", w.household);
    let page = w
        .app
        .client
        .get(&path)
        .header("cookie", &cookie)
        .send()
        .await;
    page.assert_status_is_ok();
    let html = page.0.into_body().into_string().await.unwrap();
    assert!(html.contains("记录一次帮扶") && html.contains("记录一次走访"));
    let csrf = {
        let start = html.find("name=\"csrf\" value=\"").unwrap() + 19;
        html[start..].split('"').next().unwrap().to_owned()
    };
    let post = |amount: &'static str, key: &'static str| {
        let body = format!(
            "csrf={csrf}&key={key}&kind=medical&help_day={}&amount={amount}&note=%E4%BD%8F%E9%99%A2%E6%8A%A5%E9%94%80",
            today()
        );
        w.app
            .client
            .post(&path)
            .header("cookie", &cookie)
            .header("accept-language", "zh")
            .content_type("application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let refused = post("abc", "page-key-1").await;
    refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.0.into_body().into_string().await.unwrap();
    assert!(html.contains("金额请填 0 到"), "{html}");
    assert!(html.contains("value=\"abc\""), "the amount stays as typed");
    assert!(html.contains("住院报销"), "the note stays as typed");
    assert!(html.contains("value=\"medical\" selected"));
    assert!(
        html.contains("value=\"page-key-1\""),
        "the key stays with the form"
    );

    let taken = post("1,200.5", "page-key-1").await;
    taken.assert_status(StatusCode::SEE_OTHER);
    let file = help::on_file(w.app.state.db.conn(), &actor_of(&w.cadre), w.household)
        .await
        .unwrap();
    assert_eq!(file.help.len(), 1);
    assert_eq!(file.help[0].amount_fen, Some(120_050));
    assert_eq!(file.help[0].kind, HelpKind::Medical);

    // Another village's cadre does not find the page.
    let other = crate::page_snapshots::cookie_for(&w.app, OTHER_PHONE).await;
    let hidden = w
        .app
        .client
        .get(&path)
        .header("cookie", &other)
        .send()
        .await;
    hidden.assert_status(StatusCode::NOT_FOUND);
}
