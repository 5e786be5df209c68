//! Label sheets over HTTP: a run's codes laid out for printing, as a PDF or a PNG a page.

use poem::web::Data;
use poem_openapi::{
    ApiResponse, OpenApi,
    param::{Path, Query},
    payload::{Attachment, Binary},
};

use super::{ApiTags, auth::BearerAuth};
use crate::http::error::ApiError;
use crate::{
    app::AppState,
    infra::labels,
    service::trace::{TraceError, labels as label_runs},
};

pub struct LabelsApi;

#[OpenApi(tag = "ApiTags::Trace")]
impl LabelsApi {
    /// Download a run's label sheet
    ///
    /// A PDF of A4 pages, 24 self-adhesive labels (70 × 37 mm, 3 × 8) a page, each with the
    /// code's QR code, the product, the township and village, and the code in text. The whole
    /// run, or the pages asked for (1-based); one file holds at most 500 pages.
    #[oai(
        path = "/batches/:id/code-runs/:run_id/labels.pdf",
        method = "get",
        operation_id = "get_code_run_labels_pdf"
    )]
    async fn get_code_run_labels_pdf(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        run_id: Path<i64>,
        /// First page, default 1.
        #[oai(validator(minimum(value = "1")))]
        from_page: Query<Option<u32>>,
        /// Last page, default the run's last.
        #[oai(validator(minimum(value = "1")))]
        to_page: Query<Option<u32>>,
    ) -> Result<LabelsPdfResponse, ApiError> {
        let sheet = label_runs::sheet_pdf(
            &state.db,
            &auth.0.actor,
            state.trace_keys.clone(),
            &state.settings.public_base_url,
            id.0,
            run_id.0,
            from_page.0.map(|p| p as usize),
            to_page.0.map(|p| p as usize),
        )
        .await?;
        Ok(LabelsPdfResponse::Ok(
            Attachment::new(sheet.bytes).filename(sheet.file_name),
            sheet.total_pages,
        ))
    }

    /// Get one page of a run's label sheet as PNG
    ///
    /// The PDF's page `page` (1-based) drawn at 200 dpi (1654 × 2339 px), for printing from a
    /// phone or a photo shop. `X-Total-Pages` says how many pages the run fills.
    #[oai(
        path = "/batches/:id/code-runs/:run_id/labels/:page",
        method = "get",
        operation_id = "get_code_run_labels_png"
    )]
    async fn get_code_run_labels_png(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        run_id: Path<i64>,
        #[oai(validator(minimum(value = "1")))] page: Path<u32>,
    ) -> Result<LabelsPngResponse, ApiError> {
        let run = label_runs::of_run(&state.db, &auth.0.actor, id.0, run_id.0).await?;
        let total = run.pages();
        let page = page.0 as usize;
        if page > total {
            return Err(TraceError::NotFound.into());
        }
        let (keys, base, fonts) = (
            state.trace_keys.clone(),
            state.settings.public_base_url.clone(),
            state.label_fonts.clone(),
        );
        let png = tokio::task::spawn_blocking(move || {
            labels::png(&run.labels(&keys, &base, page..=page), &fonts)
        })
        .await
        .map_err(ApiError::internal)?;
        Ok(LabelsPngResponse::Ok(Binary(png), total as u32))
    }
}

#[derive(ApiResponse)]
pub enum LabelsPdfResponse {
    /// The label sheet.
    #[oai(status = 200, content_type = "application/pdf")]
    Ok(
        Attachment<Vec<u8>>,
        /// How many pages the whole run fills.
        #[oai(header = "X-Total-Pages")]
        u32,
    ),
}

#[derive(ApiResponse)]
pub enum LabelsPngResponse {
    /// One page of labels.
    #[oai(status = 200, content_type = "image/png")]
    Ok(
        Binary<Vec<u8>>,
        /// How many pages the whole run fills.
        #[oai(header = "X-Total-Pages")]
        u32,
    ),
}
