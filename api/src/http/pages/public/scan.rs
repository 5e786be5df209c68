//! The page a phone opens when it scans a label: `/t/{code}` (and `/T/{code}`, as the
//! upper-case QR payload reads). Server-rendered HTML in WeChat's look, Chinese first (English
//! when `Accept-Language` prefers it), no JavaScript, a few kilobytes.

use std::sync::Arc;

use askama::Template;

use crate::service::trace::certificates::BasisNames;
use chrono::{DateTime, Utc};
use entities::trace_event::{EventKind, InspectionResult};
use poem::{
    Request, Response, handler,
    http::StatusCode,
    web::{Data, Path},
};

use crate::http::pages::{
    error::PageError,
    shell::{Frame, ShareCard, html_response, render},
};
use crate::http::{caller::verify_scan, error::Lang};
use crate::{
    app::AppState,
    infra::trace_codes,
    service::trace::{
        codes::{Provenance, RenderedRecords, TimelineEntry, Verification, Warning},
        verdict::Verdict,
    },
};

/// `GET /t/{code}`: what the code is, and where its goods come from.
#[handler]
pub async fn scan_page(
    state: Data<&AppState>,
    req: &Request,
    lang: Lang,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    match verify_scan(&state, req, &code).await {
        Ok(verification) => {
            // A forged code's page never changes; a genuine one's count does.
            let cache = if verification.genuine {
                "private, no-cache"
            } else {
                "public, max-age=3600"
            };
            let mut page = ScanPage::new(lang, verification, &state.trace_rendered)?;
            page.share = Some(page.share_card(&state.settings.public_base_url));
            Ok(html_response(render(&page)?, StatusCode::OK, cache))
        }
        Err(e) => {
            tracing::error!(error = %e, "verifying a scanned code failed");
            let page = render(&ScanUnavailablePage { lang })?;
            Ok(html_response(
                page,
                StatusCode::SERVICE_UNAVAILABLE,
                "no-store",
            ))
        }
    }
}

/// How the page shows each verdict: its colour class and its headline.
fn verdict_class(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Genuine => "ok",
        Verdict::Caution => "warn",
        Verdict::Danger | Verdict::Forged => "bad",
    }
}

fn verdict_text(verdict: Verdict, lang: Lang) -> &'static str {
    match verdict {
        Verdict::Genuine => lang.t("正品验证通过", "Genuine"),
        Verdict::Caution => lang.t("请注意：标签可能被复制", "Caution: the label may be a copy"),
        Verdict::Danger => lang.t("请勿食用", "Do not eat"),
        Verdict::Forged => lang.t(
            "验证未通过：可能是假冒",
            "Not verified: possibly counterfeit",
        ),
    }
}

/// What the buyer should do now.
fn advice(verdict: Verdict, lang: Lang) -> Option<&'static str> {
    match verdict {
        Verdict::Genuine => None,
        Verdict::Caution => Some(lang.t(
            "如果不是您本人多次扫码，请向卖家核实货源，或点下方“反映问题”。",
            "If you did not scan it this often yourself, check with the seller, or report a problem below.",
        )),
        Verdict::Danger => Some(lang.t(
            "请勿食用，请联系卖家退款。",
            "Do not eat it; contact the seller for a refund.",
        )),
        Verdict::Forged => Some(lang.t(
            "请核对标签上的码是否输入正确；如无误，请勿购买或食用，并向卖家核实。",
            "Check that the code was typed as printed; if it was, do not buy or eat the goods, and ask the seller.",
        )),
    }
}

/// The scan page: the verdict, its warnings, the scans so far and the goods' provenance.
#[derive(Template)]
#[template(path = "public/scan.html")]
struct ScanPage {
    lang: Lang,
    verdict: Verdict,
    /// The code in its canonical spelling, in the groups a label prints.
    code: String,
    v: Verification,
    /// Where the goods come from, rendered once for every scan of the records.
    provenance: Option<Arc<str>>,
    share: Option<ShareCard>,
}

