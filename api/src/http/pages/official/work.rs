//! The officials' working pages: the exit cases waiting for their step (with the buttons for
//! it), a household's file with its assessment, and what the area produces and where it sells.

use std::collections::HashMap;

use askama::Template;
use chrono::Datelike;
use entities::{
    exit_case::{self, ExitState},
    household_check::CheckKind,
    listing::Unit,
};
use poem::{
    Request, Response, handler,
    http::StatusCode,
    web::{Data, Path, Query},
};
use serde::Deserialize;

use crate::http::pages::{
    error::{Missing, PageError},
    forms::{ItemForm, Problem, yuan},
    session::{Official, PageForm, PageUser},
    shell::{Frame, private, private_with, see_other, thousands, unit_name, yuan_thousands},
};
use crate::http::{caller::origin, error::Lang};
use crate::{
    app::AppState,
    domain::AreaCode,
    service::{
        exit::{
            assessment::Failing,
            cases::{self, ExitAction},
            worklist::{self, WaitingCase},
        },
        households::{
            HouseholdError,
            file::{self, HouseholdFile},
            sheet::SheetLabel,
        },
        market::production_and_sales::{self, Board, ProductionAndSales, StatsError},
        monitoring::help::{self, Tally},
    },
};

/// Cases one page lists.
const CASES_SHOWN: usize = 20;

#[derive(Debug, Default, Deserialize)]
pub struct CasesQuery {
    /// The case a step was just taken on.
    done: Option<i64>,
}

/// `GET /o/cases`: the open cases of the official's area that wait for a step they may take,
/// and after a step, what happened and what comes next.
#[handler]
pub async fn waiting_cases(
    state: Data<&AppState>,
    official: Official,
    lang: Lang,
    Query(query): Query<CasesQuery>,
) -> Result<Response, PageError> {
    let done = match query.done {
        Some(id) => match cases::get(&state.db, &*state.clock, &official.actor, id).await {
            Ok(record) => Some(after_step(lang, &record.case)),
            Err(_) => None,
        },
        None => None,
    };
    let waiting = worklist::waiting(&state.db, &*state.clock, &official.actor, CASES_SHOWN)
        .await
        .map_err(|e| PageError::refused(lang, e))?;
    let on_file = tallies_of(&state, lang, &waiting).await?;
    let page = CasesPage {
        lang,
        csrf: official.csrf(),
        waiting,
        step: ItemForm::none(),
        done,
        on_file,
    };
    private_with(&page, StatusCode::OK)
}

/// The line after a step: where the case now stands and what comes next.
fn after_step(lang: Lang, case: &exit_case::Model) -> String {
    let t = |zh, en| lang.t(zh, en);
    let next = match case.state {
        ExitState::Proposed => t(
            "下一步：村民主评议。",
            "Next: the village's democratic appraisal.",
        ),
        ExitState::Appraised => t("下一步：核实。", "Next: verification."),
        ExitState::Verified => t("下一步：开始公示。", "Next: the public notice."),
        ExitState::PublicNotice => {
            let end = case.notice_ends_at.map(crate::domain::county_time::local);
            return match end {
                Some(end) if lang == Lang::Zh => format!(
                    "第 {} 号：公示已开始，{}月{}日结束；结束后由乡镇审核。",
                    case.id,
                    end.month(),
                    end.day()
                ),
                Some(end) => format!(
                    "Case {}: the public notice has started and ends on {}; then the township reviews it.",
                    case.id,
                    end.format("%Y-%m-%d")
                ),
                None => t("公示已开始。", "The public notice has started.").to_owned(),
            };
        }
        ExitState::Reviewed => t(
            "乡镇已审核；下一步：县审定。",
            "Reviewed; next: the county's approval.",
        ),
        ExitState::Approved => t(
            "县已审定；下一步：公告退出。",
            "Approved; next: the announcement.",
        ),
        ExitState::Announced => t("已公告退出，计入脱贫。", "Announced: it counts as exited."),
        ExitState::Rejected => t("已退回，本次未通过。", "Rejected this time."),
    };
    format!("{}{}{}", t("第 ", "Case "), case.id, t(" 号：", ": ")) + next
}

/// The cases waiting for the official, saying what was wrong when a step was not taken.
async fn cases_page(
    state: &AppState,
    lang: Lang,
    official: &PageUser,
    step: ItemForm,
    status: StatusCode,
) -> Result<Response, PageError> {
    let waiting = worklist::waiting(&state.db, &*state.clock, &official.actor, CASES_SHOWN)
        .await
        .map_err(|e| PageError::refused(lang, e))?;
    let on_file = tallies_of(state, lang, &waiting).await?;
    let page = CasesPage {
        lang,
        csrf: official.csrf(),
        waiting,
        step,
        done: None,
        on_file,
    };
    private_with(&page, status)
}

