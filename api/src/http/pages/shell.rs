//! What every server-rendered page shares: the reader's language, the frame a page sits in
//! (brand, heading, bottom tab bar), the stylesheet inlined from `api/static/style.css` so a
//! page is one small response that needs no JavaScript, and turning a template into a response.
//!
//! Templates live in `api/templates/`: `layouts/page.html` is the frame, `partials/` what
//! several pages show, and one template per page beside the room it belongs to. A page
//! template starts by naming its frame and title:
//!
//! ```text
//! {% extends "layouts/page.html" %}
//! {% let frame = Frame::farmer("/f/orders") %}
//! {% let title = lang.t("订单", "Orders") %}
//! ```
//!
//! Both languages' text stands in the template (`lang.t("中文", "English")`); values are
//! escaped by askama. Between two tags, whitespace with a line break in it is dropped when a page
//! is rendered, so templates can be indented without the pages growing: keep text on the line
//! of its tags.

use std::sync::LazyLock;

use askama::Template;
use poem::{FromRequest, Request, RequestBody, Response, http::header};

use entities::listing::Unit;

use poem::http::StatusCode;

use super::error::PageError;
use crate::http::error::Lang;

/// WeUI-like: WeChat green, list cells, large type and touch targets (44 px and up), text
/// contrast of at least 4.5:1. One rule a line in the file, joined into one line for the pages.
pub static STYLE: LazyLock<String> = LazyLock::new(|| {
    include_str!("../../../static/style.css")
        .lines()
        .map(str::trim)
        .collect()
});

impl<'a> FromRequest<'a> for Lang {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        Ok(lang_of(req))
    }
}

/// A tab of the bottom bar: where it goes and its Chinese and English names.
pub struct Tab {
    pub href: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
}

const fn tab(href: &'static str, zh: &'static str, en: &'static str) -> Tab {
    Tab { href, zh, en }
}

const MARKET: &[Tab] = &[
    tab("/m", "好物", "Market"),
    tab("/m/trace", "扫码溯源", "Verify a code"),
    tab("/m/orders", "我的订单", "My orders"),
];

const FARMER: &[Tab] = &[
    tab("/f", "商品", "Goods"),
    tab("/f/batches", "批次", "Batches"),
    tab("/f/orders", "订单", "Orders"),
    tab("/f/income", "收入", "Income"),
];

const OFFICIAL: &[Tab] = &[
    tab("/o", "进度", "Progress"),
    tab("/o/cases", "待办", "To do"),
    tab("/o/villages", "村排名", "Villages"),
    tab("/o/stats", "产销", "Goods"),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Room {
    /// The scan page: the trace brand, and where its records come from at the foot.
    Scan,
    /// The scan page of a code this county did not issue: the trace brand, nothing at the foot.
    ScanUnverified,
    /// The buyer's pages, with the market's tabs.
    Market,
    Farmer,
    Official,
    /// Signing in, a refusal: a heading and no tabs.
    Plain,
}

/// The frame a page sits in: its brand, whether its title stands as a heading, its tab bar
/// and which tab is lit.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    room: Room,
    current: &'static str,
}

impl Frame {
    pub fn scan() -> Self {
        Self::new(Room::Scan, "")
    }

    pub fn scan_unverified() -> Self {
        Self::new(Room::ScanUnverified, "")
    }

    pub fn market(current: &'static str) -> Self {
        Self::new(Room::Market, current)
    }

    pub fn farmer(current: &'static str) -> Self {
        Self::new(Room::Farmer, current)
    }

    pub fn official(current: &'static str) -> Self {
        Self::new(Room::Official, current)
    }

    pub fn plain() -> Self {
        Self::new(Room::Plain, "")
    }

    fn new(room: Room, current: &'static str) -> Self {
        Self { room, current }
    }

