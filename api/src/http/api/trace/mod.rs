//! Traceability over HTTP: farmers record plots and batches and issue codes; anyone verifies a
//! scanned code.

use std::marker::PhantomData;

use chrono::NaiveDate;
use poem::{Body, web::Data};
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Payload,
    payload::{Attachment, Binary, Json, PlainText},
    registry::{MetaSchemaRef, Registry},
    types::{ToJSON, Type},
};

use super::{
    ApiTags,
    areas::parse_area_code,
    auth::BearerAuth,
    json::JsonBody,
    market::{PhotoUpload, UnitView},
    mirror_enum,
};
use crate::http::{caller::verify_scan, error::ApiError};
use crate::{
    app::AppState,
    infra::qr,
    service::trace::{
        TraceError,
        codes::{self, Provenance, Verification, Warning},
        events::{self, NewEvent},
        production::{self, NewBatch, NewPlot},
    },
};

/// Where photos of codes are sent, with the photo upload limit.
pub const DECODE_PATH: &str = "/trace/decode";

pub struct TraceApi;

#[OpenApi(tag = "ApiTags::Trace")]
impl TraceApi {
    /// Record a plot
    ///
    /// A farmer records a plot (地块) of their own household: name, village (default: the
    /// household's), area in mu, crop, and optionally where it lies.
    #[oai(path = "/plots", method = "post", operation_id = "create_plot")]
    async fn create_plot(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<PlotInput>,
    ) -> Result<CreatePlotResponse, ApiError> {
        let b = body.0;
        let new = NewPlot {
            name: b.name,
            village: b.village_code.as_deref().map(parse_area_code).transpose()?,
            area_mu: b.area_mu,
            crop: b.crop,
            location: b.latitude.zip(b.longitude),
        };
        let plot = production::create_plot(&state.db, &auth.0.actor, new).await?;
        Ok(CreatePlotResponse::Created(Json(plot.into())))
    }

