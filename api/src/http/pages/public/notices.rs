//! `/notices` and `/notices/{area}`: the public notice board, with no sign-in — exits, village
//! de-listings, monitoring identifications and risk eliminations, running or ended in the last
//! months, names masked — and `/notices/objection/{case}`, where a villager objects to a running
//! monitoring notice from a phone confirmed by a texted code.

use askama::Template;
use entities::monitoring_case::{self, MonitoringProcedure};
use poem::{
    Request, Response, handler,
    web::{Data, Path},
};
use sea_orm::EntityTrait;
use serde::Deserialize;

use crate::http::caller::{client_ip, origin};
use crate::http::error::Lang;
use crate::http::pages::{
    error::{Missing, PageError},
    session::{SignInForm, ascii_digit, normalise_phone},
    shell::{Frame, private, private_with, public},
};
use crate::{
    app::AppState,
    domain::{AreaCode, county_time},
    service::{
        monitoring::notices::{self, Notice, NoticeKind},
        reasons,
    },
};

/// How long phones and proxies may keep a board, in seconds: a new notice shows within a minute.
const MAX_AGE: u32 = 60;

#[derive(Template)]
#[template(path = "public/notices.html")]
struct BoardPage {
    lang: Lang,
    /// The area's name, or the county's list when empty.
    area_name: String,
    notices: Vec<Notice>,
}

impl BoardPage {
    fn kind(&self, notice: &Notice) -> &'static str {
        self.lang.t(notice.kind.zh(), notice.kind.en())
    }

    fn ends(&self, notice: &Notice) -> String {
        county_time::minute(notice.ends_at)
    }

    fn objection_url(&self, notice: &Notice) -> Option<String> {
        (notice.running && notice.kind.takes_objections())
            .then(|| format!("/notices/objection/{}", notice.case_id))
    }
}

/// `GET /notices`: every notice of the county.
#[handler]
pub async fn county_board(state: Data<&AppState>, lang: Lang) -> Result<Response, PageError> {
    let notices = notices::board(&state.db, None, state.clock.now())
        .await
        .map_err(|e| PageError::Unavailable(e.into()))?;
    public(
        &BoardPage {
            lang,
            area_name: String::new(),
            notices,
        },
        MAX_AGE,
    )
}

/// `GET /notices/{area}`: the notices of a village (or a township).
#[handler]
pub async fn area_board(
    state: Data<&AppState>,
    lang: Lang,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let code = AreaCode::parse(&code).map_err(|_| PageError::Missing(Missing::Area))?;
    let area = entities::area::Entity::find_by_id(code.to_string())
        .one(state.db.conn())
        .await
        .map_err(|e| PageError::Unavailable(e.into()))?
        .ok_or(PageError::Missing(Missing::Area))?;
    let notices = notices::board(&state.db, Some(&code), state.clock.now())
        .await
        .map_err(|e| PageError::Unavailable(e.into()))?;
    public(
        &BoardPage {
            lang,
            area_name: area.name,
            notices,
        },
        MAX_AGE,
    )
}

#[derive(Template)]
#[template(path = "public/objection.html")]
struct ObjectionPage {
    lang: Lang,
    case_id: i64,
    kind: NoticeKind,
    subject: String,
    village_code: String,
    phone: String,
    reason: String,
    /// A code was texted to the phone.
    sent: bool,
    /// The objection was taken.
    taken: bool,
    problem: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ObjectionForm {
    phone: Option<String>,
    reason: Option<String>,
    code: Option<String>,
    /// `send` texts a code; anything else objects.
    step: Option<String>,
}

/// The running monitoring notice a villager may object to, as the board shows it.
async fn running_notice(state: &AppState, case_id: i64) -> Result<Notice, PageError> {
    let case = monitoring_case::Entity::find_by_id(case_id)
        .one(state.db.conn())
        .await
        .map_err(|e| PageError::Unavailable(e.into()))?
        .ok_or(PageError::Missing(Missing::Page))?;
    let area =
        AreaCode::parse(&case.village_code).map_err(|_| PageError::Missing(Missing::Page))?;
    let kind = match case.procedure {
        MonitoringProcedure::Identification => NoticeKind::Identification,
        MonitoringProcedure::Elimination => NoticeKind::Elimination,
    };
    notices::board(&state.db, Some(&area), state.clock.now())
        .await
        .map_err(|e| PageError::Unavailable(e.into()))?
        .into_iter()
        .find(|n| n.kind == kind && n.case_id == case_id && n.running)
        .ok_or(PageError::Missing(Missing::Page))
}

/// `GET /notices/objection/{case}`: the objection form.
#[handler]
pub async fn objection_form(
    state: Data<&AppState>,
    lang: Lang,
    Path(case_id): Path<i64>,
) -> Result<Response, PageError> {
    let notice = running_notice(&state, case_id).await?;
    private(&ObjectionPage {
        lang,
        case_id,
        kind: notice.kind,
        subject: notice.subject,
        village_code: notice.village_code,
        phone: String::new(),
        reason: String::new(),
        sent: false,
        taken: false,
        problem: None,
    })
}

/// `POST /notices/objection/{case}`: texts a code to the phone, or, with the code, takes the
/// objection; refused, the form comes back as it was filled in, saying why.
#[handler]
pub async fn object(
    state: Data<&AppState>,
    req: &Request,
    lang: Lang,
    Path(case_id): Path<i64>,
    SignInForm(form): SignInForm<ObjectionForm>,
) -> Result<Response, PageError> {
    let notice = running_notice(&state, case_id).await?;
    let phone = normalise_phone(form.phone.as_deref().unwrap_or(""));
    let reason = form.reason.unwrap_or_default();
    let code: String = form
        .code
        .as_deref()
        .unwrap_or("")
        .chars()
        .filter_map(ascii_digit)
        .collect();
    let ip = client_ip(req, &state.settings);
    let mut page = ObjectionPage {
        lang,
        case_id,
        kind: notice.kind,
        subject: notice.subject,
        village_code: notice.village_code,
        phone: phone.clone(),
        reason: reason.clone(),
        sent: false,
        taken: false,
        problem: None,
    };
    let outcome: Result<(), PageError> = if form.step.as_deref() == Some("send") {
        match state.auth.send_sign_in_code(&phone, &ip).await {
            Ok(_) => {
                page.sent = true;
                Ok(())
            }
            Err(e) => Err(PageError::refused(lang, e)),
        }
    } else if code.is_empty() {
        let reason = reasons::objection_code_needed();
        Err(PageError::mistake_in(
            reason.code,
            lang.t(&reason.zh, &reason.en),
        ))
    } else {
        page.sent = true;
        match state.auth.verified_phone(&phone, &code, &ip).await {
            Ok(phone) => notices::object(
                &state.db,
                &*state.clock,
                &state.exit_rules,
                case_id,
                &phone,
                &reason,
                &origin(req),
            )
            .await
            .map(|()| page.taken = true)
            .map_err(|e| PageError::refused(lang, e)),
            Err(e) => Err(PageError::refused(lang, e)),
        }
    };
    match outcome {
        Ok(()) => private(&page),
        Err(PageError::Refused {
            message, status, ..
        }) => {
            page.problem = Some(message);
            private_with(&page, status)
        }
        Err(failure) => Err(failure),
    }
}
