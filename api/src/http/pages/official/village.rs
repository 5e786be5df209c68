//! `/o/villages/{code}`: one village as its officials read it — what it produces and where it
//! sells, the reports buyers made of its goods, and the way to its households' progress.

use askama::Template;
use entities::{area::AreaLevel, listing::Unit};
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
    let board = stats.board();
    private(&VillagePage {
        lang,
        code: village.as_str().to_owned(),
        name,
        stats,
        board,
        reports,
    })
}

#[derive(Template)]
#[template(path = "official/village.html")]
struct VillagePage {
    lang: Lang,
    code: String,
    name: String,
    stats: ProductionAndSales,
    board: Board,
    reports: Vec<ReportView>,
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

    fn when(&self, view: &ReportView) -> String {
        county_time::local(view.reported_at)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }
}
