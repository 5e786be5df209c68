//! The household registry against a real database: validation, sealing, masking, duplicates
//! and scope.

use api::{
    domain::{AreaCode, IdNumber, Phone, Sex},
    service::{
        households::{self, HouseholdError, NewHousehold, NewMember},
        policy::Actor,
        users::Origin,
    },
    testing::TestApp,
};
use entities::{
    household::PovertyCause,
    household_member::{self, Health, LabourCapacity, MemberRelation, Schooling},
    user::Role,
};
use sea_orm::{EntityTrait, PaginatorTrait};

const HEAD_ID: &str = "500235198001010012";

fn id(body: &str) -> IdNumber {
    IdNumber::from_body(body).unwrap()
}

fn member(name: &str, id_number: IdNumber, relation: MemberRelation) -> NewMember {
    NewMember {
        name: name.into(),
        id_number,
        relation,
        declared_sex: None,
        declared_birth_date: None,
        labour_capacity: LabourCapacity::Full,
        health: Health::Healthy,
        schooling: Schooling::JuniorSecondary,
        medical_insurance: true,
    }
}

fn household(number: &str, village: &str, members: Vec<NewMember>) -> NewHousehold {
    NewHousehold {
        household_number: number.into(),
        village: AreaCode::parse(village).unwrap(),
        phone: Some(Phone::parse("13500135000").unwrap()),
        poverty_cause: PovertyCause::Illness,
        responsible_cadre_id: None,
        registered_year: 2016,
        members,
    }
}

fn official(role: Role, area: &str) -> Actor {
    Actor {
        user_id: 1,
        role,
        area: Some(AreaCode::parse(area).unwrap()),
        household_id: None,
    }
}

async fn register(
    app: &TestApp,
    actor: &Actor,
    new: NewHousehold,
) -> Result<households::HouseholdRecord, HouseholdError> {
    households::register(
        &app.state.db,
        &app.state.pii,
        actor,
        new,
        &Origin::default(),
    )
    .await
}

fn family() -> Vec<NewMember> {
    vec![
        member("张三", id("50023519800101001"), MemberRelation::Head),
        member("李四", id("50023519820202002"), MemberRelation::Spouse),
        member("张小五", id("50023520100303003"), MemberRelation::Child),
    ]
}

#[tokio::test]
async fn a_household_is_stored_with_sealed_id_numbers_and_facts_from_them() {
    let app = TestApp::spawn().await;
    let vault = &app.state.pii;
    let cadre = official(Role::VillageCadre, "500235101201");
    let record = register(
        &app,
        &cadre,
        household("500235101201-0001", "500235101201", family()),
    )
    .await
    .unwrap();
    assert_eq!(record.members.len(), 3);
    let head = &record.members[0];
    assert_eq!(head.id_number, "500235********0012");
    assert_eq!(head.member.sex, household_member::Sex::Male);
    assert_eq!(head.member.birth_date.to_string(), "1980-01-01");
    assert_eq!(record.members[1].member.sex, household_member::Sex::Female);

    // The database column holds no plain ID number.
    let stored = household_member::Entity::find()
        .all(app.state.db.conn())
        .await
        .unwrap();
    for row in &stored {
        assert!(!row.id_ciphertext.contains("19800101"));
        assert!(!format!("{row:?}").contains(HEAD_ID));
    }
    assert_eq!(stored[0].id_hash, vault.search_hash(HEAD_ID));
}