/// Where a scanned code's goods come from; the listings on sale only under a genuine verdict.
#[derive(Template)]
#[template(path = "public/scan_provenance.html")]
struct ProvenanceSection<'a> {
    lang: Lang,
    p: &'a Provenance,
    on_sale: bool,
}

impl ScanPage {
    fn new(lang: Lang, v: Verification, kept: &RenderedRecords) -> Result<Self, PageError> {
        let verdict = Verdict::of(&v);
        let provenance =
            match &v.provenance {
                Some(p) => {
                    let on_sale = verdict == Verdict::Genuine;
                    let form = match (lang, on_sale) {
                        (Lang::Zh, true) => "page zh on sale",
                        (Lang::Zh, false) => "page zh",
                        (Lang::En, true) => "page en on sale",
                        (Lang::En, false) => "page en",
                    };
                    Some(kept.get_or_render(p, form, |p| {
                        render(&ProvenanceSection { lang, p, on_sale })
                    })?)
                }
                None => None,
            };
        Ok(Self {
            lang,
            verdict,
            code: trace_codes::grouped(&v.code),
            v,
            provenance,
            share: None,
        })
    }

    /// The card a shared scan page shows: the verdict and the goods' origin.
    fn share_card(&self, base_url: &str) -> ShareCard {
        let base = base_url.trim_end_matches('/');
        let headline = verdict_text(self.verdict, self.lang);
        let (title, description) = match &self.v.provenance {
            Some(p) => (
                format!("{} · {headline}", self.lang.t(&p.product_zh, &p.product_en)),
                format!("{} {} · {}", p.township_name, p.village_name, p.produced_on),
            ),
            None => (headline.to_owned(), self.code.clone()),
        };
        ShareCard {
            title,
            description,
            url: format!("{base}/t/{}", self.v.code),
            image: Some(format!("{base}/static/icon-192.png")),
        }
    }

    fn class(&self) -> &'static str {
        verdict_class(self.verdict)
    }

    fn headline(&self) -> &'static str {
        verdict_text(self.verdict, self.lang)
    }

    fn advice(&self) -> Option<&'static str> {
        advice(self.verdict, self.lang)
    }

    /// The frame: a code this county did not issue carries no word of its records.
    fn frame(&self) -> Frame {
        if self.verdict == Verdict::Forged {
            Frame::scan_unverified()
        } else {
            Frame::scan()
        }
    }
}

/// A step of the journey, with an inspection's result.
fn step(lang: &Lang, entry: &TimelineEntry) -> String {
    [
        event_name(*lang, entry.kind),
        result_name(*lang, entry.result),
    ]
    .concat()
}

/// The scan page when the code could not be looked up this time.
#[derive(Template)]
#[template(path = "public/scan_unavailable.html")]
struct ScanUnavailablePage {
    lang: Lang,
}

/// A time as the county reads it, to the minute.
fn beijing(at: &DateTime<Utc>) -> String {
    crate::domain::county_time::minute(*at)
}

/// What a step of a batch's journey is called.
pub fn event_name(lang: Lang, kind: EventKind) -> &'static str {
    match kind {
        EventKind::Harvested => lang.t("采收", "Harvested"),
        EventKind::Processed => lang.t("加工", "Processed"),
        EventKind::Packed => lang.t("包装", "Packed"),
        EventKind::Inspected => lang.t("检测", "Inspected"),
        EventKind::Stored => lang.t("入库", "Stored"),
        EventKind::Shipped => lang.t("发货", "Shipped"),
        EventKind::Received => lang.t("收货", "Received"),
        EventKind::Sold => lang.t("售出", "Sold"),
    }
}

/// An inspection's result, after its step's name.
pub fn result_name(lang: Lang, result: Option<InspectionResult>) -> &'static str {
    match result {
        Some(InspectionResult::Pass) => lang.t("（合格）", " (passed)"),
        Some(InspectionResult::Fail) => lang.t("（不合格）", " (failed)"),
        None => "",
    }
}
