//! A refused form comes back with what the farmer typed and the reason beside it, so nothing is
//! typed twice on a phone.

use api::{
    service::{auth::actor_of, trace::production},
    testing::TestApp,
};
use chrono::{TimeZone, Utc};
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
