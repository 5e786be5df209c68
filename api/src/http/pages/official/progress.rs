//! The officials' pages (`/o`): how far the area has come toward its goals, and its poor
//! villages ranked by incidence — the same numbers as `GET /api/v1/exit/progress`.

use askama::Template;
use chrono::NaiveDate;
use poem::{
    Response, handler,
    web::{Data, Query},
};
use serde::Deserialize;

use crate::http::error::Lang;
use crate::http::pages::{
    charts::{BarRow, Bars, Growth, ProgressBar},
    error::{Missing, PageError},
    session::Official,
    shell::{Frame, private},
};
use crate::{
    app::AppState,
    domain::AreaCode,
    service::exit::{
        ExitError,
        dashboard::{self as dashboards, Dashboard},
        progress::{self, PartProgress, Progress, VillageIncidence, VillageStage},
    },
};

#[derive(Debug, Default, Deserialize)]
pub struct AreaQuery {
    /// A part of the official's area to look at; their whole area by default.
    area: Option<String>,
    /// The page of a long village ranking, from 1.
    page: Option<String>,
}

impl AreaQuery {
    /// The area asked for: a code that names no area is not one the official governs.
    fn area(&self) -> Result<Option<AreaCode>, PageError> {
        match self.area.as_deref().filter(|a| !a.is_empty()) {
            Some(code) => AreaCode::parse(code)
                .map(Some)
                .map_err(|_| PageError::Missing(Missing::Area)),
            None => Ok(None),
        }
    }
}

/// The area's progress could not be read: it is not the official's, or something failed.
fn unread(lang: Lang, error: ExitError) -> PageError {
    match error {
        ExitError::NotFound => PageError::Missing(Missing::Area),
        error => PageError::refused(lang, error),
    }
}

/// `GET /o`: the dashboard — villages de-listed and people lifted out against the goals, each
/// part of the area, the way here over time, and the villages furthest from exit.
#[handler]
pub async fn dashboard(
    state: Data<&AppState>,
    official: Official,
    lang: Lang,
    Query(query): Query<AreaQuery>,
) -> Result<Response, PageError> {
    let area = query.area()?;
    let dashboard = dashboards::of(
        &state.db,
        &state.cache,
        &state.exit_rules,
        &official.actor,
        area,
    )
    .await
    .map_err(|e| unread(lang, e))?;
    private(&DashboardPage {
        lang,
        csrf: official.csrf(),
        dashboard,
    })
}

/// `GET /o/villages`: the area's poor villages not yet de-listed, highest incidence first.
#[handler]
pub async fn village_ranking(
    state: Data<&AppState>,
    official: Official,
    lang: Lang,
    Query(query): Query<AreaQuery>,
) -> Result<Response, PageError> {
    let area = query.area()?;
    let p = progress::progress(
        &state.db,
        &state.cache,
        &state.exit_rules,
        &official.actor,
        area,
    )
    .await
    .map_err(|e| unread(lang, e))?;
    let pages = p
        .villages_by_incidence
        .len()
        .div_ceil(RANKED_PER_PAGE)
        .max(1);
    let page = query
        .page
        .as_deref()
        .and_then(|n| n.trim().parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, pages);
    private(&RankingPage {
        lang,
        p,
        page,
        pages,
    })
}

/// The ranking lists this many villages a page, so a county's page stays small on a phone.
const RANKED_PER_PAGE: usize = 60;

/// Villages the dashboard names, furthest from exit first.
const TOP_VILLAGES: usize = 5;

#[derive(Template)]
#[template(path = "official/dashboard.html")]
struct DashboardPage {
    lang: Lang,
    csrf: String,
    dashboard: Dashboard,
}

impl DashboardPage {
    fn p(&self) -> &Progress {
        &self.dashboard.progress
    }

    fn villages_bar(&self) -> ProgressBar {
        let p = self.p();
        ProgressBar::new(p.villages.delisted.into(), p.goal_villages.into())
    }