    /// The frame of the part of the site `path` is in, for pages any part may show (a
    /// refusal), with the tab of that part's first page lit.
    pub fn of_path(path: &str) -> Self {
        let under = |prefix: &str| {
            path == prefix
                || path
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('/'))
        };
        if under("/f") {
            Self::farmer("/f")
        } else if under("/o") {
            Self::official("/o")
        } else if under("/m") {
            Self::market("/m")
        } else if under("/t") || under("/T") {
            Self::scan()
        } else {
            Self::plain()
        }
    }

    /// Where this part of the site begins, for a link back.
    pub fn home(&self) -> &'static str {
        match self.room {
            Room::Farmer => "/f",
            Room::Official => "/o",
            Room::Market | Room::Scan | Room::ScanUnverified => "/m",
            Room::Plain => "/login",
        }
    }

    pub fn brand(&self, lang: &Lang) -> &'static str {
        match self.room {
            Room::Scan | Room::ScanUnverified => lang.t("山货溯源", "Shanhuo trace"),
            Room::Market | Room::Plain => lang.t("山货", "Shanhuo"),
            Room::Farmer => lang.t("山货 · 农户", "Shanhuo · farmer"),
            Room::Official => lang.t("山货 · 脱贫攻坚", "Shanhuo · poverty exit"),
        }
    }

    /// Whether the page's title stands at its top as a heading.
    pub fn heading(&self) -> bool {
        matches!(self.room, Room::Farmer | Room::Official | Room::Plain)
    }

    /// The line at the foot of the page, where there is no tab bar.
    pub fn footnote(&self, lang: &Lang) -> Option<&'static str> {
        (self.room == Room::Scan).then(|| {
            lang.t(
                "信息由生产者登记，县电商中心核验",
                "Recorded by the producer, checked by the county e-commerce centre",
            )
        })
    }

    pub fn tabs(&self) -> &'static [Tab] {
        match self.room {
            Room::Market => MARKET,
            Room::Farmer => FARMER,
            Room::Official => OFFICIAL,
            Room::Scan | Room::ScanUnverified | Room::Plain => &[],
        }
    }

    pub fn is_current(&self, tab: &Tab) -> bool {
        tab.href == self.current
    }

    /// Whether the page is one of the farmer's, which work as an app on the phone: installable,
    /// kept for a weak signal, photos shrunk before upload (see [`super::app`]).
    pub fn is_app(&self) -> bool {
        self.room == Room::Farmer
    }

    /// The address of the farmer's pages' script, with its version.
    pub fn script_url(&self) -> &'static str {
        super::app::SCRIPT_URL.as_str()
    }

    /// The address of the script that, inside WeChat, scans and sets the share card.
    pub fn wechat_script_url(&self) -> &'static str {
        super::app::WECHAT_SCRIPT_URL.as_str()
    }
}

/// What a shared link shows (WeChat's share card, Open Graph elsewhere).
#[derive(Clone, Debug)]
pub struct ShareCard {
    pub title: String,
    pub description: String,
    /// The page's own full address.
    pub url: String,
    /// The full address of a small (240 px) photo.
    pub image: Option<String>,
}

/// The HTML of a page, with the line-broken whitespace between its tags left out.
pub fn render(page: &impl Template) -> Result<String, PageError> {
    let html = page
        .render()
        .map_err(|e| PageError::Unavailable(e.into()))?;
    Ok(drop_layout_whitespace(&html))
}

/// Leaves out each run of whitespace that holds a line break and stands between the end of
/// one tag and the start of the next (or the start of the page): the templates' indentation.
/// Text in a page never holds a bare `<` or `>` (askama escapes them), so the runs found are
/// the templates' own.
fn drop_layout_whitespace(html: &str) -> String {
    let bytes = html.as_bytes();
    let mut out = String::with_capacity(html.len());
    let mut copied_to = 0;
    let mut pos = 0;
    while pos < bytes.len() {
        if !bytes[pos].is_ascii_whitespace() {
            pos += 1;
            continue;
        }
        let start = pos;
        while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        let tag_before = start == 0 || bytes[start - 1] == b'>';
        let tag_after = pos == bytes.len() || bytes[pos] == b'<';
        if tag_before && tag_after && bytes[start..pos].contains(&b'\n') {
            // ASCII whitespace is never inside a multi-byte character: these are char bounds.
            out.push_str(&html[copied_to..start]);
            copied_to = pos;
        }
    }
    out.push_str(&html[copied_to..]);
    out
}

