//! The officials' pages: the dashboard of a county and of a township, a drill-down and an
//! area that is not the reader's, the village ranking, the cases waiting with their step
//! forms and a refused step, a household's file, and production and sales.

use api::domain::county_time::SystemClock;
use api::{
    service::{
        auth::actor_of,
        exit::{
            cases::{self, ExitAction, ExitSubjectRef},
            progress,
        },
        market::listings::{self, ListingFields},
        policy::Actor,
        users::Origin,
    },
    testing::TestApp,
};
use chrono::{Duration, Utc};
use entities::{area, exit_case, listing::ListingStatus, progress_snapshot, user::Role};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};
use serde_json::{Value, json};

use super::{Page, cookie_for, open, post};
use crate::{assert_page, support};

const COUNTY: &str = "13900000011";
const TOWNSHIP: &str = "13900000012";
const CADRE: &str = "13900000021";
const OTHER_TOWNSHIP: &str = "13900000022";
const FARMER: &str = "13600000001";
const BUYER: &str = "13700000001";
const VILLAGE: &str = "500235101201";

/// A county on its way: one household exited, one waiting for the village's appraisal, one
/// whose public notice has ended and waits for the township, one still poor that sells its
/// goods; a day's snapshots and another from ten days before.
struct County {
    app: TestApp,
    exited: i64,
    proposed: i64,
    noticed: i64,
    proposed_case: i64,
    noticed_case: i64,
    cookies: Vec<(&'static str, String)>,
}

impl County {
    async fn set_up() -> Self {
        let app = TestApp::spawn_with(|s| {
            s.yearly_goal_people = [(2025, 60_000), (2026, 135_000)].into();
        })
        .await;
        let county = support::official(&app, COUNTY, Role::CountyOfficial, "500235").await;
        let township =
            support::official(&app, TOWNSHIP, Role::TownshipOfficial, "500235101000").await;
        let cadre = support::official(&app, CADRE, Role::VillageCadre, VILLAGE).await;
        support::official(&app, OTHER_TOWNSHIP, Role::TownshipOfficial, "500235102000").await;
        let (county, township, cadre) = (actor_of(&county), actor_of(&township), actor_of(&cadre));
        poor_village(&app, VILLAGE, 400).await;

        let exited = crate::exit::qualifying_household(&app, 1).await;
        let case = propose(&app, &cadre, exited).await;
        for (actor, action) in [
            (&cadre, ExitAction::Appraise),
            (&cadre, ExitAction::Verify),
            (&cadre, ExitAction::StartNotice),
        ] {
            step(&app, actor, case, action).await;
        }
        end_notice(&app, case).await;
        for (actor, action) in [
            (&township, ExitAction::Review),
            (&county, ExitAction::Approve),
            (&county, ExitAction::Announce),
        ] {
            step(&app, actor, case, action).await;
        }

        let proposed = crate::exit::qualifying_household(&app, 2).await;
        let proposed_case = propose(&app, &cadre, proposed).await;
        let noticed = crate::exit::qualifying_household(&app, 3).await;
        let noticed_case = propose(&app, &cadre, noticed).await;
        for action in [
            ExitAction::Appraise,
            ExitAction::Verify,
            ExitAction::StartNotice,
        ] {
            step(&app, &cadre, noticed_case, action).await;
        }
        end_notice(&app, noticed_case).await;

        // Today's numbers, and the same ten days before with nobody lifted out yet.
        progress::take_snapshots(&app.state.db, &app.state.exit_rules)
            .await
            .unwrap();
        for today in progress_snapshot::Entity::find()
            .all(app.state.db.conn())
            .await
            .unwrap()
        {
            // Ten days before the snapshot's own day: the county's, not UTC's.
            let day = today.day - chrono::Days::new(10);
            let mut earlier = today.into_active_model();
            earlier.id = sea_orm::ActiveValue::NotSet;
            earlier.day = Set(day);
            earlier.people_lifted_out = Set(0);
            earlier.insert(app.state.db.conn()).await.unwrap();
        }
        let mut cookies = Vec::new();
        for phone in [COUNTY, TOWNSHIP, CADRE, OTHER_TOWNSHIP] {
            cookies.push((phone, cookie_for(&app, phone).await));
        }
        Self {
            app,
            exited,
            proposed,
            noticed,
            proposed_case,
            noticed_case,
            cookies,
        }
    }

