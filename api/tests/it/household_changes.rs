//! Changing registered households, their members and their income against a real database:
//! rules, scope and the audit trail.

use api::{
    domain::{AreaCode, IdNumber, Phone},
    service::{
        audit::{self, ChainCheck},
        households::{
            self, HouseholdError, HouseholdRecord, NewHousehold, NewMember,
            changes::{self, HouseholdChanges, MemberChanges},
            incomes,
        },
        policy::Actor,
        users::Origin,
    },
    testing::TestApp,
};
use entities::{
    audit_log,
    household::{self, PovertyCause},
    household_income::IncomeSource,
    household_member::{self, Health, LabourCapacity, MemberRelation, Schooling},
    user::Role,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use crate::support;

const VILLAGE: &str = "500235101201";
const NEIGHBOUR_VILLAGE: &str = "500235101202";
const OTHER_TOWNSHIP_VILLAGE: &str = "500235102201";

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

fn actor(role: Role, area: Option<&str>, household_id: Option<i64>) -> Actor {
    Actor {
        user_id: 7,
        role,
        area: area.map(|a| AreaCode::parse(a).unwrap()),
        household_id,
    }
}

fn township() -> Actor {
    actor(Role::TownshipOfficial, Some("500235101"), None)
}

async fn registered(app: &TestApp) -> HouseholdRecord {
    households::register(
        &app.state.db,
        &app.state.pii,
        &township(),
        NewHousehold {
            household_number: "C-1".into(),
            village: AreaCode::parse(VILLAGE).unwrap(),
            phone: None,
            poverty_cause: PovertyCause::Illness,
            responsible_cadre_id: None,
            registered_year: 2015,
            members: vec![
                member("张三", "50023519800101001", MemberRelation::Head),
                member("张小五", "50023520050303003", MemberRelation::Child),
            ],
        },
        &Origin::default(),
    )
    .await
    .unwrap()
}

async fn last_audit(app: &TestApp) -> audit_log::Model {
    audit_log::Entity::find()
        .order_by_desc(audit_log::Column::Id)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn household_fields_change_inside_the_area_and_the_audit_keeps_before_and_after() {
    let app = TestApp::spawn().await;
    let id = registered(&app).await.household.id;
    let db = &app.state.db;
    let origin = Origin::default();

    let changed = changes::update(
        db,
        &township(),
        id,
        HouseholdChanges {
            phone: Some(Some(Phone::parse("13700137000").unwrap())),
            poverty_cause: Some(PovertyCause::Disaster),
            village: Some(AreaCode::parse(NEIGHBOUR_VILLAGE).unwrap()),
            ..Default::default()
        },
        &origin,
    )
    .await
    .unwrap();
    assert_eq!(changed.household.phone.as_deref(), Some("13700137000"));
    assert_eq!(changed.household.village_code, NEIGHBOUR_VILLAGE);
    let entry = last_audit(&app).await;
    assert_eq!(entry.action, "household.updated");
    assert!(entry.before.unwrap().contains("illness"));
    assert!(entry.after.unwrap().contains("disaster"));

    // Not into another township's village; not by a cadre of a village it is not in.
    let err = changes::update(
        db,
        &township(),
        id,
        HouseholdChanges {
            village: Some(AreaCode::parse(OTHER_TOWNSHIP_VILLAGE).unwrap()),
            ..Default::default()
        },
        &origin,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, HouseholdError::Forbidden), "{err:?}");
    let stranger = actor(Role::VillageCadre, Some(OTHER_TOWNSHIP_VILLAGE), None);
    let err = changes::update(db, &stranger, id, HouseholdChanges::default(), &origin)
        .await
        .unwrap_err();
    assert!(matches!(err, HouseholdError::NotFound), "{err:?}");
    let err = changes::update(
        db,
        &township(),
        id,
        HouseholdChanges {
            registered_year: Some(2001),
            ..Default::default()
        },
        &origin,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, HouseholdError::Invalid(_)));
}

