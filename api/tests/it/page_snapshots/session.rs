//! Signing in, and the refusals every part of the site shares.

use api::testing::TestApp;
use poem::http::StatusCode;

use super::{open, post};
use crate::assert_page;

#[tokio::test]
async fn the_sign_in_pages() {
    let app = TestApp::spawn().await;
    assert_page!(
        "login_zh",
        open(&app, "/login?next=/f/orders", None, "zh").await
    );
    assert_page!("login_en", open(&app, "/login", None, "en").await);
    // A number that is no phone's: the form again, with what was wrong and what was typed.
    assert_page!(
        "login_refused_number",
        post(
            &app,
            "/login/code",
            None,
            &[("phone", "12<3"), ("next", "/o")]
        )
        .await
    );
    // The code texted: on to the page that asks for it, which the number waits for in a cookie.
    let sent = app
        .client
        .post("/login/code")
        .content_type("application/x-www-form-urlencoded")
        .body("phone=13900000001&next=%2Fo")
        .send()
        .await;
    sent.assert_status(StatusCode::SEE_OTHER);
    sent.assert_header("location", "/login/code?next=/o");
    let cookie = sent.0.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    assert_page!(
        "login_code_sent",
        open(&app, "/login/code?next=/o", Some(&cookie), "zh").await
    );
    assert_page!(
        "login_wrong_code",
        post(
            &app,
            "/login",
            None,
            &[("phone", "13900000001"), ("code", "000000")]
        )
        .await
    );
}

#[tokio::test]
async fn refusals_in_the_frame_of_their_part_of_the_site() {
    let app = TestApp::spawn().await;
    crate::support::buyer_account(&app, "13900000002").await;
    let cookie = super::cookie_for(&app, "13900000002").await;
    // A buyer on a farmer's page, and on an official's.
    assert_page!(
        "refusal_not_yours_farmer",
        open(&app, "/f", Some(&cookie), "zh").await
    );
    assert_page!(
        "refusal_not_yours_official",
        open(&app, "/o", Some(&cookie), "en").await
    );
    // A form without its token.
    assert_page!(
        "refusal_forged",
        post(
            &app,
            "/m/orders/1/cancel",
            Some(&cookie),
            &[("reason", "x")]
        )
        .await
    );
}

#[tokio::test]
async fn the_front_door_is_a_page_for_browsers_and_json_for_clients() {
    let app = TestApp::spawn().await;
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let resp = app
        .client
        .get("/")
        .header("accept", browser)
        .header("accept-language", "zh-CN")
        .send()
        .await;
    resp.assert_status_is_ok();
    resp.assert_content_type("text/html; charset=utf-8");
    let vary = resp.0.headers()["vary"].to_str().unwrap().to_owned();
    assert!(vary.contains("Accept"), "{vary}");
    let page = super::Page {
        status: resp.0.status(),
        html: resp.0.into_body().into_string().await.unwrap(),
    };
    for way in [
        "href=\"/m\"",
        "action=\"/m/trace\"",
        "/login?next=/f",
        "/login?next=/o",
    ] {
        assert!(page.html.contains(way), "{way}");
    }
    assert_page!("home", page);

    // A client keeps the JSON it always had.
    for accept in [None, Some("application/json"), Some("*/*")] {
        let mut req = app.client.get("/");
        if let Some(accept) = accept {
            req = req.header("accept", accept);
        }
        let resp = req.send().await;
        resp.assert_status_is_ok();
        resp.assert_content_type("application/json; charset=utf-8");
        resp.assert_json(serde_json::json!({
            "name": "shanhuo",
            "version": env!("CARGO_PKG_VERSION"),
            "api": "/api/v1",
            "openapi": "/api/v1/openapi.json",
            "docs": "/docs",
        }))
        .await;
    }

    // A dead link: a page for a browser, the envelope for a client and under /api.
    let page = super::page_of(
        app.client
            .get("/no/such/page")
            .header("accept", browser)
            .header("accept-language", "zh-CN")
            .send()
            .await,
    )
    .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.html.contains("找不到这个页面") && page.html.contains("href=\"/\""));
    assert_page!("not_found", page);
    for (path, accept) in [
        ("/no/such/page", "application/json"),
        ("/api/v1/nothing", browser),
    ] {
        let resp = app.client.get(path).header("accept", accept).send().await;
        resp.assert_status(StatusCode::NOT_FOUND);
        resp.assert_content_type("application/json; charset=utf-8");
        let body: serde_json::Value = resp.0.into_body().into_json().await.unwrap();
        assert_eq!(body["code"], "route.not_found", "{path} {accept}");
    }
}