    fn cookie(&self, phone: &str) -> &str {
        &self.cookies.iter().find(|(p, _)| *p == phone).unwrap().1
    }

    async fn open(&self, path: &str, phone: &str, lang: &str) -> Page {
        open(&self.app, path, Some(self.cookie(phone)), lang).await
    }

    /// Ids and numbers that differ between databases, as placeholders.
    fn redacted(&self, page: Page) -> Page {
        let mut html = page.html;
        for (case, name) in [
            (self.proposed_case, "[proposed case]"),
            (self.noticed_case, "[noticed case]"),
        ] {
            html = html
                .replace(&format!("\"case-{case}\""), &format!("\"case-{name}\""))
                .replace(&format!("reason-{case}-"), &format!("reason-{name}-"));
        }
        for household in [self.exited, self.proposed, self.noticed] {
            html = html.replace(&format!("#{household}<"), "#[id]<");
        }
        Page {
            status: page.status,
            html,
        }
    }
}

async fn poor_village(app: &TestApp, code: &str, rural_population: i64) {
    let village = area::Entity::find_by_id(code.to_owned())
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    let mut active = village.into_active_model();
    active.rural_population = Set(rural_population);
    active.is_poor_village = Set(true);
    active.update(app.state.db.conn()).await.unwrap();
}

async fn propose(app: &TestApp, cadre: &Actor, household: i64) -> i64 {
    cases::propose(
        &app.state.db,
        &SystemClock,
        &app.state.exit_rules,
        cadre,
        ExitSubjectRef::Household(household),
        crate::exit::YEAR,
        &Origin::default(),
    )
    .await
    .unwrap()
    .case
    .id
}

async fn step(app: &TestApp, actor: &Actor, case: i64, action: ExitAction) {
    cases::transition(
        &app.state.db,
        &SystemClock,
        &app.state.exit_rules,
        actor,
        case,
        action,
        None,
        &Origin::default(),
    )
    .await
    .unwrap();
}

/// Moves the notice's end into the past, as the days passing would.
async fn end_notice(app: &TestApp, case: i64) {
    let case = exit_case::Entity::find_by_id(case)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    let mut active = case.into_active_model();
    active.notice_ends_at = Set(Some(Utc::now() - Duration::seconds(1)));
    active.update(app.state.db.conn()).await.unwrap();
}

/// The line over time against the yearly targets is drawn where today falls between them:
/// its coordinates move with the calendar.
fn without_coordinates(page: Page) -> Page {
    let mut html = page.html;
    for attribute in ["points=\"", "cx=\"", "cy=\""] {
        let mut out = String::with_capacity(html.len());
        let mut rest = html.as_str();
        while let Some(start) = rest.find(attribute) {
            let value = start + attribute.len();
            let end = value + rest[value..].find('"').unwrap();
            out.push_str(&rest[..value]);
            out.push_str("[plotted]");
            rest = &rest[end..];
        }
        out.push_str(rest);
        html = out;
    }
    Page {
        status: page.status,
        html,
    }
}

#[tokio::test]
async fn the_dashboard_a_drill_down_and_the_village_ranking() {
    let county = County::set_up().await;
    assert_page!(
        "official_dashboard_county",
        without_coordinates(county.open("/o", COUNTY, "zh").await)
    );
    assert_page!(
        "official_dashboard_township",
        county.open("/o", TOWNSHIP, "zh").await
    );
    assert_page!(
        "official_dashboard_township_en",
        county.open("/o", TOWNSHIP, "en").await
    );
    // The county official opens one of their townships.
    assert_page!(
        "official_dashboard_drill_down",
        county.open("/o?area=500235101000", COUNTY, "zh").await
    );
    // A village's dashboard: no parts, no snapshots of its own.
    assert_page!(
        "official_dashboard_village",
        county.open("/o", CADRE, "zh").await
    );
    assert_page!(
        "official_dashboard_not_yours",
        county.open("/o?area=500235102000", TOWNSHIP, "zh").await
    );
    assert_page!(
        "official_villages_township",
        county.open("/o/villages", TOWNSHIP, "zh").await
    );
    assert_page!(
        "official_villages_not_yours",
        county
            .open("/o/villages?area=500235102000", TOWNSHIP, "zh")
            .await
    );
}

#[tokio::test]
async fn the_village_ranking_with_nothing_to_de_list() {
    let app = TestApp::spawn().await;
    // A township none of whose villages is poor.
    let township = "500235101000";
    let villages: Vec<area::Model> = area::Entity::find()
        .all(app.state.db.conn())
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.is_poor_village && a.code.starts_with(&township[..9]))
        .collect();
    for village in villages {
        let mut active = village.into_active_model();
        active.is_poor_village = Set(false);
        active.update(app.state.db.conn()).await.unwrap();
    }
    support::official(&app, TOWNSHIP, Role::TownshipOfficial, township).await;
    let cookie = cookie_for(&app, TOWNSHIP).await;
    assert_page!(
        "official_villages_none",
        open(&app, "/o/villages", Some(&cookie), "zh").await
    );
}

