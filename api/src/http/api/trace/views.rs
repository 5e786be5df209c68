//! What the trace operations take and answer: request and response objects, their conversions
//! from and to the service's types, and each operation's responses.

use super::*;

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct PlotInput {
    #[oai(validator(min_length = 1, max_length = 32))]
    pub name: String,
    /// The household's own village, which is the default; no other is accepted.
    pub village_code: Option<String>,
    /// In mu (亩); hundredths are kept.
    pub area_mu: f64,
    /// What grows there, in words; by default the names of `crop_category_ids`. Words that
    /// name one of the county's products (its Chinese or English name or its code) make it the
    /// plot's crop when no ids are given.
    #[oai(validator(max_length = 32))]
    pub crop: Option<String>,
    /// The county's products (categories) the plot grows, at most 8: a batch from the plot is
    /// one of them, else it is refused with the reason `batch.not_plot_crop`.
    pub crop_category_ids: Option<Vec<i64>>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

impl PlotInput {
    /// The plot the request asks for.
    pub fn into_new(self) -> Result<NewPlot, ApiError> {
        Ok(NewPlot {
            name: self.name,
            village: self
                .village_code
                .as_deref()
                .map(parse_area_code)
                .transpose()?,
            area_mu: self.area_mu,
            crop: self.crop.unwrap_or_default(),
            crop_ids: self.crop_category_ids.unwrap_or_default(),
            location: self.latitude.zip(self.longitude),
        })
    }
}

/// A plot (地块).
#[derive(Object)]
#[oai(rename = "Plot", skip_serializing_if_is_none)]
pub struct PlotView {
    pub id: i64,
    pub household_id: i64,
    pub name: String,
    pub village_code: String,
    pub area_mu: f64,
    /// What grows there, in words.
    pub crop: String,
    /// The county's products the plot grows; empty for a plot whose words name none, whose
    /// batches may be of any product.
    pub crop_category_ids: Vec<i64>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

impl PlotView {
    pub fn with_crops(p: entities::plot::Model, crop_category_ids: Vec<i64>) -> Self {
        Self {
            id: p.id,
            household_id: p.household_id,
            name: p.name,
            village_code: p.village_code,
            area_mu: p.area_centimu as f64 / 100.0,
            crop: p.crop,
            crop_category_ids,
            latitude: p.latitude,
            longitude: p.longitude,
        }
    }

    /// The plot with the products it grows.
    pub async fn new(state: &AppState, p: entities::plot::Model) -> Result<Self, ApiError> {
        let crops = production::crops_of(state.db.conn(), &[p.id])
            .await?
            .remove(&p.id)
            .unwrap_or_default();
        Ok(Self::with_crops(p, crops))
    }
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct BatchInput {
    pub category_id: i64,
    /// Absent for goods the household made rather than harvested.
    pub plot_id: Option<i64>,
    pub quantity: i64,
    /// Default: the category's unit.
    pub unit: Option<UnitView>,
    /// Harvested or made on (not in the future).
    pub produced_on: NaiveDate,
    #[oai(validator(max_length = 500))]
    pub note: Option<String>,
    /// The household's listings that sell it.
    pub listing_ids: Option<Vec<i64>>,
}

/// A batch (批次).
#[derive(Object)]
#[oai(rename = "Batch", skip_serializing_if_is_none)]
pub struct BatchView {
    pub id: i64,
    pub household_id: i64,
    pub plot_id: Option<i64>,
    pub village_code: String,
    pub category_id: i64,
    pub quantity: i64,
    pub unit: UnitView,
    pub produced_on: NaiveDate,
    pub note: String,
    pub listing_ids: Vec<i64>,
    /// The batch's own code (item 0), for a label on the whole lot.
    pub batch_code: String,
    /// What a phone opens when it scans the batch code.
    pub batch_code_url: String,
    pub recalled_at: Option<chrono::DateTime<chrono::Utc>>,
    pub recall_reason: Option<String>,
}

impl BatchView {
    pub(super) fn new(state: &AppState, b: entities::batch::Model, listing_ids: Vec<i64>) -> Self {
        let batch_code = crate::service::trace::codes::batch_code(&state.trace_keys, b.id);
        Self {
            batch_code_url: qr::scan_url(&state.settings.public_base_url, &batch_code),
            batch_code,
            id: b.id,
            household_id: b.household_id,
            plot_id: b.plot_id,
            village_code: b.village_code,
            category_id: b.category_id,
            quantity: b.quantity,
            unit: b.unit.into(),
            produced_on: b.produced_on,
            note: b.note,
            listing_ids,
            recalled_at: b.recalled_at,
            recall_reason: b.recall_reason,
        }
    }
}

mirror_enum! {
    /// What happened to a batch.
    EventKindView as "TraceEventKind" <=> entities::trace_event::EventKind {
        Harvested, Processed, Packed, Inspected, Stored, Shipped, Received, Sold
    }
}

mirror_enum! {
    /// An inspection's outcome.
    InspectionResultView as "InspectionResult" <=> entities::trace_event::InspectionResult {
        Pass, Fail
    }
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct TraceEventInput {
    pub kind: EventKindView,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    /// Where, as a village, township or county code …
    pub place_area_code: Option<String>,
    /// … or in words (a warehouse, a market).
    #[oai(validator(max_length = 100))]
    pub place_text: Option<String>,
    /// For `inspected` only.
    pub result: Option<InspectionResultView>,
    /// For `processed` only: the household's batches it consumed.
    pub input_batch_ids: Option<Vec<i64>>,
    /// A small JSON object (at most 2,000 bytes), e.g. `{"inspector": "县农检站"}`.
    pub details: Option<serde_json::Value>,
}

/// Something that happened to a batch.
#[derive(Object)]
#[oai(rename = "TraceEvent", skip_serializing_if_is_none)]
pub struct TraceEventView {
    pub id: i64,
    pub batch_id: i64,
    pub kind: EventKindView,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub place_area_code: Option<String>,
    pub place_text: Option<String>,
    pub result: Option<InspectionResultView>,
    pub input_batch_ids: Vec<i64>,
    pub details: serde_json::Value,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
}

impl From<entities::trace_event::Model> for TraceEventView {
    fn from(e: entities::trace_event::Model) -> Self {
        Self {
            input_batch_ids: events::inputs_of(&e),
            details: serde_json::Value::Object(events::details_of(&e)),
            id: e.id,
            batch_id: e.batch_id,
            kind: e.kind.into(),
            occurred_at: e.occurred_at,
            place_area_code: e.place_area_code,
            place_text: e.place_text,
            result: e.result.map(Into::into),
            recorded_at: e.recorded_at,
        }
    }
}

/// One step of the goods' journey, as a buyer reads it.
#[derive(Object)]
#[oai(rename = "TimelineEntry", skip_serializing_if_is_none)]
pub struct TimelineEntryView {
    pub kind: EventKindView,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    /// The area's name or the place in words.
    pub place: Option<String>,
    /// For inspections.
    pub result: Option<InspectionResultView>,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ReasonInput {
    #[oai(validator(min_length = 1, max_length = 200))]
    pub reason: String,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct CodeRunInput {
    /// 1 to 100,000.
    #[oai(validator(minimum(value = "1"), maximum(value = "100000")))]
    pub count: u32,
}

/// Item codes issued together.
#[derive(Object)]
#[oai(rename = "CodeRun", skip_serializing_if_is_none)]
pub struct CodeRunView {
    pub id: i64,
    pub batch_id: i64,
    pub first_item: i64,
    pub last_item: i64,
    pub count: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<entities::trace_code_run::Model> for CodeRunView {
    fn from(r: entities::trace_code_run::Model) -> Self {
        Self {
            id: r.id,
            batch_id: r.batch_id,
            first_item: r.first_item,
            last_item: r.last_item,
            count: r.last_item - r.first_item + 1,
            created_at: r.created_at,
        }
    }
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct RevocationInput {
    pub code: String,
    #[oai(validator(min_length = 1, max_length = 200))]
    pub reason: String,
}

mirror_enum! {
    /// What the scan means for the goods: `genuine` (issued here, no warning), `caution` (the
    /// label may have been copied: scanned too often or from too many places), `danger` (do not
    /// eat: a failed inspection, a recall or a revoked code) or `forged` (not issued here).
    VerdictView as "TraceVerdict" <=> Verdict {
        Genuine, Caution, Danger, Forged
    }
}

/// What a scan found.
#[derive(Object)]
#[oai(rename = "Trace", skip_serializing_if_is_none)]
pub struct TraceView {
    /// The code in its canonical spelling: upper case, without the printed groups.
    pub code: String,
    /// The one answer to show: the worst of the warnings.
    pub verdict: VerdictView,
    /// Signed by this server and issued. Check `verdict` and `warnings` even so.
    pub genuine: bool,
    pub warnings: Vec<TraceWarningView>,
    pub provenance: Option<ProvenanceView>,
    /// Times this code has been verified, this scan included; genuine codes only.
    pub scan_count: Option<i64>,
    /// When it was first verified.
    pub first_scanned_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Why a buyer should be wary: `forged`, `unknown_key`, `not_issued` (verdict `forged`);
/// `revoked`, `recalled`, `failed_inspection` (`danger`); `over_scanned` or `many_places`
/// (`caution`).
#[derive(Object)]
#[oai(rename = "TraceWarning", skip_serializing_if_is_none)]
pub struct TraceWarningView {
    pub kind: String,
    pub reason: Option<String>,
    /// When a recall was made or a failed inspection took place.
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Scans or places, for `over_scanned` and `many_places`.
    pub count: Option<i64>,
}

/// Where the goods come from. Never the household's poverty status or any ID number.
#[derive(Object)]
#[oai(rename = "Provenance", skip_serializing_if_is_none)]
pub struct ProvenanceView {
    pub batch_id: i64,
    /// 0 for the batch's own code.
    pub item: u32,
    pub category_code: String,
    pub product_zh: String,
    pub product_en: String,
    pub village_code: String,
    pub village_name: String,
    pub township_code: String,
    pub township_name: String,
    /// Masked: 张*.
    pub producer: String,
    pub plot_name: Option<String>,
    pub plot_crop: Option<String>,
    pub plot_area_mu: Option<f64>,
    pub produced_on: NaiveDate,
    pub quantity: i64,
    pub unit: UnitView,
    pub listing_ids: Vec<i64>,
    /// What happened to the batch, in order; inspections with their results.
    pub timeline: Vec<TimelineEntryView>,
    /// Whether the certificate rules (承诺达标合格证) cover the product.
    pub certificate_required: bool,
    /// The batch's latest certificate (read it at `/api/v1/certificates/{id}`).
    pub certificate_id: Option<i64>,
    /// Set when that certificate was withdrawn: why.
    pub certificate_withdrawn_reason: Option<String>,
}

impl TraceView {
    pub(super) fn new(v: Verification) -> Self {
        Self {
            verdict: Verdict::of(&v).into(),
            code: v.code,
            genuine: v.genuine,
            scan_count: v.scans.map(|s| s.count),
            first_scanned_at: v.scans.map(|s| s.first_at),
            warnings: v
                .warnings
                .into_iter()
                .map(|w| {
                    let (kind, reason, since, count) = match w {
                        Warning::Forged => ("forged", None, None, None),
                        Warning::UnknownKey => ("unknown_key", None, None, None),
                        Warning::NotIssued => ("not_issued", None, None, None),
                        Warning::Revoked { reason } => ("revoked", Some(reason), None, None),
                        Warning::Recalled { reason, at } => {
                            ("recalled", Some(reason), Some(at), None)
                        }
                        Warning::FailedInspection { at } => {
                            ("failed_inspection", None, Some(at), None)
                        }
                        Warning::OverScanned { count } => ("over_scanned", None, None, Some(count)),
                        Warning::ManyPlaces { places } => ("many_places", None, None, Some(places)),
                    };
                    TraceWarningView {
                        kind: kind.into(),
                        reason,
                        since,
                        count,
                    }
                })
                .collect(),
            provenance: v.provenance.map(|p| ProvenanceView::from(&*p)),
        }
    }
}

impl From<&Provenance> for ProvenanceView {
    fn from(p: &Provenance) -> Self {
        Self {
            batch_id: p.batch_id,
            item: p.item,
            category_code: p.category_code.clone(),
            product_zh: p.product_zh.clone(),
            product_en: p.product_en.clone(),
            village_code: p.village_code.clone(),
            village_name: p.village_name.clone(),
            township_code: p.township_code.clone(),
            township_name: p.township_name.clone(),
            producer: p.producer.clone(),
            plot_name: p.plot.as_ref().map(|pl| pl.name.clone()),
            plot_crop: p.plot.as_ref().map(|pl| pl.crop.clone()),
            plot_area_mu: p.plot.as_ref().map(|pl| pl.area_mu),
            produced_on: p.produced_on,
            quantity: p.quantity,
            unit: p.unit.into(),
            listing_ids: p.listing_ids.clone(),
            timeline: p
                .timeline
                .iter()
                .map(|t| TimelineEntryView {
                    kind: t.kind.into(),
                    occurred_at: t.occurred_at,
                    place: t.place.clone(),
                    result: t.result.map(Into::into),
                })
                .collect(),
            certificate_required: p.in_scope,
            certificate_id: p.certificate.as_ref().map(|c| c.id),
            certificate_withdrawn_reason: p.certificate.as_ref().and_then(|c| c.withdrawn.clone()),
        }
    }
}

/// A JSON answer rendered ahead of time, documented as `T`: the scan answer splices in the
/// provenance it rendered when the code's records were first read.
pub struct RenderedJson<T>(pub(super) String, pub(super) PhantomData<fn() -> T>);

impl<T: Type> Payload for RenderedJson<T> {
    const CONTENT_TYPE: &'static str = "application/json; charset=utf-8";

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T> poem::IntoResponse for RenderedJson<T> {
    fn into_response(self) -> poem::Response {
        poem::Response::builder()
            .content_type("application/json; charset=utf-8")
            .body(self.0)
    }
}

#[derive(ApiResponse)]
pub enum CreatePlotResponse {
    /// The new plot.
    #[oai(status = 201)]
    Created(Json<PlotView>),
}

#[derive(ApiResponse)]
pub enum PlotResponse {
    /// The plot as it is now.
    #[oai(status = 200)]
    Ok(Json<PlotView>),
}

#[derive(ApiResponse)]
pub enum ListPlotsResponse {
    /// The household's plots.
    #[oai(status = 200)]
    Ok(Json<Vec<PlotView>>),
}

#[derive(ApiResponse)]
pub enum CreateBatchResponse {
    /// The new batch, with its own code.
    #[oai(status = 201)]
    Created(Json<BatchView>),
}

#[derive(ApiResponse)]
pub enum BatchResponse {
    /// The batch.
    #[oai(status = 200)]
    Ok(Json<BatchView>),
}

#[derive(ApiResponse)]
pub enum CreateTraceEventResponse {
    /// The recorded event.
    #[oai(status = 201)]
    Created(Json<TraceEventView>),
}

#[derive(ApiResponse)]
pub enum ListTraceEventsResponse {
    /// The events, in the order they happened.
    #[oai(status = 200)]
    Ok(Json<Vec<TraceEventView>>),
}

#[derive(ApiResponse)]
pub enum EpcisResponse {
    /// The EPCIS 2.0 document.
    #[oai(status = 200, content_type = "application/ld+json")]
    Ok(Json<serde_json::Value>),
}

#[derive(ApiResponse)]
pub enum CreateCodeRunResponse {
    /// The issued range.
    #[oai(status = 201)]
    Created(Json<CodeRunView>),
}

#[derive(ApiResponse)]
pub enum CodesFileResponse {
    /// The codes, as CSV.
    #[oai(status = 200, content_type = "text/csv")]
    Ok(Attachment<Body>),
}

#[derive(ApiResponse)]
pub enum RevokedResponse {
    /// The code warns from now on.
    #[oai(status = 204)]
    NoContent,
}

#[derive(ApiResponse)]
pub enum QrPngResponse {
    /// The QR code.
    #[oai(status = 200, content_type = "image/png")]
    Ok(Binary<Vec<u8>>, #[oai(header = "Cache-Control")] String),
}

#[derive(ApiResponse)]
pub enum QrSvgResponse {
    /// The QR code.
    #[oai(status = 200, content_type = "image/svg+xml")]
    Ok(PlainText<String>, #[oai(header = "Cache-Control")] String),
}

#[derive(ApiResponse)]
pub enum TraceResponse {
    /// What the scan found; a forged code is `genuine: false` with a `forged` warning.
    #[oai(status = 200)]
    Ok(RenderedJson<TraceView>),
}
