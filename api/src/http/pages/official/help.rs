//! `/o/households/{id}/help`: a household's help and visits (帮扶与走访) for the officials of
//! its area — its responsible cadre, the help it was given and the visits made to it — with
//! the forms to record help, a visit (with a photo from the phone's camera) and to name the
//! cadre. A refused form comes back as it was filled in, saying why beside the field.

use askama::Template;
use chrono::NaiveDate;
use entities::{
    help_record::{self, HelpKind},
    household_visit,
    user::Role,
};
use poem::{
    Request, Response, handler,
    http::StatusCode,
    web::{Data, Path},
};
use sea_orm::ActiveEnum;
use serde::Deserialize;

use crate::http::pages::{
    error::{Missing, PageError},
    forms::{Kept, PageUpload, Problem, fresh_key, parse_yuan, yuan},
    session::{Official, PageForm, PageUser},
    shell::{Frame, private_with, see_other},
};
use crate::http::{caller::origin, error::Lang};
use crate::{
    app::AppState,
    service::{
        monitoring::help::{self, Cadre, HelpError, KINDS, NewHelp, NewVisit, OnFile},
        reasons,
    },
};

/// The help form as typed.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct HelpForm {
    kind: Option<String>,
    help_day: Option<String>,
    amount: Option<String>,
    note: Option<String>,
    key: Option<String>,
}

/// The visit form as typed (its photo cannot be kept).
#[derive(Clone, Debug, Default)]
pub struct VisitForm {
    visit_day: String,
    findings: String,
    key: String,
    photo_chosen: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct CadreForm {
    cadre: Option<String>,
}

const HELP_FIELDS: &[&str] = &["kind", "help_day", "amount", "note"];
const VISIT_FIELDS: &[&str] = &["visit_day", "findings", "photo"];
const CADRE_FIELDS: &[&str] = &["cadre"];

#[derive(Template)]
#[template(path = "official/help.html")]
struct HelpPage {
    lang: Lang,
    csrf: String,
    file: OnFile,
    /// Who may be named the responsible cadre, when the reader may name one.
    cadres: Vec<Cadre>,
    today: String,
    help_form: Kept<HelpForm>,
    help_key: String,
    visit_form: Kept<VisitForm>,
    visit_key: String,
    cadre_problem: Problem,
    /// The reader may record (an official, not an admin).
    records: bool,
}

impl HelpPage {
    fn kinds(&self) -> Vec<(String, &'static str)> {
        KINDS
            .into_iter()
            .map(|k| {
                let (zh, en) = help::kind_names(k);
                (k.to_value(), self.lang.t(zh, en))
            })
            .collect()
    }

    fn kind_name(&self, kind: &HelpKind) -> &'static str {
        let (zh, en) = help::kind_names(*kind);
        self.lang.t(zh, en)
    }

    fn kind_chosen(&self, value: &str) -> bool {
        self.help_form.typed.kind.as_deref() == Some(value)
    }

    fn help_day(&self) -> &str {
        self.help_form
            .typed
            .help_day
            .as_deref()
            .unwrap_or(&self.today)
    }

    fn visit_day(&self) -> &str {
        if self.visit_form.typed.visit_day.is_empty() {
            &self.today
        } else {
            &self.visit_form.typed.visit_day
        }
    }

    fn amount(&self, record: &help_record::Model) -> String {
        record
            .amount_fen
            .map(|fen| format!("¥{}", yuan(fen)))
            .unwrap_or_default()
    }

    fn total(&self) -> String {
        yuan(self.file.help_fen())
    }

    fn day(&self, day: &NaiveDate) -> String {
        day.format("%Y年%-m月%-d日").to_string()
    }

