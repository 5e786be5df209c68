//! The farmer's pages as an app on the phone, for a village with a weak signal: a web manifest
//! and icons to put it on the home screen, the pages' one small script (`api/static/f.js`:
//! photos shrunk before they are sent, with a progress bar; forms sent with no signal listed
//! until they are sent) and the service worker (`api/static/sw.js`) that keeps the pages last
//! seen and sends the kept forms when the signal returns. Only the farmer's frame links them:
//! the scan page and the buyer's pages carry no script at all.

use std::sync::LazyLock;

use poem::{
    Request, Response, handler,
    http::{StatusCode, header},
};

use crate::infra::tokens::sha256_hex;

const SCRIPT: &str = include_str!("../../../static/f.js");
const WORKER: &str = include_str!("../../../static/sw.js");
const WECHAT_SCRIPT: &str = include_str!("../../../static/wx.js");
const ICON_192: &[u8] = include_bytes!("../../../static/icon-192.png");
const ICON_512: &[u8] = include_bytes!("../../../static/icon-512.png");

/// Where the service worker is served; it keeps the pages under [`SCOPE`].
pub const WORKER_PATH: &str = "/f/sw.js";
/// The farmer's pages: `/f` and everything under it.
pub const SCOPE: &str = "/f";
pub const MANIFEST_PATH: &str = "/f/manifest.webmanifest";

/// Changes whenever the script, the worker or an icon does: the script's address carries it, so
/// a phone keeps the script for a year and still gets a new one the day it changes.
pub static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut all = Vec::new();
    for part in [
        SCRIPT.as_bytes(),
        WORKER.as_bytes(),
        WECHAT_SCRIPT.as_bytes(),
        ICON_192,
        ICON_512,
    ] {
        all.extend(part);
    }
    sha256_hex(&all)[..12].to_owned()
});

/// A script as sent: without its comment lines, blank lines, indentation and the spaces
/// beside punctuation outside its strings (lines keep their breaks, and a space between two
/// words or two `+` or `-` stays, so nothing else about the script changes).
fn compact(js: &str) -> String {
    js.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("//"))
        .map(squeeze)
        .collect::<Vec<_>>()
        .join("\n")
}

fn squeeze(line: &str) -> String {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '$' || !c.is_ascii();
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    let mut quote: Option<char> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = quote {
            out.push(c);
            if c == '\\' && i + 1 < chars.len() {
                out.push(chars[i + 1]);
                i += 2;
                continue;
            }
            if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        if matches!(c, '\'' | '"' | '`') {
            quote = Some(c);
        }
        if c != ' ' {
            out.push(c);
            i += 1;
            continue;
        }
        let mut j = i;
        while j < chars.len() && chars[j] == ' ' {
            j += 1;
        }
        if let (Some(before), Some(&after)) = (out.chars().last(), chars.get(j))
            && ((word(before) && word(after)) || (before == after && matches!(before, '+' | '-')))
        {
            out.push(' ');
        }
        i = j;
    }
    out
}

static SCRIPT_SENT: LazyLock<String> = LazyLock::new(|| compact(SCRIPT));
static WECHAT_SCRIPT_SENT: LazyLock<String> = LazyLock::new(|| compact(WECHAT_SCRIPT));

/// The address of the script that uses WeChat's JS-SDK inside WeChat (scanning, share cards).
pub static WECHAT_SCRIPT_URL: LazyLock<String> =
    LazyLock::new(|| format!("/static/wx.js?v={}", VERSION.as_str()));
static WORKER_SENT: LazyLock<String> =
    LazyLock::new(|| compact(&WORKER.replace("__VERSION__", VERSION.as_str())));

/// The script's address in the farmer's pages.
pub static SCRIPT_URL: LazyLock<String> =
    LazyLock::new(|| format!("/static/f.js?v={}", VERSION.as_str()));