#[tokio::test]
async fn the_same_person_cannot_be_in_two_households() {
    let app = TestApp::spawn().await;
    let county = official(Role::CountyOfficial, "500235");
    register(&app, &county, household("H-1", "500235101201", family()))
        .await
        .unwrap();
    let again = vec![
        member("王六", id("50023519700505005"), MemberRelation::Head),
        member("张三", id("50023519800101001"), MemberRelation::Other),
    ];
    let err = register(&app, &county, household("H-2", "500235102201", again))
        .await
        .unwrap_err();
    match err {
        HouseholdError::DuplicatePerson {
            member,
            household_number,
            id_masked,
        } => {
            assert_eq!((member, household_number.as_str()), (2, "H-1"));
            assert_eq!(id_masked, "500235********0012");
        }
        other => panic!("{other}"),
    }
    let households = entities::household::Entity::find()
        .count(app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(
        households, 1,
        "nothing of the refused household was written"
    );
}

#[tokio::test]
async fn bad_households_are_refused_with_the_reason() {
    let app = TestApp::spawn().await;
    let county = official(Role::CountyOfficial, "500235");
    let two_heads = vec![
        member("甲", id("50023519800101001"), MemberRelation::Head),
        member("乙", id("50023519820202002"), MemberRelation::Head),
    ];
    let mut wrong_sex = family();
    wrong_sex[0].declared_sex = Some(Sex::Female);
    let mut twice = family();
    twice[2].id_number = twice[1].id_number.clone();
    for (case, members) in [
        ("two heads", two_heads),
        ("wrong sex", wrong_sex),
        ("twice", twice),
    ] {
        let err = register(&app, &county, household("H-X", "500235101201", members))
            .await
            .unwrap_err();
        assert!(matches!(err, HouseholdError::Invalid(_)), "{case}: {err}");
    }
    let not_a_village = register(&app, &county, household("H-Y", "500235101", family())).await;
    assert!(matches!(not_a_village, Err(HouseholdError::UnknownVillage)));
}

#[tokio::test]
async fn id_numbers_are_revealed_only_to_the_owning_area_and_the_look_is_audited() {
    let app = TestApp::spawn().await;
    let vault = &app.state.pii;
    let cadre = official(Role::VillageCadre, "500235101201");
    let record = register(&app, &cadre, household("H-1", "500235101201", family()))
        .await
        .unwrap();
    let id = record.household.id;

    let masked = households::get(&app.state.db, vault, &cadre, id, false, &Origin::default())
        .await
        .unwrap();
    assert_eq!(masked.members[0].id_number, "500235********0012");
    let revealed = households::get(&app.state.db, vault, &cadre, id, true, &Origin::default())
        .await
        .unwrap();
    assert_eq!(revealed.members[0].id_number, HEAD_ID);
    let log = entities::audit_log::Entity::find()
        .all(app.state.db.conn())
        .await
        .unwrap();
    assert!(
        log.iter()
            .any(|e| e.action == "household.id_numbers_revealed")
    );
    assert!(
        log.iter()
            .all(|e| !e.after.clone().unwrap_or_default().contains(HEAD_ID))
    );

    // Another township's official, and a buyer, cannot even see the household.
    let outsider = official(Role::TownshipOfficial, "500235102");
    let buyer = Actor {
        user_id: 7,
        role: Role::Buyer,
        area: None,
        household_id: None,
    };
    for actor in [&outsider, &buyer] {
        let err = households::get(&app.state.db, vault, actor, id, false, &Origin::default())
            .await
            .unwrap_err();
        assert!(matches!(err, HouseholdError::NotFound), "{err}");
    }
    // Another township's official cannot register households in this village either.
    let err = register(&app, &outsider, household("H-2", "500235101202", family()))
        .await
        .unwrap_err();
    assert!(matches!(err, HouseholdError::Forbidden));
}

fn registration(number: &str, head_id: &str) -> serde_json::Value {
    serde_json::json!({
        "household_number": number,
        "village_code": "500235101201",
        "phone": "135 0013 5000",
        "poverty_cause": "illness",
        "registered_year": 2016,
        "members": [
            {
                "name": "张三", "id_number": head_id, "relation": "head", "sex": "male",
                "labour_capacity": "full", "health": "chronic", "schooling": "primary",
                "medical_insurance": true
            },
            {
                "name": "张小五", "id_number": "500235201003030038", "relation": "child",
                "labour_capacity": "none", "health": "healthy", "schooling": "junior_secondary",
                "medical_insurance": true
            }
        ]
    })
}

#[tokio::test]
async fn officials_register_and_read_households_over_http_with_masked_id_numbers() {
    use crate::support::{app_with_admin, json_of, official, tokens};
    use api::http::error::ErrorCode;
    use poem::http::StatusCode;

    let app = app_with_admin().await;
    official(&app, "13800000041", Role::VillageCadre, "500235101201").await;
    official(&app, "13800000042", Role::TownshipOfficial, "500235102").await;
    let (cadre, _) = tokens(&app, "13800000041").await;
    let (outsider, _) = tokens(&app, "13800000042").await;
    let as_cadre = format!("Bearer {cadre}");

    let resp = app
        .client
        .post("/api/v1/households")
        .header("authorization", &as_cadre)
        .body_json(&registration("H-100", HEAD_ID))
        .send()
        .await;
    resp.assert_status(StatusCode::CREATED);
    let created = json_of(resp).await;
    assert_eq!(created["status"], "poor");
    assert_eq!(created["members"][0]["id_number"], "500235********0012");
    assert_eq!(created["members"][0]["birth_date"], "1980-01-01");
    assert_eq!(created["members"][1]["schooling"], "junior_secondary");
    let path = format!("/api/v1/households/{}", created["id"]);

    let revealed = json_of(
        app.client
            .get(format!("{path}?reveal=true"))
            .header("authorization", &as_cadre)
            .send()
            .await,
    )
    .await;
    assert_eq!(revealed["members"][0]["id_number"], HEAD_ID);

    let resp = app
        .client
        .get(&path)
        .header("authorization", format!("Bearer {outsider}"))
        .send()
        .await;
    resp.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(
        json_of(resp).await["code"],
        ErrorCode::HouseholdNotFound.as_str()
    );

    let resp = app
        .client
        .post("/api/v1/households")
        .header("authorization", &as_cadre)
        .body_json(&registration("H-101", "500235198001010013"))
        .send()
        .await;
    resp.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let body = json_of(resp).await;
    assert_eq!(body["code"], ErrorCode::HouseholdInvalidIdNumber.as_str());
    assert_eq!(body["details"]["member"], 1);
    assert_eq!(body["details"]["reason_code"], "id_number.check_digit");

    // Nineteen characters, and eighteen full-width ones, are told in the catalogue's words.
    for (typed, reason_code, message) in [
        (
            "5002351980010100131",
            Some("id_number.length"),
            "身份证号码应为 18 位",
        ),
        (
            "５００２３５１９８００１０１００１３",
            Some("id_number.check_digit"),
            "身份证号码校验位不符，可能有数字输错",
        ),
    ] {
        let resp = app
            .client
            .post("/api/v1/households")
            .header("authorization", &as_cadre)
            .body_json(&registration("H-101", typed))
            .send()
            .await;
        resp.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        let body = json_of(resp).await;
        assert_eq!(
            body["code"],
            ErrorCode::HouseholdInvalidIdNumber.as_str(),
            "{body}"
        );
        assert_eq!(
            body["details"]["reason_code"].as_str(),
            reason_code,
            "{body}"
        );
        assert_eq!(body["message"], message);
    }

    let mut again = registration("H-102", "50023519700505005X");
    again["members"][1]["id_number"] = serde_json::json!("500235201003030038");
    let resp = app
        .client
        .post("/api/v1/households")
        .header("authorization", &as_cadre)
        .body_json(&again)
        .send()
        .await;
    resp.assert_status(StatusCode::CONFLICT);
    let body = json_of(resp).await;
    assert_eq!(body["code"], ErrorCode::HouseholdDuplicatePerson.as_str());
    assert_eq!(body["details"]["household_number"], "H-100");
    assert_eq!(body["details"]["id_number"], "500235********0038");
    assert!(!body.to_string().contains("500235201003030038"));

    // The list shows the household to its cadre, found by a member's name, and to no one else.
    let list = |query: &str, bearer: &str| {
        let request = app
            .client
            .get(format!("/api/v1/households?{query}"))
            .header("authorization", bearer.to_owned());
        async move { request.send().await }
    };
    let found = json_of(list("q=%E5%BC%A0%E5%B0%8F", &as_cadre).await).await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found["items"][0]["head_name"], "张三");
    assert_eq!(found["items"][0]["member_count"], 2);
    let none = json_of(list("status=exited", &as_cadre).await).await;
    assert!(none["items"].as_array().unwrap().is_empty());
    let resp = list("area_code=500235101", &format!("Bearer {outsider}")).await;
    resp.assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn racing_registrations_of_one_person_leave_exactly_one_household() {
    let app = TestApp::spawn().await;
    let vault = app.state.pii.clone();
    let county = official(Role::CountyOfficial, "500235");
    let tasks: Vec<_> = (0..4)
        .map(|i| {
            let db = app.state.db.clone();
            let vault = vault.clone();
            let county = county.clone();
            tokio::spawn(async move {
                let members = vec![
                    member(
                        "户主",
                        id(&format!("5002351970010100{i}")),
                        MemberRelation::Head,
                    ),
                    member("同一人", id("50023520100303003"), MemberRelation::Child),
                ];
                households::register(
                    &db,
                    &vault,
                    &county,
                    household(&format!("R-{i}"), "500235101201", members),
                    &Origin::default(),
                )
                .await
            })
        })
        .collect();
    let mut registered = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => registered += 1,
            Err(HouseholdError::DuplicatePerson { member, .. }) => assert_eq!(member, 2),
            Err(other) => panic!("a race must end in a clear refusal, not {other}"),
        }
    }
    assert_eq!(registered, 1);
}