#[tokio::test]
async fn members_join_leave_and_the_household_keeps_one_head() {
    let app = TestApp::spawn().await;
    let record = registered(&app).await;
    let id = record.household.id;
    let db = &app.state.db;
    let origin = Origin::default();
    let head_id = record.members[0].member.id;
    let child_id = record.members[1].member.id;

    let joined = changes::add_member(
        db,
        &app.state.pii,
        &township(),
        id,
        member("李四", "50023519820202002", MemberRelation::Spouse),
        &origin,
    )
    .await
    .unwrap();
    assert_eq!(joined.members.len(), 3);
    assert!(joined.members[2].id_number.contains("********"));

    // The same person again, anywhere, is refused naming the household.
    let err = changes::add_member(
        db,
        &app.state.pii,
        &township(),
        id,
        member("李四", "50023519820202002", MemberRelation::Other),
        &origin,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, HouseholdError::DuplicatePerson { household_number, .. } if household_number == "C-1"),
        "{err:?}"
    );
    // A second head cannot be added.
    let err = changes::add_member(
        db,
        &app.state.pii,
        &township(),
        id,
        member("王五", "50023519700404004", MemberRelation::Head),
        &origin,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, HouseholdError::Invalid(_)));

    // The head cannot be removed or demoted directly.
    let err = changes::remove_member(db, &township(), id, head_id, &origin)
        .await
        .unwrap_err();
    assert!(matches!(err, HouseholdError::Invalid(_)));
    let err = changes::update_member(
        db,
        &township(),
        id,
        head_id,
        MemberChanges {
            relation: Some(MemberRelation::Parent),
            ..Default::default()
        },
        &origin,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, HouseholdError::Invalid(_)));

    // Making the child the head makes the old head `other`.
    let changed = changes::update_member(
        db,
        &township(),
        id,
        child_id,
        MemberChanges {
            relation: Some(MemberRelation::Head),
            schooling: Some(Schooling::SeniorSecondary),
            ..Default::default()
        },
        &origin,
    )
    .await
    .unwrap();
    let relation_of = |id: i64| {
        changed
            .members
            .iter()
            .find(|m| m.member.id == id)
            .unwrap()
            .member
            .relation
    };
    assert_eq!(relation_of(child_id), MemberRelation::Head);
    assert_eq!(relation_of(head_id), MemberRelation::Other);

    let left = changes::remove_member(db, &township(), id, head_id, &origin)
        .await
        .unwrap();
    assert_eq!(left.members.len(), 2);
    let entry = last_audit(&app).await;
    assert_eq!(entry.action, "household.member_removed");
    assert!(entry.before.as_deref().unwrap().contains("张三"));
    assert!(!entry.before.as_deref().unwrap().contains("198001010"));
    assert!(!entry.after.as_deref().unwrap().contains("张三"));

    // A member of another household is not found through this one.
    let err = changes::remove_member(db, &township(), id + 1000, child_id, &origin)
        .await
        .unwrap_err();
    assert!(matches!(err, HouseholdError::NotFound));
    assert!(matches!(
        audit::verify(db).await.unwrap(),
        ChainCheck::Intact { .. }
    ));
}

#[tokio::test]
async fn a_removed_household_takes_its_members_and_income_and_leaves_its_record_in_the_audit() {
    let app = TestApp::spawn().await;
    let id = registered(&app).await.household.id;
    let db = &app.state.db;
    let origin = Origin::default();
    incomes::record_year(
        db,
        &township(),
        id,
        2020,
        &[(IncomeSource::Wages, 500_000)],
        &origin,
    )
    .await
    .unwrap();

    let err = changes::delete(db, &township(), id, "  ", &origin)
        .await
        .unwrap_err();
    assert!(matches!(err, HouseholdError::Invalid(_)));
    let cadre = actor(Role::VillageCadre, Some(NEIGHBOUR_VILLAGE), None);
    let err = changes::delete(db, &cadre, id, "重复登记", &origin)
        .await
        .unwrap_err();
    assert!(matches!(err, HouseholdError::NotFound));

    changes::delete(db, &township(), id, "重复登记", &origin)
        .await
        .unwrap();
    assert_eq!(household::Entity::find().count(db.conn()).await.unwrap(), 0);
    assert_eq!(
        household_member::Entity::find()
            .filter(household_member::Column::HouseholdId.eq(id))
            .count(db.conn())
            .await
            .unwrap(),
        0
    );
    let entry = last_audit(&app).await;
    assert_eq!(entry.action, "household.deleted");
    let before = entry.before.unwrap();
    assert!(before.contains("重复登记") && before.contains("张小五"));
    assert!(before.contains("500235********"));
}