const MANIFEST: &str = r##"{"name":"山货","short_name":"山货","lang":"zh-CN","start_url":"/f","scope":"/f","display":"standalone","background_color":"#ededed","theme_color":"#07794a","icons":[{"src":"/static/icon-192.png","sizes":"192x192","type":"image/png"},{"src":"/static/icon-512.png","sizes":"512x512","type":"image/png"},{"src":"/static/icon-512.png","sizes":"512x512","type":"image/png","purpose":"maskable"}]}"##;

fn file(content_type: &str, cache_control: &str, body: impl Into<poem::Body>) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .content_type(content_type)
        .header(header::CACHE_CONTROL, cache_control)
        .body(body)
}

/// `GET /static/f.js?v=…`: kept for a year under its version; asked for by another version (a
/// page kept from before), it is the current script, checked again each time.
#[handler]
pub fn script(req: &Request) -> Response {
    versioned(req, SCRIPT_SENT.as_str())
}

/// `GET /static/wx.js?v=…`, kept as `f.js` is.
#[handler]
pub fn wechat_script(req: &Request) -> Response {
    versioned(req, WECHAT_SCRIPT_SENT.as_str())
}

fn versioned(req: &Request, body: &'static str) -> Response {
    let current = req
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|p| p == format!("v={}", VERSION.as_str())));
    let cache = if current {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    file("text/javascript; charset=utf-8", cache, body)
}

/// `GET /f/sw.js`: the service worker, with the version of the files it keeps. Never kept by
/// a cache, so a changed worker reaches the phone on its next page.
#[handler]
pub fn worker() -> Response {
    let mut resp = file(
        "text/javascript; charset=utf-8",
        "no-cache",
        WORKER_SENT.as_str(),
    );
    // Served from under /f, it may keep /f itself as well as what lies under it.
    resp.headers_mut().insert(
        "service-worker-allowed",
        header::HeaderValue::from_static(SCOPE),
    );
    resp
}

/// `GET /f/manifest.webmanifest`: what the phone's home screen shows and opens.
#[handler]
pub fn manifest() -> Response {
    file(
        "application/manifest+json",
        "public, max-age=86400",
        MANIFEST,
    )
}

/// `GET /static/icon-192.png`.
#[handler]
pub fn icon_192() -> Response {
    file("image/png", "public, max-age=604800", ICON_192)
}

/// `GET /static/icon-512.png`.
#[handler]
pub fn icon_512() -> Response {
    file("image/png", "public, max-age=604800", ICON_512)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_is_json_and_opens_the_farmers_pages() {
        let read: serde_json::Value = serde_json::from_str(MANIFEST).expect("JSON");
        assert_eq!(read["start_url"], SCOPE);
        assert_eq!(read["scope"], SCOPE);
        assert_eq!(read["name"], "山货");
    }

    #[test]
    fn the_scripts_stay_small() {
        // Every script a phone loads, together, stays under 10 KB.
        let (page_script, service_worker, wechat) = (
            SCRIPT_SENT.len(),
            WORKER_SENT.len(),
            WECHAT_SCRIPT_SENT.len(),
        );
        assert!(
            page_script + service_worker + wechat < 10 * 1024,
            "{page_script} + {service_worker} + {wechat} bytes"
        );
        assert!(WORKER.contains("__VERSION__"));
        assert!(WORKER_SENT.contains(VERSION.as_str()));
        assert!(!SCRIPT_SENT.contains("\n//"));
    }

    #[test]
    fn scripts_lose_spaces_beside_punctuation_but_never_inside_strings() {
        assert_eq!(
            squeeze("const a = (x) => x + +y, b = 'a, b = c' + `x ${ y }`;"),
            "const a=(x)=>x+ +y,b='a, b = c'+`x ${ y }`;"
        );
        assert_eq!(
            squeeze("return typeof x === 'it\\'s so'"),
            "return typeof x==='it\\'s so'"
        );
    }
}