#[derive(Debug, Default, Deserialize)]
pub struct StepForm {
    reason: Option<String>,
}

/// `POST /o/cases/{id}/{action}`: takes the step, then back to the list.
#[handler]
pub async fn take_step(
    state: Data<&AppState>,
    req: &Request,
    official: Official,
    lang: Lang,
    Path((id, action)): Path<(i64, String)>,
    PageForm(form): PageForm<StepForm>,
) -> Result<Response, PageError> {
    let typed = vec![("reason", form.reason.clone().unwrap_or_default())];
    let refused = match ExitAction::from_name(&action) {
        None => PageError::Refused {
            message: lang.t("没有这个步骤", "There is no such step").to_owned(),
            status: StatusCode::NOT_FOUND,
            code: "",
        },
        Some(action) => {
            let (db, clock, rules) = (&state.db, &*state.clock, &state.exit_rules);
            let actor = &official.actor;
            let reason = form.reason;
            match cases::transition(db, clock, rules, actor, id, action, reason, &origin(req)).await
            {
                Ok(_) => return Ok(see_other(&format!("/o/cases?done={id}"))),
                Err(e) => PageError::refused(lang, e),
            }
        }
    };
    let (problem, status) = Problem::of(refused, &["reason"])?;
    let step = ItemForm::refused(id, problem, typed);
    cases_page(&state, lang, &official, step, status).await
}

#[derive(Template)]
#[template(path = "official/cases.html")]
struct CasesPage {
    lang: Lang,
    csrf: String,
    waiting: Vec<WaitingCase>,
    /// A refused step: its case, the reason typed, and why it was refused.
    step: ItemForm,
    /// What the step just taken did, and what comes next.
    done: Option<String>,
    /// The help and visits on file for each household listed.
    on_file: HashMap<i64, Tally>,
}

/// The help and visits on file for the households of the cases listed.
async fn tallies_of(
    state: &AppState,
    lang: Lang,
    waiting: &[WaitingCase],
) -> Result<HashMap<i64, Tally>, PageError> {
    let households: Vec<i64> = waiting.iter().filter_map(WaitingCase::household).collect();
    help::tallies(state.db.conn(), &households)
        .await
        .map_err(|e| PageError::refused(lang, e))
}

impl CasesPage {
    /// What is on file for the case's household, in a line.
    fn on_file_line(&self, household: &i64) -> String {
        let tally = self.on_file.get(household).copied().unwrap_or_default();
        let last = tally
            .last_visit
            .map(|d| match self.lang {
                Lang::Zh => format!("，最近走访 {}", d.format("%Y年%-m月%-d日")),
                Lang::En => format!(", last visit {d}"),
            })
            .unwrap_or_default();
        match self.lang {
            Lang::Zh => format!("帮扶 {} 条，走访 {} 次{last}", tally.help, tally.visits),
            Lang::En => format!("{} help records, {} visits{last}", tally.help, tally.visits),
        }
    }

    /// A refused step's reason when its case is no longer waiting here.
    fn stray(&self) -> Option<&str> {
        self.step.stray(self.waiting.iter().map(|w| w.case.id))
    }

    /// Until when the case's public notice runs, while it runs.
    fn notice_until(&self, waiting: &WaitingCase) -> Option<String> {
        let case = &waiting.case;
        let end = case
            .notice_ends_at
            .filter(|_| case.state == ExitState::PublicNotice)?;
        Some(crate::domain::county_time::minute(end))
    }

    /// A step back or out: it needs a reason, and its button is the plain one.
    fn backwards(&self, action: &ExitAction) -> bool {
        !cases::moves_forward(*action)
    }

