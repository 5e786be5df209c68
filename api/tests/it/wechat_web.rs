//! Inside WeChat, against a local stand-in for the Official Account: signing in through the
//! web authorisation (a new buyer, a farmer who binds once, a refused state, WeChat's errors),
//! the JS-SDK's signature, one ticket fetch for many pages and for two servers, the renewal of
//! an expired token, and what a farmer's scan opens.

use std::{collections::HashMap, sync::Arc};

use api::{
    infra::{
        cache::{Cache, MemoryCache, RedisCache, RedisTimeouts},
        trace_codes::TraceCode,
        wechat_web::{OfficialAccount, js_signature},
    },
    testing::{FakeOfficialAccount, FakeSmsGateway, TestApp},
};
use entities::user;
use poem::http::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::support;

const WECHAT_UA: &str = "Mozilla/5.0 (Linux; Android 10; V2031A) AppleWebKit/537.36 \
    (KHTML, like Gecko) Version/4.0 Chrome/107.0 Mobile Safari/537.36 MicroMessenger/8.0.47";

struct World {
    app: TestApp,
    sms: FakeSmsGateway,
    oa: FakeOfficialAccount,
}

async fn world() -> World {
    let sms = FakeSmsGateway::start().await;
    let oa = FakeOfficialAccount::start().await;
    let app = TestApp::spawn_with(|s| {
        sms.configure(s);
        oa.configure(s);
        s.sms_resend_after_secs = 0;
    })
    .await;
    World { app, sms, oa }
}

/// A phone's WeChat browser: its cookies, kept as the server sets them.
#[derive(Default)]
struct Browser {
    cookies: HashMap<String, String>,
}

