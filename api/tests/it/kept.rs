//! Public reads answered from kept copies: the same answer each time, a 304 for what the reader
//! holds, and a change made through one server shown by another on the very next request.

use api::testing::TestApp;
use entities::user::Role;
use poem::{http::StatusCode, test::TestClient};
use serde_json::{Value, json};

use crate::support::{self, json_of};

type Client = TestClient<poem::endpoint::BoxEndpoint<'static>>;

const VILLAGE: &str = "500235101201";
const HEADER: &str = "村代码,贫困村,农村户籍人口,出列状态,出列年度";

async fn get_json(client: &Client, path: &str) -> Value {
    let resp = client.get(path).send().await;
    resp.assert_status_is_ok();
    json_of(resp).await
}

async fn get_text(client: &Client, path: &str) -> String {
    let resp = client.get(path).send().await;
    resp.assert_status_is_ok();
    resp.0.into_body().into_string().await.unwrap()
}

/// Reads every public answer once through both servers, so each keeps a copy.
async fn read_everything(servers: [&Client; 2], paths: &[String]) {
    for server in servers {
        for path in paths {
            server.get(path).send().await.assert_status_is_ok();
        }
    }
}

#[tokio::test]
async fn a_change_through_one_server_shows_on_the_next_read_through_either() {
    let app = support::app_with_admin().await;
    let second = app.second_server();
    let household = support::household_in(&app, VILLAGE, 1).await;
    support::farmer_account(&app, "13900000021", household).await;
    let (farmer, _) = support::tokens(&app, "13900000021").await;
    support::official(&app, "13900000022", Role::CountyOfficial, "500235").await;
    let (county, _) = support::tokens(&app, "13900000022").await;
    let tangerines = support::category_id(&app, "red_tangerine").await;

    let resp = app
        .client
        .post("/api/v1/listings")
        .header("authorization", format!("Bearer {farmer}"))
        .body_json(&json!({ "category_id": tangerines, "title": "红橘 10斤",
                            "price_fen": 3000, "stock": 20, "status": "on_sale" }))
        .send()
        .await;
    resp.assert_status(StatusCode::CREATED);
    let listing = json_of(resp).await["id"].as_i64().unwrap();
    let paths = [
        format!("/api/v1/listings/{listing}"),
        format!("/m/listings/{listing}"),
        "/api/v1/listings".to_owned(),
        "/m".to_owned(),
        "/api/v1/categories".to_owned(),
        format!("/api/v1/areas/{VILLAGE}"),
        "/api/v1/areas/500235000000".to_owned(),
    ];
    read_everything([&app.client, &second], &paths).await;

    // A listing changed through one server.
    let resp = app
        .client
        .patch(format!("/api/v1/listings/{listing}"))
        .header("authorization", format!("Bearer {farmer}"))
        .body_json(&json!({ "price_fen": 3150 }))
        .send()
        .await;
    resp.assert_status_is_ok();
    for server in [&app.client, &second] {
        let read = get_json(server, &format!("/api/v1/listings/{listing}")).await;
        assert_eq!(read["price_fen"], 3150);
        let page = get_text(server, &format!("/m/listings/{listing}")).await;
        assert!(
            page.contains("31.50"),
            "the listing page shows the new price"
        );
        assert!(get_text(server, "/m").await.contains("31.50"));
    }

    // A category renamed through the other.
    read_everything([&app.client, &second], &paths).await;
    let resp = second
        .patch(format!("/api/v1/categories/{tangerines}"))
        .header("authorization", format!("Bearer {county}"))
        .body_json(&json!({ "name_zh": "城口红橘" }))
        .send()
        .await;
    resp.assert_status_is_ok();
    for server in [&app.client, &second] {
        let categories = get_json(server, "/api/v1/categories").await;
        assert!(
            categories
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["name_zh"] == "城口红橘"),
            "{categories}"
        );
    }

    // An area changed by a village sheet uploaded to one server.
    read_everything([&app.client, &second], &paths).await;
    let before = get_json(&second, &format!("/api/v1/areas/{VILLAGE}")).await;
    let population = before["rural_population"].as_i64().unwrap() + 7;
    let poor = if before["is_poor_village"] == true {
        "是"
    } else {
        "否"
    };
    let sheet = format!("{HEADER}\n{VILLAGE},{poor},{population},未出列,\n");
    let resp = app
        .client
        .post("/api/v1/villages/import")
        .header("authorization", format!("Bearer {county}"))
        .multipart(
            poem::test::TestForm::new().field(
                poem::test::TestFormField::bytes(sheet.into_bytes())
                    .name("file")
                    .filename("villages.csv"),
            ),
        )
        .send()
        .await;
    resp.assert_status(StatusCode::CREATED);
    for server in [&app.client, &second] {
        let area = get_json(server, &format!("/api/v1/areas/{VILLAGE}")).await;
        assert_eq!(area["rural_population"], population, "{area}");
    }
}