    fn state_name(&self, state: &ExitState) -> &'static str {
        state_name(self.lang, *state)
    }

    fn action_name(&self, action: &ExitAction) -> &'static str {
        let t = |zh, en| self.lang.t(zh, en);
        match action {
            ExitAction::Appraise => t("民主评议通过", "Appraisal agreed"),
            ExitAction::Verify => t("核实通过", "Verified"),
            ExitAction::StartNotice => t("开始公示", "Start the public notice"),
            ExitAction::Object => t("公示有异议", "An objection was raised"),
            ExitAction::Review => t("乡镇审核通过", "Township review passed"),
            ExitAction::Approve => t("县审定通过", "County approval"),
            ExitAction::Announce => t("公告退出", "Announce the exit"),
            ExitAction::Reject => t("不予退出", "Reject"),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct YearQuery {
    year: Option<i32>,
}

/// `GET /o/households/{id}`: a household of the official's area, its members (ID numbers
/// masked) and its assessment for a year (default: the latest with income recorded).
#[handler]
pub async fn household_page(
    state: Data<&AppState>,
    official: Official,
    lang: Lang,
    Path(id): Path<i64>,
    Query(query): Query<YearQuery>,
) -> Result<Response, PageError> {
    let file = file::of(
        &state.db,
        &state.exit_rules,
        &official.actor,
        id,
        query.year,
    )
    .await
    .map_err(|e| match e {
        HouseholdError::NotFound => PageError::Missing(Missing::Household),
        e => PageError::refused(lang, e),
    })?;
    private(&HouseholdPage { lang, file })
}

#[derive(Template)]
#[template(path = "official/household.html")]
struct HouseholdPage {
    lang: Lang,
    file: HouseholdFile,
}

impl HouseholdPage {
    fn yuan(&self, fen: &i64) -> String {
        yuan(*fen)
    }

    fn below_line(&self) -> bool {
        self.file
            .assessment
            .failing
            .iter()
            .any(|f| matches!(f, Failing::IncomeAtOrBelowLine { .. }))
    }

    fn check_name(&self, check: &CheckKind) -> &'static str {
        let t = |zh, en| self.lang.t(zh, en);
        match check {
            CheckKind::Food => t("不愁吃", "Food"),
            CheckKind::Clothing => t("不愁穿", "Clothing"),
            CheckKind::Education => t("义务教育有保障", "Schooling"),
            CheckKind::Medical => t("基本医疗有保障", "Medical care"),
            CheckKind::Housing => t("住房安全有保障", "Safe housing"),
            CheckKind::Water => t("饮水安全有保障", "Safe water"),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct StatsQuery {
    area: Option<String>,
    year: Option<i32>,
}

/// `GET /o/stats`: which village produces what and how much, and where it sells.
#[handler]
pub async fn stats_page(
    state: Data<&AppState>,
    official: Official,
    lang: Lang,
    Query(query): Query<StatsQuery>,
) -> Result<Response, PageError> {
    // A code that names no area asks for nothing: the official's own area.
    let area = query.area.as_deref().and_then(|a| AreaCode::parse(a).ok());
    let (db, cache, actor) = (&state.db, &state.cache, &official.actor);
    let stats = production_and_sales::of(db, cache, actor, area, query.year)
        .await
        .map_err(|e| match e {
            StatsError::NotYours => PageError::Missing(Missing::StatsArea),
            StatsError::Production(e) => PageError::refused(lang, e),
            StatsError::Sales(e) => PageError::refused(lang, e),
        })?;
    let board = stats.board();
    private(&StatsPage { lang, stats, board })
}

/// Lines of sales each part of the page names.
const SALES_LINES: usize = 5;

#[derive(Template)]
#[template(path = "official/stats.html")]
struct StatsPage {
    lang: Lang,
    stats: ProductionAndSales,
    board: Board,
}

impl StatsPage {
    fn yuan(&self, fen: &i64) -> String {
        yuan_thousands(*fen)
    }

    fn number(&self, n: &i64) -> String {
        thousands(*n)
    }

    fn count(&self, n: &u64) -> String {
        thousands(i64::try_from(*n).unwrap_or(i64::MAX))
    }

    /// A share in tenths of a percent, as `12.5%`.
    fn percent(&self, permille: &i64) -> String {
        format!("{}.{}%", permille / 10, permille % 10)
    }

    fn unit(&self, unit: &Unit) -> &'static str {
        unit_name(self.lang, *unit)
    }

    /// Whether the page counts `year` (every year when `None`).
    fn counts(&self, year: Option<i32>) -> bool {
        self.stats.made.year == year
    }
}

/// Where an exit case stands, in words.
pub fn state_name(lang: Lang, state: ExitState) -> &'static str {
    let t = |zh, en| lang.t(zh, en);
    match state {
        ExitState::Proposed => t("拟退出", "proposed"),
        ExitState::Appraised => t("已民主评议", "appraised"),
        ExitState::Verified => t("已核实", "verified"),
        ExitState::PublicNotice => t("公示中", "in public notice"),
        ExitState::Reviewed => t("乡镇已审核", "reviewed by the township"),
        ExitState::Approved => t("县已审定", "approved by the county"),
        ExitState::Announced => t("已公告退出", "announced"),
        ExitState::Rejected => t("未通过", "rejected"),
    }
}
