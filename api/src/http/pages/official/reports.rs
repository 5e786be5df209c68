//! `/o/reports`: what buyers reported from scan pages of the area's goods, by village and batch,
//! with a form to answer and close each.

use askama::Template;
use poem::{
    Request, Response, handler,
    http::StatusCode,
    web::{Data, Path, Query},
};
use serde::Deserialize;

use crate::http::pages::{
    error::{Missing, PageError},
    forms::{ItemForm, Problem},
    session::{Official, PageForm, PageUser},
    shell::{Frame, private_with, see_other},
};
use crate::http::{caller::origin, error::Lang};
use crate::{
    app::AppState,
    domain::{AreaCode, county_time},
    service::trace::{
        TraceError,
        reports::{self, ReportFilter, ReportView},
    },
};

#[derive(Debug, Default, Deserialize)]
pub struct ReportsQuery {
    area: Option<String>,
    batch: Option<i64>,
    /// Show closed reports too.
    all: Option<String>,
    /// The report just answered and closed.
    closed: Option<i64>,
}

/// `GET /o/reports`: the open reports of the official's area (or of `?area=`, `?batch=`).
#[handler]
pub async fn reports_page(
    state: Data<&AppState>,
    official: Official,
    lang: Lang,
    Query(query): Query<ReportsQuery>,
) -> Result<Response, PageError> {
    show(
        &state,
        lang,
        &official,
        query,
        ItemForm::none(),
        StatusCode::OK,
    )
    .await
}

async fn show(
    state: &AppState,
    lang: Lang,
    official: &PageUser,
    query: ReportsQuery,
    answer: ItemForm,
    status: StatusCode,
) -> Result<Response, PageError> {
    let area = match query.area.as_deref().filter(|a| !a.is_empty()) {
        Some(code) => Some(AreaCode::parse(code).map_err(|_| PageError::Missing(Missing::Area))?),
        None => None,
    };
    let filter = ReportFilter {
        area,
        batch_id: query.batch,
        closed: query.all.is_some(),
    };
    let reports = match reports::list(&state.db, &official.actor, filter).await {
        Ok(reports) => reports,
        Err(TraceError::NotFound) => return Err(PageError::Missing(Missing::Area)),
        Err(e) => return Err(PageError::refused(lang, e)),
    };
    let page = ReportsPage {
        lang,
        csrf: official.csrf(),
        reports,
        closed: query.closed,
        all: query.all.is_some(),
        answer,
    };
    private_with(&page, status)
}

#[derive(Debug, Default, Deserialize)]
pub struct CloseForm {
    answer: Option<String>,
}

/// `POST /o/reports/{id}/close`: answers and closes the report, then back to the list saying so.
#[handler]
pub async fn close_report(
    state: Data<&AppState>,
    req: &Request,
    official: Official,
    lang: Lang,
    Path(id): Path<i64>,
    PageForm(form): PageForm<CloseForm>,
) -> Result<Response, PageError> {
    let answer = form.answer.unwrap_or_default();
    match reports::close(&state.db, &official.actor, id, &answer, origin(req).ip).await {
        Ok(_) => Ok(see_other(&format!("/o/reports?closed={id}"))),
        Err(TraceError::NotFound) => Err(PageError::Missing(Missing::Report)),
        Err(e) => {
            let (problem, status) = Problem::of(PageError::refused(lang, e), &["answer"])?;
            let typed = ItemForm::refused(id, problem, vec![("answer", answer)]);
            show(
                &state,
                lang,
                &official,
                ReportsQuery::default(),
                typed,
                status,
            )
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "official/reports.html")]
struct ReportsPage {
    lang: Lang,
    csrf: String,
    reports: Vec<ReportView>,
    closed: Option<i64>,
    all: bool,
    /// A refused answer: its report, what was typed and why.
    answer: ItemForm,
}

impl ReportsPage {
    /// A refused answer's reason when its report is not on the list.
    fn stray(&self) -> Option<&str> {
        self.answer.stray(self.reports.iter().map(|v| v.report.id))
    }

    fn when(&self, view: &ReportView) -> String {
        county_time::local(view.reported_at)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }
}
