//! Traceability over HTTP: farmers record plots and batches and issue codes; anyone verifies a
//! scanned code.

use std::marker::PhantomData;

use chrono::NaiveDate;
use poem::{Body, web::Data};
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Header, Path, Query},
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
        verdict::Verdict,
    },
};

mod views;

pub use views::*;

/// Where photos of codes are sent, with the photo upload limit.
pub const DECODE_PATH: &str = "/trace/decode";

pub struct TraceApi;

#[OpenApi(tag = "ApiTags::Trace")]
impl TraceApi {
    /// Record a plot
    ///
    /// A farmer records a plot (地块) of their own household: name, village (the household's
    /// own; another is refused with `trace.plot_outside_village`), area in mu, the county's
    /// products it grows (`crop_category_ids`; a batch from the plot must be one of them) and
    /// what it grows in words (`crop`, by default their names), and optionally where it lies.
    #[oai(path = "/plots", method = "post", operation_id = "create_plot")]
    async fn create_plot(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// 1 to 64 letters, digits, `-` or `_`, new for each plot the client means to make:
        /// the request sent again with the same key answers what the first one made and makes
        /// nothing new; the key with another request is refused (`request.idempotency_key_reused`).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<PlotInput>,
    ) -> Result<CreatePlotResponse, ApiError> {
        let new = body.0.into_new()?;
        let key = idempotency_key.0.as_deref();
        let plot = production::create_plot_keyed(&state.db, &auth.0.actor, new, key).await?;
        let view = PlotView::new(&state, plot).await?;
        Ok(CreatePlotResponse::Created(Json(view)))
    }

    /// Change a plot
    ///
    /// The farmer changes a plot of their own household: its name, area, where it lies and
    /// the products it grows. Batches recorded before keep what they are; batches from now on
    /// are of its crops.
    #[oai(path = "/plots/:id", method = "put", operation_id = "update_plot")]
    async fn update_plot(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        body: JsonBody<PlotInput>,
    ) -> Result<PlotResponse, ApiError> {
        let new = body.0.into_new()?;
        let plot = production::update_plot(&state.db, &auth.0.actor, id.0, new).await?;
        Ok(PlotResponse::Ok(Json(PlotView::new(&state, plot).await?)))
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
        let ids: Vec<i64> = plots.iter().map(|p| p.id).collect();
        let mut crops = production::crops_of(state.db.conn(), &ids).await?;
        Ok(ListPlotsResponse::Ok(Json(
            plots
                .into_iter()
                .map(|p| {
                    let of = crops.remove(&p.id).unwrap_or_default();
                    PlotView::with_crops(p, of)
                })
                .collect(),
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
        /// 1 to 64 letters, digits, `-` or `_`, new for each batch the client means to make:
        /// the request sent again with the same key answers what the first one made and makes
        /// nothing new; the key with another request is refused (`request.idempotency_key_reused`).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
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
        let key = idempotency_key.0.as_deref();
        let clock = &*state.clock;
        let batch =
            production::create_batch_keyed(&state.db, clock, &auth.0.actor, new, key).await?;
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
        /// 1 to 64 letters, digits, `-` or `_`, new for each recall the client means to make:
        /// the request sent again with the same key answers what the first one made and makes
        /// nothing new; the key with another request is refused (`request.idempotency_key_reused`).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<ReasonInput>,
    ) -> Result<BatchResponse, ApiError> {
        let key = idempotency_key.0.as_deref();
        let actor = &auth.0.actor;
        let batch =
            codes::recall_keyed(&state.db, &state.cache, actor, id.0, &body.0.reason, key).await?;
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
        /// 1 to 64 letters, digits, `-` or `_`, new for each event the client means to make:
        /// the request sent again with the same key answers what the first one made and makes
        /// nothing new; the key with another request is refused (`request.idempotency_key_reused`).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<TraceEventInput>,
    ) -> Result<CreateTraceEventResponse, ApiError> {
        let b = body.0;
        let details = match b.details {
            None | Some(serde_json::Value::Null) => serde_json::Map::new(),
            Some(serde_json::Value::Object(map)) => map,
            Some(_) => {
                return Err(
                    TraceError::Invalid(crate::service::reasons::details_not_an_object()).into(),
                );
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
        let event = events::record_keyed(
            &state.db,
            &state.cache,
            &*state.clock,
            &auth.0.actor,
            id.0,
            new,
            idempotency_key.0.as_deref(),
        )
        .await?;
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
        /// 1 to 64 letters, digits, `-` or `_`, new for each run of codes the client means to make:
        /// the request sent again with the same key answers what the first one made and makes
        /// nothing new; the key with another request is refused (`request.idempotency_key_reused`).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<CodeRunInput>,
    ) -> Result<CreateCodeRunResponse, ApiError> {
        let key = idempotency_key.0.as_deref();
        let (actor, count) = (&auth.0.actor, body.0.count);
        let run = codes::issue_keyed(&state.db, &state.cache, actor, id.0, count, key).await?;
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
        /// 1 to 64 letters, digits, `-` or `_`, new for each revocation the client means to make:
        /// the request sent again with the same key answers what the first one made and makes
        /// nothing new; the key with another request is refused (`request.idempotency_key_reused`).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<RevocationInput>,
    ) -> Result<RevokedResponse, ApiError> {
        codes::revoke_keyed(
            &state.db,
            &state.cache,
            &auth.0.actor,
            &state.trace_keys,
            &body.0.code,
            &body.0.reason,
            idempotency_key.0.as_deref(),
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
    let mut body = TraceView::new(verification)
        .to_json()
        .unwrap_or_default()
        .to_string();
    if let Some(provenance) = provenance {
        // The view leaves `provenance` out when none; the rendered one goes in as its last field.
        let rendered = state
            .trace_rendered
            .get_or_render(&provenance, "api", |p| {
                Ok::<_, std::convert::Infallible>(
                    ProvenanceView::from(p)
                        .to_json()
                        .unwrap_or_default()
                        .to_string(),
                )
            })
            .unwrap_or_else(|never| match never {});
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
