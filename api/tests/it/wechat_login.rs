//! WeChat mini-program sign-in against a local stand-in for `code2session`, and binding a
//! phone afterwards.

use api::{
    domain::{AreaCode, Phone},
    http::error::ErrorCode,
    service::users::{self, Invitation, Origin},
    testing::{FakeSmsGateway, FakeWeChat, TestApp},
};
use entities::user;
use poem::http::StatusCode;
use serde_json::{Value, json};

async fn json_of(resp: poem::test::TestResponse) -> Value {
    resp.0.into_body().into_json().await.expect("a JSON body")
}

struct World {
    app: TestApp,
    sms: FakeSmsGateway,
    wechat: FakeWeChat,
}

async fn world() -> World {
    let sms = FakeSmsGateway::start().await;
    let wechat = FakeWeChat::start().await;
    let app = TestApp::spawn_with(|s| {
        sms.configure(s);
        wechat.configure(s);
        s.sms_resend_after_secs = 0;
    })
    .await;
    World { app, sms, wechat }
}

async fn wechat_login(app: &TestApp, code: &str) -> poem::test::TestResponse {
    app.client
        .post("/api/v1/auth/login/wechat")
        .body_json(&json!({ "code": code }))
        .send()
        .await
}

/// Texts a code to the phone and binds it to the account behind `access`.
async fn bind_phone(world: &World, access: &str, phone: &str) -> poem::test::TestResponse {
    world
        .app
        .client
        .post("/api/v1/auth/sms/send")
        .body_json(&json!({ "phone": phone }))
        .send()
        .await
        .assert_status(StatusCode::ACCEPTED);
    let code = world.sms.last_code_for(phone).unwrap();
    world
        .app
        .client
        .post("/api/v1/me/phone")
        .header("authorization", format!("Bearer {access}"))
        .body_json(&json!({ "phone": phone, "code": code }))
        .send()
        .await
}

#[tokio::test]
async fn a_first_wechat_sign_in_makes_a_buyer_bound_to_the_openid() {
    let world = world().await;
    let first = json_of(wechat_login(&world.app, "wx-alice.1").await).await;
    assert_eq!(first["user"]["role"], "buyer");
    assert!(first["user"]["phone"].is_null());
    let again = json_of(wechat_login(&world.app, "wx-alice.2").await).await;
    assert_eq!(
        again["user"]["id"], first["user"]["id"],
        "the same WeChat user, the same account"
    );

    let call = world.wechat.calls.lock().unwrap()[0].clone();
    assert_eq!(call["appid"], FakeWeChat::APPID);
    assert_eq!(call["secret"], FakeWeChat::SECRET);
    assert_eq!(call["js_code"], "wx-alice.1");
    assert_eq!(call["grant_type"], "authorization_code");
}

#[tokio::test]
async fn wechat_errors_become_clear_answers() {
    let world = world().await;
    wechat_login(&world.app, "wx-bob")
        .await
        .assert_status_is_ok();
    for (code, status, expected) in [
        (
            "wx-bob",
            StatusCode::UNAUTHORIZED,
            ErrorCode::AuthWechatCodeInvalid,
        ),
        (
            "invalid",
            StatusCode::UNAUTHORIZED,
            ErrorCode::AuthWechatCodeInvalid,
        ),
        (
            "blocked",
            StatusCode::FORBIDDEN,
            ErrorCode::AuthWechatBlocked,
        ),
        (
            "busy",
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ServerWechatUnavailable,
        ),
        (
            "limited",
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ServerWechatUnavailable,
        ),
    ] {
        let resp = wechat_login(&world.app, code).await;
        resp.assert_status(status);
        assert_eq!(json_of(resp).await["code"], expected.as_str(), "{code}");
    }
}

#[tokio::test]
async fn wechat_sign_in_is_off_without_credentials() {
    let app = TestApp::spawn().await;
    let resp = wechat_login(&app, "wx-carol").await;
    resp.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(
        json_of(resp).await["code"],
        ErrorCode::AuthWechatDisabled.as_str()
    );
}

#[tokio::test]
async fn binding_a_new_phone_keeps_the_account() {
    let world = world().await;
    let login = json_of(wechat_login(&world.app, "wx-dan").await).await;
    let resp = bind_phone(
        &world,
        login["access_token"].as_str().unwrap(),
        "13600136000",
    )
    .await;
    resp.assert_status_is_ok();
    let bound = json_of(resp).await;
    assert_eq!(bound["user"]["id"], login["user"]["id"]);
    assert_eq!(bound["user"]["phone"], "13600136000");
}

#[tokio::test]
async fn binding_an_officials_phone_merges_the_wechat_account_into_theirs() {
    let world = world().await;
    let cadre = users::invite_official(
        &world.app.state.db,
        None,
        Invitation {
            phone: Phone::parse("13600136001").unwrap(),
            display_name: "村干部".into(),
            role: user::Role::VillageCadre,
            area: AreaCode::parse("500235101201").unwrap(),
        },
        &Origin::default(),
    )
    .await
    .unwrap();
    let login = json_of(wechat_login(&world.app, "wx-erin.1").await).await;
    let wechat_access = login["access_token"].as_str().unwrap().to_owned();

    let resp = bind_phone(&world, &wechat_access, "13600136001").await;
    resp.assert_status_is_ok();
    let merged = json_of(resp).await;
    assert_eq!(merged["user"]["id"], cadre.id);
    assert_eq!(merged["user"]["role"], "village_cadre");

    // The WeChat-only account is closed and its tokens are dead.
    let resp = world
        .app
        .client
        .get("/api/v1/me")
        .header("authorization", format!("Bearer {wechat_access}"))
        .send()
        .await;
    resp.assert_status(StatusCode::UNAUTHORIZED);
    // Signing in with WeChat now lands in the official's account.
    let again = json_of(wechat_login(&world.app, "wx-erin.2").await).await;
    assert_eq!(again["user"]["id"], cadre.id);
}

#[tokio::test]
async fn a_phone_whose_account_has_another_wechat_is_not_merged() {
    let world = world().await;
    let first = json_of(wechat_login(&world.app, "wx-frank").await).await;
    bind_phone(
        &world,
        first["access_token"].as_str().unwrap(),
        "13600136002",
    )
    .await
    .assert_status_is_ok();

    let second = json_of(wechat_login(&world.app, "wx-grace").await).await;
    let resp = bind_phone(
        &world,
        second["access_token"].as_str().unwrap(),
        "13600136002",
    )
    .await;
    resp.assert_status(StatusCode::CONFLICT);
    assert_eq!(
        json_of(resp).await["code"],
        ErrorCode::UserMergeRefused.as_str()
    );
}
