//! Input that is what it says: look-alike identifiers, invisible characters, JSON of the wrong
//! type, unbounded numbers and nulls the document does not allow, all over HTTP.

use entities::user::Role;
use poem::http::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::support::{self, json_of};

const VILLAGE: &str = "500235101201";

async fn post(app: &api::testing::TestApp, token: &str, path: &str, body: &Value) -> (u16, Value) {
    let resp = app
        .client
        .post(path)
        .header("authorization", format!("Bearer {token}"))
        .body_json(body)
        .send()
        .await;
    let status = resp.0.status().as_u16();
    (status, json_of(resp).await)
}

fn registration(number: &str) -> Value {
    json!({
        "household_number": number,
        "village_code": VILLAGE,
        "poverty_cause": "illness",
        "registered_year": 2016,
        "members": [{
            "name": "张三", "id_number": "500235198001010012", "relation": "head",
            "labour_capacity": "full", "health": "chronic", "schooling": "primary",
            "medical_insurance": true
        }]
    })
}

/// Finding: `5002351032129999`, the same with a zero-width space, with U+202D and in full-width
/// digits were four households.
#[tokio::test]
async fn look_alike_household_numbers_are_one_household_or_refused() {
    let app = support::app_with_admin().await;
    let (admin, _) = support::tokens(&app, support::ADMIN_PHONE).await;
    let (status, body) = post(
        &app,
        &admin,
        "/api/v1/households",
        &registration("5002351032129999"),
    )
    .await;
    assert_eq!(status, 201, "{body}");

    let (status, body) = post(
        &app,
        &admin,
        "/api/v1/households",
        &registration("５００２３５１０３２１２９９９９"),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("household.number_taken")),
        "{body}"
    );
    for hidden in [
        "5002351032129999\u{200b}",
        "\u{202d}5002351032129999",
        "50023510321\u{0}29999",
    ] {
        let (status, body) = post(&app, &admin, "/api/v1/households", &registration(hidden)).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("request.invalid_body")),
            "{hidden:?}: {body}"
        );
    }
    let count = entities::household::Entity::find()
        .count(app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(count, 1);
}

/// Finding: NUL, direction overrides and zero-width characters were stored in titles; `"title":
/// 123` was taken as text; `min_order` of i64::MAX made a listing nobody could order.
#[tokio::test]
async fn listings_take_clean_text_of_the_right_type_and_bounded_numbers() {
    let app = support::app_with_admin().await;
    let household = support::household_in(&app, VILLAGE, 1).await;
    support::farmer_account(&app, "13600000001", household).await;
    let (farmer, _) = support::tokens(&app, "13600000001").await;
    let category = support::category_id(&app, "black_fungus").await;
    let listing = |title: Value, stock: i64, min_order: Value| {
        json!({ "category_id": category, "title": title, "price_fen": 900, "stock": stock,
                "min_order": min_order })
    };

    let (status, body) = post(
        &app,
        &farmer,
        "/api/v1/listings",
        &listing(json!(123), 5, json!(1)),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("request.invalid_body")),
        "{body}"
    );
    let (status, body) = post(
        &app,
        &farmer,
        "/api/v1/listings",
        &listing(json!("木耳\u{0}"), 5, json!(1)),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("request.invalid_body")),
        "{body}"
    );
    let (status, body) = post(
        &app,
        &farmer,
        "/api/v1/listings",
        &listing(json!("\u{202e}高山\u{200b}木耳"), 5, json!(1)),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["title"], "高山木耳");

    let (status, body) = post(
        &app,
        &farmer,
        "/api/v1/listings",
        &listing(json!("木耳"), 5, json!(i64::MAX)),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("request.invalid_body")),
        "{body}"
    );
    let (status, body) = post(
        &app,
        &farmer,
        "/api/v1/listings",
        &listing(json!("木耳"), 5, json!(6)),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("market.invalid")),
        "{body}"
    );
    let (status, body) = post(
        &app,
        &farmer,
        "/api/v1/listings",
        &listing(json!("木耳"), 50, json!(6)),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

/// Finding: a village's collective income of i64::MAX was accepted, though incomes are capped
/// elsewhere; `null` was taken where the document did not allow it.
#[tokio::test]
async fn incomes_are_bounded_and_null_is_taken_only_where_the_document_says() {
    let app = support::app_with_admin().await;
    support::official(&app, "13900000001", Role::CountyOfficial, "500235").await;
    let (county, _) = support::tokens(&app, "13900000001").await;
    let indicators = |income: i64| {
        json!({ "hardened_road": true, "safe_water": true, "power": true, "broadband": true,
                "clinic": true, "cultural_room": true, "collective_income_fen": income })
    };
    let put = |income: i64| {
        app.client
            .put(format!("/api/v1/villages/{VILLAGE}/indicators/2019"))
            .header("authorization", format!("Bearer {county}"))
            .body_json(&indicators(income))
            .send()
    };
    let resp = put(i64::MAX).await;
    resp.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    put(10_000_000_000).await.assert_status_is_ok();

    let (admin, _) = support::tokens(&app, support::ADMIN_PHONE).await;
    let category = json!({ "code": null, "name_zh": "菌", "name_en": "Fungus",
                           "default_unit": "jin" });
    let (status, body) = post(&app, &admin, "/api/v1/categories", &category).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("request.invalid_body")),
        "{body}"
    );
    // An optional field's null is its absence, and the document says so.
    let category = json!({ "code": "fungus", "name_zh": "菌", "name_en": "Fungus",
                           "default_unit": "jin", "reference_price_fen": null });
    let (status, body) = post(&app, &admin, "/api/v1/categories", &category).await;
    assert_eq!(status, 201, "{body}");
    let document: Value = serde_json::from_str(&api::http::api::openapi_json()).unwrap();
    assert_eq!(
        document["components"]["schemas"]["CategoryInput"]["properties"]["reference_price_fen"]["nullable"],
        true
    );
}
