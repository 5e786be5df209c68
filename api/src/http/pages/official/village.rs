//! `/o/villages/{code}`: one village as the officials of its area read it — its exit indicators
//! as the exit procedure judges them, its open exit cases, its poor households by where their
//! exit stands (each head named, each a link to the household), what it produces and where it
//! sells, and the open reports buyers made of its goods.

use askama::Template;
use entities::{area::AreaLevel, exit_case::ExitState, household::HouseholdStatus, listing::Unit};
use poem::{
    Response, handler,
    web::{Data, Path},
};

use crate::http::error::Lang;
use crate::http::pages::{
    error::{Missing, PageError},
    session::Official,
    shell::{Frame, private, thousands, unit_name, yuan_thousands},
};
use crate::{
    app::AppState,
    domain::{AreaCode, county_time},
    service::{
        exit::{
            ExitError,
            assessment::Failing,
            rules::Indicator,
            village_file::{self, HouseholdLine, OpenCase, VillageFile},
        },
        market::production_and_sales::{self, Board, ProductionAndSales, StatsError},
        trace::reports::{self, ReportFilter, ReportView},
    },
};

/// `GET /o/villages/{code}`: a village of the official's area.
#[handler]
pub async fn village_page(
    state: Data<&AppState>,
    official: Official,
    lang: Lang,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let village = AreaCode::parse(&code)
        .ok()
        .filter(|a| a.level() == AreaLevel::Village && official.actor.governs(a))
        .ok_or(PageError::Missing(Missing::Area))?;
    let (db, cache, actor) = (&state.db, &state.cache, &official.actor);
    let stats = production_and_sales::of(db, cache, actor, Some(village.clone()), None)
        .await
        .map_err(|e| match e {
            StatsError::NotYours => PageError::Missing(Missing::Area),
            StatsError::Production(e) => PageError::refused(lang, e),
            StatsError::Sales(e) => PageError::refused(lang, e),
        })?;
    let filter = ReportFilter {
        area: Some(village.clone()),
        ..ReportFilter::default()
    };
    let reports = reports::list(db, actor, filter)
        .await
        .map_err(|e| PageError::refused(lang, e))?;
    let name = crate::service::areas::names_of(db.conn(), [village.as_str().to_owned()])
        .await
        .map_err(|e| PageError::Unavailable(e.into()))?
        .remove(village.as_str())
        .unwrap_or_default();
    let file = village_file::of(
        db,
        &state.exit_rules,
        actor,
        &village,
        state.clock.this_year(),
    )
    .await
    .map_err(|e| match e {
        ExitError::NotFound | ExitError::Forbidden => PageError::Missing(Missing::Area),
        e => PageError::Unavailable(e.into()),
    })?;
    let board = stats.board();
    private(&VillagePage {
        lang,
        code: village.as_str().to_owned(),
        name,
        stats,
        board,
        reports,
        file,
    })
}

/// The most households a group shows unfolded.
const UNFOLDED_HOUSEHOLDS: usize = 20;

#[derive(Template)]
#[template(path = "official/village.html")]
struct VillagePage {
    lang: Lang,
    code: String,
    name: String,
    stats: ProductionAndSales,
    board: Board,
    reports: Vec<ReportView>,
    file: VillageFile,
}

impl VillagePage {
    fn yuan(&self, fen: &i64) -> String {
        yuan_thousands(*fen)
    }

    fn number(&self, n: &i64) -> String {
        thousands(*n)
    }

    fn count(&self, n: &u64) -> String {
        thousands(i64::try_from(*n).unwrap_or(i64::MAX))
    }

    fn percent(&self, permille: &i64) -> String {
        format!("{}.{}%", permille / 10, permille % 10)
    }

    fn unit(&self, unit: &Unit) -> &'static str {
        unit_name(self.lang, *unit)
    }

    /// The household groups the page lists, those still to be helped first.
    fn groups(&self) -> [HouseholdStatus; 4] {
        [
            HouseholdStatus::Returned,
            HouseholdStatus::Poor,
            HouseholdStatus::ExitPending,
            HouseholdStatus::Exited,
        ]
    }

    /// The registered people of the households in one state, thousands apart.
    fn people_in(&self, status: &HouseholdStatus) -> String {
        thousands(self.file.people_in(*status))
    }

    fn in_state(&self, status: &HouseholdStatus) -> Vec<&HouseholdLine> {
        self.file.in_state(*status)
    }

    /// A household's number without the village's code it starts with (`0001` of
    /// `5002351012080001`): the page is the village's own.
    fn short_number<'a>(&self, h: &'a HouseholdLine) -> &'a str {
        h.number
            .strip_prefix(self.code.as_str())
            .filter(|rest| !rest.is_empty())
            .unwrap_or(&h.number)
    }

    /// Whether a group opens unfolded: the households still to be helped do, when they are few
    /// enough that the rest of the page stays within reach on a phone.
    fn opens(&self, status: &HouseholdStatus) -> bool {
        matches!(status, HouseholdStatus::Returned | HouseholdStatus::Poor)
            && self.file.in_state(*status).len() <= UNFOLDED_HOUSEHOLDS
    }

    fn group_name(&self, status: &HouseholdStatus) -> &'static str {
        let t = |zh, en| self.lang.t(zh, en);
        match status {
            HouseholdStatus::Returned => t("返贫户", "Returned to poverty"),
            HouseholdStatus::Poor => t("未脱贫", "Still poor"),
            HouseholdStatus::ExitPending => t("退出中", "Exit under way"),
            HouseholdStatus::Exited => t("已脱贫", "Exited"),
        }
    }

    /// Poverty incidence as a percentage with two decimals, from basis points.
    fn basis_points(&self, bp: &i64) -> String {
        format!("{}.{:02}%", bp / 100, bp % 100)
    }

    /// Whether the village is below the threshold.
    fn incidence_met(&self) -> bool {
        !self
            .file
            .assessment
            .failing
            .iter()
            .any(|f| matches!(f, Failing::IncidenceTooHigh { .. }))
    }

    fn indicator_name(&self, indicator: &Indicator) -> &'static str {
        let t = |zh, en| self.lang.t(zh, en);
        match indicator {
            Indicator::HardenedRoad => t("通硬化路", "Hardened road"),
            Indicator::SafeWater => t("安全饮水", "Safe drinking water"),
            Indicator::Power => t("通生活用电", "Power"),
            Indicator::Broadband => t("通宽带", "Broadband"),
            Indicator::Clinic => t("有卫生室", "Clinic"),
            Indicator::CulturalRoom => t("有文化室", "Cultural room"),
            Indicator::CollectiveIncome => t("村集体经济收入", "Collective income"),
        }
    }

    /// Whether an indicator is met, as the exit procedure judges it.
    fn indicator_met(&self, indicator: &Indicator) -> bool {
        !self.file.assessment.failing.iter().any(
            |f| matches!(f, Failing::IndicatorUnmet { indicator: name } if *name == indicator.name()),
        )
    }

    fn state_name(&self, state: &ExitState) -> &'static str {
        super::work::state_name(self.lang, *state)
    }

    /// Until when a case's public notice runs, while it runs.
    fn notice_until(&self, case: &OpenCase) -> Option<String> {
        let end = case
            .case
            .notice_ends_at
            .filter(|_| case.case.state == ExitState::PublicNotice)?;
        Some(county_time::minute(end))
    }

    fn when(&self, view: &ReportView) -> String {
        county_time::local(view.reported_at)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }
}