/// A page for one signed-in user (or one form's answer): never kept by a shared cache.
pub fn private(page: &impl Template) -> Result<Response, PageError> {
    private_with(page, StatusCode::OK)
}

/// As [`private`], answering with `status`: a form refused with what was wrong, say.
pub fn private_with(page: &impl Template, status: StatusCode) -> Result<Response, PageError> {
    Ok(html_response(render(page)?, status, "no-store"))
}

/// A page the same for everyone, which phones and proxies may keep for `max_age` seconds.
pub fn public(page: &impl Template, max_age: u32) -> Result<Response, PageError> {
    Ok(html_response(
        render(page)?,
        StatusCode::OK,
        &format!("public, max-age={max_age}"),
    ))
}

/// What a page may load: its inline stylesheet and style attributes, images, its own scripts
/// (and, inside WeChat, WeChat's JS-SDK) and service worker and manifest, and requests and forms back to this server; nothing from
/// elsewhere, no plugins, and no `<base>` to move its links.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; \
    script-src 'self' https://res.wx.qq.com; \
    style-src 'unsafe-inline'; img-src 'self'; connect-src 'self'; worker-src 'self'; \
    manifest-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'";

/// An HTML answer with its cache rule; every page varies by the reader's language.
pub fn html_response(body: String, status: StatusCode, cache_control: &str) -> Response {
    Response::builder()
        .status(status)
        .content_type("text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, cache_control)
        .header(header::VARY, "Accept-Language")
        .header(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY)
        .body(body)
}

/// To another page after a form, never kept.
pub fn see_other(location: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, location)
        .header(header::CACHE_CONTROL, "no-store")
        .finish()
}

/// A whole number with a comma between thousands: `1,234,567`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// Yuan from fen with thousands apart: `12,345` or `12,345.50`.
pub fn yuan_thousands(fen: i64) -> String {
    let (whole, cents) = (fen / 100, (fen % 100).abs());
    if cents == 0 {
        thousands(whole)
    } else {
        format!("{}.{cents:02}", thousands(whole))
    }
}

/// `¥12.50/斤`.
pub fn price(lang: Lang, fen: i64, unit: Unit) -> String {
    format!("¥{}.{:02}/{}", fen / 100, fen % 100, unit_name(lang, unit))
}

pub fn unit_name(lang: Lang, unit: Unit) -> &'static str {
    match unit {
        Unit::Jin => lang.t("斤", "jin"),
        Unit::Kg => lang.t("公斤", "kg"),
        Unit::Piece => lang.t("件", "piece"),
        Unit::Box => lang.t("箱", "box"),
    }
}

/// Chinese unless the phone prefers English.
pub fn lang_of(req: &Request) -> Lang {
    Lang::from_accept_language(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_indentation_is_left_out_and_text_is_kept() {
        let html = "\n<main>\n  <p>一 二</p>\n  <p>\n line\n </p> <b>x</b>\n</main>\n";
        assert_eq!(
            drop_layout_whitespace(html),
            "<main><p>一 二</p><p>\n line\n </p> <b>x</b></main>"
        );
    }

    #[test]
    fn figures_have_their_thousands_apart() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(135_000), "135,000");
        assert_eq!(thousands(-1_234_567), "-1,234,567");
        assert_eq!(yuan_thousands(123_456_750), "1,234,567.50");
        assert_eq!(yuan_thousands(900), "9");
    }

    #[test]
    fn each_part_of_the_site_has_its_frame() {
        assert_eq!(Frame::of_path("/f/orders/3/ship").home(), "/f");
        assert_eq!(Frame::of_path("/o").home(), "/o");
        assert_eq!(Frame::of_path("/m/listings/1").home(), "/m");
        assert_eq!(Frame::of_path("/login").home(), "/login");
        assert_eq!(Frame::of_path("/favicon").home(), "/login");
        assert!(Frame::of_path("/t/ABC").footnote(&Lang::Zh).is_some());
    }
}
