//! The page a phone opens when it scans a label: `/t/{code}` (and `/T/{code}`, as the
//! upper-case QR payload reads). Server-rendered HTML in WeChat's look, Chinese first (English
//! when `Accept-Language` prefers it), no JavaScript, a few kilobytes.

use askama::Template;
use chrono::{DateTime, Utc};
use entities::trace_event::{EventKind, InspectionResult};
use poem::{
    Request, Response, handler,
    http::StatusCode,
    web::{Data, Path},
};

use crate::http::pages::{
    error::PageError,
    shell::{Frame, html_response, render},
};
use crate::http::{caller::verify_scan, error::Lang};
use crate::{
    app::AppState,
    service::trace::codes::{TimelineEntry, Verification, Warning},
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
            let page = ScanPage::new(lang, &code, verification);
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

/// What a scan says of a code, at a glance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Genuine,
    /// Genuine, with warnings.
    Caution,
    Invalid,
}

impl Verdict {
    fn of(v: &Verification) -> Self {
        match (v.genuine, v.warnings.is_empty()) {
            (true, true) => Self::Genuine,
            (true, false) => Self::Caution,
            (false, _) => Self::Invalid,
        }
    }

    fn class(self) -> &'static str {
        match self {
            Self::Genuine => "ok",
            Self::Caution => "warn",
            Self::Invalid => "bad",
        }
    }

    fn text(self, lang: Lang) -> &'static str {
        match self {
            Self::Genuine => lang.t("正品验证通过", "Genuine"),
            Self::Caution => lang.t("请注意：此码有异常", "Caution: this code has warnings"),
            Self::Invalid => lang.t("此码无效", "This code is not valid"),
        }
    }
}

/// The scan page: the verdict, its warnings, the scans so far and the goods' provenance.
#[derive(Template)]
#[template(path = "public/scan.html")]
struct ScanPage {
    lang: Lang,
    verdict: Verdict,
    /// The code as the label prints it.
    code: String,
    v: Verification,
}

impl ScanPage {
    fn new(lang: Lang, code: &str, v: Verification) -> Self {
        Self {
            lang,
            verdict: Verdict::of(&v),
            code: code.trim().to_ascii_uppercase(),
            v,
        }
    }

    /// A step of the journey, with an inspection's result.
    fn step(&self, entry: &TimelineEntry) -> String {
        [
            event_name(self.lang, entry.kind),
            result_name(self.lang, entry.result),
        ]
        .concat()
    }
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
