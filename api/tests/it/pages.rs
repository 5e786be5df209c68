//! The buyer's server-rendered pages: what they show, in which language, how small they are.

use api::{
    infra::trace_codes::TraceCode,
    service::{
        market::listings::{self, ListingFields},
        policy::Actor,
    },
    testing::TestApp,
};
use entities::{listing::ListingStatus, user::Role};
use poem::http::StatusCode;

use crate::support;

async fn list(app: &TestApp, village: &str, n: u32, fields: ListingFields) -> i64 {
    let household = support::household_in(app, village, n).await;
    let farmer = Actor {
        user_id: i64::from(n),
        role: Role::Farmer,
        area: None,
        household_id: Some(household),
    };
    listings::create(&app.state.db, &farmer, fields)
        .await
        .unwrap()
        .id
}

fn on_sale(category_id: i64, title: &str, price_fen: i64) -> ListingFields {
    ListingFields {
        category_id: Some(category_id),
        title: Some(title.into()),
        description: Some("高山红薯，传统工艺 <手工>".into()),
        price_fen: Some(price_fen),
        stock: Some(40),
        min_order: Some(2),
        status: Some(ListingStatus::OnSale),
        ..Default::default()
    }
}

async fn page(app: &TestApp, path: &str, lang: &str) -> (StatusCode, String, Option<String>) {
    let resp = app
        .client
        .get(path)
        .header("accept-language", lang)
        .send()
        .await;
    let status = resp.0.status();
    let cache = resp
        .0
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = resp.0.into_body().into_string().await.unwrap();
    (status, body, cache)
}

#[tokio::test]
async fn buyers_browse_goods_by_category_and_township_and_open_a_listing() {
    let app = TestApp::spawn().await;
    let vermicelli = support::category_id(&app, "sweet_potato_vermicelli").await;
    let eggs = support::category_id(&app, "free_range_eggs").await;
    let noodles = list(
        &app,
        "500235101201",
        1,
        on_sale(vermicelli, "手工红苕粉 5斤装", 3_000),
    )
    .await;
    list(
        &app,
        "500235102201",
        2,
        on_sale(eggs, "散养土鸡蛋 30枚", 150),
    )
    .await;
    list(
        &app,
        "500235101202",
        4,
        on_sale(vermicelli, "邻村的红苕粉", 2_800),
    )
    .await;
    let draft = list(
        &app,
        "500235101201",
        3,
        ListingFields {
            status: None,
            ..on_sale(vermicelli, "还没上架的粉条", 100)
        },
    )
    .await;

    let (status, html, cache) = page(&app, "/m", "zh-CN").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cache.as_deref(), Some("public, max-age=60"));
    assert!(html.starts_with("<!doctype html><html lang=\"zh-CN\">"));
    assert!(html.contains("手工红苕粉 5斤装") && html.contains("散养土鸡蛋 30枚"));
    assert!(html.contains("¥30.00/斤") && html.contains("¥1.50/"));
    assert!(!html.contains("还没上架的粉条"), "drafts are not shown");
    assert!(!html.contains("<script"), "no JavaScript");
    assert!(html.len() < 100 * 1024, "{} bytes", html.len());

    let (_, html, _) = page(&app, &format!("/m?category={eggs}"), "zh-CN").await;
    assert!(html.contains("散养土鸡蛋 30枚") && !html.contains("手工红苕粉 5斤装"));
    let (_, html, _) = page(&app, "/m?area=500235101000", "zh-CN").await;
    assert!(html.contains("手工红苕粉 5斤装") && !html.contains("散养土鸡蛋 30枚"));
    assert!(html.contains("邻村的红苕粉"));
    assert!(html.contains("value=\"500235101000\" selected"));
    assert!(
        html.contains("href=\"/m?area=500235101202\""),
        "the township's villages are offered"
    );
    let (_, html, _) = page(&app, "/m?area=500235101202", "zh-CN").await;
    assert!(html.contains("邻村的红苕粉") && !html.contains("手工红苕粉 5斤装"));
    assert!(
        html.contains("value=\"500235101000\" selected"),
        "its township stays chosen"
    );
    assert!(html.contains("href=\"/m?area=500235101202\" aria-current=\"true\""));

    let (status, html, _) = page(&app, &format!("/m/listings/{noodles}"), "zh-CN").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h1>手工红苕粉 5斤装</h1>"));
    assert!(html.contains("40 斤") && html.contains("2 斤"));
    assert!(
        html.contains("高山红薯，传统工艺 &#60;手工&#62;"),
        "text is escaped"
    );
    let (status, html, _) = page(&app, &format!("/m/listings/{draft}"), "zh-CN").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("没有这件商品"));

    let (_, html, _) = page(&app, &format!("/m/listings/{noodles}"), "en-US,en;q=0.9").await;
    assert!(html.starts_with("<!doctype html><html lang=\"en\">"));
    assert!(html.contains("Minimum order") && html.contains("¥30.00/jin"));
}

#[tokio::test]
async fn a_typed_code_opens_its_scan_page_and_a_wrong_one_is_explained() {
    let app = TestApp::spawn().await;
    let code = app.state.trace_keys.sign(TraceCode {
        batch_id: 7,
        item: 3,
    });
    let typed = format!("{} {}", &code[..10], &code[10..]).to_ascii_lowercase();
    let resp = app
        .client
        .get(format!("/m/trace?code={}", typed.replace(' ', "+")))
        .send()
        .await;
    resp.assert_status(StatusCode::SEE_OTHER);
    resp.assert_header("location", format!("/t/{code}"));

    let (status, html, _) = page(&app, "/m/trace?code=HELLO", "zh-CN").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("role=\"alert\"") && html.contains("value=\"HELLO\""));
    let (_, html, _) = page(&app, "/m/trace", "zh-CN").await;
    assert!(!html.contains("role=\"alert\""));
}