    /// List a household's plots
    ///
    /// For the household's farmer and the officials of its village.
    #[oai(
        path = "/households/:id/plots",
        method = "get",
        operation_id = "list_household_plots"
    )]
    async fn list_household_plots(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> Result<ListPlotsResponse, ApiError> {
        let plots = production::plots_of(&state.db, &auth.0.actor, id.0).await?;
        Ok(ListPlotsResponse::Ok(Json(
            plots.into_iter().map(Into::into).collect(),
        )))
    }

    /// Record a batch
    ///
    /// A farmer records a batch (批次) of their own household: a category's goods from one of
    /// its plots (or made by the household), the quantity, the day harvested or made, and the
    /// household's listings that sell it.
    #[oai(path = "/batches", method = "post", operation_id = "create_batch")]
    async fn create_batch(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<BatchInput>,
    ) -> Result<CreateBatchResponse, ApiError> {
        let b = body.0;
        let new = NewBatch {
            category_id: b.category_id,
            plot_id: b.plot_id,
            quantity: b.quantity,
            unit: b.unit.map(Into::into),
            produced_on: b.produced_on,
            note: b.note.unwrap_or_default(),
            listing_ids: b.listing_ids.unwrap_or_default(),
        };
        let batch = production::create_batch(&state.db, &auth.0.actor, new).await?;
        let listings = production::listings_of(state.db.conn(), batch.id).await?;
        let view = BatchView::new(&state, batch, listings);
        Ok(CreateBatchResponse::Created(Json(view)))
    }

    /// Get a batch
    ///
    /// For its farmer and the officials of its village, with the batch's own code.
    #[oai(path = "/batches/:id", method = "get", operation_id = "get_batch")]
    async fn get_batch(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> Result<BatchResponse, ApiError> {
        let batch = production::get_batch(&state.db, &auth.0.actor, id.0).await?;
        let listings = production::listings_of(state.db.conn(), batch.id).await?;
        Ok(BatchResponse::Ok(Json(BatchView::new(
            &state, batch, listings,
        ))))
    }

    /// Recall a batch
    ///
    /// Its farmer or an official of its village recalls the whole batch with a reason: every
    /// code of it warns buyers from then on. Recalling again changes nothing.
    #[oai(
        path = "/batches/:id/recall",
        method = "post",
        operation_id = "create_batch_recall"
    )]
    async fn create_batch_recall(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        body: JsonBody<ReasonInput>,
    ) -> Result<BatchResponse, ApiError> {
        let batch =
            codes::recall(&state.db, &state.cache, &auth.0.actor, id.0, &body.0.reason).await?;
        let listings = production::listings_of(state.db.conn(), batch.id).await?;
        Ok(BatchResponse::Ok(Json(BatchView::new(
            &state, batch, listings,
        ))))
    }

    /// Record a trace event
    ///
    /// The batch's farmer records what happened: `harvested`, `processed` (naming the
    /// household's batches it consumed), `packed`, `inspected` (with `pass` or `fail`),
    /// `stored`, `shipped`, `received` or `sold`, with when, where (an area code or words) and
    /// small details. Events are never changed: a correction is a new event.
    #[oai(
        path = "/batches/:id/events",
        method = "post",
        operation_id = "create_trace_event"
    )]
    async fn create_trace_event(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        body: JsonBody<TraceEventInput>,
    ) -> Result<CreateTraceEventResponse, ApiError> {
        let b = body.0;
        let details = match b.details {
            None | Some(serde_json::Value::Null) => serde_json::Map::new(),
            Some(serde_json::Value::Object(map)) => map,
            Some(_) => {
                return Err(TraceError::Invalid("details are a JSON object".into()).into());
            }
        };
        let new = NewEvent {
            kind: b.kind.into(),
            occurred_at: b.occurred_at,
            place_area: b
                .place_area_code
                .as_deref()
                .map(parse_area_code)
                .transpose()?,
            place_text: b.place_text,
            result: b.result.map(Into::into),
            input_batch_ids: b.input_batch_ids.unwrap_or_default(),
            details,
        };
        let event = events::record(&state.db, &state.cache, &auth.0.actor, id.0, new).await?;
        Ok(CreateTraceEventResponse::Created(Json(event.into())))
    }

    /// List a batch's trace events
    ///
    /// In the order they happened; for its farmer and the officials of its village.
    #[oai(
        path = "/batches/:id/events",
        method = "get",
        operation_id = "list_trace_events"
    )]
    async fn list_trace_events(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> Result<ListTraceEventsResponse, ApiError> {
        let found = events::list(&state.db, &auth.0.actor, id.0).await?;
        Ok(ListTraceEventsResponse::Ok(Json(
            found.into_iter().map(Into::into).collect(),
        )))
    }

    /// Export a batch's events as EPCIS 2.0
    ///
    /// A GS1 EPCIS 2.0 JSON-LD document: harvesting an `ObjectEvent` that commissions the batch,
    /// processing a `TransformationEvent` from its input batches, the rest `ObjectEvent`s with
    /// the CBV business step and disposition; quantities in UNECE Rec 20 units (1 jin is
    /// 0.5 KGM, a piece H87, a box BX).
    #[oai(
        path = "/batches/:id/epcis",
        method = "get",
        operation_id = "get_batch_epcis"
    )]
    async fn get_batch_epcis(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> Result<EpcisResponse, ApiError> {
        let document = events::epcis(
            &state.db,
            &auth.0.actor,
            &state.settings.public_base_url,
            id.0,
        )
        .await?;
        Ok(EpcisResponse::Ok(Json(document)))
    }

    /// Issue item codes
    ///
    /// Issues 1 to 100,000 serialised item codes for the farmer's own batch, numbered after
    /// those issued before. Download them with `GET …/code-runs/{run_id}/codes`.
    #[oai(
        path = "/batches/:id/code-runs",
        method = "post",
        operation_id = "create_code_run"
    )]
    async fn create_code_run(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        body: JsonBody<CodeRunInput>,
    ) -> Result<CreateCodeRunResponse, ApiError> {
        let run = codes::issue(&state.db, &state.cache, &auth.0.actor, id.0, body.0.count).await?;
        Ok(CreateCodeRunResponse::Created(Json(run.into())))
    }

    /// Download a run's codes
    ///
    /// A CSV file, one item a line: item number, code and the URL its QR code carries. Streamed
    /// as it is signed.
    #[oai(
        path = "/batches/:id/code-runs/:run_id/codes",
        method = "get",
        operation_id = "get_code_run_codes"
    )]
    async fn get_code_run_codes(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        run_id: Path<i64>,
    ) -> Result<CodesFileResponse, ApiError> {
        let (_, run) = codes::run(&state.db, &auth.0.actor, id.0, run_id.0).await?;
        let chunks = codes::csv_chunks(
            state.trace_keys.clone(),
            &run,
            state.settings.public_base_url.clone(),
        );
        let lines = std::iter::once("item,code,url\n".to_owned())
            .chain(chunks)
            .map(|chunk| Ok::<_, std::io::Error>(bytes::Bytes::from(chunk)));
        let body = Body::from_bytes_stream(futures_util::stream::iter(lines));
        Ok(CodesFileResponse::Ok(
            Attachment::new(body).filename(format!("batch-{}-run-{}.csv", id.0, run_id.0)),
        ))
    }

    /// Revoke a code
    ///
    /// The batch's farmer takes one code out of use (a lost roll of labels); scans of it warn
    /// from then on.
    #[oai(
        path = "/trace/revocations",
        method = "post",
        operation_id = "create_code_revocation"
    )]
    async fn create_code_revocation(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<RevocationInput>,
    ) -> Result<RevokedResponse, ApiError> {
        codes::revoke(
            &state.db,
            &state.cache,
            &auth.0.actor,
            &state.trace_keys,
            &body.0.code,
            &body.0.reason,
        )
        .await?;
        Ok(RevokedResponse::NoContent)
    }

    /// Get a code's QR code as PNG
    ///
    /// The QR code of a genuine code's scan URL, `module_px` pixels a module (default 8), with
    /// the four-module quiet zone and error correction M. The URL is upper case so the symbol
    /// uses alphanumeric mode: version 3 (29 × 29 modules) for a base URL of up to 26 characters.
    #[oai(
        path = "/trace/:code/qr.png",
        method = "get",
        operation_id = "get_trace_qr_png"
    )]
    async fn get_trace_qr_png(
        &self,
        state: Data<&AppState>,
        code: Path<String>,
        /// Pixels a module, 1 to 20.
        #[oai(validator(minimum(value = "1"), maximum(value = "20")))]
        module_px: Query<Option<u32>>,
    ) -> Result<QrPngResponse, ApiError> {
        let url = printed_url(&state, &code.0)?;
        let module_px = module_px.0.unwrap_or(8);
        let png = tokio::task::spawn_blocking(move || qr::png(&url, module_px))
            .await
            .map_err(ApiError::internal)?;
        Ok(QrPngResponse::Ok(Binary(png), QR_CACHE.to_owned()))
    }

    /// Get a code's QR code as SVG
    ///
    /// As the PNG, drawn to scale to any print size.
    #[oai(
        path = "/trace/:code/qr.svg",
        method = "get",
        operation_id = "get_trace_qr_svg"
    )]
    async fn get_trace_qr_svg(
        &self,
        state: Data<&AppState>,
        code: Path<String>,
    ) -> Result<QrSvgResponse, ApiError> {
        let url = printed_url(&state, &code.0)?;
        Ok(QrSvgResponse::Ok(
            PlainText(qr::svg(&url)),
            QR_CACHE.to_owned(),
        ))
    }

    /// Verify a photo of a code
    ///
    /// For phones whose scanner cannot open links: the multipart field `file` holds a photo
    /// (JPEG, PNG or WebP, within the photo upload limits) of a label; the QR code in it is read
    /// and verified as `GET /trace/{code}` does, scan counted.
    #[oai(
        path = "/trace/decode",
        method = "post",
        operation_id = "create_trace_decode"
    )]
    async fn create_trace_decode(
        &self,
        state: Data<&AppState>,
        req: &poem::Request,
        upload: PhotoUpload,
    ) -> Result<TraceResponse, ApiError> {
        let (bytes, declared) = upload.read().await?;
        let code = codes::code_in_photo(&state.photos, bytes, declared).await?;
        verified(&state, req, &code).await
    }

    /// Verify a scanned code
    ///
    /// Whether the code is genuine, where the goods come from (product, village and township,
    /// the producer's masked name, the plot, the day harvested or made, the listings that sell
    /// it) and any warning: forged, never issued, revoked or recalled. A forged code is told by
    /// its signature, without a lookup. No sign-in needed.
    #[oai(path = "/trace/:code", method = "get", operation_id = "get_trace")]
    async fn get_trace(
        &self,
        state: Data<&AppState>,
        req: &poem::Request,
        code: Path<String>,
    ) -> Result<TraceResponse, ApiError> {
        verified(&state, req, &code.0).await
    }
}

