//! A refused form comes back with what the farmer typed and the reason beside it, so nothing is
//! typed twice on a phone.

use api::{
    service::{auth::actor_of, trace::production},
    testing::TestApp,
};
use chrono::{TimeZone, Utc};
use entities::order::OrderStatus;
use poem::http::StatusCode;

use crate::page_snapshots::{Page, cookie_for, open, post};
use crate::support;

const FARMER: &str = "13911114444";
const VILLAGE: &str = "500235101201";

fn csrf_of(page: &Page) -> String {
    let start = page.html.find("name=\"csrf\" value=\"").expect("a form") + 19;
    page.html[start..]
        .split('"')
        .next()
        .expect("a token")
        .to_owned()
}

async fn signed_in(app: &TestApp) -> (api::service::policy::Actor, String) {
    let household = support::household_in(app, VILLAGE, 1).await;
    let user = support::farmer_account(app, FARMER, household).await;
    (actor_of(&user), cookie_for(app, FARMER).await)
}

#[tokio::test]
async fn a_refused_batch_keeps_its_product_plot_quantity_unit_and_day() {
    let app = TestApp::spawn_at(Utc.with_ymd_and_hms(2026, 12, 1, 23, 30, 0).unwrap()).await;
    let (actor, cookie) = signed_in(&app).await;
    let plot = production::create_plot(
        &app.state.db,
        &actor,
        production::NewPlot {
            name: "2号地".into(),
            village: None,
            area_mu: 1.0,
            crop: "红苕".into(),
            crop_ids: Vec::new(),
            location: None,
        },
    )
    .await
    .unwrap();
    let csrf = csrf_of(&open(&app, "/f/batches", Some(&cookie), "zh").await);
    let category = support::category_id(&app, "sweet_potato_vermicelli").await;
    let refused = post(
        &app,
        "/f/batches",
        Some(&cookie),
        &[
            ("csrf", &csrf),
            ("category", &category.to_string()),
            ("plot", &plot.id.to_string()),
            ("quantity", "0"),
            ("unit", "kg"),
            ("produced_on", "2026-11-28"),
        ],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = &refused.html;
    assert!(html.contains("数量请填 1 到 1 亿之间的整数"), "the reason");
    assert!(html.contains(&format!("<option value=\"{category}\" selected>")));
    assert!(html.contains(&format!("<option value=\"{}\" selected>", plot.id)));
    assert!(html.contains("name=\"quantity\" inputmode=\"numeric\" required value=\"0\""));
    assert!(html.contains("<option value=\"kg\" selected>"));
    assert!(
        html.contains("value=\"2026-11-28\""),
        "the day typed, not today"
    );
}

#[tokio::test]
async fn a_refused_step_keeps_its_kind_result_place_day_and_time() {
    let app = TestApp::spawn_at(Utc.with_ymd_and_hms(2026, 12, 1, 23, 30, 0).unwrap()).await;
    let (actor, cookie) = signed_in(&app).await;
    let category = support::category_id(&app, "sweet_potato_vermicelli").await;
    let batch = production::create_batch(
        &app.state.db,
        &*app.state.clock,
        &actor,
        production::NewBatch {
            category_id: category,
            plot_id: None,
            quantity: 100,
            unit: None,
            produced_on: app.state.clock.today(),
            note: String::new(),
            listing_ids: Vec::new(),
        },
    )
    .await
    .unwrap();
    let path = format!("/f/batches/{}", batch.id);
    let fresh = open(&app, &path, Some(&cookie), "zh").await;
    assert!(
        fresh.html.contains("value=\"2026-12-02\""),
        "today in the county"
    );
    assert!(fresh.html.contains("value=\"07:30\""), "now in the county");
    let csrf = csrf_of(&fresh);

    // Packed, with an inspection result: refused, and everything typed is still there.
    let refused = post(
        &app,
        &format!("{path}/events"),
        Some(&cookie),
        &[
            ("csrf", &csrf),
            ("kind", "packed"),
            ("result", "pass"),
            ("place", "村加工坊"),
            ("day", "2026-12-01"),
            ("time", "16:45"),
        ],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = &refused.html;
    assert!(html.contains("检验这一步要选合格或不合格"), "the reason");
    assert!(html.contains("<option value=\"packed\" selected>"));
    assert!(html.contains("<option value=\"pass\" selected>"));
    assert!(html.contains("value=\"村加工坊\""));
    assert!(html.contains("value=\"2026-12-01\""));
    assert!(html.contains("value=\"16:45\""));

    // The same step without the result lands on the day and at the time typed.
    let recorded = post(
        &app,
        &format!("{path}/events"),
        Some(&cookie),
        &[
            ("csrf", &csrf),
            ("kind", "packed"),
            ("place", "村加工坊"),
            ("day", "2026-12-01"),
            ("time", "16:45"),
        ],
    )
    .await;
    assert_eq!(recorded.status, StatusCode::SEE_OTHER, "{}", recorded.html);
    let page = open(&app, &path, Some(&cookie), "zh").await;
    assert!(page.html.contains("2026-12-01 16:45 村加工坊"));

    // A step later than now is refused with the typed time kept.
    let later = post(
        &app,
        &format!("{path}/events"),
        Some(&cookie),
        &[
            ("csrf", &csrf),
            ("kind", "shipped"),
            ("day", "2026-12-02"),
            ("time", "09:00"),
        ],
    )
    .await;
    assert_eq!(later.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(later.html.contains("这一步的时间不能晚于现在"));
    assert!(later.html.contains("value=\"09:00\""));
}

#[tokio::test]
async fn a_refused_run_of_codes_keeps_the_count_typed() {
    let app = TestApp::spawn().await;
    let (actor, cookie) = signed_in(&app).await;
    let category = support::category_id(&app, "sweet_potato_vermicelli").await;
    let batch = production::create_batch(
        &app.state.db,
        &*app.state.clock,
        &actor,
        production::NewBatch {
            category_id: category,
            plot_id: None,
            quantity: 100,
            unit: None,
            produced_on: app.state.clock.today(),
            note: String::new(),
            listing_ids: Vec::new(),
        },
    )
    .await
    .unwrap();
    let path = format!("/f/batches/{}", batch.id);
    let csrf = csrf_of(&open(&app, &path, Some(&cookie), "zh").await);
    let refused = post(
        &app,
        &format!("{path}/codes"),
        Some(&cookie),
        &[("csrf", &csrf), ("count", "200000")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.html.contains("一次生成 1 到 100000 个溯源码"));
    assert!(
        refused
            .html
            .contains("name=\"count\" inputmode=\"numeric\" required value=\"200000\"")
    );
}

#[tokio::test]
async fn the_batch_page_downloads_the_codes_and_each_label_page() {
    let app = TestApp::spawn().await;
    let (actor, cookie) = signed_in(&app).await;
    let category = support::category_id(&app, "sweet_potato_vermicelli").await;
    let batch = production::create_batch(
        &app.state.db,
        &*app.state.clock,
        &actor,
        production::NewBatch {
            category_id: category,
            plot_id: None,
            quantity: 100,
            unit: None,
            produced_on: app.state.clock.today(),
            note: String::new(),
            listing_ids: Vec::new(),
        },
    )
    .await
    .unwrap();
    let run =
        api::service::trace::codes::issue(&app.state.db, &app.state.cache, &actor, batch.id, 30)
            .await
            .unwrap();
    let path = format!("/f/batches/{}", batch.id);
    let page = open(&app, &path, Some(&cookie), "zh").await;
    let runs = format!("{path}/runs/{}", run.id);
    assert!(page.html.contains(&format!("href=\"{runs}/codes.csv\"")));
    assert!(page.html.contains(&format!("href=\"{runs}/labels/1\"")));
    assert!(
        page.html.contains(&format!("href=\"{runs}/labels/2\"")),
        "30 labels fill 2 pages"
    );
    assert!(!page.html.contains(&format!("href=\"{runs}/labels/3\"")));

    let csv = app
        .client
        .get(format!("{runs}/codes.csv"))
        .header("cookie", &cookie)
        .send()
        .await;
    csv.assert_status_is_ok();
    let csv = csv.0.into_body().into_string().await.unwrap();
    assert_eq!(csv.lines().count(), 31, "a header and 30 codes");

    let png = app
        .client
        .get(format!("{runs}/labels/2"))
        .header("cookie", &cookie)
        .send()
        .await;
    png.assert_status_is_ok();
    assert_eq!(png.0.headers()["x-total-pages"], "2");
    let png = png.0.into_body().into_vec().await.unwrap();
    assert_eq!(&png[1..4], b"PNG");

    let past = app
        .client
        .get(format!("{runs}/labels/3"))
        .header("cookie", &cookie)
        .send()
        .await;
    past.assert_status(StatusCode::NOT_FOUND);
}

/// An order of two of the farmer's tangerines, placed by a buyer; the buyer's cookie.
async fn ordered(app: &TestApp, actor: &api::service::policy::Actor) -> (i64, String) {
    use api::{
        domain::{Phone, region::Destination},
        service::market::{
            listings::{self, ListingFields},
            orders::{self, NewOrder},
        },
    };
    let category = support::category_id(app, "red_tangerine").await;
    let listing = listings::create(
        &app.state.db,
        actor,
        ListingFields {
            category_id: Some(category),
            title: Some("红橘 10斤".into()),
            price_fen: Some(3000),
            stock: Some(20),
            status: Some(entities::listing::ListingStatus::OnSale),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let buyer = support::buyer_account(app, "13700004444").await;
    let placed = orders::place(
        &app.state.db,
        &actor_of(&buyer),
        NewOrder {
            listing_id: listing.id,
            quantity: 2,
            destination: Destination::of_city("440300").unwrap(),
            address: "南山区科技园 1 号".into(),
            recipient_name: "李四".into(),
            recipient_phone: Phone::parse("13700004444").unwrap(),
            idempotency_key: None,
        },
    )
    .await
    .unwrap();
    (placed.order.id, cookie_for(app, "13700004444").await)
}

/// Where `needle` first is in the page.
fn at(html: &str, needle: &str) -> usize {
    html.find(needle)
        .unwrap_or_else(|| panic!("{needle} in the page"))
}

#[tokio::test]
async fn a_refused_cancellation_keeps_the_reason_typed_and_says_why_beside_it() {
    let app = TestApp::spawn().await;
    let (actor, cookie) = signed_in(&app).await;
    let (order, _) = ordered(&app, &actor).await;
    let path = format!("/f/orders/{order}/cancel");
    let csrf = csrf_of(&open(&app, &path, Some(&cookie), "zh").await);

    // Ticked, without a reason: the form again, the reason asked for beside its field.
    let refused = post(
        &app,
        &path,
        Some(&cookie),
        &[("csrf", &csrf), ("reason", "  "), ("confirm", "1")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = &refused.html;
    let said = at(html, "请写上取消的原因，买家会看到");
    assert!(
        at(html, "</textarea>") < said && said < at(html, "name=\"confirm\""),
        "the reason is said beside the reason's field: {html}"
    );

    // A reason too long: kept as typed, the reason beside it.
    let long = "货卖完了".repeat(51);
    let refused = post(
        &app,
        &path,
        Some(&cookie),
        &[("csrf", &csrf), ("reason", &long), ("confirm", "1")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = &refused.html;
    assert!(
        html.contains(&format!(">{long}</textarea>")),
        "the reason kept"
    );
    let said = at(html, "取消原因最多 200 个字");
    assert!(at(html, "</textarea>") < said && said < at(html, "name=\"confirm\""));

    // Not ticked: the reason typed kept, the tick asked for beside the box.
    let refused = post(
        &app,
        &path,
        Some(&cookie),
        &[("csrf", &csrf), ("reason", "货卖完了，抱歉")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = &refused.html;
    assert!(html.contains(">货卖完了，抱歉</textarea>"));
    assert!(at(html, "name=\"confirm\"") < at(html, "请勾选“我确认取消这笔订单”"));

    assert_eq!(
        status_of(&app, order).await,
        OrderStatus::Placed,
        "nothing cancelled"
    );
}

async fn status_of(app: &TestApp, order: i64) -> OrderStatus {
    use sea_orm::EntityTrait;
    entities::order::Entity::find_by_id(order)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap()
        .status
}

#[tokio::test]
async fn a_refused_step_of_the_buyers_order_keeps_what_was_typed_beside_its_reason() {
    let app = TestApp::spawn().await;
    let (actor, _) = signed_in(&app).await;
    let (order, buyer) = ordered(&app, &actor).await;
    let csrf = csrf_of(&open(&app, "/m/orders", Some(&buyer), "zh").await);

    let long = "不想要了".repeat(51);
    let refused = post(
        &app,
        &format!("/m/orders/{order}/cancel"),
        Some(&buyer),
        &[("csrf", &csrf), ("reason", &long)],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = &refused.html;
    let field = format!("id=\"reason-{order}\" name=\"reason\" maxlength=\"200\" value=\"{long}\"");
    assert!(html.contains(&field), "the reason kept as typed: {html}");
    let said = at(html, "取消原因最多 200 个字");
    assert!(
        at(html, &field) < said,
        "the reason is said beside the field"
    );

    // Nothing was cancelled; the step taken with a shorter reason is.
    assert_eq!(status_of(&app, order).await, OrderStatus::Placed);
    let done = post(
        &app,
        &format!("/m/orders/{order}/cancel"),
        Some(&buyer),
        &[("csrf", &csrf), ("reason", "不想要了")],
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let orders = open(&app, "/m/orders", Some(&buyer), "zh").await;
    assert!(orders.html.contains("取消原因：不想要了"));
}