    fn role_name(&self, role: &Role) -> &'static str {
        let t = |zh, en| self.lang.t(zh, en);
        match role {
            Role::VillageCadre => t("村干部", "village cadre"),
            Role::TownshipOfficial => t("乡镇干部", "township official"),
            Role::CountyOfficial => t("县级干部", "county official"),
            _ => "",
        }
    }

    fn is_cadre(&self, cadre: &Cadre) -> bool {
        self.file.household.responsible_cadre_id == Some(cadre.user_id)
    }

    fn photo_url(&self, visit: &household_visit::Model) -> Option<String> {
        visit
            .photo_id
            .as_ref()
            .map(|id| format!("/api/v1/photos/{id}/240"))
    }

    fn photo_again(&self) -> bool {
        self.visit_form.typed.photo_chosen
            && self.visit_form.problem.is_some()
            && self.visit_form.problem.at("photo").is_none()
    }
}

/// The page as it stands, with the forms as given.
#[allow(clippy::too_many_arguments)]
async fn page(
    state: &AppState,
    lang: Lang,
    official: &PageUser,
    id: i64,
    help_form: Kept<HelpForm>,
    visit_form: Kept<VisitForm>,
    cadre_problem: Problem,
    status: StatusCode,
) -> Result<Response, PageError> {
    let actor = &official.actor;
    let file = help::on_file(state.db.conn(), actor, id)
        .await
        .map_err(|e| match e {
            HelpError::NotFound => PageError::Missing(Missing::Household),
            e => PageError::refused(lang, e),
        })?;
    let names_cadre = matches!(actor.role, Role::VillageCadre | Role::TownshipOfficial);
    let cadres = if names_cadre {
        help::eligible_cadres(state.db.conn(), &file.household)
            .await
            .map_err(|e| PageError::refused(lang, e))?
    } else {
        Vec::new()
    };
    let help_key = help_form
        .typed
        .key
        .clone()
        .filter(|_| help_form.problem.is_some())
        .unwrap_or_else(fresh_key);
    let visit_key = Some(visit_form.typed.key.clone())
        .filter(|k| !k.is_empty() && visit_form.problem.is_some())
        .unwrap_or_else(fresh_key);
    let page = HelpPage {
        lang,
        csrf: official.csrf(),
        file,
        cadres,
        today: state.clock.today().to_string(),
        help_form,
        help_key,
        visit_form,
        visit_key,
        cadre_problem,
        records: actor.is_official(),
    };
    private_with(&page, status)
}

/// `GET /o/households/{id}/help`: the household's help and visits, and the forms.
#[handler]
pub async fn help_page(
    state: Data<&AppState>,
    official: Official,
    lang: Lang,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    page(
        &state,
        lang,
        &official,
        id,
        Kept::fresh(),
        Kept::fresh(),
        Problem::none(),
        StatusCode::OK,
    )
    .await
}

fn typed_day(typed: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(typed.trim(), "%Y-%m-%d").ok()
}

/// The help form read into what the service takes, or why it cannot be.
fn new_help(id: i64, form: &HelpForm) -> Result<NewHelp, HelpError> {
    let kind = form
        .kind
        .as_deref()
        .and_then(help::kind_named)
        .ok_or_else(|| HelpError::Invalid(reasons::help_kind_needed()))?;
    let given_on = form
        .help_day
        .as_deref()
        .and_then(typed_day)
        .ok_or_else(|| HelpError::Invalid(reasons::help_day_needed()))?;
    let amount = form.amount.as_deref().unwrap_or("").trim();
    let amount_fen = if amount.is_empty() {
        None
    } else {
        Some(parse_yuan(amount).ok_or_else(|| {
            HelpError::Invalid(reasons::help_amount_range(help::MAX_AMOUNT_FEN / 100))
        })?)
    };
    Ok(NewHelp {
        household_id: id,
        kind,
        given_on,
        amount_fen,
        note: form.note.clone(),
    })
}