#[tokio::test]
async fn the_responsible_cadre_must_be_an_officials_account() {
    let app = TestApp::spawn().await;
    let id = registered(&app).await.household.id;
    let db = &app.state.db;
    let cadre = support::official(&app, "13900000009", Role::VillageCadre, VILLAGE).await;
    let farmer = support::buyer_account(&app, "13700000009").await;
    let official = township();
    let origin = Origin::default();
    let assign = |user_id: Option<i64>| {
        changes::update(
            db,
            &official,
            id,
            HouseholdChanges {
                responsible_cadre_id: Some(user_id),
                ..Default::default()
            },
            &origin,
        )
    };
    for wrong in [-682_652, farmer.id] {
        let err = assign(Some(wrong)).await.unwrap_err();
        assert!(matches!(err, HouseholdError::Invalid(_)), "{err:?}");
    }
    let changed = assign(Some(cadre.id)).await.unwrap();
    assert_eq!(changed.household.responsible_cadre_id, Some(cadre.id));
    let cleared = assign(None).await.unwrap();
    assert_eq!(cleared.household.responsible_cadre_id, None);
}

#[tokio::test]
async fn a_household_that_other_records_rely_on_is_not_removed() {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let app = TestApp::spawn().await;
    let record = registered(&app).await;
    let id = record.household.id;
    let db = &app.state.db;
    entities::plot::ActiveModel {
        household_id: Set(id),
        name: Set("屋后坡地".into()),
        village_code: Set(record.household.village_code.clone()),
        area_centimu: Set(125),
        crop: Set("红薯".into()),
        created_at: Set(chrono::Utc::now()),
        updated_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(db.conn())
    .await
    .unwrap();

    let err = changes::delete(db, &township(), id, "重复登记", &Origin::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, HouseholdError::InUse(records) if records == &["plots"]),
        "{err}"
    );
    assert_eq!(household::Entity::find().count(db.conn()).await.unwrap(), 1);
    assert_eq!(
        household_member::Entity::find()
            .filter(household_member::Column::HouseholdId.eq(id))
            .count(db.conn())
            .await
            .unwrap() as usize,
        record.members.len()
    );
}

#[tokio::test]
async fn income_is_recorded_by_officials_read_by_the_farmer_and_ecommerce_comes_from_orders() {
    let app = TestApp::spawn().await;
    let id = registered(&app).await.household.id;
    let db = &app.state.db;
    let origin = Origin::default();

    let year = incomes::record_year(
        db,
        &township(),
        id,
        2020,
        &[
            (IncomeSource::Wages, 1_200_000),
            (IncomeSource::Farming, 300_000),
        ],
        &origin,
    )
    .await
    .unwrap();
    assert_eq!(year.total_fen, 1_500_000);
    // A second recording changes only the sources it names.
    let year = incomes::record_year(
        db,
        &township(),
        id,
        2020,
        &[(IncomeSource::Farming, 350_000)],
        &origin,
    )
    .await
    .unwrap();
    assert_eq!(year.amount(IncomeSource::Wages), 1_200_000);
    assert_eq!(year.total_fen, 1_550_000);

    for bad in [
        vec![(IncomeSource::Ecommerce, 1)],
        vec![(IncomeSource::Wages, -1)],
    ] {
        let err = incomes::record_year(db, &township(), id, 2020, &bad, &origin)
            .await
            .unwrap_err();
        assert!(matches!(err, HouseholdError::Invalid(_)), "{err:?}");
    }

    let txn = db.begin_write().await.unwrap();
    incomes::add_ecommerce(&txn, id, 2020, 88_800)
        .await
        .unwrap();
    incomes::add_ecommerce(&txn, id, 2020, 11_200)
        .await
        .unwrap();
    txn.commit().await.unwrap();

    let farmer = actor(Role::Farmer, None, Some(id));
    let years = incomes::list(db, &farmer, id).await.unwrap();
    assert_eq!(years.len(), 1);
    assert_eq!(years[0].amount(IncomeSource::Ecommerce), 100_000);
    assert_eq!(years[0].total_fen, 1_650_000);

    // Another farmer, guessing the id, learns nothing; a farmer cannot record income.
    let other = actor(Role::Farmer, None, Some(id + 1));
    assert!(matches!(
        incomes::list(db, &other, id).await.unwrap_err(),
        HouseholdError::NotFound
    ));
    assert!(matches!(
        incomes::record_year(db, &farmer, id, 2020, &[(IncomeSource::Wages, 1)], &origin)
            .await
            .unwrap_err(),
        HouseholdError::Forbidden
    ));
}