    fn people_bar(&self) -> ProgressBar {
        ProgressBar::new(self.p().people.lifted_out, self.p().goal_people)
    }

    /// Each part's villages de-listed of its poor villages; a part opens its own dashboard.
    /// The parts with poor villages in them: a village that never was poor has nothing to show.
    fn poor_parts(&self) -> impl Iterator<Item = &PartProgress> {
        self.p().parts.iter().filter(|part| part.villages.poor > 0)
    }

    fn villages_by_part(&self) -> Bars {
        let village_level = self.p().level != "county";
        Bars::new(self.poor_parts().map(|part| BarRow {
            name: &part.name,
            done: part.villages.delisted.into(),
            total: part.villages.poor.into(),
            href: Some(if village_level {
                format!("/o/villages/{}", part.code)
            } else {
                format!("/o?area={}", part.code)
            }),
        }))
    }

    fn people_by_part(&self) -> Bars {
        Bars::new(self.p().parts.iter().map(|part| BarRow {
            name: &part.name,
            done: part.people.lifted_out,
            total: part.people.registered,
            href: None,
        }))
    }

    /// The way here over time; one day is a dot, not a line, so it takes two days or a target.
    fn way_here(&self) -> Option<Growth> {
        let Dashboard {
            lifted_out,
            people_targets,
            ..
        } = &self.dashboard;
        if lifted_out.len() < 2 && people_targets.is_empty() {
            return None;
        }
        Growth::new(lifted_out, people_targets, self.p().goal_people)
    }

    /// The first day with a snapshot.
    fn since(&self) -> Option<NaiveDate> {
        self.dashboard.lifted_out.first().map(|(day, _)| *day)
    }

    /// The villages furthest from exit.
    fn ranked(&self) -> &[VillageIncidence] {
        let ranked = &self.p().villages_by_incidence;
        &ranked[..ranked.len().min(TOP_VILLAGES)]
    }

    fn first_rank(&self) -> usize {
        1
    }
}

#[derive(Template)]
#[template(path = "official/villages.html")]
struct RankingPage {
    lang: Lang,
    p: Progress,
    /// The page shown, from 1, of `pages`.
    page: usize,
    pages: usize,
}

impl RankingPage {
    /// The villages of the page shown.
    fn ranked(&self) -> &[VillageIncidence] {
        let all = &self.p.villages_by_incidence;
        let start = ((self.page - 1) * RANKED_PER_PAGE).min(all.len());
        &all[start..(start + RANKED_PER_PAGE).min(all.len())]
    }

    /// The rank of the page's first village.
    fn first_rank(&self) -> usize {
        (self.page - 1) * RANKED_PER_PAGE + 1
    }

    fn per_page(&self) -> usize {
        RANKED_PER_PAGE
    }

    /// The address of another page of the ranking, of the same area.
    fn page_href(&self, page: &usize) -> String {
        format!("/o/villages?area={}&page={page}", self.p.area_code)
    }
}

/// A village's stage as its badge shows it: the badge's class and words.
pub fn stage_badge(lang: Lang, stage: VillageStage) -> (&'static str, &'static str) {
    match stage {
        VillageStage::InProgress => ("badge", lang.t("推进中", "in progress")),
        VillageStage::NotStarted => ("badge off", lang.t("未启动", "not started")),
        VillageStage::Delisted => ("badge", lang.t("已出列", "de-listed")),
    }
}

/// `1234` basis points as `12.34`.
pub fn basis_points(bp: i64) -> String {
    format!("{}.{:02}", bp / 100, bp % 100)
}

/// `135000` as `135,000`.
pub fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_are_grouped() {
        assert_eq!(super::group(135_000), "135,000");
        assert_eq!(super::group(999), "999");
        assert_eq!(super::group(1_000), "1,000");
        assert_eq!(super::group(0), "0");
    }

    #[test]
    fn incidence_has_two_decimals() {
        assert_eq!(super::basis_points(100), "1.00");
        assert_eq!(super::basis_points(1_234), "12.34");
        assert_eq!(super::basis_points(5), "0.05");
    }
}
