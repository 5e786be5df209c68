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
    let (app, gateway) = app_with_gateway(|s| s.trust_forwarded_for = true).await;
    send_code(&app, PHONE)
        .await
        .assert_status(StatusCode::ACCEPTED);
    let code = gateway.last_code_for(PHONE).unwrap();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    // From five addresses, so that no address's back-off stands in the way of the code's own
    // limit.
    for n in 0..5 {
        let resp = login_from(&app, PHONE, wrong, &format!("198.51.100.{n}")).await;
        assert_code(&json_of(resp).await, ErrorCode::AuthCodeInvalid);
    }
    let resp = login_from(&app, PHONE, &code, "203.0.113.5").await;
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
    let body = json_of(resp).await;
    assert_code(&body, ErrorCode::RequestRateLimited);
    assert!(body["message"].as_str().unwrap().contains("小时"), "{body}");
    // Ten codes to one phone do not use up the address's day: other phones still get theirs.
    send_code(&app, "13912345679")
        .await
        .assert_status(StatusCode::ACCEPTED);
}

fn from(address: &str) -> (&'static str, String) {
    ("x-forwarded-for", address.to_owned())
}

async fn send_code_from(app: &TestApp, phone: &str, address: &str) -> poem::test::TestResponse {
    let (name, value) = from(address);
    app.client
        .post("/api/v1/auth/sms/send")
        .header(name, value)
        .body_json(&json!({ "phone": phone }))
        .send()
        .await
}

async fn login_from(
    app: &TestApp,
    phone: &str,
    code: &str,
    address: &str,
) -> poem::test::TestResponse {
    let (name, value) = from(address);
    app.client
        .post("/api/v1/auth/login/sms")
        .header(name, value)
        .body_json(&json!({ "phone": phone, "code": code }))
        .send()
        .await
}

/// Finding: requests refused for their address charged the victim's phone, which was then
/// refused a code for the rest of the day.
#[tokio::test]
async fn codes_refused_to_an_address_over_its_limit_charge_nothing_to_the_phone() {
    let (app, gateway) = app_with_gateway(|s| {
        s.sms_resend_after_secs = 0;
        s.trust_forwarded_for = true;
        s.sms_codes_per_network_per_day = 3;
    })
    .await;
    // The attacker's network uses up its day on phones of its own…
    for n in 0..3 {
        send_code_from(&app, &format!("1380000000{n}"), "198.51.100.7")
            .await
            .assert_status(StatusCode::ACCEPTED);
    }
    // …and then asks ten times for the victim's phone, from another address of the same /24.
    for _ in 0..10 {
        let resp = send_code_from(&app, PHONE, "198.51.100.200").await;
        resp.assert_status(StatusCode::TOO_MANY_REQUESTS);
    }
    assert!(gateway.last_code_for(PHONE).is_none(), "no text was sent");
    // The victim, from home, gets every code their own network's day allows.
    for n in 0..3 {
        let resp = send_code_from(&app, PHONE, "203.0.113.5").await;
        assert_eq!(
            resp.0.status(),
            StatusCode::ACCEPTED,
            "code {n}: {}",
            json_of(resp).await
        );
    }
}

/// A village service point behind one address signs many people in on one day.
#[tokio::test]
async fn a_village_behind_one_address_gets_codes_for_many_phones() {
    let (app, _gateway) = app_with_gateway(|s| s.trust_forwarded_for = true).await;
    for n in 0..40 {
        send_code_from(&app, &format!("136000000{n:02}"), "203.0.113.9")
            .await
            .assert_status(StatusCode::ACCEPTED);
    }
}

/// Finding: ten wrong passwords or codes from anywhere locked the right one out for a quarter
/// hour. Now failures slow down only the address they come from, for that phone, a little longer
/// each time.
#[tokio::test]
async fn failed_sign_ins_back_off_the_failing_address_only() {
    let (app, gateway) = app_with_gateway(|s| {
        s.trust_forwarded_for = true;
        s.sms_resend_after_secs = 0;
    })
    .await;
    send_code_from(&app, PHONE, "203.0.113.5")
        .await
        .assert_status(StatusCode::ACCEPTED);
    let code = gateway.last_code_for(PHONE).unwrap();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    // The attacker's first three wrong codes answer 401 (two typos are free); the next try at
    // once must wait a second.
    for _ in 0..3 {
        let resp = login_from(&app, PHONE, wrong, "198.51.100.7").await;
        resp.assert_status(StatusCode::UNAUTHORIZED);
    }
    let resp = login_from(&app, PHONE, wrong, "198.51.100.7").await;
    resp.assert_status(StatusCode::TOO_MANY_REQUESTS);
    resp.assert_header("retry-after", "1");
    let body = json_of(resp).await;
    assert_eq!(body["message"], "请求太频繁，请 1 秒后再试", "{body}");
    // Waiting is refused for free; after the wait the next failure doubles it.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    login_from(&app, PHONE, wrong, "198.51.100.7")
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    let resp = login_from(&app, PHONE, wrong, "198.51.100.7").await;
    resp.assert_status(StatusCode::TOO_MANY_REQUESTS);
    resp.assert_header("retry-after", "2");
    // The owner, from their own address, is not held back.
    login_from(&app, PHONE, &code, "203.0.113.5")
        .await
        .assert_status_is_ok();
}

#[tokio::test]
async fn a_wrong_password_from_elsewhere_does_not_lock_the_owner_out() {
    let app =
        crate::support::with_admin(TestApp::spawn_with(|s| s.trust_forwarded_for = true).await)
            .await;
    let password_login = |address: &'static str, password: &'static str| {
        let client = &app.client;
        async move {
            client
                .post("/api/v1/auth/login/password")
                .header("x-forwarded-for", address)
                .body_json(&json!({ "phone": crate::support::ADMIN_PHONE, "password": password }))
                .send()
                .await
        }
    };
    for n in 0..10 {
        let resp = password_login("198.51.100.7", "not the password").await;
        let status = resp.0.status();
        assert!(
            status == StatusCode::UNAUTHORIZED || status == StatusCode::TOO_MANY_REQUESTS,
            "try {n}: {status}"
        );
    }
    password_login("203.0.113.5", crate::support::PASSWORD)
        .await
        .assert_status_is_ok();
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
async fn too_many_sign_in_attempts_from_one_network_are_refused_for_a_while() {
    let (app, _gateway) = app_with_gateway(|s| {
        s.trust_forwarded_for = true;
        s.sign_in_attempts_per_network_per_hour = 5;
    })
    .await;
    for n in 0..5 {
        // A different phone each time: no back-off, only the network's count.
        let resp = login_from(&app, &format!("1391234560{n}"), "123456", "198.51.100.7").await;
        resp.assert_status(StatusCode::UNAUTHORIZED);
    }
    let resp = login_from(&app, PHONE, "123456", "198.51.100.99").await;
    resp.assert_status(StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = resp.0.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&retry_after));
    assert_code(&json_of(resp).await, ErrorCode::RequestRateLimited);
    // Another network is not held back.
    login_from(&app, PHONE, "123456", "203.0.113.5")
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
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
