//! Monitoring warnings against a real database: each rule at and around its threshold (the
//! monitoring line exactly, a fen either side, the margin's edge and a fen past it, a check
//! not met, e-commerce income halved), households already monitored left out, the area's
//! reach, the margin as configured, paging, and the list over HTTP.

use api::{
    domain::{AreaCode, IdNumber, county_time::SystemClock},
    service::{
        exit::assessment::{self, NewCheck},
        households::{self, NewHousehold, NewMember, incomes},
        monitoring::{
            MonitoringError, RiskType,
            cases::{self, NewMonitoring},
            warnings::{self, Warning, WarningReason},
        },
        pagination::PageRequest,
        policy::Actor,
        users::Origin,
    },
    testing::TestApp,
};
use entities::{
    household::{self, HouseholdStatus, PovertyCause},
    household_check::CheckKind,
    household_income::IncomeSource,
    household_member::{Health, LabourCapacity, MemberRelation, Schooling},
    monitored_household::{DiscoveryChannel, MonitoringCategory},
    order,
    user::Role,
};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};

use crate::orders::Market;
use crate::support::{self, json_of};

const VILLAGE: &str = "500235101201";
const OTHER_VILLAGE: &str = "500235101202";
const YEAR: i32 = 2024;

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

/// A two-person exited household in `village`; `n` keeps households apart.
async fn household(app: &TestApp, village: &str, n: u32) -> i64 {
    let id = households::register(
        &app.state.db,
        &app.state.pii,
        &county(),
        NewHousehold {
            household_number: format!("W-{n}"),
            village: AreaCode::parse(village).unwrap(),
            phone: None,
            poverty_cause: PovertyCause::Illness,
            responsible_cadre_id: None,
            registered_year: 2014,
            members: vec![
                member(
                    &format!("户主{n}"),
                    &format!("500235198003{n:02}011"),
                    MemberRelation::Head,
                ),
                member(
                    "配偶",
                    &format!("500235198204{n:02}022"),
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
        &county(),
        id,
        YEAR,
        &[(IncomeSource::Wages, total_fen)],
        &Origin::default(),
    )
    .await
    .unwrap();
}

async fn all_warnings(app: &TestApp, actor: &Actor, limit: u64) -> Vec<Warning> {
    let mut found = Vec::new();
    let mut after = None;
    loop {
        let page = warnings::list(
            &app.state.db,
            &SystemClock,
            &app.state.exit_rules,
            actor,
            None,
            Some(YEAR),
            &PageRequest::new(after, Some(limit)),
        )
        .await
        .unwrap();
        assert!(page.page.items.len() as u64 <= limit);
        found.extend(page.page.items);
        match page.page.next_after {
            Some(next) => after = Some(next),
            None => return found,
        }
    }
}

fn kinds_of(found: &[Warning], id: i64) -> Vec<&'static str> {
    found
        .iter()
        .find(|w| w.household_id == id)
        .map(|w| w.reasons.iter().map(WarningReason::kind).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn incomes_at_and_around_the_line_and_the_margin_warn_exactly_as_the_rules_say() {
    let app = TestApp::spawn().await;
    // Two people each: the income per person is half the total. The line is 6,000 yuan and
    // the margin 10%, so 6,600 yuan is its edge.
    let at_line = household(&app, VILLAGE, 1).await;
    set_income(&app, at_line, 1_200_000).await;
    let below = household(&app, VILLAGE, 2).await;
    set_income(&app, below, 1_199_998).await;
    let just_above = household(&app, VILLAGE, 3).await;
    set_income(&app, just_above, 1_200_002).await;
    let margin_edge = household(&app, VILLAGE, 4).await;
    set_income(&app, margin_edge, 1_320_000).await;
    let past_margin = household(&app, VILLAGE, 5).await;
    set_income(&app, past_margin, 1_320_002).await;
    let no_income = household(&app, VILLAGE, 6).await;
    let failed_check = household(&app, VILLAGE, 7).await;
    set_income(&app, failed_check, 5_000_000).await;
    assessment::record_check(
        &app.state.db,
        &app.state.exit_rules,
        &county(),
        failed_check,
        YEAR,
        NewCheck {
            check: CheckKind::Housing,
            passed: false,
            note: Some("房子漏雨".into()),
            evidence_url: None,
        },
        &Origin::default(),
    )
    .await
    .unwrap();
    let monitored = household(&app, VILLAGE, 8).await;
    set_income(&app, monitored, 1_000_000).await;
    cases::open(
        &app.state.db,
        &SystemClock,
        &app.state.exit_rules,
        &cadre(),
        NewMonitoring {
            household_id: monitored,
            category: MonitoringCategory::UnstableExited,
            risk_types: vec![RiskType::Illness],
            channel: DiscoveryChannel::CadreVisit,
            year: YEAR,
            note: None,
        },
        None,
        &Origin::default(),
    )
    .await
    .unwrap();
    let elsewhere = household(&app, OTHER_VILLAGE, 9).await;
    set_income(&app, elsewhere, 1_000_000).await;

    let found = all_warnings(&app, &cadre(), 100).await;
    assert_eq!(kinds_of(&found, at_line), ["income_at_or_below_line"]);
    assert_eq!(kinds_of(&found, below), ["income_at_or_below_line"]);
    assert_eq!(kinds_of(&found, just_above), ["income_near_line"]);
    assert_eq!(kinds_of(&found, margin_edge), ["income_near_line"]);
    assert!(kinds_of(&found, past_margin).is_empty());
    assert!(
        kinds_of(&found, no_income).is_empty(),
        "no record is not zero"
    );
    assert_eq!(kinds_of(&found, failed_check), ["check_not_met"]);
    assert!(kinds_of(&found, monitored).is_empty(), "monitored already");
    assert!(kinds_of(&found, elsewhere).is_empty(), "another village");
    assert_eq!(found.len(), 5);
    let below_reason = &found
        .iter()
        .find(|w| w.household_id == below)
        .unwrap()
        .reasons[0];
    assert_eq!(
        below_reason,
        &WarningReason::IncomeAtOrBelowLine {
            per_capita_fen: 599_999,
            line_fen: 600_000
        }
    );
    assert_eq!(
        below_reason.zh(),
        "人均收入 5,999.99 元，不高于监测标准 6,000.00 元"
    );
    let head = found.iter().find(|w| w.household_id == at_line).unwrap();
    assert_eq!(head.head.as_deref(), Some("户主1"));

    // Page by page, the same list in the same order.
    let paged = all_warnings(&app, &cadre(), 2).await;
    assert_eq!(paged, found);

    // The township reaches both villages.
    let township_found = all_warnings(&app, &township(), 100).await;
    assert_eq!(township_found.len(), 6);
    assert_eq!(
        kinds_of(&township_found, elsewhere),
        ["income_at_or_below_line"]
    );

    // Nobody else's village, no farmer, no year without a line.
    let other_village = warnings::list(
        &app.state.db,
        &SystemClock,
        &app.state.exit_rules,
        &cadre(),
        Some(AreaCode::parse(OTHER_VILLAGE).unwrap()),
        Some(YEAR),
        &PageRequest::new(None, None),
    )
    .await;
    assert!(matches!(other_village, Err(MonitoringError::Forbidden)));
    let farmer = Actor {
        user_id: 30,
        role: Role::Farmer,
        area: None,
        household_id: Some(at_line),
    };
    let refused = warnings::list(
        &app.state.db,
        &SystemClock,
        &app.state.exit_rules,
        &farmer,
        None,
        Some(YEAR),
        &PageRequest::new(None, None),
    )
    .await;
    assert!(matches!(refused, Err(MonitoringError::Forbidden)));
    let before_lines = warnings::list(
        &app.state.db,
        &SystemClock,
        &app.state.exit_rules,
        &cadre(),
        None,
        Some(2020),
        &PageRequest::new(None, None),
    )
    .await;
    assert!(
        matches!(before_lines, Err(MonitoringError::Invalid(r)) if r.code == "monitoring.no_line")
    );
}

#[tokio::test]
async fn the_margin_is_the_configured_one() {
    let app = TestApp::spawn_with(|s| s.monitoring_margin_percent = 5).await;
    let edge = household(&app, VILLAGE, 1).await;
    set_income(&app, edge, 1_260_000).await;
    let past = household(&app, VILLAGE, 2).await;
    set_income(&app, past, 1_260_002).await;
    let found = all_warnings(&app, &cadre(), 100).await;
    assert_eq!(kinds_of(&found, edge), ["income_near_line"]);
    assert!(kinds_of(&found, past).is_empty());
    match &found[0].reasons[0] {
        WarningReason::IncomeNearLine { margin_percent, .. } => assert_eq!(*margin_percent, 5),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn e_commerce_income_halved_from_last_year_warns_and_less_of_a_fall_does_not() {
    let m = Market::open().await;
    let app = &m.app;
    let listing = m
        .listing(m.seller_household, "chrysanthemum", 3600, 20)
        .await;
    let mut completed = Vec::new();
    for quantity in [2, 1] {
        let id = m.delivered_order(listing, quantity).await;
        let (status, body) = m.step(&m.buyer, id, "complete").await;
        assert_eq!(status, 200, "{body}");
        completed.push(id);
    }
    // The first order (72 yuan) was last year's; this year's is 36 yuan: down by half.
    let first = order::Entity::find_by_id(completed[0])
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    let this_year = first.income_year.unwrap();
    let mut active = first.into_active_model();
    active.income_year = Set(Some(this_year - 1));
    active.update(app.state.db.conn()).await.unwrap();

    let (cadre, page) = (cadre(), PageRequest::new(None, None));
    let list = |year| {
        warnings::list(
            &app.state.db,
            &SystemClock,
            &app.state.exit_rules,
            &cadre,
            None,
            Some(year),
            &page,
        )
    };
    let found = list(this_year).await.unwrap().page.items;
    let reasons: Vec<&WarningReason> = found
        .iter()
        .filter(|w| w.household_id == m.seller_household)
        .flat_map(|w| &w.reasons)
        .filter(|r| r.kind() == "ecommerce_fell")
        .collect();
    assert_eq!(
        reasons,
        [&WarningReason::EcommerceFell {
            previous_fen: 7200,
            current_fen: 3600
        }]
    );

    // One fen more this year is a fall of less than half: no warning.
    let second = order::Entity::find_by_id(completed[1])
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    let mut active = second.into_active_model();
    active.amount_fen = Set(3601);
    active.update(app.state.db.conn()).await.unwrap();
    let found = list(this_year).await.unwrap().page.items;
    assert!(
        found
            .iter()
            .filter(|w| w.household_id == m.seller_household)
            .flat_map(|w| &w.reasons)
            .all(|r| r.kind() != "ecommerce_fell")
    );
}

#[tokio::test]
async fn the_list_over_http_is_paged_and_in_the_readers_language() {
    let app = support::app_with_admin().await;
    for n in 1..=3 {
        let id = household(&app, VILLAGE, n).await;
        set_income(&app, id, 1_000_000).await;
    }
    support::official(&app, "13900000011", Role::VillageCadre, VILLAGE).await;
    let (token, _) = support::tokens(&app, "13900000011").await;
    let resp = app
        .client
        .get("/api/v1/monitoring/warnings")
        .query("year", &YEAR)
        .query("limit", &2)
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await;
    resp.assert_status_is_ok();
    let body = json_of(resp).await;
    assert_eq!(body["year"], YEAR);
    assert_eq!(body["line_fen"], 600_000);
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
    let reason = &body["items"][0]["reasons"][0];
    assert_eq!(reason["kind"], "income_at_or_below_line");
    assert_eq!(reason["per_capita_fen"], 500_000);
    assert_eq!(
        reason["message"],
        "人均收入 5,000.00 元，不高于监测标准 6,000.00 元"
    );
    let cursor = body["next_cursor"].as_str().unwrap().to_owned();
    let resp = app
        .client
        .get("/api/v1/monitoring/warnings")
        .query("year", &YEAR)
        .query("cursor", &cursor)
        .header("Authorization", format!("Bearer {token}"))
        .header("Accept-Language", "en")
        .send()
        .await;
    resp.assert_status_is_ok();
    let body = json_of(resp).await;
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    assert!(body.get("next_cursor").is_none());
    assert!(
        body["items"][0]["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Income per person 5,000.00 yuan")
    );

    // Another village's list is not the cadre's.
    let resp = app
        .client
        .get("/api/v1/monitoring/warnings")
        .query("area_code", &OTHER_VILLAGE)
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await;
    resp.assert_status(poem::http::StatusCode::FORBIDDEN);
}

async fn page_cookie(app: &TestApp, phone: &str) -> String {
    let (_, refresh) = support::tokens(app, phone).await;
    format!("shanhuo_session={refresh}")
}

async fn page_text(resp: poem::test::TestResponse) -> (u16, Option<String>, String) {
    let status = resp.0.status().as_u16();
    let location = resp
        .0
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    (
        status,
        location,
        resp.0.into_body().into_string().await.unwrap(),
    )
}

fn hidden(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no {name} in the page"));
    let rest = &html[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_owned()
}

async fn post_page(
    app: &TestApp,
    path: &str,
    cookie: &str,
    form: &[(&str, &str)],
) -> (u16, Option<String>, String) {
    let body: Vec<String> = form
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencoding(v)))
        .collect();
    page_text(
        app.client
            .post(path)
            .header("cookie", cookie)
            .content_type("application/x-www-form-urlencoded")
            .body(body.join("&"))
            .send()
            .await,
    )
    .await
}

fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn the_cadre_reads_the_warnings_and_starts_an_identification_once() {
    let app = support::app_with_admin().await;
    let id = household(&app, VILLAGE, 1).await;
    set_income(&app, id, 1_000_000).await;
    support::official(&app, "13900000011", Role::VillageCadre, VILLAGE).await;
    let cookie = page_cookie(&app, "13900000011").await;
    let (status, _, html) = page_text(
        app.client
            .get("/o/monitoring?year=2024")
            .header("cookie", &cookie)
            .send()
            .await,
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("户主1户"), "{html}");
    assert!(html.contains("人均收入 5,000.00 元，不高于监测标准 6,000.00 元"));
    assert!(html.len() < 30 * 1024);
    let (csrf, key, note) = (
        hidden(&html, "csrf"),
        hidden(&html, "key"),
        hidden(&html, "note"),
    );
    let path = format!("/o/monitoring/{id}/start");
    let form = [
        ("csrf", csrf.as_str()),
        ("key", key.as_str()),
        ("year", "2024"),
        ("risk", "illness"),
        ("category", "unstable_exited"),
        ("note", note.as_str()),
        ("channel", "warning"),
    ];
    let (status, location, _) = post_page(&app, &path, &cookie, &form).await;
    assert_eq!(status, 303);
    let location = location.unwrap();
    assert!(location.contains("started="), "{location}");
    // The same form sent again makes nothing new.
    let (status, again, _) = post_page(&app, &path, &cookie, &form).await;
    assert_eq!((status, again.as_deref()), (303, Some(location.as_str())));
    let records = entities::monitored_household::Entity::find()
        .all(app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].household_id, id);
    assert_eq!(records[0].channel, DiscoveryChannel::Warning);
    assert_eq!(records[0].risk_types, "illness");
    assert!(
        records[0]
            .note
            .as_deref()
            .unwrap()
            .contains("不高于监测标准")
    );
    let case = entities::monitoring_case::Entity::find()
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        case.state,
        entities::monitoring_case::MonitoringState::Warning
    );

    // Now monitored, the household is no longer on the list; a new form for it is refused.
    let (_, _, html) = page_text(
        app.client
            .get(location.as_str())
            .header("cookie", &cookie)
            .send()
            .await,
    )
    .await;
    assert!(html.contains("已开始识别"), "{html}");
    assert!(!html.contains("户主1户"));
    let form = [
        ("csrf", csrf.as_str()),
        ("key", "another-key"),
        ("year", "2024"),
        ("risk", "disaster"),
    ];
    let (status, _, html) = post_page(&app, &path, &cookie, &form).await;
    assert_eq!(status, 409, "{html}");
    assert!(html.contains("这户已经在监测中"), "{html}");
}

/// A head's full ID number in `household(app, _, n)`.
fn head_id(n: u32) -> String {
    IdNumber::from_body(&format!("500235198003{n:02}011"))
        .unwrap()
        .as_str()
        .to_owned()
}

async fn upload(
    app: &TestApp,
    token: &str,
    csv: String,
    dry_run: bool,
) -> (u16, serde_json::Value) {
    upload_keyed(app, token, csv, dry_run, None).await
}

async fn upload_keyed(
    app: &TestApp,
    token: &str,
    csv: String,
    dry_run: bool,
    key: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut req = app
        .client
        .post("/api/v1/monitoring/sector-lists")
        .query("dry_run", &dry_run)
        .header("authorization", format!("Bearer {token}"));
    if let Some(key) = key {
        req = req.header("idempotency-key", key);
    }
    let resp = req
        .multipart(
            poem::test::TestForm::new().field(
                poem::test::TestFormField::bytes(csv.into_bytes())
                    .name("file")
                    .filename("sector.csv"),
            ),
        )
        .send()
        .await;
    let status = resp.0.status().as_u16();
    (status, json_of(resp).await)
}

async fn sector_rows(app: &TestApp) -> u64 {
    use sea_orm::PaginatorTrait;
    entities::sector_record::Entity::find()
        .count(app.state.db.conn())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_sector_list_is_checked_matched_and_stored_all_or_nothing() {
    let app = support::app_with_admin().await;
    let ill = household(&app, VILLAGE, 1).await;
    let flooded = household(&app, OTHER_VILLAGE, 2).await;
    let _quiet = household(&app, VILLAGE, 3).await;
    support::official(&app, "13900000012", Role::TownshipOfficial, "500235101").await;
    support::official(&app, "13900000011", Role::VillageCadre, VILLAGE).await;
    let (token, _) = support::tokens(&app, "13900000012").await;
    let stranger = IdNumber::from_body("50023519900101001")
        .unwrap()
        .as_str()
        .to_owned();
    let good = format!(
        "身份证号,姓名,部门,情况,金额（元）,日期\n\
         {},户主1,医保,大额医疗支出,32000,2024-03-09\n\
         {},户主2,应急,房屋受灾,,2024-07-01\n\
         {stranger},外村人,民政,临时救助,800,2024-05-05\n",
        head_id(1),
        head_id(2)
    );

    // A dry run matches and reports, and writes nothing.
    let (status, body) = upload(&app, &token, good.clone(), true).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["rows"], 3);
    assert_eq!(body["matched_rows"], 2);
    assert_eq!(body["matched_households"], 2);
    assert_eq!(body["committed"], false);
    assert_eq!(body["unmatched"][0]["row"], 4);
    assert_eq!(body["unmatched"][0]["outside_area"], false);
    assert_eq!(sector_rows(&app).await, 0);

    // A bad row: nothing is written, and the row and column are named.
    let bad = good
        .replace("32000,2024-03-09", "三万,2024-03-09")
        .replace("应急", "水利");
    let (status, body) = upload(&app, &token, bad, false).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "sector.import_rejected");
    let problems = body["details"]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2, "{body}");
    assert_eq!(
        (problems[0]["row"].as_u64(), problems[0]["column"].as_str()),
        (Some(2), Some("金额（元）"))
    );
    assert_eq!(
        (problems[1]["row"].as_u64(), problems[1]["column"].as_str()),
        (Some(3), Some("部门"))
    );
    assert_eq!(sector_rows(&app).await, 0);

    // A village cadre does not import sector lists.
    let (cadre_token, _) = support::tokens(&app, "13900000011").await;
    let (status, _) = upload(&app, &cadre_token, good.clone(), false).await;
    assert_eq!(status, 403);

    // The good file: every row stored, the matched households warned of.
    let (status, body) = upload(&app, &token, good, false).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["committed"], true);
    assert_eq!(sector_rows(&app).await, 3);
    let stored = entities::sector_record::Entity::find()
        .all(app.state.db.conn())
        .await
        .unwrap();
    assert!(stored.iter().all(|r| !r.id_ciphertext.contains(&stranger)));
    assert_eq!(
        stored.iter().filter(|r| r.household_id.is_none()).count(),
        1
    );
    let audited = entities::audit_log::Entity::find()
        .all(app.state.db.conn())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "sector_record.imported")
        .count();
    assert_eq!(audited, 3);

    let found = all_warnings(&app, &township(), 100).await;
    let reasons = |id| {
        found
            .iter()
            .find(|w| w.household_id == id)
            .map(|w| w.reasons.iter().map(WarningReason::zh).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    assert_eq!(reasons(ill), ["医保：大额医疗支出（2024年3月9日）"]);
    assert_eq!(reasons(flooded), ["应急：房屋受灾（2024年7月1日）"]);
    assert_eq!(found.len(), 2);
    // The cadre of the first village sees only their own.
    let cadre_found = all_warnings(&app, &cadre(), 100).await;
    assert_eq!(cadre_found.len(), 1);
    assert_eq!(cadre_found[0].household_id, ill);
}

/// A sector list sent again with its key, as a weak signal makes a phone do, is stored once.
#[tokio::test]
async fn a_sector_list_sent_again_with_its_key_is_stored_once() {
    let app = support::app_with_admin().await;
    household(&app, VILLAGE, 1).await;
    support::official(&app, "13900000012", Role::TownshipOfficial, "500235101").await;
    let (token, _) = support::tokens(&app, "13900000012").await;
    let list = |what: &str| {
        format!(
            "身份证号,姓名,部门,情况,金额（元）,日期\n{},户主1,医保,{what},32000,2024-03-09\n",
            head_id(1)
        )
    };
    // A dry run keeps no key: the same key then stores the list.
    let (status, _) = upload_keyed(
        &app,
        &token,
        list("大额医疗支出"),
        true,
        Some("sector-list-1"),
    )
    .await;
    assert_eq!(status, 200);
    let (status, first) = upload_keyed(
        &app,
        &token,
        list("大额医疗支出"),
        false,
        Some("sector-list-1"),
    )
    .await;
    assert_eq!(status, 201, "{first}");
    let (status, again) = upload_keyed(
        &app,
        &token,
        list("大额医疗支出"),
        false,
        Some("sector-list-1"),
    )
    .await;
    assert_eq!((status, &again), (201, &first), "the first answer, again");
    assert_eq!(sector_rows(&app).await, 1);
    // The key with another file is refused, and nothing more is stored.
    let (status, refused) =
        upload_keyed(&app, &token, list("住院"), false, Some("sector-list-1")).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["code"], "request.idempotency_key_reused");
    assert_eq!(sector_rows(&app).await, 1);
}