/// Verifies a code for the client of `req`, counting the scan.
async fn verified(
    state: &AppState,
    req: &poem::Request,
    code: &str,
) -> Result<TraceResponse, ApiError> {
    let mut verification = verify_scan(state, req, code).await?;
    let provenance = verification.provenance.take();
    let mut body = TraceView::new(code, verification)
        .to_json()
        .unwrap_or_default()
        .to_string();
    if let Some(provenance) = provenance {
        // The view leaves `provenance` out when none; the rendered one goes in as its last field.
        let rendered = state.trace_rendered.get_or_render(&provenance, |p| {
            ProvenanceView::from(p)
                .to_json()
                .unwrap_or_default()
                .to_string()
        });
        body.pop();
        body.push_str(",\"provenance\":");
        body.push_str(&rendered);
        body.push('}');
    }
    Ok(TraceResponse::Ok(RenderedJson(body, PhantomData)))
}

/// A code's picture never changes; a day keeps printers and CDNs from asking again.
const QR_CACHE: &str = "public, max-age=86400";

/// The scan URL of a genuine code, as printed. A forged code gets no picture, and costs no
/// lookup.
fn printed_url(state: &AppState, code: &str) -> Result<String, ApiError> {
    let trace_code = state
        .trace_keys
        .verify(code)
        .map_err(|_| ApiError::from(TraceError::NotFound))?;
    let printed = state.trace_keys.sign(trace_code);
    Ok(qr::scan_url(&state.settings.public_base_url, &printed))
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct PlotInput {
    #[oai(validator(min_length = 1, max_length = 32))]
    pub name: String,
    /// Default: the household's village.
    pub village_code: Option<String>,
    /// In mu (亩); hundredths are kept.
    pub area_mu: f64,
    #[oai(validator(min_length = 1, max_length = 32))]
    pub crop: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
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
    pub crop: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

impl From<entities::plot::Model> for PlotView {
    fn from(p: entities::plot::Model) -> Self {
        Self {
            id: p.id,
            household_id: p.household_id,
            name: p.name,
            village_code: p.village_code,
            area_mu: p.area_centimu as f64 / 100.0,
            crop: p.crop,
            latitude: p.latitude,
            longitude: p.longitude,
        }
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
    fn new(state: &AppState, b: entities::batch::Model, listing_ids: Vec<i64>) -> Self {
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

/// What a scan found.
#[derive(Object)]
#[oai(rename = "Trace", skip_serializing_if_is_none)]
pub struct TraceView {
    pub code: String,
    /// Signed by this server and issued. Check `warnings` even so.
    pub genuine: bool,
    pub warnings: Vec<TraceWarningView>,
    pub provenance: Option<ProvenanceView>,
    /// Times this code has been verified, this scan included; genuine codes only.
    pub scan_count: Option<i64>,
    /// When it was first verified.
    pub first_scanned_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Why a buyer should be wary: `forged`, `unknown_key`, `not_issued`, `revoked`, `recalled`,
/// `over_scanned` or `many_places`.
#[derive(Object)]
#[oai(rename = "TraceWarning", skip_serializing_if_is_none)]
pub struct TraceWarningView {
    pub kind: String,
    pub reason: Option<String>,
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
}

impl TraceView {
    fn new(code: &str, v: Verification) -> Self {
        Self {
            code: code.trim().to_ascii_uppercase(),
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
        }
    }
}

/// A JSON answer rendered ahead of time, documented as `T`: the scan answer splices in the
/// provenance it rendered when the code's records were first read.
pub struct RenderedJson<T>(String, PhantomData<fn() -> T>);

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
