//! `/f/monitoring`: a farmer asks for their household to be monitored (申请防返贫监测): what
//! happened, in plain words, and which risk it is. The identification of their own household
//! starts at `warning`; a refused form comes back as it was filled in.

use askama::Template;
use poem::{Request, Response, handler, http::StatusCode, web::Data};
use serde::Deserialize;

use crate::http::pages::{
    error::PageError,
    forms::{Problem, fresh_key},
    session::{Farmer, PageForm},
    shell::{Frame, private_with, see_other},
};
use crate::http::{caller::origin, error::Lang};
use crate::{
    app::AppState,
    service::monitoring::{
        RiskType,
        application::{self, Application},
    },
};

/// The fields a refusal is said beside.
const FIELDS: &[&str] = &["what", "risk"];

#[derive(Debug, Default, Deserialize)]
pub struct ApplyQuery {
    /// The record the application just made.
    sent: Option<i64>,
}

/// `GET /f/monitoring`: the form, or what happened after sending it.
#[handler]
pub async fn apply_page(
    farmer: Farmer,
    lang: Lang,
    poem::web::Query(query): poem::web::Query<ApplyQuery>,
) -> Result<Response, PageError> {
    let page = ApplyPage {
        lang,
        csrf: farmer.csrf(),
        linked: farmer.actor.household_id.is_some(),
        problem: Problem::none(),
        typed: ApplyForm::default(),
        key: fresh_key(),
        sent: query.sent.is_some(),
    };
    private_with(&page, StatusCode::OK)
}

#[derive(Debug, Default, Deserialize)]
pub struct ApplyForm {
    what: Option<String>,
    risk: Option<String>,
    key: Option<String>,
}

impl ApplyForm {
    fn what(&self) -> &str {
        self.what.as_deref().unwrap_or("")
    }

    fn risk(&self) -> &str {
        self.risk.as_deref().unwrap_or("")
    }
}

/// `POST /f/monitoring`: sends the application, or the form again with what was wrong.
#[handler]
pub async fn apply(
    state: Data<&AppState>,
    req: &Request,
    farmer: Farmer,
    lang: Lang,
    PageForm(form): PageForm<ApplyForm>,
) -> Result<Response, PageError> {
    let refused = match form.risk.as_deref().and_then(RiskType::parse) {
        None => PageError::mistake_in(
            "risk",
            lang.t("请选一选是哪一类困难", "Choose what kind of hardship it is"),
        ),
        Some(risk) => {
            let new = Application {
                risk,
                what: form.what().to_owned(),
            };
            match application::apply(
                &state.db,
                &*state.clock,
                &state.exit_rules,
                &farmer.actor,
                new,
                form.key.as_deref(),
                &origin(req),
            )
            .await
            {
                Ok(record) => {
                    return Ok(see_other(&format!(
                        "/f/monitoring?sent={}",
                        record.monitored.id
                    )));
                }
                Err(e) => PageError::refused(lang, e),
            }
        }
    };
    let (problem, status) = Problem::of(refused, FIELDS)?;
    let page = ApplyPage {
        lang,
        csrf: farmer.csrf(),
        linked: farmer.actor.household_id.is_some(),
        problem,
        key: form.key.clone().unwrap_or_else(fresh_key),
        typed: form,
        sent: false,
    };
    private_with(&page, status)
}

#[derive(Template)]
#[template(path = "farmer/monitoring.html")]
struct ApplyPage {
    lang: Lang,
    csrf: String,
    /// Whether the account is bound to a registered household.
    linked: bool,
    problem: Problem,
    typed: ApplyForm,
    key: String,
    sent: bool,
}

impl ApplyPage {
    /// Whether the kind was the one chosen when the form was refused.
    fn picked(&self, name: &str) -> bool {
        self.typed.risk() == name
    }

    /// The kinds of hardship, in plain words.
    fn risks(&self) -> [(&'static str, &'static str); 8] {
        let t = |zh, en| self.lang.t(zh, en);
        [
            ("illness", t("家里有人得了重病", "Serious illness")),
            ("disability", t("家里有人残疾了", "Disability")),
            (
                "disaster",
                t(
                    "遭了灾（水灾、山体滑坡、冰雹等）",
                    "A disaster (flood, landslide, hail)",
                ),
            ),
            ("accident", t("出了意外事故", "An accident")),
            (
                "unstable_work",
                t("打工没活干、收入断了", "Lost work or wages"),
            ),
            (
                "failed_business",
                t("种养或生意亏了", "Farming or business failed"),
            ),
            ("schooling", t("孩子上学花销大", "Schooling costs")),
            ("other", t("其他困难", "Other hardship")),
        ]
    }
}