async fn buyer(app: &TestApp, phone: Option<&str>) -> entities::user::Model {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let now = chrono::Utc::now();
    entities::user::ActiveModel {
        phone: Set(phone.map(str::to_owned)),
        display_name: Set("买家".into()),
        role: Set(Role::Buyer),
        token_version: Set(0),
        disabled: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(app.state.db.conn())
    .await
    .unwrap()
}

#[tokio::test]
async fn officials_bind_a_verified_account_to_a_household_as_its_farmer() {
    let app = TestApp::spawn().await;
    let id = registered(&app).await.household.id;
    let db = &app.state.db;
    let origin = Origin::default();
    let account = buyer(&app, Some("13600136000")).await;

    // Not by an official of another area, and only accounts with a verified phone.
    let stranger = actor(Role::VillageCadre, Some(OTHER_TOWNSHIP_VILLAGE), None);
    assert!(matches!(
        changes::bind_farmer(db, &stranger, id, account.id, &origin)
            .await
            .unwrap_err(),
        HouseholdError::NotFound
    ));
    let phoneless = buyer(&app, None).await;
    assert!(matches!(
        changes::bind_farmer(db, &township(), id, phoneless.id, &origin)
            .await
            .unwrap_err(),
        HouseholdError::Invalid(_)
    ));

    let bound = changes::bind_farmer(db, &township(), id, account.id, &origin)
        .await
        .unwrap();
    assert_eq!(bound.role, Role::Farmer);
    assert_eq!(bound.household_id, Some(id));
    assert_eq!(bound.token_version, account.token_version + 1);
    assert_eq!(last_audit(&app).await.action, "household.farmer_bound");

    // The farmer reads their own household, and only theirs.
    let farmer = api::service::auth::actor_of(&bound);
    let own = households::get(db, &app.state.pii, &farmer, id, false, &origin)
        .await
        .unwrap();
    assert_eq!(own.household.id, id);
    assert!(matches!(
        households::get(db, &app.state.pii, &farmer, id, true, &origin)
            .await
            .unwrap_err(),
        HouseholdError::Forbidden
    ));

    let unbound = changes::unbind_farmer(db, &township(), id, account.id, &origin)
        .await
        .unwrap();
    assert_eq!(unbound.role, Role::Buyer);
    assert_eq!(unbound.household_id, None);
    let buyer_again = api::service::auth::actor_of(&unbound);
    assert!(matches!(
        households::get(db, &app.state.pii, &buyer_again, id, false, &origin)
            .await
            .unwrap_err(),
        HouseholdError::NotFound
    ));
}

/// Over HTTP, by guessing ids: a farmer reaches only their own household and an official
/// only their own area's; everyone else gets 404 or 403 and never the data.
#[tokio::test]
async fn farmers_and_officials_guessing_ids_over_http_never_see_others_households() {
    use poem::http::StatusCode;
    use serde_json::json;

    let app = support::app_with_admin().await;
    let mine = registered(&app).await.household.id;
    let theirs = households::register(
        &app.state.db,
        &app.state.pii,
        &actor(Role::CountyOfficial, Some("500235"), None),
        NewHousehold {
            household_number: "C-2".into(),
            village: AreaCode::parse(OTHER_TOWNSHIP_VILLAGE).unwrap(),
            phone: None,
            poverty_cause: PovertyCause::Land,
            responsible_cadre_id: None,
            registered_year: 2016,
            members: vec![member("王二", "50023519900303003", MemberRelation::Head)],
        },
        &Origin::default(),
    )
    .await
    .unwrap()
    .household
    .id;
    support::farmer_account(&app, "13600000001", mine).await;
    support::farmer_account(&app, "13600000002", theirs).await;
    support::official(&app, "13900000020", Role::VillageCadre, VILLAGE).await;
    let (farmer, _) = support::tokens(&app, "13600000001").await;
    let (other_farmer, _) = support::tokens(&app, "13600000002").await;
    let (cadre, _) = support::tokens(&app, "13900000020").await;

    let get = |path: String, token: String| {
        let app = &app;
        async move {
            app.client
                .get(path)
                .header("authorization", format!("Bearer {token}"))
                .send()
                .await
        }
    };
    // Each reaches their own.
    get(format!("/api/v1/households/{mine}"), farmer.clone())
        .await
        .assert_status_is_ok();
    get(
        format!("/api/v1/households/{theirs}/incomes"),
        other_farmer.clone(),
    )
    .await
    .assert_status_is_ok();
    get(format!("/api/v1/households/{mine}"), cadre.clone())
        .await
        .assert_status_is_ok();
    // Nobody reaches the other's, whatever they try.
    for (token, target) in [(&farmer, theirs), (&other_farmer, mine), (&cadre, theirs)] {
        for path in [
            format!("/api/v1/households/{target}"),
            format!("/api/v1/households/{target}/incomes"),
            format!("/api/v1/households/{}", target + 100),
        ] {
            let resp = get(path.clone(), token.clone()).await;
            resp.assert_status(StatusCode::NOT_FOUND);
            let body = support::json_of(resp).await;
            assert_eq!(body["code"], "household.not_found", "{path}");
        }
        let resp = app
            .client
            .patch(format!("/api/v1/households/{target}"))
            .header("authorization", format!("Bearer {token}"))
            .body_json(&json!({ "poverty_cause": "disaster" }))
            .send()
            .await;
        resp.assert_status(StatusCode::NOT_FOUND);
    }
    // A farmer changes nothing, not even their own household's registry entry.
    let resp = app
        .client
        .put(format!("/api/v1/households/{mine}/incomes/2020"))
        .header("authorization", format!("Bearer {farmer}"))
        .body_json(&json!({ "wages_fen": 1 }))
        .send()
        .await;
    resp.assert_status(StatusCode::FORBIDDEN);

    // The cadre changes their own household over HTTP; `null` clears, absent keeps.
    let resp = app
        .client
        .patch(format!("/api/v1/households/{mine}"))
        .header("authorization", format!("Bearer {cadre}"))
        .body_json(&json!({ "phone": "13700137000", "poverty_cause": "disaster" }))
        .send()
        .await;
    resp.assert_status_is_ok();
    let resp = app
        .client
        .patch(format!("/api/v1/households/{mine}"))
        .header("authorization", format!("Bearer {cadre}"))
        .body_json(&json!({ "phone": null }))
        .send()
        .await;
    resp.assert_status_is_ok();
    let body = support::json_of(resp).await;
    assert_eq!(body["phone"], serde_json::Value::Null);
    assert_eq!(body["poverty_cause"], "disaster");
    let resp = app
        .client
        .put(format!("/api/v1/households/{mine}/incomes/2020"))
        .header("authorization", format!("Bearer {cadre}"))
        .body_json(&json!({ "wages_fen": 900_000, "farming_fen": 100_000 }))
        .send()
        .await;
    resp.assert_status_is_ok();
    let body = support::json_of(resp).await;
    assert_eq!(body["total_fen"], 1_000_000);
    assert_eq!(body["ecommerce_fen"], 0);
}