#[tokio::test]
async fn a_kept_answer_is_the_same_answer_with_a_tag_and_a_304_for_the_holder() {
    let app = TestApp::spawn().await;
    let first = app.client.get("/api/v1/categories").send().await;
    first.assert_status_is_ok();
    let etag = first.0.headers().get("etag").cloned().expect("an ETag");
    assert_eq!(
        first.0.headers().get("cache-control").unwrap(),
        "public, no-cache"
    );
    let first_body = first.0.into_body().into_string().await.unwrap();
    let again = app.client.get("/api/v1/categories").send().await;
    assert_eq!(again.0.headers().get("etag"), Some(&etag));
    assert_eq!(again.0.into_body().into_string().await.unwrap(), first_body);

    let held = app
        .client
        .get("/api/v1/categories")
        .header("if-none-match", etag.to_str().unwrap())
        .send()
        .await;
    held.assert_status(StatusCode::NOT_MODIFIED);
    assert_eq!(held.0.headers().get("etag"), Some(&etag));
    assert!(held.0.into_body().into_vec().await.unwrap().is_empty());

    // The same body from another server carries the same tag.
    let second = app.second_server();
    let there = second.get("/api/v1/categories").send().await;
    assert_eq!(there.0.headers().get("etag"), Some(&etag));

    // A page keeps its own rule, in each language.
    let page = app.client.get("/m").send().await;
    page.assert_status_is_ok();
    assert_eq!(
        page.0.headers().get("cache-control").unwrap(),
        "public, max-age=60"
    );
    let english = app
        .client
        .get("/m")
        .header("accept-language", "en")
        .send()
        .await;
    assert_ne!(
        english.0.headers().get("etag"),
        page.0.headers().get("etag"),
        "each language has its own copy"
    );
}

