//! The page a phone opens when it scans a label: `/t/{code}` (and `/T/{code}`, as the
//! upper-case QR payload reads). Server-rendered HTML in WeChat's look, Chinese first (English
//! when `Accept-Language` prefers it), no JavaScript, a few kilobytes.

use chrono::{DateTime, FixedOffset, Utc};
use entities::trace_event::{EventKind, InspectionResult};
use poem::{
    IntoResponse, Request, Response, handler,
    http::{StatusCode, header},
    web::{Data, Path},
};

use crate::http::pages::shell::{esc, page, text};
use crate::http::{caller::verify_scan, error::Lang};
use crate::{
    app::AppState,
    service::trace::codes::{Verification, Warning},
};

#[handler]
pub async fn scan_page(
    state: Data<&AppState>,
    req: &Request,
    Path(code): Path<String>,
) -> Response {
    let lang = crate::http::pages::shell::lang_of(req);
    match verify_scan(&state, req, &code).await {
        Ok(verification) => {
            // A forged code's page never changes; a genuine one's count does.
            let cache = if verification.genuine {
                "private, no-cache"
            } else {
                "public, max-age=3600"
            };
            render(&code, &verification, lang)
                .with_content_type("text/html; charset=utf-8")
                .with_header(header::CACHE_CONTROL, cache)
                .with_header(header::VARY, "Accept-Language")
                .into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "verifying a scanned code failed");
            Response::builder()
                .status(StatusCode::SERVICE_UNAVAILABLE)
                .content_type("text/html; charset=utf-8")
                .header(header::CACHE_CONTROL, "no-store")
                .body(page(
                    lang,
                    text(
                        lang,
                        "暂时无法查询，请稍后再扫",
                        "Please scan again in a moment",
                    ),
                    "",
                ))
        }
    }
}

fn beijing(at: DateTime<Utc>) -> String {
    at.with_timezone(&FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn render(code: &str, v: &Verification, lang: Lang) -> String {
    let t = |zh, en| text(lang, zh, en);
    let mut body = String::with_capacity(4096);
    let (class, verdict) = if v.genuine && v.warnings.is_empty() {
        ("ok", t("正品验证通过", "Genuine"))
    } else if v.genuine {
        (
            "warn",
            t("请注意：此码有异常", "Caution: this code has warnings"),
        )
    } else {
        ("bad", t("此码无效", "This code is not valid"))
    };
    body.push_str(&format!(
        "<div class=\"verdict {class}\"><b>{}</b><small>{}</small></div>",
        esc(verdict),
        esc(&code.trim().to_ascii_uppercase())
    ));
    for warning in &v.warnings {
        let message = match warning {
            Warning::Forged => t(
                "签名不符：这可能是伪造的标签，或输入有误。请勿购买并向商家核实。",
                "The signature does not match: a forged label, or a typing mistake. Do not buy; check with the seller.",
            )
            .to_owned(),
            Warning::UnknownKey => t(
                "无法识别的溯源码：可能是伪造的标签。",
                "An unknown code: possibly a forged label.",
            )
            .to_owned(),
            Warning::NotIssued => t(
                "此码从未发放：可能是伪造的标签。",
                "This code was never issued: possibly a forged label.",
            )
            .to_owned(),
            Warning::Revoked { reason } => format!(
                "{}{}",
                t("此码已作废：", "This code was revoked: "),
                esc(reason)
            ),
            Warning::Recalled { reason, at } => format!(
                "{}{}{}{}",
                t("该批次已于 ", "This batch was recalled on "),
                beijing(*at),
                t(" 召回：", ": "),
                esc(reason)
            ),
            Warning::OverScanned { count } => format!(
                "{}{count}{}",
                t("此码已被查询 ", "This code has been verified "),
                t(
                    " 次，次数异常，标签可能被复制。",
                    " times, more than one label would be: it may have been copied.",
                )
            ),
            Warning::ManyPlaces { places } => format!(
                "{}{places}{}",
                t("此码在 ", "This code was verified from "),
                t(
                    " 个不同地点被查询，标签可能被复制。",
                    " different places: the label may have been copied.",
                )
            ),
        };
        body.push_str(&format!("<p class=\"alert\">{message}</p>"));
    }
    if let Some(scans) = &v.scans {
        body.push_str(&format!(
            "<p class=\"note\">{}{}{}{}{}</p>",
            t("此码首次验证于 ", "First verified on "),
            beijing(scans.first_at),
            t("，已被验证 ", "; verified "),
            scans.count,
            t(" 次。", " times.")
        ));
    }
    if let Some(p) = &v.provenance {
        let product = match lang {
            Lang::Zh => &p.product_zh,
            Lang::En => &p.product_en,
        };
        let mut cells = vec![
            (t("产品", "Product"), esc(product)),
            (
                t("产地", "Origin"),
                format!("{} · {}", esc(&p.township_name), esc(&p.village_name)),
            ),
            (t("生产者", "Producer"), esc(&p.producer)),
            (
                t("采收/制作日期", "Harvested or made"),
                p.produced_on.to_string(),
            ),
        ];
        if let Some(plot) = &p.plot {
            cells.push((
                t("地块", "Plot"),
                format!(
                    "{} · {} · {} {}",
                    esc(&plot.name),
                    esc(&plot.crop),
                    plot.area_mu,
                    t("亩", "mu")
                ),
            ));
        }
        body.push_str("<div class=\"cells\">");
        for (label, value) in cells {
            body.push_str(&format!(
                "<div class=\"cell\"><span>{label}</span><span>{value}</span></div>"
            ));
        }
        body.push_str("</div>");
        if !p.timeline.is_empty() {
            body.push_str(&format!(
                "<h2>{}</h2><ol class=\"timeline\">",
                t("溯源记录", "Journey")
            ));
            for entry in &p.timeline {
                let step = event_name(lang, entry.kind);
                let result = result_name(lang, entry.result);
                body.push_str(&format!(
                    "<li><b>{step}{result}</b><small>{} {}</small></li>",
                    beijing(entry.occurred_at),
                    esc(entry.place.as_deref().unwrap_or(""))
                ));
            }
            body.push_str("</ol>");
        }
    }
    page(lang, verdict, &body)
}

/// What a step of a batch's journey is called.
pub fn event_name(lang: Lang, kind: EventKind) -> &'static str {
    let t = |zh, en| text(lang, zh, en);
    match kind {
        EventKind::Harvested => t("采收", "Harvested"),
        EventKind::Processed => t("加工", "Processed"),
        EventKind::Packed => t("包装", "Packed"),
        EventKind::Inspected => t("检测", "Inspected"),
        EventKind::Stored => t("入库", "Stored"),
        EventKind::Shipped => t("发货", "Shipped"),
        EventKind::Received => t("收货", "Received"),
        EventKind::Sold => t("售出", "Sold"),
    }
}

/// An inspection's result, after its step's name.
pub fn result_name(lang: Lang, result: Option<InspectionResult>) -> &'static str {
    match result {
        Some(InspectionResult::Pass) => text(lang, "（合格）", " (passed)"),
        Some(InspectionResult::Fail) => text(lang, "（不合格）", " (failed)"),
        None => "",
    }
}
