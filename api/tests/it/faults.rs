//! The database holds what must not be lost; the cache only speeds answers up. Each test makes
//! the cache forget (a flush, a flood that evicts, a Redis that dies) at the worst moment and
//! checks that no answer changes, and that nothing answers 500 while Redis is away.

use std::{sync::Arc, time::Duration};

use api::{
    http::error::ErrorCode,
    infra::cache::{Cache, RedisCache, RedisTimeouts, ResilientCache},
    testing::{FakeSmsGateway, OwnRedis, TestApp, test_caches},
};
use poem::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{self, ADMIN_PHONE, PASSWORD, json_of};

/// Every way the cache forgets, for the cache the app runs on: a flush and, for the in-process
/// cache, a flood of other keys far past its capacity (what anonymous traffic can cause).
async fn forget(cache: &Arc<dyn Cache>) {
    for i in 0..30_000 {
        let _ = cache
            .set(&format!("flood:{i}"), b"x", Duration::from_secs(60))
            .await;
    }
    cache.clear().await.unwrap();
}

fn assert_code(body: &Value, code: ErrorCode) {
    assert_eq!(body["code"], code.as_str(), "{body}");
}

async fn me(app: &TestApp, access: &str) -> poem::test::TestResponse {
    app.client
        .get("/api/v1/me")
        .header("authorization", format!("Bearer {access}"))
        .send()
        .await
}

#[tokio::test]
async fn a_logged_out_token_stays_refused_however_the_cache_forgets() {
    for cache in test_caches().await {
        let kind = cache.kind();
        let app = support::with_admin(
            TestApp::spawn_with_cache(|s| s.cache_capacity = 1_000, cache.clone()).await,
        )
        .await;
        let (access, refresh) = support::tokens(&app, ADMIN_PHONE).await;
        me(&app, &access).await.assert_status_is_ok();
        app.client
            .post("/api/v1/auth/logout")
            .header("authorization", format!("Bearer {access}"))
            .send()
            .await
            .assert_status(StatusCode::NO_CONTENT);
        forget(&cache).await;
        let resp = me(&app, &access).await;
        resp.assert_status(StatusCode::UNAUTHORIZED);
        assert_code(&json_of(resp).await, ErrorCode::AuthTokenRevoked);
        let resp = app
            .client
            .post("/api/v1/auth/refresh")
            .body_json(&json!({ "refresh_token": refresh }))
            .send()
            .await;
        assert_eq!(resp.0.status(), StatusCode::UNAUTHORIZED, "{kind}");
    }
}

async fn wrong_login(app: &TestApp) -> poem::test::TestResponse {
    support::login(app, ADMIN_PHONE, "not-the-password").await
}

#[tokio::test]
async fn a_sign_in_lockout_survives_the_cache_forgetting() {
    for cache in test_caches().await {
        let app = support::with_admin(
            TestApp::spawn_with_cache(|s| s.cache_capacity = 1_000, cache.clone()).await,
        )
        .await;
        // Three failures from one address make its next try wait.
        for _ in 0..3 {
            wrong_login(&app)
                .await
                .assert_status(StatusCode::UNAUTHORIZED);
        }
        wrong_login(&app)
            .await
            .assert_status(StatusCode::TOO_MANY_REQUESTS);
        // Ten more failures from that address make the wait long enough to outlast the test.
        let wait = <entities::security_counter::Entity as sea_orm::EntityTrait>::find()
            .all(app.state.db.conn())
            .await
            .unwrap()
            .into_iter()
            .find(|row| row.key.starts_with(&format!("login-wait:{ADMIN_PHONE}:")))
            .expect("the wait is a row");
        let address = wait
            .key
            .strip_prefix(&format!("login-wait:{ADMIN_PHONE}:"))
            .unwrap()
            .to_owned();
        for _ in 0..10 {
            api::service::rate_limit::record_failure(&app.state.db, ADMIN_PHONE, &address)
                .await
                .unwrap();
        }
        forget(&cache).await;
        let resp = wrong_login(&app).await;
        resp.assert_status(StatusCode::TOO_MANY_REQUESTS);
        assert_code(&json_of(resp).await, ErrorCode::RequestRateLimited);
        // Not even the right password gets through the wait from that address.
        support::login(&app, ADMIN_PHONE, PASSWORD)
            .await
            .assert_status(StatusCode::TOO_MANY_REQUESTS);
    }
}