#[tokio::test]
async fn a_lost_stamp_makes_every_copy_read_again() {
    let app = support::app_with_admin().await;
    support::official(&app, "13900000023", Role::CountyOfficial, "500235").await;
    let tangerines = support::category_id(&app, "red_tangerine").await;
    get_json(&app.client, "/api/v1/categories").await;
    // Changed behind the server's back (as a command run elsewhere on the in-process cache
    // would), then the cache forgets everything: the copy is not answered again.
    api::service::market::catalogue::update(
        &app.state.db,
        &api::service::policy::Actor {
            user_id: 1,
            role: Role::CountyOfficial,
            area: Some(api::domain::AreaCode::parse("500235").unwrap()),
            household_id: None,
        },
        tangerines,
        api::service::market::catalogue::CategoryFields {
            name_zh: Some("高山红橘".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let kept = get_json(&app.client, "/api/v1/categories").await;
    assert!(
        !kept.to_string().contains("高山红橘"),
        "the kept copy is answered while nothing tells the server"
    );
    app.state.cache.clear().await.unwrap();
    let categories = get_json(&app.client, "/api/v1/categories").await;
    assert!(
        categories
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name_zh"] == "高山红橘")
    );
}

/// What `GET /api/v1/me` answers `token` through `server`.
async fn me(server: &Client, token: &str) -> StatusCode {
    server
        .get("/api/v1/me")
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .0
        .status()
}

/// Asks both servers twice, so each remembers the token found good, and expects `status`.
async fn both_answer(servers: [&Client; 2], token: &str, status: StatusCode) {
    for server in servers {
        for _ in 0..2 {
            assert_eq!(me(server, token).await, status);
        }
    }
}

#[tokio::test]
async fn an_ended_sign_in_or_a_changed_account_is_refused_by_either_server_at_once() {
    let app = support::app_with_admin().await;
    let second = app.second_server();
    let servers = [&app.client, &second];
    let cadre = support::official(&app, "13900000024", Role::VillageCadre, VILLAGE).await;
    let (admin, _) = support::tokens(&app, support::ADMIN_PHONE).await;

    // Signed out through the other server.
    let (access, _) = support::tokens(&app, "13900000024").await;
    both_answer(servers, &access, StatusCode::OK).await;
    second
        .post("/api/v1/auth/logout")
        .header("authorization", format!("Bearer {access}"))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    both_answer(servers, &access, StatusCode::UNAUTHORIZED).await;

    // A refresh token used twice: the second use is refused, and ends the sign-in everywhere.
    let (_, refresh) = support::tokens(&app, "13900000024").await;
    let refreshed = app
        .client
        .post("/api/v1/auth/refresh")
        .body_json(&json!({ "refresh_token": refresh }))
        .send()
        .await;
    refreshed.assert_status_is_ok();
    let access = json_of(refreshed).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    both_answer(servers, &access, StatusCode::OK).await;
    app.client
        .post("/api/v1/auth/refresh")
        .body_json(&json!({ "refresh_token": refresh }))
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    both_answer(servers, &access, StatusCode::UNAUTHORIZED).await;

    // The account disabled by the admin through the other server.
    let (access, _) = support::tokens(&app, "13900000024").await;
    both_answer(servers, &access, StatusCode::OK).await;
    second
        .patch(format!("/api/v1/users/{}", cadre.id))
        .header("authorization", format!("Bearer {admin}"))
        .body_json(&json!({ "disabled": true }))
        .send()
        .await
        .assert_status_is_ok();
    both_answer(servers, &access, StatusCode::UNAUTHORIZED).await;
}

/// The county's people still poor, as its dashboard says through `server`.
async fn still_poor(server: &Client, token: &str) -> i64 {
    let resp = server
        .get("/api/v1/progress")
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await;
    resp.assert_status_is_ok();
    json_of(resp).await["people"]["still_poor"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn the_warm_dashboard_moves_with_a_change_through_either_server() {
    let app = support::app_with_admin().await;
    let second = app.second_server();
    support::official(&app, "13900000025", Role::CountyOfficial, "500235").await;
    let (county, _) = support::tokens(&app, "13900000025").await;
    let before = still_poor(&app.client, &county).await;
    assert_eq!(still_poor(&second, &county).await, before);
    assert_eq!(
        still_poor(&second, &county).await,
        before,
        "the warm answer"
    );

    // A poor household of two registered through the first server.
    app.client
        .post("/api/v1/households")
        .header("authorization", format!("Bearer {county}"))
        .body_json(&json!({
            "household_number": "H-900", "village_code": VILLAGE, "poverty_cause": "illness",
            "registered_year": 2016,
            "members": [
                { "name": "张三", "id_number": "500235198001010012", "relation": "head",
                  "sex": "male", "labour_capacity": "full", "health": "chronic",
                  "schooling": "primary", "medical_insurance": true },
                { "name": "张小五", "id_number": "500235201003030038", "relation": "child",
                  "labour_capacity": "none", "health": "healthy",
                  "schooling": "junior_secondary", "medical_insurance": true }
            ]
        }))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    assert_eq!(still_poor(&second, &county).await, before + 2);
    assert_eq!(still_poor(&app.client, &county).await, before + 2);
}