#[tokio::test]
async fn a_farmer_applies_for_their_own_household_once_and_is_told_plainly_otherwise() {
    let app = support::app_with_admin().await;
    let own = household(&app, VILLAGE, 1).await;
    let other = household(&app, VILLAGE, 2).await;
    support::farmer_account(&app, "13600000031", own).await;
    let cookie = page_cookie(&app, "13600000031").await;
    let (status, _, html) = page_text(
        app.client
            .get("/f/monitoring")
            .header("cookie", &cookie)
            .send()
            .await,
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("发生了什么"));
    assert!(html.len() < 30 * 1024);
    let (csrf, key) = (hidden(&html, "csrf"), hidden(&html, "key"));
    let what = "三月份老伴住院做手术，花了三万多";
    // The household named in the form is not the farmer's to choose: it is ignored.
    let other_id = other.to_string();
    let form = [
        ("csrf", csrf.as_str()),
        ("key", key.as_str()),
        ("what", what),
        ("risk", "illness"),
        ("household_id", other_id.as_str()),
    ];
    let (status, location, _) = post_page(&app, "/f/monitoring", &cookie, &form).await;
    assert_eq!(status, 303);
    assert!(location.unwrap().starts_with("/f/monitoring?sent="));
    let records = entities::monitored_household::Entity::find()
        .all(app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].household_id, own);
    assert_eq!(records[0].channel, DiscoveryChannel::Application);
    assert_eq!(records[0].note.as_deref(), Some(what));
    let case = entities::monitoring_case::Entity::find()
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(case.household_id, own);
    assert_eq!(
        case.state,
        entities::monitoring_case::MonitoringState::Warning
    );
    // Sent again (a double tap): nothing new.
    let (status, _, _) = post_page(&app, "/f/monitoring", &cookie, &form).await;
    assert_eq!(status, 303);

    // A second application while the first is open: refused plainly, the words kept.
    let again = [
        ("csrf", csrf.as_str()),
        ("key", "second-application"),
        ("what", "又遭了冰雹"),
        ("risk", "disaster"),
    ];
    let (status, _, html) = post_page(&app, "/f/monitoring", &cookie, &again).await;
    assert_eq!(status, 403, "{html}");
    assert!(html.contains("已经在监测中"), "{html}");
    assert!(html.contains("又遭了冰雹"));
    assert_eq!(
        entities::monitored_household::Entity::find()
            .all(app.state.db.conn())
            .await
            .unwrap()
            .len(),
        1
    );

    // Empty words: the form again, the choice kept.
    let empty = [
        ("csrf", csrf.as_str()),
        ("key", "third"),
        ("what", "  "),
        ("risk", "accident"),
    ];
    let (status, _, html) = post_page(&app, "/f/monitoring", &cookie, &empty).await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("value=\"accident\" checked"));

    // A farmer bound to no household is told so plainly.
    api::testing::account(
        &app.state.db,
        "13600000032",
        Role::Farmer,
        None,
        support::PASSWORD,
    )
    .await;
    let cookie = page_cookie(&app, "13600000032").await;
    let (status, _, html) = page_text(
        app.client
            .get("/f/monitoring")
            .header("cookie", &cookie)
            .send()
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("还没有绑定登记的农户"));
}
