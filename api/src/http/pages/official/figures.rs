//! `/o/monitoring/figures`: the monitoring figures of the official's area (监测帮扶数据) — households
//! under monitoring by category, risk type, township and village, and this year's identified,
//! helped, eliminated and returned — each the count a recount from the rows gives.

use askama::Template;
use entities::monitored_household::MonitoringCategory;
use poem::{
    Response, handler,
    web::{Data, Query},
};
use serde::Deserialize;

use crate::http::error::Lang;
use crate::http::pages::{
    error::{Missing, PageError},
    session::Official,
    shell::{Frame, private},
};
use crate::{
    app::AppState,
    domain::AreaCode,
    service::monitoring::{
        MonitoringError, RiskType,
        figures::{self, Figures},
    },
};

#[derive(Debug, Default, Deserialize)]
pub struct AreaQuery {
    area: Option<String>,
}

#[derive(Template)]
#[template(path = "official/monitoring_figures.html")]
struct FiguresPage {
    lang: Lang,
    figures: Figures,
}

impl FiguresPage {
    fn category(&self, category: &MonitoringCategory) -> &'static str {
        let (zh, en) = figures::category_names(*category);
        self.lang.t(zh, en)
    }

    fn risk(&self, risk: &RiskType) -> &'static str {
        match self.lang {
            Lang::Zh => risk.zh(),
            Lang::En => risk.name(),
        }
    }

    /// Whether the page breaks its area down by township (a county's, or everywhere).
    fn by_township(&self) -> bool {
        self.figures
            .area
            .as_ref()
            .is_none_or(|a| a.ends_with("000000"))
    }

    /// Whether the page lists villages (not a single village's page).
    fn by_village(&self) -> bool {
        self.figures
            .area
            .as_ref()
            .is_none_or(|a| a.ends_with("000"))
    }
}

/// `GET /o/monitoring/figures`: the figures of the official's area, or of a part of it (`?area=`).
#[handler]
pub async fn figures_page(
    state: Data<&AppState>,
    official: Official,
    lang: Lang,
    Query(query): Query<AreaQuery>,
) -> Result<Response, PageError> {
    // A code that names no area asks for nothing: the official's own area.
    let asked = query.area.as_deref().and_then(|a| AreaCode::parse(a).ok());
    let area = figures::area_for(&official.actor, asked).map_err(|e| match e {
        MonitoringError::NotFound => PageError::Missing(Missing::Area),
        e => PageError::refused(lang, e),
    })?;
    let figures = figures::of(state.db.conn(), area.as_ref(), state.clock.this_year())
        .await
        .map_err(|e| PageError::refused(lang, e))?;
    private(&FiguresPage { lang, figures })
}
