//! Every page's HTML as a reviewed snapshot: a change to a template shows up as a diff of
//! `snapshots/*.snap` (`cargo insta review`, or `INSTA_UPDATE=always` and read the diff).
//! Times, dates, ids, tokens and codes are redacted, so the snapshots hold on every database.

mod buyer;
mod farmer;
mod official;
mod public;
mod session;

use api::testing::TestApp;
use poem::http::StatusCode;

/// A page as the browser gets it.
pub struct Page {
    pub status: StatusCode,
    pub html: String,
}

/// `GET path` with the session `cookie` (or none) in `lang` (`zh` or `en`).
pub async fn open(app: &TestApp, path: &str, cookie: Option<&str>, lang: &str) -> Page {
    let mut request = app.client.get(path).header("accept-language", lang);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    page_of(request.send().await).await
}

/// A form posted from one of our pages.
pub async fn post(app: &TestApp, path: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> Page {
    let body = serde_urlencoded::to_string(form).expect("a form");
    let mut request = app
        .client
        .post(path)
        .header("accept-language", "zh")
        .content_type("application/x-www-form-urlencoded")
        .body(body);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    page_of(request.send().await).await
}

pub async fn page_of(resp: poem::test::TestResponse) -> Page {
    let status = resp.0.status();
    let html = resp.0.into_body().into_string().await.expect("a page");
    Page { status, html }
}

/// A page sign-in for `phone` (which signs in with the test password): the browser's cookie.
pub async fn cookie_for(app: &TestApp, phone: &str) -> String {
    let (_, refresh) = crate::support::tokens(app, phone).await;
    format!("shanhuo_session={refresh}")
}

/// One tag a line, the stylesheet left out (it is `api/static/style.css`, the same on every
/// page), so a diff reads.
pub fn readable(html: &str) -> String {
    let style_start = html.find("<style>").map(|i| i + "<style>".len());
    let style_end = html.find("</style>");
    let html = match (style_start, style_end) {
        (Some(start), Some(end)) if start <= end => {
            format!("{}[style.css]{}", &html[..start], &html[end..])
        }
        _ => html.to_owned(),
    };
    html.replace("><", ">\n<")
}

/// Asserts a page against its snapshot, with what changes from run to run redacted.
#[macro_export]
macro_rules! assert_page {
    ($name:expr, $page:expr) => {{
        let page: &$crate::page_snapshots::Page = &$page;
        let shown = format!(
            "status: {}\n{}",
            page.status.as_u16(),
            $crate::page_snapshots::readable(&page.html)
        );
        insta::with_settings!({
            filters => $crate::page_snapshots::REDACTIONS.to_vec(),
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!($name, shown);
        });
    }};
}

/// What differs between runs and databases: tokens, codes, times, dates and ids.
pub const REDACTIONS: &[(&str, &str)] = &[
    (
        r#"name="csrf" value="[0-9a-f]{12}\.[0-9a-f]{32}""#,
        r#"name="csrf" value="[csrf]""#,
    ),
    (
        r#"name="key" value="[0-9a-f]{24}""#,
        r#"name="key" value="[key]""#,
    ),
    (r"/static/f\.js\?v=[0-9a-f]+", "/static/f.js?v=[version]"),
    (r"/static/wx\.js\?v=[0-9a-f]+", "/static/wx.js?v=[version]"),
    (r"/[tT]/[0-9A-Za-z]{8,}", "/t/[code]"),
    (
        r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:\d{2})?",
        "[time]",
    ),
    (r"\b\d{4}-\d{2}-\d{2}\b", "[date]"),
    (r"\b\d{4}年\d{1,2}月\d{1,2}日", "[date]"),
    (r"\b\d{1,2}:\d{2}\b", "[hh:mm]"),
    (
        r"/(listings|orders|batches|runs|cases|households|photos|plots)/\d+",
        "/$1/[id]",
    ),
];