/// `POST /o/households/{id}/help`: records the help, then back to the page; refused, the
/// form comes back as typed.
#[handler]
pub async fn record_help(
    state: Data<&AppState>,
    req: &Request,
    official: Official,
    lang: Lang,
    Path(id): Path<i64>,
    PageForm(form): PageForm<HelpForm>,
) -> Result<Response, PageError> {
    let recorded = match new_help(id, &form) {
        Err(e) => Err(e),
        Ok(new) => {
            let (db, clock, actor) = (&state.db, &*state.clock, &official.actor);
            let key = form.key.as_deref();
            help::record_help(db, clock, actor, new, key, &origin(req)).await
        }
    };
    let refused = match recorded {
        Ok(_) => return Ok(see_other(&format!("/o/households/{id}/help#help"))),
        Err(HelpError::NotFound) => return Err(PageError::Missing(Missing::Household)),
        Err(e) => PageError::refused(lang, e),
    };
    let (problem, status) = Problem::of(refused, HELP_FIELDS)?;
    let help_form = Kept::refused(problem, form);
    page(
        &state,
        lang,
        &official,
        id,
        help_form,
        Kept::fresh(),
        Problem::none(),
        status,
    )
    .await
}

/// `POST /o/households/{id}/visits`: records the visit with its photo, then back to the page;
/// refused, the form comes back as typed (the photo to be chosen again).
#[handler]
pub async fn record_visit(
    state: Data<&AppState>,
    req: &Request,
    official: Official,
    lang: Lang,
    Path(id): Path<i64>,
    PageUpload(mut form): PageUpload,
) -> Result<Response, PageError> {
    let photo = form.file.take().map(|file| (file.bytes, file.declared));
    let typed = VisitForm {
        visit_day: form.text("visit_day").to_owned(),
        findings: form.text("findings").to_owned(),
        key: form.text("key").to_owned(),
        photo_chosen: photo.is_some(),
    };
    let recorded = match typed_day(&typed.visit_day) {
        None => Err(HelpError::Invalid(reasons::help_day_needed())),
        Some(visited_on) => {
            let new = NewVisit {
                household_id: id,
                visited_on,
                findings: typed.findings.clone(),
            };
            let key = Some(typed.key.as_str()).filter(|k| !k.is_empty());
            help::record_visit(
                &state.db,
                &*state.clock,
                &state.photos,
                &official.actor,
                new,
                photo,
                key,
                &origin(req),
            )
            .await
        }
    };
    let refused = match recorded {
        Ok(_) => return Ok(see_other(&format!("/o/households/{id}/help#visits"))),
        Err(HelpError::NotFound) => return Err(PageError::Missing(Missing::Household)),
        Err(e) => PageError::refused(lang, e),
    };
    let (problem, status) = Problem::of(refused, VISIT_FIELDS)?;
    page(
        &state,
        lang,
        &official,
        id,
        Kept::fresh(),
        Kept::refused(problem, typed),
        Problem::none(),
        status,
    )
    .await
}

/// `POST /o/households/{id}/cadre`: names (or, left empty, clears) the responsible cadre.
#[handler]
pub async fn assign_cadre(
    state: Data<&AppState>,
    req: &Request,
    official: Official,
    lang: Lang,
    Path(id): Path<i64>,
    PageForm(form): PageForm<CadreForm>,
) -> Result<Response, PageError> {
    let cadre = form
        .cadre
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| c.parse::<i64>().unwrap_or(-1));
    let (db, clock, actor) = (&state.db, &*state.clock, &official.actor);
    let refused = match help::assign_cadre(db, clock, actor, id, cadre, &origin(req)).await {
        Ok(_) => return Ok(see_other(&format!("/o/households/{id}/help"))),
        Err(HelpError::NotFound) => return Err(PageError::Missing(Missing::Household)),
        Err(e) => PageError::refused(lang, e),
    };
    let (problem, status) = Problem::of(refused, CADRE_FIELDS)?;
    page(
        &state,
        lang,
        &official,
        id,
        Kept::fresh(),
        Kept::fresh(),
        problem,
        status,
    )
    .await
}
