//! `/o/certificates`: the compliance certificates (承诺达标合格证) of the official's area, by
//! township and village: batches the rules cover with and without one, farm inputs inside
//! their interval today, withdrawn certificates.

use askama::Template;
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
    service::trace::{
        TraceError,
        certificates::{self, VillageFigures},
    },
};

#[derive(Debug, Default, Deserialize)]
pub struct FiguresQuery {
    area: Option<String>,
}

/// `GET /o/certificates`: the figures of the official's area (or of `?area=` inside it).
#[handler]
pub async fn certificates_page(
    state: Data<&AppState>,
    official: Official,
    lang: Lang,
    Query(query): Query<FiguresQuery>,
) -> Result<Response, PageError> {
    let area = match query.area.as_deref().filter(|a| !a.is_empty()) {
        Some(code) => Some(AreaCode::parse(code).map_err(|_| PageError::Missing(Missing::Area))?),
        None => None,
    };
    let villages =
        match certificates::figures(&state.db, &*state.clock, &official.actor, area).await {
            Ok(v) => v,
            Err(TraceError::NotFound) => return Err(PageError::Missing(Missing::Area)),
            Err(e) => return Err(PageError::refused(lang, e)),
        };
    let townships = certificates::by_township(&villages);
    private(&CertificatesPage {
        lang,
        townships,
        villages,
    })
}

#[derive(Template)]
#[template(path = "official/certificates.html")]
struct CertificatesPage {
    lang: Lang,
    townships: Vec<VillageFigures>,
    villages: Vec<VillageFigures>,
}

impl CertificatesPage {
    fn total(&self) -> VillageFigures {
        let mut all = certificates::by_township(&self.townships);
        let mut total = VillageFigures::default();
        for t in all.drain(..) {
            total.in_scope += t.in_scope;
            total.certified += t.certified;
            total.uncertified += t.uncertified;
            total.inside_interval += t.inside_interval;
            total.withdrawn += t.withdrawn;
        }
        total
    }

    fn villages_of(&self, township: &str) -> Vec<&VillageFigures> {
        self.villages
            .iter()
            .filter(|v| v.township_code == township)
            .collect()
    }
}
