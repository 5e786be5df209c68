//! Label sheets for a run of item codes: which labels a page holds and what each says.

use std::{ops::RangeInclusive, sync::Arc};

use entities::{product_category, trace_code_run};
use sea_orm::EntityTrait;

use super::{TraceError, codes};
use crate::{
    domain::AreaCode,
    infra::{
        db::Database,
        labels::{LABELS_PER_PAGE, Label, LabelFonts, pages_for, pdf, typing_address},
        trace_codes::TraceKeys,
    },
    service::{areas, policy::Actor},
};

/// Most pages one PDF holds (12,000 labels); a larger run is printed a page range at a time.
pub const MAX_PDF_PAGES: usize = 500;

/// A run of codes with what its labels print.
#[derive(Clone, Debug)]
pub struct LabelRun {
    pub run: trace_code_run::Model,
    pub product: String,
    /// Township and village.
    pub place: String,
}

/// A run's label sheet, or the pages of it asked for, as a PDF.
pub struct SheetPdf {
    pub bytes: Vec<u8>,
    pub file_name: String,
    /// How many pages the whole run fills.
    pub total_pages: u32,
}

/// One page (1-based) of a run's label sheet as a 200 dpi PNG, with how many pages the run
/// fills; a page past the last is not found. Drawn off the async threads.
#[allow(clippy::too_many_arguments)]
pub async fn page_png(
    db: &Database,
    actor: &Actor,
    keys: Arc<TraceKeys>,
    base_url: String,
    fonts: Arc<LabelFonts>,
    batch_id: i64,
    run_id: i64,
    page: usize,
) -> Result<(Vec<u8>, usize), TraceError> {
    let run = of_run(db, actor, batch_id, run_id).await?;
    let total = run.pages();
    if page == 0 || page > total {
        return Err(TraceError::NotFound);
    }
    let png = tokio::task::spawn_blocking(move || {
        crate::infra::labels::png(&run.labels(&keys, &base_url, page..=page), &fonts)
    })
    .await
    .map_err(|e| TraceError::Drawing(e.to_string()))?;
    Ok((png, total))
}

/// Draws the pages asked for (all by default; 1-based) of a run's label sheet, off the async
/// threads.
#[allow(clippy::too_many_arguments)]
pub async fn sheet_pdf(
    db: &Database,
    actor: &Actor,
    keys: Arc<TraceKeys>,
    public_base_url: &str,
    batch_id: i64,
    run_id: i64,
    from_page: Option<usize>,
    to_page: Option<usize>,
) -> Result<SheetPdf, TraceError> {
    let run = of_run(db, actor, batch_id, run_id).await?;
    let total_pages = run.pages() as u32;
    let pages = run.page_range(from_page, to_page)?;
    let file_name = format!(
        "labels-batch-{batch_id}-run-{run_id}-pages-{}-{}.pdf",
        pages.start(),
        pages.end()
    );
    let base = public_base_url.to_owned();
    let bytes = tokio::task::spawn_blocking(move || pdf(&run.labels(&keys, &base, pages)))
        .await
        .map_err(|e| TraceError::Drawing(e.to_string()))?;
    Ok(SheetPdf {
        bytes,
        file_name,
        total_pages,
    })
}

/// The labels of a run of the farmer's own batch, or of a batch of the official's area.
pub async fn of_run(
    db: &Database,
    actor: &Actor,
    batch_id: i64,
    run_id: i64,
) -> Result<LabelRun, TraceError> {
    let (batch, run) = codes::run(db, actor, batch_id, run_id).await?;
    let product = product_category::Entity::find_by_id(batch.category_id)
        .one(db.conn())
        .await?
        .map(|c| c.name_zh)
        .unwrap_or_default();
    // A batch with a compliance certificate in force says so on its labels.
    let product = if super::certificates::live_of_batch(db.conn(), batch.id)
        .await?
        .is_some()
    {
        format!("{product} · 已开合格证")
    } else {
        product
    };
    let village = AreaCode::parse(&batch.village_code).ok();
    let township = village.as_ref().and_then(AreaCode::parent);
    let mut place_codes = vec![batch.village_code.clone()];
    place_codes.extend(township.as_ref().map(|t| t.as_str().to_owned()));
    let names = areas::names_of(db.conn(), place_codes).await?;
    let name = |code: Option<&str>| code.and_then(|c| names.get(c)).cloned().unwrap_or_default();
    Ok(LabelRun {
        run,
        product,
        place: format!(
            "{}{}",
            name(township.as_ref().map(AreaCode::as_str)),
            name(Some(batch.village_code.as_str()))
        ),
    })
}

impl LabelRun {
    pub fn pages(&self) -> usize {
        pages_for((self.run.last_item - self.run.first_item + 1) as usize)
    }

    /// The pages to print, 1-based: all of them when not given. Refused when outside the run or
    /// more than a PDF holds.
    pub fn page_range(
        &self,
        from: Option<usize>,
        to: Option<usize>,
    ) -> Result<RangeInclusive<usize>, TraceError> {
        let pages = self.pages();
        let from = from.unwrap_or(1);
        let to = to.unwrap_or(pages);
        if from < 1 || from > to || to > pages {
            return Err(TraceError::Invalid(
                crate::service::reasons::label_pages_range(pages),
            ));
        }
        if to - from + 1 > MAX_PDF_PAGES {
            return Err(TraceError::Invalid(
                crate::service::reasons::label_pages_too_many(MAX_PDF_PAGES, pages),
            ));
        }
        Ok(from..=to)
    }

    /// The labels on `pages` (1-based), signed as they are made.
    pub fn labels(
        &self,
        keys: &TraceKeys,
        public_base_url: &str,
        pages: RangeInclusive<usize>,
    ) -> Vec<Label> {
        let first = self.run.first_item + ((pages.start() - 1) * LABELS_PER_PAGE) as i64;
        let last = (self.run.first_item + (pages.end() * LABELS_PER_PAGE) as i64 - 1)
            .min(self.run.last_item);
        let typed_at = typing_address(public_base_url);
        codes::signed_items(keys, self.run.batch_id, first..=last, public_base_url)
            .map(|signed| Label {
                typed_at: typed_at.clone(),
                url: signed.url,
                code: signed.code,
                product: self.product.clone(),
                place: self.place.clone(),
                item: signed.item,
            })
            .collect()
    }
}
