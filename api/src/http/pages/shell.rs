//! What every server-rendered page shares: the language, escaping, and the WeChat-style shell
//! (green header, list cells, bottom tab bar) with its stylesheet inlined, so a page is one
//! small response that needs no JavaScript and no build step.

use poem::{Request, http::header};

use entities::listing::Unit;

use poem::http::StatusCode;

use crate::http::error::{ApiError, Lang};

/// Chinese unless the phone prefers English.
pub fn lang_of(req: &Request) -> Lang {
    Lang::from_accept_language(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

pub fn text<'a>(lang: Lang, zh: &'a str, en: &'a str) -> &'a str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What was wrong with a form, announced to screen readers; nothing when all was well.
pub fn alert(problem: Option<&str>) -> String {
    problem
        .map(|p| format!("<div class=\"alert\" role=\"alert\">{}</div>", esc(p)))
        .unwrap_or_default()
}

/// What a refused request says on a page — the error's message, with the service's reason when
/// it gave one — and the status to answer with.
pub fn refusal(lang: Lang, error: impl Into<ApiError>) -> (String, StatusCode) {
    let error = error.into();
    let envelope = error.envelope(lang);
    let problem = match envelope
        .details
        .as_ref()
        .and_then(|d| d.get("reason"))
        .and_then(|r| r.as_str())
    {
        Some(reason) => format!("{}（{reason}）", envelope.message),
        None => envelope.message,
    };
    (problem, error.code.status())
}

/// The body of a page that could not be put together this time.
pub fn try_again(lang: Lang) -> String {
    format!(
        "<p class=\"note\">{}</p>",
        text(
            lang,
            "暂时打不开，请稍后再试",
            "Please try again in a moment"
        )
    )
}

/// The scan page's shell: the trace brand and a note on where the records come from.
pub fn page(lang: Lang, title: &str, body: &str) -> String {
    let footer = format!(
        "<footer>{}</footer>",
        text(
            lang,
            "信息由生产者登记，县电商中心核验",
            "Recorded by the producer, checked by the county e-commerce centre"
        )
    );
    shell(
        lang,
        text(lang, "山货溯源", "Shanhuo trace"),
        title,
        body,
        &footer,
    )
}

/// A tab of the bottom bar: where it goes and its Chinese and English names.
pub type TabLink = (&'static str, &'static str, &'static str);

pub const MARKET_TABS: &[TabLink] = &[
    ("/m", "好物", "Market"),
    ("/m/trace", "扫码溯源", "Verify a code"),
    ("/m/orders", "我的订单", "My orders"),
];

/// A buyer's page: the market brand and its tabs; `current` is the tab's path.
pub fn market_page(lang: Lang, title: &str, body: &str, current: &str) -> String {
    tabbed_page(
        lang,
        text(lang, "山货", "Shanhuo"),
        title,
        body,
        MARKET_TABS,
        current,
    )
}

/// A page with a bottom tab bar, where a thumb reaches it.
pub fn tabbed_page(
    lang: Lang,
    brand: &str,
    title: &str,
    body: &str,
    tabs: &[TabLink],
    current: &str,
) -> String {
    let mut bar = String::from("<nav class=\"tabs\">");
    for (href, zh, en) in tabs {
        let here = if *href == current {
            " aria-current=\"page\""
        } else {
            ""
        };
        bar.push_str(&format!(
            "<a href=\"{href}\"{here}>{}</a>",
            text(lang, zh, en)
        ));
    }
    bar.push_str("</nav>");
    shell(lang, brand, title, body, &bar)
}

/// A page of its own, without tabs: signing in, a refusal.
pub fn form_page(lang: Lang, title: &str, body: &str) -> String {
    let body = format!("<h1>{}</h1>{body}", esc(title));
    shell(lang, text(lang, "山货", "Shanhuo"), title, &body, "")
}

pub fn unit_name(lang: Lang, unit: Unit) -> &'static str {
    match unit {
        Unit::Jin => text(lang, "斤", "jin"),
        Unit::Kg => text(lang, "公斤", "kg"),
        Unit::Piece => text(lang, "件", "piece"),
        Unit::Box => text(lang, "箱", "box"),
    }
}

/// `¥12.50/斤`.
pub fn price(lang: Lang, fen: i64, unit: Unit) -> String {
    format!("¥{}.{:02}/{}", fen / 100, fen % 100, unit_name(lang, unit))
}

fn shell(lang: Lang, brand: &str, title: &str, body: &str, footer: &str) -> String {
    let html_lang = match lang {
        Lang::Zh => "zh-CN",
        Lang::En => "en",
    };
    format!(
        "<!doctype html><html lang=\"{html_lang}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{title} · {brand}</title><style>{STYLE}</style></head><body>\
<header>{brand}</header><main>{body}</main>{footer}</body></html>",
        title = esc(title),
    )
}

/// WeUI-like: WeChat green, list cells, large type and touch targets (44 px and up), text
/// contrast of at least 4.5:1.
const STYLE: &str = "body{margin:0;font:17px/1.5 -apple-system,'PingFang SC','Microsoft YaHei',sans-serif;background:#ededed;color:#191919}\
header{background:#07794a;color:#fff;padding:12px 16px;font-size:18px;font-weight:600}\
main{padding:12px 12px 72px}\
a{color:#576b95}\
.verdict{border-radius:8px;padding:16px;color:#fff;margin-bottom:12px}\
.verdict b{display:block;font-size:22px}.verdict small{font-family:monospace;font-size:14px;word-break:break-all}\
.ok{background:#07794a}.warn{background:#a35f00}.bad{background:#c0392b}\
.alert{background:#fff3e0;border-left:4px solid #a35f00;padding:10px 12px;margin:8px 0;border-radius:4px}\
.note{color:#4c4c4c;font-size:15px}\
.cells{background:#fff;border-radius:8px;overflow:hidden}\
.cell{display:flex;justify-content:space-between;gap:12px;padding:14px 16px;border-bottom:1px solid #e5e5e5;min-height:24px}\
.cell span:first-child{color:#4c4c4c;white-space:nowrap}.cell span:last-child{text-align:right}\
a.cell{color:inherit;text-decoration:none;justify-content:flex-start}\
.cell img{width:88px;height:88px;object-fit:cover;border-radius:4px;flex:none;background:#f2f2f2}\
a.cell .what{display:flex;flex-direction:column;gap:4px;min-width:0;text-align:left}\
.what b{font-weight:500;overflow:hidden;text-overflow:ellipsis}.price{color:#c0392b;font-weight:600}\
.chips{display:flex;gap:8px;overflow-x:auto;padding:4px 0 12px}\
.chips a{flex:none;padding:8px 14px;min-height:28px;border-radius:18px;background:#fff;color:#191919;text-decoration:none}\
.chips a[aria-current]{background:#07794a;color:#fff}\
form.filter{display:flex;gap:8px;margin-bottom:12px}\
select,input,button{font:inherit;min-height:44px;border-radius:6px;border:1px solid #c7c7c7;padding:0 10px;background:#fff}\
button{background:#07794a;color:#fff;border:0;padding:0 18px}\
.hero{display:block;width:100%;height:auto;max-height:56vh;object-fit:cover;border-radius:8px;background:#f2f2f2}\
.more{display:block;text-align:center;padding:14px;margin-top:12px;background:#fff;border-radius:8px}\
h1{font-size:20px;margin:12px 4px}h2{font-size:16px;color:#4c4c4c;margin:16px 4px 8px}\
.timeline{background:#fff;border-radius:8px;margin:0;padding:8px 16px 8px 36px}\
.timeline li{padding:8px 0;border-bottom:1px solid #e5e5e5}.timeline small{display:block;color:#4c4c4c}\
.tabs{position:fixed;bottom:0;left:0;right:0;display:flex;background:#f7f7f7;border-top:1px solid #d9d9d9}\
.tabs a{flex:1;text-align:center;padding:14px 0;color:#4c4c4c;text-decoration:none}\
.tabs a[aria-current]{color:#07794a;font-weight:600}\
footer{color:#4c4c4c;font-size:13px;text-align:center;padding:16px}\
form.stack{display:flex;flex-direction:column;gap:6px;background:#fff;border-radius:8px;padding:12px 16px;margin-bottom:12px}\
form.stack label{color:#4c4c4c;font-size:15px;margin-top:6px}\
textarea{font:inherit;border-radius:6px;border:1px solid #c7c7c7;padding:8px 10px;min-height:88px}\
form.stack button{margin-top:10px}button.plain{background:#fff;color:#07794a;border:1px solid #07794a}\
.row{display:flex;gap:8px}.row>*{flex:1;min-width:0}\
.badge{display:inline-block;font-size:13px;padding:0 8px;border-radius:10px;background:#e8f5ee;color:#07794a}\
.badge.off{background:#f2f2f2;color:#4c4c4c}\
.button{display:block;text-align:center;background:#07794a;color:#fff;border-radius:6px;padding:10px;margin:0 0 12px;text-decoration:none}\
.card{background:#fff;border-radius:8px;padding:12px 16px;margin-bottom:12px}.card h2{margin:0 0 8px}\
.big{font-size:28px;font-weight:600}svg{display:block;max-width:100%;height:auto}";
