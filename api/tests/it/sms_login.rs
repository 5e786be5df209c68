//! Signing in with a texted code, against a local gateway, and the limits around it.

use api::{
    http::error::ErrorCode,
    testing::{FakeSmsGateway, TestApp},
};
use poem::http::StatusCode;
use serde_json::{Value, json};

const PHONE: &str = "13912345678";

async fn json_of(resp: poem::test::TestResponse) -> Value {
    resp.0.into_body().into_json().await.expect("a JSON body")
}

async fn app_with_gateway(
    adjust: impl FnOnce(&mut api::config::Settings),
) -> (TestApp, FakeSmsGateway) {
    let gateway = FakeSmsGateway::start().await;
    let app = TestApp::spawn_with(|s| {
        gateway.configure(s);
        adjust(s);
    })
    .await;
    (app, gateway)
}

async fn send_code(app: &TestApp, phone: &str) -> poem::test::TestResponse {
    app.client
        .post("/api/v1/auth/sms/send")
        .body_json(&json!({ "phone": phone }))
        .send()
        .await
}

async fn login(app: &TestApp, phone: &str, code: &str) -> poem::test::TestResponse {
    app.client
        .post("/api/v1/auth/login/sms")
        .body_json(&json!({ "phone": phone, "code": code }))
        .send()
        .await
}

fn assert_code(body: &Value, code: ErrorCode) {
    assert_eq!(body["code"], code.as_str(), "{body}");
}

#[tokio::test]
async fn a_texted_code_signs_a_new_phone_in_as_a_buyer_once() {
    let (app, gateway) = app_with_gateway(|_| {}).await;
    let resp = send_code(&app, "139 1234 5678").await;
    resp.assert_status(StatusCode::ACCEPTED);
    assert_eq!(
        json_of(resp).await,
        json!({ "expires_in": 300, "resend_after": 60 })
    );

    let message = gateway.received.lock().unwrap()[0].clone();
    assert_eq!(
        message.authorization.as_deref(),
        Some("Bearer test-gateway-key")
    );
    assert_eq!(message.body["phone"], PHONE);
    assert_eq!(message.body["template"], "SHANHUO_LOGIN_CODE");
    let code = gateway.last_code_for(PHONE).unwrap();
    assert_eq!(code.len(), 6);
    assert!(code.bytes().all(|b| b.is_ascii_digit()));

    let resp = login(&app, PHONE, &code).await;
    resp.assert_status_is_ok();
    let body = json_of(resp).await;
    assert_eq!(body["user"]["role"], "buyer");
    assert_eq!(body["user"]["phone"], PHONE);

    let resp = login(&app, PHONE, &code).await;
    resp.assert_status(StatusCode::UNAUTHORIZED);
    assert_code(&json_of(resp).await, ErrorCode::AuthCodeInvalid);
}

#[tokio::test]
async fn five_wrong_codes_end_the_code() {
    let (app, gateway) = app_with_gateway(|_| {}).await;
    send_code(&app, PHONE)
        .await
        .assert_status(StatusCode::ACCEPTED);
    let code = gateway.last_code_for(PHONE).unwrap();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let resp = login(&app, PHONE, wrong).await;
        assert_code(&json_of(resp).await, ErrorCode::AuthCodeInvalid);
    }
    let resp = login(&app, PHONE, &code).await;
    resp.assert_status(StatusCode::UNAUTHORIZED);
    assert_code(&json_of(resp).await, ErrorCode::AuthCodeTooManyTries);
}

#[tokio::test]
async fn a_code_expires() {
    let (app, gateway) = app_with_gateway(|s| s.sms_code_ttl_secs = 1).await;
    send_code(&app, PHONE)
        .await
        .assert_status(StatusCode::ACCEPTED);
    let code = gateway.last_code_for(PHONE).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    let resp = login(&app, PHONE, &code).await;
    assert_code(&json_of(resp).await, ErrorCode::AuthCodeInvalid);
}

#[tokio::test]
async fn a_new_code_waits_a_minute_and_ten_a_day_is_the_most() {
    let (app, _gateway) = app_with_gateway(|_| {}).await;
    send_code(&app, PHONE)
        .await
        .assert_status(StatusCode::ACCEPTED);
    let resp = send_code(&app, PHONE).await;
    resp.assert_status(StatusCode::TOO_MANY_REQUESTS);
    resp.assert_header("retry-after", "60");
    assert_code(&json_of(resp).await, ErrorCode::AuthCodeTooSoon);

    let (app, _gateway) = app_with_gateway(|s| s.sms_resend_after_secs = 0).await;
    for _ in 0..10 {
        send_code(&app, PHONE)
            .await
            .assert_status(StatusCode::ACCEPTED);
    }
    let resp = send_code(&app, PHONE).await;
    resp.assert_status(StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.0.headers().contains_key("retry-after"));
    assert_code(&json_of(resp).await, ErrorCode::RequestRateLimited);
    // The limit per address holds for other phones from the same address too.
    let resp = send_code(&app, "13912345679").await;
    resp.assert_status(StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_failing_gateway_is_a_503_and_the_phone_may_ask_again_at_once() {
    let (app, gateway) = app_with_gateway(|_| {}).await;
    gateway
        .failing
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let resp = send_code(&app, PHONE).await;
    resp.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    assert_code(&json_of(resp).await, ErrorCode::ServerSmsUnavailable);
    gateway
        .failing
        .store(false, std::sync::atomic::Ordering::SeqCst);
    send_code(&app, PHONE)
        .await
        .assert_status(StatusCode::ACCEPTED);
}

#[tokio::test]
async fn too_many_sign_in_attempts_for_one_phone_are_refused_for_a_while() {
    let (app, _gateway) = app_with_gateway(|_| {}).await;
    for _ in 0..10 {
        let resp = login(&app, PHONE, "123456").await;
        resp.assert_status(StatusCode::UNAUTHORIZED);
    }
    let resp = login(&app, PHONE, "123456").await;
    resp.assert_status(StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = resp.0.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry_after));
    assert_code(&json_of(resp).await, ErrorCode::RequestRateLimited);
}

#[tokio::test]
async fn anonymous_requests_are_limited_per_address_but_probes_are_not() {
    let (app, _gateway) = app_with_gateway(|s| s.anonymous_requests_per_minute = 3).await;
    for _ in 0..3 {
        app.client
            .get("/api/v1/areas/500235")
            .send()
            .await
            .assert_status_is_ok();
    }
    let resp = app.client.get("/api/v1/areas/500235").send().await;
    resp.assert_status(StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.0.headers().contains_key("retry-after"));
    assert_code(&json_of(resp).await, ErrorCode::RequestRateLimited);
    app.client
        .get("/healthz")
        .send()
        .await
        .assert_status_is_ok();
}

#[tokio::test]
async fn an_invalid_phone_is_told_plainly() {
    let (app, _gateway) = app_with_gateway(|_| {}).await;
    let resp = send_code(&app, "12345").await;
    resp.assert_status(StatusCode::BAD_REQUEST);
    assert_code(&json_of(resp).await, ErrorCode::UserInvalidPhone);
}
