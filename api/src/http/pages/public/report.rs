//! `/t/{code}/report`: a buyer tells the goods' village that something is wrong — a short form
//! under the scan page, with a phone to call back if they wish.

use askama::Template;
use poem::{
    Request, Response, handler,
    web::{Data, Path, Query},
};
use serde::Deserialize;

use crate::http::pages::{
    error::PageError,
    forms::fresh_key,
    session::SignInForm,
    shell::{Frame, private, private_with, see_other},
};
use crate::http::{caller::origin, error::Lang};
use crate::{
    app::AppState,
    infra::trace_codes,
    service::trace::reports::{self, NewReport},
};

#[derive(Debug, Default, Deserialize)]
pub struct SentQuery {
    sent: Option<String>,
}

/// `GET /t/{code}/report`: the form, or the thanks once it was sent.
#[handler]
pub async fn report_form(
    lang: Lang,
    Path(code): Path<String>,
    Query(query): Query<SentQuery>,
) -> Result<Response, PageError> {
    let page = ReportPage {
        lang,
        code: trace_codes::canonical(&code),
        sent: query.sent.is_some(),
        key: fresh_key(),
        what: String::new(),
        phone: String::new(),
        problem: None,
    };
    private(&page)
}

#[derive(Debug, Default, Deserialize)]
pub struct ReportForm {
    /// The form's key: sent twice, it makes one report.
    key: Option<String>,
    what: Option<String>,
    phone: Option<String>,
}

/// `POST /t/{code}/report`: stores the report, then the thanks (post, redirect, get).
#[handler]
pub async fn send_report(
    state: Data<&AppState>,
    req: &Request,
    lang: Lang,
    Path(code): Path<String>,
    SignInForm(form): SignInForm<ReportForm>,
) -> Result<Response, PageError> {
    let code = trace_codes::canonical(&code);
    let report = NewReport {
        what: form.what.clone().unwrap_or_default(),
        phone: form.phone.clone(),
    };
    let key = form.key.as_deref();
    match reports::submit(
        &state.db,
        &state.trace_keys,
        &code,
        report,
        origin(req).ip,
        key,
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!("/t/{code}/report?sent=1"))),
        Err(e) => match PageError::refused(lang, e) {
            PageError::Refused {
                message, status, ..
            } => {
                let page = ReportPage {
                    lang,
                    code,
                    sent: false,
                    key: fresh_key(),
                    what: form.what.unwrap_or_default(),
                    phone: form.phone.unwrap_or_default(),
                    problem: Some(message),
                };
                private_with(&page, status)
            }
            failure => Err(failure),
        },
    }
}

#[derive(Template)]
#[template(path = "public/report.html")]
struct ReportPage {
    lang: Lang,
    code: String,
    sent: bool,
    /// The form's key, new on every showing.
    key: String,
    what: String,
    phone: String,
    problem: Option<String>,
}
