//! `/o/sector-lists`: a township or county official uploads a sector's list of people (医保,
//! 民政, 应急, 教育): first checked and matched (nothing written), then stored all or nothing;
//! the page shows what was matched, what was not, and every problem by row and column.

use std::io::{Seek, Write};

use askama::Template;
use poem::{Request, Response, handler, http::StatusCode, web::Data};

use crate::http::pages::{
    error::PageError,
    forms::{PageUpload, fresh_key},
    session::Official,
    shell::{Frame, private_with},
};
use crate::http::{caller::origin, error::Lang};
use crate::{
    app::AppState,
    service::monitoring::sector::{self, SectorImportError, SectorReport},
};

/// `GET /o/sector-lists`: the upload form.
#[handler]
pub async fn sector_page(official: Official, lang: Lang) -> Result<Response, PageError> {
    private_with(
        &SectorPage {
            lang,
            csrf: official.csrf(),
            key: fresh_key(),
            report: None,
            refused: None,
        },
        StatusCode::OK,
    )
}

/// `POST /o/sector-lists`: checks (the box ticked) or stores the file, and shows the report.
#[handler]
pub async fn upload(
    state: Data<&AppState>,
    req: &Request,
    official: Official,
    lang: Lang,
    PageUpload(form): PageUpload,
) -> Result<Response, PageError> {
    let dry_run = form.get("dry_run").is_some();
    let sent_key = form.get("key").map(str::to_owned);
    let page = |report: Option<SectorReport>, refused: Option<String>, status: StatusCode| {
        // A stored list's key is spent; one checked or refused may be sent again with it.
        let key = match (&report, &sent_key) {
            (Some(r), _) if r.committed => fresh_key(),
            (_, Some(sent)) => sent.clone(),
            _ => fresh_key(),
        };
        private_with(
            &SectorPage {
                lang,
                csrf: official.csrf(),
                key,
                report,
                refused,
            },
            status,
        )
    };
    let Some(upload) = form.file else {
        let words = lang.t("请选择要导入的表格文件", "Choose the spreadsheet to import");
        return page(
            None,
            Some(words.to_owned()),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let mut file = tempfile::tempfile().map_err(|e| PageError::Unavailable(e.into()))?;
    file.write_all(&upload.bytes)
        .and_then(|()| file.rewind())
        .map_err(|e| PageError::Unavailable(e.into()))?;
    let result = sector::import_file(
        &state.db,
        &state.pii,
        &*state.clock,
        &official.actor,
        file,
        dry_run,
        &origin(req),
        sent_key.as_deref(),
    )
    .await;
    match result {
        Ok(report) => page(Some(report), None, StatusCode::OK),
        Err(SectorImportError::Rejected(report)) => {
            let words = lang.t(
                "表格有错误，什么都没有写入；请按下面的行和列改正后再导入",
                "The file has problems; nothing was written. Fix the rows and columns below and import again",
            );
            page(
                Some(*report),
                Some(words.to_owned()),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(e) => Err(PageError::refused(
            lang,
            crate::http::error::ApiError::from(e),
        )),
    }
}

#[derive(Template)]
#[template(path = "official/sector.html")]
struct SectorPage {
    lang: Lang,
    csrf: String,
    /// Sent with the file, so a double tap stores the list once.
    key: String,
    report: Option<SectorReport>,
    refused: Option<String>,
}

impl SectorPage {
    /// After a check or a refusal the list is sent again, and a browser keeps no chosen file.
    fn choose_again(&self) -> bool {
        self.refused.is_some() || self.report.as_ref().is_some_and(|r| !r.committed)
    }
}