/// One answer: status, where it sends the browser, and its page.
struct Answer {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

impl Browser {
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, headers: &poem::http::HeaderMap) {
        for set in headers.get_all("set-cookie") {
            let set = set.to_str().unwrap();
            let pair = set.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || set.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    async fn get(&mut self, app: &TestApp, path: &str) -> Answer {
        let resp = app
            .client
            .get(path)
            .header("user-agent", WECHAT_UA)
            .header("cookie", self.cookie_header())
            .send()
            .await;
        self.answer(resp).await
    }

    async fn post(&mut self, app: &TestApp, path: &str, form: &[(&str, &str)]) -> Answer {
        let resp = app
            .client
            .post(path)
            .header("user-agent", WECHAT_UA)
            .header("cookie", self.cookie_header())
            .content_type("application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).unwrap())
            .send()
            .await;
        self.answer(resp).await
    }

    async fn answer(&mut self, resp: poem::test::TestResponse) -> Answer {
        let status = resp.0.status();
        self.keep(resp.0.headers());
        let location = resp
            .0
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        let body = resp.0.into_body().into_string().await.unwrap();
        Answer {
            status,
            location,
            body,
        }
    }

    /// Follows redirects from `path` (ours in-process, WeChat's over HTTP) until a page
    /// answers; says every address passed.
    async fn open(&mut self, app: &TestApp, path: &str) -> (Answer, Vec<String>) {
        let mut passed = vec![path.to_owned()];
        let mut answer = self.get(app, path).await;
        for _ in 0..12 {
            let Some(location) = answer.location.clone() else {
                return (answer, passed);
            };
            passed.push(location.clone());
            let ours = app.state.settings.public_base_url.clone();
            answer = if let Some(path) = location.strip_prefix(&ours) {
                self.get(app, path).await
            } else if location.starts_with("http") {
                wechat(&location).await
            } else {
                self.get(app, &location).await
            };
        }
        panic!("too many redirects: {passed:?}");
    }
}

/// WeChat's side of a redirect (the stand-in's authorisation page).
async fn wechat(url: &str) -> Answer {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = client.get(url).send().await.unwrap();
    Answer {
        status: StatusCode::from_u16(resp.status().as_u16()).unwrap(),
        location: resp
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned()),
        body: resp.text().await.unwrap(),
    }
}

async fn user_of_openid(app: &TestApp, openid: &str) -> Option<user::Model> {
    user::Entity::find()
        .filter(user::Column::WechatWebOpenid.eq(openid))
        .one(app.state.db.conn())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_new_wechat_user_becomes_a_buyer_without_a_texted_code() {
    let world = world().await;
    world.oa.act_as("alice");
    let mut phone = Browser::default();
    let (page, passed) = phone.open(&world.app, "/m/orders").await;
    assert_eq!(page.status, StatusCode::OK, "{passed:#?}\n{}", page.body);
    assert!(passed.last().unwrap().ends_with("/m/orders"), "{passed:#?}");
    // Silently first; only someone WeChat has not brought before is asked to consent.
    let scopes: Vec<&str> = passed
        .iter()
        .filter_map(|p| p.split("scope=").nth(1))
        .map(|s| s.split('&').next().unwrap())
        .collect();
    assert_eq!(scopes, ["snsapi_base", "snsapi_userinfo"], "{passed:#?}");
    assert!(world.sms.last_code_for("13600000001").is_none());

    let buyer = user_of_openid(&world.app, "oa-openid-alice")
        .await
        .expect("a buyer bound to the openid");
    assert_eq!(buyer.role, user::Role::Buyer);
    assert_eq!(buyer.display_name, "alice的微信");
    assert_eq!(buyer.wechat_unionid.as_deref(), Some("unionid-alice"));

    // Next time WeChat's silent look-up is enough, in a fresh browser.
    let mut again = Browser::default();
    let (page, passed) = again.open(&world.app, "/m/orders").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !passed.iter().any(|p| p.contains("snsapi_userinfo")),
        "{passed:#?}"
    );
    let count = user::Entity::find()
        .filter(user::Column::WechatWebOpenid.is_not_null())
        .all(world.app.state.db.conn())
        .await
        .unwrap()
        .len();
    assert_eq!(count, 1, "the same WeChat user, the same account");
}

#[tokio::test]
async fn a_farmer_binds_wechat_once_after_a_texted_code_and_wechat_signs_them_in_after() {
    let world = world().await;
    let app = &world.app;
    let household = support::household_in(app, "500235101201", 3).await;
    support::farmer_account(app, "13600000003", household).await;
    world.oa.act_as("farmer-li");

    let mut phone = Browser::default();
    let (page, passed) = phone.open(app, "/f/batches").await;
    // WeChat does not know them: no buyer is made, the texted code is asked for once.
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        passed.last().unwrap().starts_with("/login?next=")
            && passed.last().unwrap().ends_with("batches&wechat=first"),
        "{passed:#?}"
    );
    assert!(page.body.contains("以后微信会自动登录"), "{}", page.body);
    assert!(user_of_openid(app, "oa-openid-farmer-li").await.is_none());

    let sent = phone
        .post(
            app,
            "/login/code",
            &[("phone", "13600000003"), ("next", "/f/batches")],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    let code = world.sms.last_code_for("13600000003").unwrap();
    let signed_in = phone
        .post(
            app,
            "/login",
            &[
                ("phone", "13600000003"),
                ("code", &code),
                ("next", "/f/batches"),
            ],
        )
        .await;
    let bind = signed_in.location.expect("on to bind WeChat");
    assert!(bind.starts_with("/login/wechat?bind=1&next="), "{bind}");
    // A page of its own sends the browser on to WeChat (the sign-in form's redirects may not
    // leave the site).
    let on = phone.get(app, &bind).await;
    assert_eq!(on.status, StatusCode::OK);
    let body = unescape(&on.body);
    let refresh = body.split("0;url=").nth(1).expect(&body);
    let authorize = refresh.split('"').next().unwrap().to_owned();
    assert!(authorize.contains("scope=snsapi_base"), "{authorize}");
    let back = wechat(&authorize).await.location.unwrap();
    let back = back
        .strip_prefix(&app.state.settings.public_base_url)
        .unwrap()
        .to_owned();
    let (page, passed) = phone.open(app, &back).await;
    assert_eq!(page.status, StatusCode::OK, "{passed:#?}");
    assert!(passed.last().unwrap().ends_with("/f/batches"));
    let farmer = user_of_openid(app, "oa-openid-farmer-li")
        .await
        .expect("bound");
    assert_eq!(farmer.role, user::Role::Farmer);

    // From now on WeChat signs them in, in a fresh browser, with no code texted.
    let texted = world.sms.last_code_for("13600000003");
    let mut fresh = Browser::default();
    let (page, passed) = fresh.open(app, "/f/batches").await;
    assert_eq!(page.status, StatusCode::OK, "{passed:#?}");
    assert!(page.body.contains("我的批次"));
    assert_eq!(world.sms.last_code_for("13600000003"), texted);
}

#[tokio::test]
async fn a_state_that_is_not_this_browsers_is_refused_and_signs_nobody_in() {
    let world = world().await;
    world.oa.act_as("mallory");
    let mut attacker = Browser::default();
    let start = attacker
        .get(&world.app, "/login/wechat?next=/m/orders")
        .await;
    let back = wechat(&start.location.unwrap()).await.location.unwrap();
    let back_path = back
        .strip_prefix(&world.app.state.settings.public_base_url)
        .unwrap()
        .to_owned();

    // The victim's browser is sent the attacker's answer.
    let mut victim = Browser::default();
    let page = victim.get(&world.app, &back_path).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("这次微信登录已失效"), "{}", page.body);
    assert!(page.body.contains("用手机号和短信验证码登录"));
    assert!(page.body.contains("href=\"/login?next="), "{}", page.body);
    assert!(!victim.cookies.contains_key("shanhuo_session"));
    assert!(
        user_of_openid(&world.app, "oa-openid-mallory")
            .await
            .is_none()
    );

    // A browser with a state of its own, but another one: refused too.
    let mut other = Browser::default();
    other.get(&world.app, "/login/wechat").await;
    let page = other.get(&world.app, &back_path).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn wechats_failures_are_told_in_plain_chinese_with_the_texted_code_offered() {
    let world = world().await;
    for (user, status, words) in [
        (
            "busy",
            StatusCode::SERVICE_UNAVAILABLE,
            "微信服务暂时不可用",
        ),
        (
            "limited",
            StatusCode::SERVICE_UNAVAILABLE,
            "微信服务暂时不可用",
        ),
        ("invalid", StatusCode::UNAUTHORIZED, "微信登录凭证无效"),
        ("snapshot", StatusCode::FORBIDDEN, "使用完整服务"),
    ] {
        world.oa.act_as(user);
        let mut phone = Browser::default();
        let (page, passed) = phone.open(&world.app, "/m/orders").await;
        assert_eq!(page.status, status, "{user}: {passed:#?}\n{}", page.body);
        assert!(page.body.contains(words), "{user}: {}", page.body);
        assert!(page.body.contains("用手机号和短信验证码登录"), "{user}");
        assert!(!phone.cookies.contains_key("shanhuo_session"));
    }
    // Declining WeChat's consent page comes back without a code.
    let mut phone = Browser::default();
    let start = phone.get(&world.app, "/login/wechat").await;
    let url = start.location.unwrap();
    let state = url
        .split("state=")
        .nth(1)
        .unwrap()
        .split('#')
        .next()
        .unwrap();
    let page = phone
        .get(&world.app, &format!("/login/wechat/back?state={state}"))
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("您没有同意微信授权"));
}

#[tokio::test]
async fn outside_wechat_the_texted_code_sign_in_stays_as_it_is() {
    let world = world().await;
    let resp = world.app.client.get("/m/orders").send().await;
    resp.assert_status(StatusCode::SEE_OTHER);
    let location = resp.0.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/login?next="), "{location}");
    let page = world.app.client.get("/login").send().await;
    let body = page.0.into_body().into_string().await.unwrap();
    assert!(!body.contains("微信一键登录"));
}

#[tokio::test]
async fn wx_config_is_signed_for_the_pages_own_address_as_wechat_documents() {
    let world = world().await;
    let url = "http://127.0.0.1:8080/m/listings/1?from=share";
    let resp = world
        .app
        .client
        .get("/wx/config")
        .query("url", &format!("{url}#photos"))
        .send()
        .await;
    resp.assert_status_is_ok();
    let config: serde_json::Value = resp.0.into_body().into_json().await.unwrap();
    assert_eq!(config["appId"], FakeOfficialAccount::APPID);
    let timestamp = config["timestamp"].as_i64().unwrap();
    let nonce = config["nonceStr"].as_str().unwrap();
    // The ticket the stand-in handed out; the page's address without its fragment.
    assert_eq!(
        config["signature"],
        js_signature("ticket-1", nonce, timestamp, url)
    );
    // WeChat's own example, as its documentation gives it.
    assert_eq!(
        js_signature(
            "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
            "Wm3WZYTPz0wzccnW",
            1414587457,
            "http://mp.weixin.qq.com?params=value",
        ),
        "0f9de62fce790f9a083d5c99e95740ceb90c27ed"
    );
    // Another site's page is not signed.
    let resp = world
        .app
        .client
        .get("/wx/config")
        .query("url", &"https://evil.example/")
        .send()
        .await;
    resp.assert_status(StatusCode::BAD_REQUEST);
}

fn settings_of(oa: &FakeOfficialAccount) -> api::infra::wechat_web::WebSettings {
    let mut settings = api::config::Settings::default();
    oa.configure(&mut settings);
    settings.wechat_web().unwrap()
}

/// The caches two servers would share: one in-process cache, and Redis (two connections under
/// one prefix) when `TEST_REDIS_URL` is set.
async fn shared_caches() -> Vec<(Arc<dyn Cache>, Arc<dyn Cache>)> {
    let memory: Arc<dyn Cache> = Arc::new(MemoryCache::new(100));
    let mut caches = vec![(memory.clone(), memory)];
    if let Ok(url) = std::env::var("TEST_REDIS_URL")
        && !url.trim().is_empty()
    {
        let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
        let timeouts = RedisTimeouts {
            connect: std::time::Duration::from_secs(2),
            response: std::time::Duration::from_secs(2),
        };
        let one = RedisCache::connect(url.trim(), &prefix, timeouts)
            .await
            .unwrap();
        let two = RedisCache::connect(url.trim(), &prefix, timeouts)
            .await
            .unwrap();
        caches.push((Arc::new(one), Arc::new(two)));
    }
    caches
}

#[tokio::test]
async fn many_pages_at_once_fetch_the_token_and_ticket_once() {
    for (cache, _) in shared_caches().await {
        let oa = FakeOfficialAccount::start().await;
        let server = OfficialAccount::new(settings_of(&oa), cache.clone());
        let pages = (0..40).map(|n| {
            let server = server.clone();
            tokio::spawn(async move {
                server
                    .js_config(&format!("https://a.example/m/listings/{n}"))
                    .await
            })
        });
        for page in futures_join(pages).await {
            page.expect("signed");
        }
        assert_eq!(oa.fetches(), (1, 1), "{}", cache.kind());
        cache.clear().await.unwrap();
    }
}

#[tokio::test]
async fn two_servers_sharing_one_cache_fetch_the_ticket_once() {
    for (one, two) in shared_caches().await {
        let oa = FakeOfficialAccount::start().await;
        let servers = [
            OfficialAccount::new(settings_of(&oa), one.clone()),
            OfficialAccount::new(settings_of(&oa), two),
        ];
        let pages = (0..40).map(|n| {
            let server = servers[n % 2].clone();
            tokio::spawn(async move { server.jsapi_ticket().await })
        });
        let tickets: Vec<String> = futures_join(pages)
            .await
            .into_iter()
            .map(|t| t.expect("a ticket"))
            .collect();
        assert!(tickets.iter().all(|t| t == "ticket-1"), "{tickets:?}");
        assert_eq!(oa.fetches(), (1, 1), "{}", one.kind());
        one.clear().await.unwrap();
    }
}

#[tokio::test]
async fn a_token_wechat_says_expired_is_renewed_once_and_the_ticket_fetched_again() {
    for (cache, _) in shared_caches().await {
        let oa = FakeOfficialAccount::start().await;
        let server = OfficialAccount::new(settings_of(&oa), cache.clone());
        assert_eq!(server.jsapi_ticket().await.unwrap(), "ticket-1");
        // The ticket is gone from the cache and WeChat ends the token the cache still holds.
        cache
            .delete(&format!(
                "wechat:{{{}}}:jsapi-ticket",
                FakeOfficialAccount::APPID
            ))
            .await
            .unwrap();
        oa.expire_tokens();
        let ticket = server
            .jsapi_ticket()
            .await
            .expect("a new ticket after renewal");
        // getticket refused the old token (42001), a new token was fetched, and the ticket
        // asked again with it.
        assert_eq!(ticket, "ticket-3");
        assert_eq!(oa.fetches(), (2, 3), "{}", cache.kind());
        assert_eq!(
            server.jsapi_ticket().await.unwrap(),
            "ticket-3",
            "kept again"
        );
        assert_eq!(oa.fetches(), (2, 3));
        cache.clear().await.unwrap();
    }
}

async fn futures_join<T>(tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for task in tasks.collect::<Vec<_>>() {
        out.push(task.await.unwrap());
    }
    out
}

#[tokio::test]
async fn a_farmers_scan_of_their_own_label_opens_the_batch_at_that_item_and_anothers_the_scan_page()
{
    let world = world().await;
    let app = &world.app;
    let batch_code = crate::trace::a_batch_code(app).await;
    let batch = app.state.trace_keys.verify(&batch_code).unwrap();
    let item = app.state.trace_keys.sign(TraceCode {
        batch_id: batch.batch_id,
        item: 5,
    });
    let label = format!("HTTP://127.0.0.1:8080/T/{item}");
    let (_, refresh) = support::tokens(app, "13600000077").await;
    let mut owner = Browser::default();
    owner.cookies.insert("shanhuo_session".into(), refresh);
    let scanned = owner
        .get(app, &format!("/f/scan?u={}", urlencode(&label)))
        .await;
    assert_eq!(scanned.status, StatusCode::SEE_OTHER, "{}", scanned.body);
    let at = scanned.location.unwrap();
    assert_eq!(at, format!("/f/batches/{}?item=5#step", batch.batch_id));
    let page = owner.get(app, at.split('#').next().unwrap()).await;
    assert!(page.body.contains("扫到的标签：No.5"), "{}", page.body);
    // Nothing recorded yet: the step after sticking the label is packing.
    assert!(page.body.contains("<option value=\"packed\" selected>"));

    let household = support::household_in(app, "500235101201", 8).await;
    support::farmer_account(app, "13600000088", household).await;
    let (_, refresh) = support::tokens(app, "13600000088").await;
    let mut neighbour = Browser::default();
    neighbour.cookies.insert("shanhuo_session".into(), refresh);
    let scanned = neighbour
        .get(app, &format!("/f/scan?u={}", urlencode(&label)))
        .await;
    assert_eq!(scanned.location.unwrap(), format!("/t/{item}"));

    let forged = neighbour
        .get(app, "/f/scan?u=https%3A%2F%2Fexample.com%2F")
        .await;
    assert_eq!(forged.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(forged.body.contains("这不是山货的溯源标签"));

    // The buyer's verify page takes what a scanner read, a label's address too.
    let resp = app
        .client
        .get(format!("/m/trace?code={}", urlencode(&label)))
        .send()
        .await;
    resp.assert_status(StatusCode::SEE_OTHER);
    resp.assert_header("location", format!("/t/{item}"));
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).unwrap()[1..].to_owned()
}

/// HTML's character references, as a browser reads an attribute.
fn unescape(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let end = tail.find(';').unwrap_or(0);
        let entity = &tail[1..end.max(1)];
        let c = match entity {
            "amp" => Some('&'),
            "quot" => Some('"'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match c {
            Some(c) if end > 0 => {
                out.push(c);
                rest = &tail[end + 1..];
            }
            _ => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}
