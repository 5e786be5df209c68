//! The farmer's pages as an app on the phone: the manifest, the script and the service worker
//! are served with the right types and cache rules, only the farmer's pages link them (the
//! buyer's and the scan pages carry no script), every page says what it may load, and a batch
//! form kept on the phone and sent later, with its key, is taken.

use api::testing::TestApp;
use poem::http::StatusCode;

use crate::{page_snapshots::cookie_for, support};

const FARMER: &str = "13911113333";
const VILLAGE: &str = "500235101201";

struct Answer {
    status: StatusCode,
    headers: poem::http::HeaderMap,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("an ASCII header").to_owned())
    }
}

async fn get(app: &TestApp, path: &str, cookie: Option<&str>) -> Answer {
    let mut request = app.client.get(path).header("accept-language", "zh");
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let resp = request.send().await;
    let status = resp.0.status();
    let headers = resp.0.headers().clone();
    let body = resp.0.into_body().into_string().await.expect("a text body");
    Answer {
        status,
        headers,
        body,
    }
}

async fn signed_in_farmer(app: &TestApp) -> String {
    let household = support::household_in(app, VILLAGE, 1).await;
    support::farmer_account(app, FARMER, household).await;
    cookie_for(app, FARMER).await
}

/// The value of `name="…" value="…"` in a page.
fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).expect("the field") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn only_the_farmers_pages_carry_the_app_and_every_page_says_what_it_may_load() {
    let app = TestApp::spawn().await;
    let cookie = signed_in_farmer(&app).await;

    for path in [
        "/f",
        "/f/batches",
        "/f/listings/new",
        "/f/orders",
        "/f/income",
    ] {
        let page = get(&app, path, Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(
            page.body
                .contains(r#"<link rel="manifest" href="/f/manifest.webmanifest">"#),
            "{path} names its manifest"
        );
        assert!(
            page.body.contains(r#"<script src="/static/f.js?v="#),
            "{path} loads the farmer's script"
        );
        let policy = page.header("content-security-policy").expect("a policy");
        for allowed in [
            "script-src 'self'",
            "worker-src 'self'",
            "manifest-src 'self'",
            "connect-src 'self'",
            "default-src 'none'",
        ] {
            assert!(policy.contains(allowed), "{path}: {policy}");
        }
        assert!(!policy.contains("unsafe-eval") && !policy.contains('*'));
    }

    // The scan page, the market and signing in work without any script; the scan page and
    // the code lookup carry only the one that, inside WeChat, scans and sets the share card.
    for path in ["/m", "/m/trace", "/t/AAAAAAAAAAAAAAAA", "/login", "/"] {
        let page = get(&app, path, None).await;
        let scripts = page.body.matches("<script").count();
        let wechat = page.body.matches("<script src=\"/static/wx.js?v=").count();
        assert_eq!(
            scripts, wechat,
            "{path} carries no other script: {}",
            page.body
        );
        assert!(!page.body.contains("manifest"), "{path}");
    }
    let market = get(&app, "/m", None).await;
    assert!(market.header("content-security-policy").is_some());
}

#[tokio::test]
async fn the_worker_script_manifest_and_icons_are_served_for_the_farmers_pages() {
    let app = TestApp::spawn().await;
    let cookie = signed_in_farmer(&app).await;
    let page = get(&app, "/f", Some(&cookie)).await;
    let start = page
        .body
        .find("/static/f.js?v=")
        .expect("the script's address");
    let script_url = page.body[start..].split('"').next().unwrap().to_owned();
    let version = script_url.rsplit('=').next().unwrap().to_owned();

    let script = get(&app, &script_url, None).await;
    assert_eq!(script.status, StatusCode::OK);
    assert_eq!(
        script.header("content-type").as_deref(),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(
        script.header("cache-control").as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    assert!(script.body.contains("createImageBitmap"));
    assert!(!script.body.contains("\n//"), "sent without its comments");
    // Asked for under another version, it is checked again each time.
    let stale = get(&app, "/static/f.js?v=0", None).await;
    assert_eq!(stale.header("cache-control").as_deref(), Some("no-cache"));

    let worker = get(&app, "/f/sw.js", None).await;
    assert_eq!(worker.status, StatusCode::OK);
    assert_eq!(
        worker.header("content-type").as_deref(),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(worker.header("cache-control").as_deref(), Some("no-cache"));
    assert_eq!(
        worker.header("service-worker-allowed").as_deref(),
        Some("/f")
    );
    assert!(
        worker.body.contains(&version),
        "the worker keeps this version"
    );
    assert!(script.body.len() + worker.body.len() < 10 * 1024);

    let manifest = get(&app, "/f/manifest.webmanifest", None).await;
    assert_eq!(
        manifest.header("content-type").as_deref(),
        Some("application/manifest+json")
    );
    let manifest: serde_json::Value = serde_json::from_str(&manifest.body).unwrap();
    assert_eq!(manifest["start_url"], "/f");
    assert_eq!(manifest["scope"], "/f");
    assert_eq!(manifest["display"], "standalone");
    for icon in manifest["icons"].as_array().unwrap() {
        let src = icon["src"].as_str().unwrap();
        let resp = app.client.get(src).send().await;
        resp.assert_status_is_ok();
        resp.assert_header("content-type", "image/png");
    }
}

#[tokio::test]
async fn a_batch_form_carries_a_key_and_is_taken_when_sent_later_with_its_summary() {
    let app = TestApp::spawn().await;
    let cookie = signed_in_farmer(&app).await;
    let page = get(&app, "/f/batches", Some(&cookie)).await;
    let key = field(&page.body, "key");
    assert_eq!(key.len(), 24, "a fresh key: {key}");
    assert!(key.chars().all(|c| c.is_ascii_hexdigit()));
    let again = get(&app, "/f/batches", Some(&cookie)).await;
    assert_ne!(
        field(&again.body, "key"),
        key,
        "each form shown has its own key"
    );

    // As the service worker sends a kept form: the fields typed, the key, and the summary the
    // script added for the waiting list.
    let category = support::category_id(&app, "sweet_potato_vermicelli").await;
    let form = serde_urlencoded::to_string([
        ("csrf", field(&page.body, "csrf").as_str()),
        ("key", key.as_str()),
        ("category", &category.to_string()),
        ("plot", ""),
        ("quantity", "4321"),
        ("unit", ""),
        ("produced_on", "2024-11-20"),
        ("listing", ""),
        ("_what", "登记批次：红苕粉 4321 2024-11-20"),
    ])
    .unwrap();
    let resp = app
        .client
        .post("/f/batches")
        .header("cookie", &cookie)
        .content_type("application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await;
    resp.assert_status(StatusCode::SEE_OTHER);
    let batches = get(&app, "/f/batches", Some(&cookie)).await;
    assert_eq!(batches.body.matches(" 4321 ").count(), 1);
}