#[tokio::test]
async fn a_household_list_pages_through_every_household_once_in_number_order() {
    let app = TestApp::spawn().await;
    let county = official(Role::CountyOfficial, "500235");
    for i in (0..5).rev() {
        let members = vec![member(
            "户主",
            id(&format!("5002351970010100{i}")),
            MemberRelation::Head,
        )];
        register(
            &app,
            &county,
            household(&format!("N-{i}"), "500235101201", members),
        )
        .await
        .unwrap();
    }
    let filter = households::HouseholdFilter::default();
    let mut page = api::service::pagination::PageRequest::new(None, Some(2));
    let mut numbers = Vec::new();
    loop {
        let found = households::list(
            &app.state.db,
            &county,
            &filter,
            households::HouseholdSort::HouseholdNumber,
            &page,
        )
        .await
        .unwrap();
        numbers.extend(
            found
                .items
                .iter()
                .map(|s| s.household.household_number.clone()),
        );
        match found.next_after {
            Some(after) => page = api::service::pagination::PageRequest::new(Some(after), Some(2)),
            None => break,
        }
    }
    assert_eq!(numbers, ["N-0", "N-1", "N-2", "N-3", "N-4"]);
}

/// Finding: an official of one township registering a person who belongs to a household of
/// another township learnt that household's number (which names its village) and the masked
/// ID number. Outside the caller's area a clash now tells only that the person is registered.
#[tokio::test]
async fn a_clash_outside_the_callers_area_names_no_household_and_no_id_number() {
    use crate::support::{app_with_admin, json_of, official, tokens};
    use api::http::error::ErrorCode;
    use poem::http::StatusCode;

    let app = app_with_admin().await;
    official(&app, "13800000041", Role::VillageCadre, "500235101201").await;
    official(&app, "13800000042", Role::VillageCadre, "500235102201").await;
    let (cadre, _) = tokens(&app, "13800000041").await;
    let (other, _) = tokens(&app, "13800000042").await;
    let resp = app
        .client
        .post("/api/v1/households")
        .header("authorization", format!("Bearer {cadre}"))
        .body_json(&registration("H-100", HEAD_ID))
        .send()
        .await;
    resp.assert_status(StatusCode::CREATED);
    let household_id = json_of(resp).await["id"].as_i64().unwrap();

    let mut elsewhere = registration("H-200", "50023519700505005X");
    elsewhere["village_code"] = serde_json::json!("500235102201");
    let resp = app
        .client
        .post("/api/v1/households")
        .header("authorization", format!("Bearer {other}"))
        .body_json(&elsewhere)
        .send()
        .await;
    resp.assert_status(StatusCode::CONFLICT);
    let body = json_of(resp).await;
    assert_eq!(
        body["code"],
        ErrorCode::HouseholdRegisteredElsewhere.as_str()
    );
    assert_eq!(body["message"], "此人已在本县其他地方登记，请联系县扶贫办");
    assert_eq!(body["details"], serde_json::json!({ "member": 2 }));
    let text = body.to_string();
    assert!(!text.contains("H-100") && !text.contains("0038"), "{text}");

    // Adding the person as a member of a household of one's own says no more.
    let resp = app
        .client
        .post("/api/v1/households")
        .header("authorization", format!("Bearer {other}"))
        .body_json(&{
            let mut own = registration("H-201", "50023519700505005X");
            own["village_code"] = serde_json::json!("500235102201");
            own["members"].as_array_mut().unwrap().pop();
            own
        })
        .send()
        .await;
    resp.assert_status(StatusCode::CREATED);
    let own = json_of(resp).await["id"].as_i64().unwrap();
    let resp = app
        .client
        .post(format!("/api/v1/households/{own}/members"))
        .header("authorization", format!("Bearer {other}"))
        .body_json(&serde_json::json!({
            "name": "张小五", "id_number": "500235201003030038", "relation": "child",
            "labour_capacity": "none", "health": "healthy", "schooling": "junior_secondary",
            "medical_insurance": true
        }))
        .send()
        .await;
    resp.assert_status(StatusCode::CONFLICT);
    let body = json_of(resp).await;
    assert_eq!(
        body["code"],
        ErrorCode::HouseholdRegisteredElsewhere.as_str()
    );
    assert!(!body.to_string().contains("H-100"), "{body}");

    // Inside the area, the household's own officials are still told where.
    let resp = app
        .client
        .post(format!("/api/v1/households/{household_id}/members"))
        .header("authorization", format!("Bearer {cadre}"))
        .body_json(&serde_json::json!({
            "name": "张小五", "id_number": "500235201003030038", "relation": "child",
            "labour_capacity": "none", "health": "healthy", "schooling": "junior_secondary",
            "medical_insurance": true
        }))
        .send()
        .await;
    resp.assert_status(StatusCode::CONFLICT);
    assert_eq!(json_of(resp).await["details"]["household_number"], "H-100");
}
