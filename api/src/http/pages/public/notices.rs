//! `/notices` and `/notices/{area}`: the public notice board, with no sign-in — exits, village
//! de-listings, monitoring identifications and risk eliminations, running or ended in the last
//! months, names masked — and `/notices/objection/{case}` (a monitoring notice) and
//! `/notices/objection/exit/{case}` (an exit notice), where a villager objects to a running
//! notice from a phone confirmed by a texted code.

use askama::Template;
use entities::monitoring_case;
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
        audit::checkpoints::{self, Checkpoint},
        monitoring::notices::{self, Notice, NoticeKind},
        pagination::PageRequest,
        reasons,
    },
};

/// How long phones and proxies may keep a board, in seconds: a new notice shows within a minute.
const MAX_AGE: u32 = 60;
/// The signed audit checkpoints the county's board lists, newest first.
const CHECKPOINTS: u64 = 5;

#[derive(Template)]
#[template(path = "public/notices.html")]
struct BoardPage {
    lang: Lang,
    /// The area's name, or the county's list when empty.
    area_name: String,
    notices: Vec<Notice>,
    now: chrono::DateTime<chrono::Utc>,
    /// The county's list names the latest signed audit checkpoints; a village's none.
    checkpoints: Vec<Checkpoint>,
}

impl BoardPage {
    fn kind(&self, notice: &Notice) -> &'static str {
        self.lang.t(notice.kind.zh(), notice.kind.en())
    }

    fn stopped(&self, notice: &Notice) -> bool {
        notice.stopped(self.now)
    }

    fn ends(&self, notice: &Notice) -> String {
        county_time::minute(notice.ends_at)
    }

    /// When a checkpoint was signed, in the county's time.
    fn signed_at(&self, checkpoint: &Checkpoint) -> String {
        county_time::minute(checkpoint.at)
    }

    fn objection_url(&self, notice: &Notice) -> Option<String> {
        notice.running.then(|| objection_path(notice))
    }
}

/// `GET /notices`: every notice of the county.
#[handler]
pub async fn county_board(state: Data<&AppState>, lang: Lang) -> Result<Response, PageError> {
    let notices = notices::board(&state.db, None, state.clock.now())
        .await
        .map_err(|e| PageError::Unavailable(e.into()))?;
    let checkpoints = checkpoints::recent(&state.db, &PageRequest::new(None, Some(CHECKPOINTS)))
        .await
        .map_err(|e| PageError::Unavailable(e.into()))?
        .items
        .into_iter()
        .map(Checkpoint::from)
        .collect();
    public(
        &BoardPage {
            lang,
            area_name: String::new(),
            notices,
            now: state.clock.now(),
            checkpoints,
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
            now: state.clock.now(),
            checkpoints: Vec::new(),
        },
        MAX_AGE,
    )
}

/// Where the objection form of a notice is.
fn objection_path(notice: &Notice) -> String {
    if notice.kind.is_exit() {
        format!("/notices/objection/exit/{}", notice.case_id)
    } else {
        format!("/notices/objection/{}", notice.case_id)
    }
}

#[derive(Template)]
#[template(path = "public/objection.html")]
struct ObjectionPage {
    lang: Lang,
    /// Where the form is sent.
    action: String,
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

/// Which kind of case an objection is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Objected {
    Monitoring,
    Exit,
}

/// The running notice a villager may object to, as the board shows it.
async fn running_notice(
    state: &AppState,
    objected: Objected,
    case_id: i64,
) -> Result<Notice, PageError> {
    let village_code = match objected {
        Objected::Monitoring => monitoring_case::Entity::find_by_id(case_id)
            .one(state.db.conn())
            .await
            .map_err(|e| PageError::Unavailable(e.into()))?
            .map(|c| c.village_code),
        Objected::Exit => entities::exit_case::Entity::find_by_id(case_id)
            .one(state.db.conn())
            .await
            .map_err(|e| PageError::Unavailable(e.into()))?
            .map(|c| c.village_code),
    }
    .ok_or(PageError::Missing(Missing::Page))?;
    let area = AreaCode::parse(&village_code).map_err(|_| PageError::Missing(Missing::Page))?;
    notices::board(&state.db, Some(&area), state.clock.now())
        .await
        .map_err(|e| PageError::Unavailable(e.into()))?
        .into_iter()
        .find(|n| {
            n.case_id == case_id && n.running && n.kind.is_exit() == (objected == Objected::Exit)
        })
        .ok_or(PageError::Missing(Missing::Page))
}

fn fresh_page(lang: Lang, notice: Notice) -> ObjectionPage {
    ObjectionPage {
        lang,
        action: objection_path(&notice),
        kind: notice.kind,
        subject: notice.subject,
        village_code: notice.village_code,
        phone: String::new(),
        reason: String::new(),
        sent: false,
        taken: false,
        problem: None,
    }
}

/// `GET /notices/objection/{case}`: the objection form of a monitoring notice.
#[handler]
pub async fn objection_form(
    state: Data<&AppState>,
    lang: Lang,
    Path(case_id): Path<i64>,
) -> Result<Response, PageError> {
    let notice = running_notice(&state, Objected::Monitoring, case_id).await?;
    private(&fresh_page(lang, notice))
}

/// `GET /notices/objection/exit/{case}`: the objection form of an exit notice.
#[handler]
pub async fn exit_objection_form(
    state: Data<&AppState>,
    lang: Lang,
    Path(case_id): Path<i64>,
) -> Result<Response, PageError> {
    let notice = running_notice(&state, Objected::Exit, case_id).await?;
    private(&fresh_page(lang, notice))
}

/// `POST /notices/objection/{case}`: texts a code to the phone, or, with the code, takes the
/// objection to a monitoring notice; refused, the form comes back as it was filled in, saying
/// why.
#[handler]
pub async fn object(
    state: Data<&AppState>,
    req: &Request,
    lang: Lang,
    Path(case_id): Path<i64>,
    SignInForm(form): SignInForm<ObjectionForm>,
) -> Result<Response, PageError> {
    take_objection(&state, req, lang, Objected::Monitoring, case_id, form).await
}

/// `POST /notices/objection/exit/{case}`: [`object`] for an exit notice; the case goes back
/// to verification.
#[handler]
pub async fn object_to_exit(
    state: Data<&AppState>,
    req: &Request,
    lang: Lang,
    Path(case_id): Path<i64>,
    SignInForm(form): SignInForm<ObjectionForm>,
) -> Result<Response, PageError> {
    take_objection(&state, req, lang, Objected::Exit, case_id, form).await
}

async fn take_objection(
    state: &AppState,
    req: &Request,
    lang: Lang,
    objected: Objected,
    case_id: i64,
    form: ObjectionForm,
) -> Result<Response, PageError> {
    let notice = running_notice(state, objected, case_id).await?;
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
    let mut page = fresh_page(lang, notice);
    page.phone = phone.clone();
    page.reason = reason.clone();
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
            Ok(phone) => {
                let (db, clock, origin) = (&state.db, &*state.clock, origin(req));
                let rules = &state.exit_rules;
                let taken = match objected {
                    Objected::Monitoring => {
                        notices::object(db, clock, rules, case_id, &phone, &reason, &origin)
                            .await
                            .map_err(|e| PageError::refused(lang, e))
                    }
                    Objected::Exit => {
                        notices::object_to_exit(db, clock, rules, case_id, &phone, &reason, &origin)
                            .await
                            .map_err(|e| PageError::refused(lang, e))
                    }
                };
                taken.map(|()| page.taken = true)
            }
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