#[tokio::test]
async fn the_cases_waiting_their_steps_and_a_refused_step() {
    let county = County::set_up().await;
    let cadre = county.cookie(CADRE);
    assert_page!(
        "official_cases_cadre",
        county.redacted(county.open("/o/cases", CADRE, "zh").await)
    );
    assert_page!(
        "official_cases_township",
        county.redacted(county.open("/o/cases", TOWNSHIP, "zh").await)
    );
    assert_page!(
        "official_cases_township_en",
        county.redacted(county.open("/o/cases", TOWNSHIP, "en").await)
    );
    assert_page!(
        "official_cases_none",
        county.open("/o/cases", OTHER_TOWNSHIP, "zh").await
    );

    let page = county.open("/o/cases", CADRE, "zh").await;
    let csrf = csrf_in(&page.html);
    // Rejecting needs a reason: the list again, saying so.
    assert_page!(
        "official_cases_refused_step",
        county.redacted(
            post(
                &county.app,
                &format!("/o/cases/{}/reject", county.proposed_case),
                Some(cadre),
                &[("csrf", &csrf), ("reason", " ")],
            )
            .await
        )
    );
    assert_page!(
        "official_cases_no_such_step",
        county.redacted(
            post(
                &county.app,
                &format!("/o/cases/{}/fly", county.proposed_case),
                Some(cadre),
                &[("csrf", &csrf)],
            )
            .await
        )
    );
    // A step taken goes back to the list.
    let taken = post(
        &county.app,
        &format!("/o/cases/{}/appraise", county.proposed_case),
        Some(cadre),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(taken.status, poem::http::StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_households_file() {
    let county = County::set_up().await;
    let path = format!("/o/households/{}", county.exited);
    assert_page!(
        "official_household",
        county.open(&path, TOWNSHIP, "zh").await
    );
    assert_page!(
        "official_household_en",
        county.open(&path, TOWNSHIP, "en").await
    );
    // A year with nothing recorded.
    assert_page!(
        "official_household_year_before",
        county
            .open(&format!("{path}?year=2015"), TOWNSHIP, "zh")
            .await
    );
    assert_page!(
        "official_household_not_found",
        county.open(&path, OTHER_TOWNSHIP, "zh").await
    );
    assert_page!(
        "official_household_missing",
        county.open("/o/households/999999", TOWNSHIP, "zh").await
    );
}

/// The anti-forgery token on a page's forms.
fn csrf_in(html: &str) -> String {
    let start = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with its token")
        + 19;
    html[start..].split('"').next().expect("a token").to_owned()
}

async fn call(app: &TestApp, method: &str, path: &str, token: &str, body: Value) -> Value {
    let request = match method {
        "POST" => app.client.post(path),
        _ => app.client.get(path),
    };
    let resp = request
        .header("authorization", format!("Bearer {token}"))
        .body_json(&body)
        .send()
        .await;
    let status = resp.0.status();
    let body = support::json_of(resp).await;
    assert!(status.is_success(), "{path}: {status} {body}");
    body
}

/// A farmer's harvest on a plot and another without, and one sale completed to Guangdong.
async fn harvest_and_sale(app: &TestApp) {
    let household = support::household_in(app, VILLAGE, 4).await;
    let farmer = support::farmer_account(app, FARMER, household).await;
    support::buyer_account(app, BUYER).await;
    let (seller, _) = support::tokens(app, FARMER).await;
    let (buyer, _) = support::tokens(app, BUYER).await;
    let category = api::service::market::catalogue::list(&app.state.db, false)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.code == "sweet_potato_vermicelli")
        .unwrap();
    let plot = call(
        app,
        "POST",
        "/api/v1/plots",
        &seller,
        json!({ "name": "屋后坡地", "area_mu": 1.25, "crop": "红薯" }),
    )
    .await;
    for (quantity, plot_id) in [(300, plot["id"].clone()), (120, Value::Null)] {
        call(
            app,
            "POST",
            "/api/v1/batches",
            &seller,
            json!({ "category_id": category.id, "plot_id": plot_id, "quantity": quantity,
                     "produced_on": "2025-10-20" }),
        )
        .await;
    }
    let listing = listings::create(
        &app.state.db,
        &actor_of(&farmer),
        ListingFields {
            category_id: Some(category.id),
            title: Some("高山红薯粉条 5斤装".into()),
            price_fen: Some(4_500),
            stock: Some(20),
            status: Some(ListingStatus::OnSale),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id;
    let order = call(
        app,
        "POST",
        "/api/v1/orders",
        &buyer,
        json!({
            "listing_id": listing,
            "quantity": 2,
            "province_code": "440000",
            "city_code": "440300",
            "address": "南山区科技园 1 号",
            "recipient_name": "李四",
            "recipient_phone": BUYER,
        }),
    )
    .await;
    let id = order["id"].as_i64().unwrap();
    for (token, action) in [
        (&seller, "pay"),
        (&seller, "ship"),
        (&seller, "deliver"),
        (&buyer, "complete"),
    ] {
        call(
            app,
            "POST",
            &format!("/api/v1/orders/{id}/steps"),
            token,
            json!({ "action": action, "carrier": "sf", "waybill_number": "SF1234567890123" }),
        )
        .await;
    }
}

/// The year chips name this year and the last: they move with the calendar.
fn without_years(page: Page) -> Page {
    let this_year = api::domain::county_time::year_of(Utc::now());
    let html = page
        .html
        .replace(&this_year.to_string(), "[this year]")
        .replace(&(this_year - 1).to_string(), "[last year]");
    Page {
        status: page.status,
        html,
    }
}

#[tokio::test]
async fn production_and_sales() {
    let app = TestApp::spawn().await;
    support::official(&app, COUNTY, Role::CountyOfficial, "500235").await;
    support::official(&app, TOWNSHIP, Role::TownshipOfficial, "500235101000").await;
    support::official(&app, OTHER_TOWNSHIP, Role::TownshipOfficial, "500235102000").await;
    harvest_and_sale(&app).await;
    let county = cookie_for(&app, COUNTY).await;
    assert_page!(
        "official_stats_county",
        without_years(open(&app, "/o/stats", Some(&county), "zh").await)
    );
    assert_page!(
        "official_stats_township_en",
        without_years(open(&app, "/o/stats?area=500235101000", Some(&county), "en").await)
    );
    let elsewhere = cookie_for(&app, OTHER_TOWNSHIP).await;
    assert_page!(
        "official_stats_nothing_recorded",
        without_years(open(&app, "/o/stats", Some(&elsewhere), "zh").await)
    );
    assert_page!(
        "official_stats_not_yours",
        open(&app, "/o/stats?area=500235101000", Some(&elsewhere), "zh").await
    );
    // A village's own page, for its officials and those above only.
    assert_page!(
        "official_village",
        open(&app, &format!("/o/villages/{VILLAGE}"), Some(&county), "zh").await
    );
    let not_yours = open(
        &app,
        &format!("/o/villages/{VILLAGE}"),
        Some(&elsewhere),
        "zh",
    )
    .await;
    assert_eq!(not_yours.status, poem::http::StatusCode::NOT_FOUND);
    let township = open(&app, "/o/villages/500235101000", Some(&county), "zh").await;
    assert_eq!(township.status, poem::http::StatusCode::NOT_FOUND);
}

/// Every figure of `/o/stats` recounted from the batches and orders themselves: each unit apart
/// (斤 never added to 件), every ranking largest first, thousands apart on the page.
#[tokio::test]
async fn the_stats_figures_are_a_recount_of_batches_and_orders_sorted_by_size_units_apart() {
    use api::service::market::production_and_sales;
    use entities::{batch, order, order::OrderStatus};
    use std::collections::BTreeMap;

    let app = TestApp::spawn().await;
    let county = support::official(&app, COUNTY, Role::CountyOfficial, "500235").await;
    harvest_and_sale(&app).await;
    let (seller, _) = support::tokens(&app, FARMER).await;
    let categories = api::service::market::catalogue::list(&app.state.db, false)
        .await
        .unwrap();
    let (first, second) = (categories[0].id, categories[1].id);
    // The same product in three units, and another product: 1,250 jin is the largest line.
    for (category, quantity, unit) in [
        (first, 1_250, "jin"),
        (first, 40, "piece"),
        (first, 7, "box"),
        (second, 90, "jin"),
        (second, 400, "piece"),
    ] {
        call(
            &app,
            "POST",
            "/api/v1/batches",
            &seller,
            json!({ "category_id": category, "quantity": quantity, "unit": unit,
                     "produced_on": "2025-11-02" }),
        )
        .await;
    }

    let actor = actor_of(&county);
    let stats = production_and_sales::of(&app.state.db, &app.state.cache, &actor, None, None)
        .await
        .unwrap();
    let board = stats.board();

    // Production: (unit, product) → quantity, recounted from the batches.
    let mut recount: BTreeMap<(String, String), i64> = BTreeMap::new();
    for b in batch::Entity::find()
        .all(app.state.db.conn())
        .await
        .unwrap()
    {
        let product = categories.iter().find(|c| c.id == b.category_id).unwrap();
        *recount
            .entry((format!("{:?}", b.unit), product.name_zh.clone()))
            .or_default() += b.quantity;
    }
    let mut shown: BTreeMap<(String, String), i64> = BTreeMap::new();
    for group in &board.products {
        let quantities: Vec<i64> = group.bars.iter().map(|b| b.quantity).collect();
        let mut sorted = quantities.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(quantities, sorted, "largest first in {:?}", group.unit);
        assert_eq!(group.total, quantities.iter().sum::<i64>());
        for bar in &group.bars {
            let before = shown.insert(
                (format!("{:?}", group.unit), bar.name.clone()),
                bar.quantity,
            );
            assert!(before.is_none(), "one bar a product in a unit");
        }
    }
    assert_eq!(shown, recount);
    let totals: Vec<i64> = board.products.iter().map(|g| g.total).collect();
    assert!(totals.windows(2).all(|w| w[0] >= w[1]), "{totals:?}");
    assert_eq!(board.products[0].unit, entities::listing::Unit::Jin);

    // Sales: product → province → amount, recounted from the completed orders.
    let mut sold: BTreeMap<(i64, String), i64> = BTreeMap::new();
    for o in order::Entity::find()
        .all(app.state.db.conn())
        .await
        .unwrap()
    {
        if o.status == OrderStatus::Completed {
            *sold.entry((o.category_id, o.province_code)).or_default() += o.amount_fen;
        }
    }
    let mut tabled: BTreeMap<(i64, String), i64> = BTreeMap::new();
    for product in &board.destinations {
        let amounts: Vec<i64> = product.provinces.iter().map(|p| p.amount_fen).collect();
        assert_eq!(product.amount_fen, amounts.iter().sum::<i64>());
        assert!(amounts.windows(2).all(|w| w[0] >= w[1]));
        assert_eq!(
            product.provinces.iter().map(|p| p.permille).sum::<i64>(),
            1000
        );
        for p in &product.provinces {
            tabled.insert((product.key.parse().unwrap(), p.key.clone()), p.amount_fen);
        }
    }
    assert!(!sold.is_empty());
    assert_eq!(tabled, sold);

    // The page shows the same, in the same order, thousands apart.
    let page = open(
        &app,
        "/o/stats",
        Some(&cookie_for(&app, COUNTY).await),
        "zh",
    )
    .await;
    assert!(page.html.contains("1,250 斤"), "{}", page.html);
    let first_bar = page.html.find("1,250 斤").unwrap();
    let piece = page.html.find("400 件").unwrap();
    assert!(first_bar < piece, "the unit with most comes first");
    assert!(
        page.html.contains("¥90 · 1 单"),
        "amounts and orders of Guangdong"
    );
    assert!(page.html.contains("100.0%"));
}

#[tokio::test]
async fn a_villages_page_recounts_its_households_cases_indicators_and_sales_within_the_area_only() {
    use api::service::exit::assessment::incidence_bp;
    use entities::{
        household::{self, HouseholdStatus},
        household_member::{self, MemberRelation},
        order::{self, OrderStatus},
    };
    use sea_orm::{ColumnTrait, QueryFilter};

    let county = County::set_up().await;
    harvest_and_sale(&county.app).await;
    let db = county.app.state.db.conn();
    let path = format!("/o/villages/{VILLAGE}");
    let page = county.open(&path, TOWNSHIP, "zh").await;
    assert_eq!(page.status, poem::http::StatusCode::OK);
    let html = &page.html;

    // Each state's households and people, recounted from the registry.
    let households = household::Entity::find()
        .filter(household::Column::VillageCode.eq(VILLAGE))
        .all(db)
        .await
        .unwrap();
    assert!(households.len() >= 4, "the county's three and the farmer's");
    let members = household_member::Entity::find().all(db).await.unwrap();
    let people = |id: i64| members.iter().filter(|m| m.household_id == id).count();
    for (status, name) in [
        (HouseholdStatus::Returned, "返贫户"),
        (HouseholdStatus::Poor, "未脱贫"),
        (HouseholdStatus::ExitPending, "退出中"),
        (HouseholdStatus::Exited, "已脱贫"),
    ] {
        let of: Vec<_> = households.iter().filter(|h| h.status == status).collect();
        let line = format!(
            "{name} {} 户 · {} 人",
            of.len(),
            of.iter().map(|h| people(h.id)).sum::<usize>()
        );
        assert_eq!(html.contains(&line), !of.is_empty(), "{line}\n{html}");
    }
    // Every household is a link, its head named.
    for h in &households {
        assert!(html.contains(&format!("href=\"/o/households/{}\"", h.id)));
        let head = members
            .iter()
            .find(|m| m.household_id == h.id && m.relation == MemberRelation::Head)
            .unwrap();
        assert!(html.contains(&head.name), "{}", head.name);
    }

    // The open cases: the proposed one and the one whose notice ended.
    let open = exit_case::Entity::find()
        .filter(exit_case::Column::VillageCode.eq(VILLAGE))
        .filter(exit_case::Column::Open.eq(true))
        .all(db)
        .await
        .unwrap();
    assert_eq!(open.len(), 2);
    assert!(html.contains(&format!("进行中的退出申请（{}）", open.len())));
    assert!(html.contains("拟退出") && html.contains("公示中"));

    // Poverty incidence from the members of households still poor, against 400 people.
    let still_poor: usize = households
        .iter()
        .filter(|h| h.status != HouseholdStatus::Exited)
        .map(|h| people(h.id))
        .sum();
    let bp = incidence_bp(still_poor as i64, 400);
    assert!(
        html.contains(&format!("贫困发生率 {}.{:02}%", bp / 100, bp % 100)),
        "{html}"
    );
    assert!(html.contains("低于 3.00%"));

    // Sales: the village's completed orders and their amount.
    let completed: Vec<_> = order::Entity::find()
        .filter(order::Column::VillageCode.eq(VILLAGE))
        .filter(order::Column::Status.eq(OrderStatus::Completed))
        .all(db)
        .await
        .unwrap();
    let amount: i64 = completed.iter().map(|o| o.amount_fen).sum();
    assert!(!completed.is_empty());
    assert!(
        html.contains(&format!("销售 {} 单 · ¥{}", completed.len(), amount / 100)),
        "{html}"
    );

    // The village's cadre reads it too; a township official elsewhere finds no such page.
    assert_eq!(
        county.open(&path, CADRE, "zh").await.status,
        poem::http::StatusCode::OK
    );
    let elsewhere = county.open(&path, OTHER_TOWNSHIP, "zh").await;
    assert_eq!(elsewhere.status, poem::http::StatusCode::NOT_FOUND);
    assert!(!elsewhere.html.contains("贫困发生率"));
    for h in &households {
        assert!(!elsewhere.html.contains(&format!("/o/households/{}", h.id)));
    }
}