#[tokio::test]
async fn a_codes_wrong_tries_and_a_phones_daily_limit_survive_the_cache_forgetting() {
    const PHONE: &str = "13912345678";
    for cache in test_caches().await {
        let gateway = FakeSmsGateway::start().await;
        let app = TestApp::spawn_with_cache(
            |s| {
                gateway.configure(s);
                s.sms_resend_after_secs = 0;
                s.cache_capacity = 1_000;
                s.trust_forwarded_for = true;
            },
            cache.clone(),
        )
        .await;
        let send = || {
            app.client
                .post("/api/v1/auth/sms/send")
                .body_json(&json!({ "phone": PHONE }))
                .send()
        };
        // Each try from an address of its own, so no address's back-off stands in the way.
        let tries = std::sync::atomic::AtomicU8::new(0);
        let login = |code: String| {
            let n = tries.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            app.client
                .post("/api/v1/auth/login/sms")
                .header("x-forwarded-for", format!("198.51.100.{n}"))
                .body_json(&json!({ "phone": PHONE, "code": code }))
                .send()
        };
        send().await.assert_status(StatusCode::ACCEPTED);
        let code = gateway.last_code_for(PHONE).unwrap();
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for _ in 0..5 {
            login(wrong.into())
                .await
                .assert_status(StatusCode::UNAUTHORIZED);
        }
        forget(&cache).await;
        let resp = login(code).await;
        resp.assert_status(StatusCode::UNAUTHORIZED);
        assert_code(&json_of(resp).await, ErrorCode::AuthCodeTooManyTries);

        // Ten texts a day to one phone, however often the cache forgets between them.
        for _ in 1..10 {
            send().await.assert_status(StatusCode::ACCEPTED);
            forget(&cache).await;
        }
        let resp = send().await;
        resp.assert_status(StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(gateway.received.lock().unwrap().len(), 10);
    }
}

/// The app on a Redis of the test's own, behind the circuit the server uses, with the
/// production timeouts.
async fn app_on(redis_url: &str) -> TestApp {
    let redis = RedisCache::connect_lazily(
        redis_url,
        &format!("test:{}:", uuid::Uuid::new_v4().simple()),
        RedisTimeouts::default(),
    )
    .unwrap();
    let cache: Arc<dyn Cache> = Arc::new(ResilientCache::new(redis, 10_000));
    support::with_admin(TestApp::spawn_with_cache(|_| {}, cache).await).await
}

/// One round of what people do: a buyer scans and browses, a signed-in user reads their own
/// page. Answers each status.
async fn ordinary_requests(app: &TestApp, code: &str, access: &str) -> Vec<(String, u16, Value)> {
    let mut answers = Vec::new();
    for (what, path, token) in [
        ("verify", format!("/api/v1/trace/{code}"), None),
        ("browse", "/api/v1/listings".to_owned(), None),
        ("market page", "/m".to_owned(), None),
        ("signed in", "/api/v1/me".to_owned(), Some(access)),
    ] {
        let mut req = app.client.get(&path);
        if let Some(token) = token {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        let resp = req.send().await;
        let status = resp.0.status().as_u16();
        let body = resp.0.into_body().into_string().await.unwrap();
        answers.push((
            what.to_owned(),
            status,
            serde_json::from_str(&body).unwrap_or(Value::Null),
        ));
    }
    answers
}

async fn readiness(app: &TestApp) -> Value {
    json_of(app.client.get("/readyz").send().await).await
}

#[tokio::test]
async fn while_redis_is_down_nothing_answers_500_and_counts_stay_exact() {
    let mut redis = OwnRedis::start().await;
    let app = app_on(&redis.url()).await;
    let (access, _) = support::tokens(&app, ADMIN_PHONE).await;
    let code = crate::trace::a_batch_code(&app).await;
    assert_eq!(readiness(&app).await["status"], "ready");

    let mut expected_count = 0;
    let mut round = async |phase: &str| {
        for (what, status, body) in ordinary_requests(&app, &code, &access).await {
            assert!(
                (200..300).contains(&status) || status == 503,
                "{phase}: {what} answered {status}: {body}"
            );
            if what == "verify" {
                expected_count += 1;
                assert_eq!(body["scan_count"], expected_count, "{phase}: {body}");
            }
        }
    };
    round("Redis up").await;
    round("Redis up").await;

    redis.stop();
    let started = std::time::Instant::now();
    for _ in 0..5 {
        round("Redis down").await;
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "five rounds without Redis took {:?}",
        started.elapsed()
    );
    let ready = readiness(&app).await;
    assert_eq!(ready["status"], "degraded", "{ready}");
    assert_eq!(ready["checks"]["cache"], "degraded", "{ready}");
    app.state.scans.flush(&app.state.db).await.unwrap();
    round("Redis down, counts written").await;

    redis.start_again().await;
    let back = std::time::Instant::now();
    while readiness(&app).await["status"] != "ready" {
        assert!(
            back.elapsed() < Duration::from_secs(5),
            "Redis is not back in use"
        );
        round("Redis coming back").await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for _ in 0..3 {
        round("Redis back").await;
    }
}

#[tokio::test]
async fn a_redis_that_never_answered_leaves_the_server_degraded_not_broken() {
    let nothing_listens = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = app_on(&format!("redis://127.0.0.1:{nothing_listens}")).await;
    let (access, _) = support::tokens(&app, ADMIN_PHONE).await;
    let code = crate::trace::a_batch_code(&app).await;
    for round in 1..=3 {
        for (what, status, body) in ordinary_requests(&app, &code, &access).await {
            assert!(
                (200..300).contains(&status),
                "{what} answered {status}: {body}"
            );
            if what == "verify" {
                assert_eq!(body["scan_count"], round, "{body}");
            }
        }
    }
    assert_eq!(readiness(&app).await["status"], "degraded");
}
