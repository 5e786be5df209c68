//! Farm inputs (投入品) and compliance certificates (承诺达标合格证) over HTTP: farmers record
//! what they used and issue, print and withdraw certificates; anyone reads a certificate;
//! officials read the figures of their area.

use chrono::{DateTime, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Multipart, Object, OpenApi,
    param::{Header, Path, Query},
    payload::{Attachment, Binary, Json},
    types::multipart::Upload,
};

use super::{ApiTags, areas::parse_area_code, auth::BearerAuth, json::JsonBody, mirror_enum};
use crate::http::error::{ApiError, ErrorCode};
use crate::{
    app::AppState,
    infra::certificate_label::{self, LabelSize},
    service::trace::{
        TraceError,
        certificates::{self, BasisNames, NewCertificate, Report},
        inputs::{self, NewInput},
        production,
    },
};

/// Where certificates are issued (with a report of up to 10 MB).
pub const ISSUE_PATH: &str = "/batches/:id/certificates";

mirror_enum! {
    /// What kind of farm input: 农药, 兽药, 肥料 or 饲料.
    InputKindView as "FarmInputKind" <=> entities::farm_input::InputKind {
        Pesticide, VetDrug, Fertiliser, Feed
    }
}

mirror_enum! {
    /// What a certificate's promise rests on: a commissioned test, an own test, quality
    /// control that meets the requirements, or the producer's own promise.
    BasisView as "CertificateBasis" <=> entities::certificate::Basis {
        CommissionedTest, OwnTest, QualityControl, OwnPromise
    }
}

/// A farm input to record.
#[derive(Object)]
pub struct FarmInputInput {
    pub kind: InputKindView,
    /// The plot it was used on (crops) …
    pub plot_id: Option<i64>,
    /// … or the flock or herd, in words (eggs and livestock).
    #[oai(validator(max_length = 32))]
    pub flock: Option<String>,
    #[oai(validator(min_length = 1, max_length = 64))]
    pub product_name: String,
    /// Pesticides: the registration number (农药登记证号: `PD`, `LS`, `WP` or `WL` and 8 digits,
    /// e.g. `PD20080001`); veterinary drugs: the approval number (兽药批准文号, e.g.
    /// `兽药字(2020)150012345`). Both required for their kind.
    pub registration_no: Option<String>,
    pub active_ingredient: Option<String>,
    /// How much, in words.
    pub dose: String,
    /// How it was used, in words (喷雾, 拌料, …).
    pub method: String,
    /// The county's date it was used.
    pub applied_on: NaiveDate,
    /// Pesticides: the pre-harvest interval (安全间隔期); veterinary drugs: the withdrawal
    /// period (休药期); in days, 0 to 365, required for both.
    pub interval_days: Option<i32>,
}

/// A farm input (投入品) recorded.
#[derive(Object)]
#[oai(rename = "FarmInput", skip_serializing_if_is_none)]
pub struct FarmInputView {
    pub id: i64,
    pub kind: InputKindView,
    pub plot_id: Option<i64>,
    pub flock: Option<String>,
    pub village_code: String,
    pub product_name: String,
    pub registration_no: Option<String>,
    pub active_ingredient: Option<String>,
    pub dose: String,
    pub method: String,
    pub applied_on: NaiveDate,
    pub interval_days: i32,
    /// The first day a harvest is clear of it.
    pub allowed_from: NaiveDate,
    pub recorded_at: DateTime<Utc>,
}

impl From<entities::farm_input::Model> for FarmInputView {
    fn from(i: entities::farm_input::Model) -> Self {
        Self {
            allowed_from: inputs::allowed_from(&i),
            id: i.id,
            kind: i.kind.into(),
            plot_id: i.plot_id,
            flock: i.flock,
            village_code: i.village_code,
            product_name: i.product_name,
            registration_no: i.registration_no,
            active_ingredient: i.active_ingredient,
            dose: i.dose,
            method: i.method,
            applied_on: i.applied_on,
            interval_days: i.interval_days,
            recorded_at: i.recorded_at,
        }
    }
}

/// A farm input bearing on a batch, and whether the harvest waited long enough.
#[derive(Object)]
#[oai(rename = "BatchFarmInput")]
pub struct BatchInputView {
    pub input: FarmInputView,
    /// The harvest was on or after `allowed_from`.
    pub interval_respected: bool,
}

/// A certificate to issue: multipart fields.
#[derive(Multipart)]
pub struct CertificateUpload {
    /// `commissioned_test`, `own_test`, `quality_control` or `own_promise`.
    pub basis: String,
    /// Default: the co-operative's name when its manager issues it, else the account's name.
    pub issuer_name: Option<String>,
    /// Default: the account's phone.
    pub issuer_phone: Option<String>,
    /// The test report, a photo (JPEG, PNG) or a PDF of at most 10 MB; required when the basis
    /// is a test.
    pub report: Option<Upload>,
}

/// A compliance certificate (承诺达标合格证).
#[derive(Object)]
#[oai(rename = "Certificate", skip_serializing_if_is_none)]
pub struct CertificateView {
    pub id: i64,
    pub batch_id: i64,
    pub product_name: String,
    pub quantity: i64,
    pub unit: super::market::UnitView,
    /// Township and village.
    pub origin: String,
    pub issued_on: NaiveDate,
    pub issuer_name: String,
    pub issuer_phone: String,
    pub promise: String,
    pub basis: BasisView,
    /// Where the attached report is read, if there is one.
    pub report_url: Option<String>,
    /// The certificates of the batches a mixed batch was made from.
    pub input_certificate_ids: Vec<i64>,
    /// The certificate's public page, which its QR code opens.
    pub page_url: String,
    pub keep_until: NaiveDate,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdraw_reason: Option<String>,
}

impl CertificateView {
    pub fn of(c: entities::certificate::Model, base: &str) -> Self {
        Self {
            report_url: c.report_key.as_ref().map(|_| {
                format!(
                    "{}/api/v1/certificates/{}/report",
                    base.trim_end_matches('/'),
                    c.id
                )
            }),
            input_certificate_ids: certificates::input_certificates_of(&c),
            page_url: certificates::page_url(base, c.id),
            id: c.id,
            batch_id: c.batch_id,
            product_name: c.product_name,
            quantity: c.quantity,
            unit: c.unit.into(),
            origin: c.origin,
            issued_on: c.issued_on,
            issuer_name: c.issuer_name,
            issuer_phone: c.issuer_phone,
            promise: c.promise,
            basis: c.basis.into(),
            keep_until: c.keep_until,
            withdrawn_at: c.withdrawn_at,
            withdraw_reason: c.withdraw_reason,
        }
    }
}

/// A certificate with what it stands on.
#[derive(Object)]
#[oai(rename = "CertificateDetail")]
pub struct CertificateDetailView {
    pub certificate: CertificateView,
    /// The certificates of the batches it was mixed or made from.
    pub input_certificates: Vec<CertificateView>,
    /// The farm inputs of the batch's plot or flocks in the season before the harvest.
    pub inputs: Vec<BatchInputView>,
}

/// Why a certificate is withdrawn.
#[derive(Object)]
pub struct CertificateWithdrawalInput {
    /// 2 to 200 characters; buyers read it on the certificate's page.
    pub reason: String,
}

/// One village's (or township's) certificate figures.
#[derive(Object)]
#[oai(rename = "CertificateFigures")]
pub struct FiguresView {
    pub area_code: String,
    pub area_name: String,
    /// Batches of products the rules cover, made since they came into force (2026-02-01).
    pub batches_in_scope: u64,
    pub certified: u64,
    pub uncertified: u64,
    /// Some of the batches without a certificate.
    pub uncertified_batch_ids: Vec<i64>,
    /// Farm inputs whose interval or withdrawal period has not passed today.
    pub inputs_inside_interval: u64,
    pub withdrawn: u64,
}

impl From<certificates::VillageFigures> for FiguresView {
    fn from(f: certificates::VillageFigures) -> Self {
        Self {
            area_code: f.village_code,
            area_name: f.village_name,
            batches_in_scope: f.in_scope,
            certified: f.certified,
            uncertified: f.uncertified,
            uncertified_batch_ids: f.uncertified_batches,
            inputs_inside_interval: f.inside_interval,
            withdrawn: f.withdrawn,
        }
    }
}

/// The figures by village and by township.
#[derive(Object)]
#[oai(rename = "CertificateFigureSheet")]
pub struct FigureSheetView {
    pub villages: Vec<FiguresView>,
    pub townships: Vec<FiguresView>,
}

#[derive(ApiResponse)]
pub enum CreateFarmInputResponse {
    /// The recorded input.
    #[oai(status = 201)]
    Created(Json<FarmInputView>),
}

#[derive(ApiResponse)]
pub enum ListFarmInputsResponse {
    /// The inputs, latest first (at most 200).
    #[oai(status = 200)]
    Ok(Json<Vec<FarmInputView>>),
}

#[derive(ApiResponse)]
pub enum ListBatchInputsResponse {
    /// The inputs bearing on the batch, oldest first.
    #[oai(status = 200)]
    Ok(Json<Vec<BatchInputView>>),
}

#[derive(ApiResponse)]
pub enum CreateCertificateResponse {
    /// The issued certificate.
    #[oai(status = 201)]
    Created(Json<CertificateView>),
}

#[derive(ApiResponse)]
pub enum ListCertificatesResponse {
    /// The batch's certificates, newest first.
    #[oai(status = 200)]
    Ok(Json<Vec<CertificateView>>),
}

#[derive(ApiResponse)]
pub enum GetCertificateResponse {
    /// The certificate.
    #[oai(status = 200)]
    Ok(Json<CertificateDetailView>),
}

#[derive(ApiResponse)]
pub enum WithdrawCertificateResponse {
    /// The withdrawn certificate.
    #[oai(status = 200)]
    Ok(Json<CertificateView>),
}

#[derive(ApiResponse)]
pub enum DeleteCertificateResponse {
    /// Deleted.
    #[oai(status = 204)]
    Deleted,
}

#[derive(ApiResponse)]
pub enum CertificateReportResponse {
    /// The report as attached.
    #[oai(status = 200)]
    Ok(Binary<Vec<u8>>, #[oai(header = "Content-Type")] String),
}

#[derive(ApiResponse)]
pub enum CertificateLabelPdfResponse {
    /// The label, one page of its size.
    #[oai(status = 200, content_type = "application/pdf")]
    Ok(Attachment<Vec<u8>>),
}

#[derive(ApiResponse)]
pub enum CertificateLabelPngResponse {
    /// The label at 300 dpi.
    #[oai(status = 200, content_type = "image/png")]
    Ok(Binary<Vec<u8>>),
}

#[derive(ApiResponse)]
pub enum CertificateFiguresResponse {
    /// By village and by township, in code order.
    #[oai(status = 200)]
    Ok(Json<FigureSheetView>),
}

/// The label size asked for; left out or left empty, the middle one.
fn label_size(asked: Option<&str>) -> Result<LabelSize, ApiError> {
    match asked.filter(|s| !s.is_empty()) {
        None => Ok(LabelSize::Medium),
        Some(s) => LabelSize::parse(s).ok_or_else(|| {
            ApiError::new(ErrorCode::RequestInvalidParameter)
                .with_details(serde_json::json!({ "size": ["60x40", "70x50", "100x70"] }))
        }),
    }
}

pub struct CertificatesApi;

#[OpenApi(tag = "ApiTags::Trace")]
impl CertificatesApi {
    /// Record a farm input
    ///
    /// A farmer records a pesticide, veterinary drug, fertiliser or feed used on one of the
    /// household's plots or on a flock or herd. Never changed: a correction is a new record.
    #[oai(
        path = "/farm-inputs",
        method = "post",
        operation_id = "create_farm_input"
    )]
    async fn create_farm_input(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// 1 to 64 letters, digits, `-` or `_`, new for each input the client means to record:
        /// the request sent again with the same key answers what the first one made.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<FarmInputInput>,
    ) -> Result<CreateFarmInputResponse, ApiError> {
        let b = body.0;
        let new = NewInput {
            kind: b.kind.into(),
            plot_id: b.plot_id,
            flock: b.flock,
            product_name: b.product_name,
            registration_no: b.registration_no,
            active_ingredient: b.active_ingredient,
            dose: b.dose,
            method: b.method,
            applied_on: b.applied_on,
            interval_days: b.interval_days,
        };
        let input = inputs::record_keyed(
            &state.db,
            &*state.clock,
            &auth.0.actor,
            new,
            idempotency_key.0.as_deref(),
        )
        .await?;
        Ok(CreateFarmInputResponse::Created(Json(input.into())))
    }

    /// List the household's farm inputs
    #[oai(
        path = "/farm-inputs",
        method = "get",
        operation_id = "list_farm_inputs"
    )]
    async fn list_farm_inputs(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
    ) -> Result<ListFarmInputsResponse, ApiError> {
        let found = inputs::own(&state.db, &auth.0.actor).await?;
        Ok(ListFarmInputsResponse::Ok(Json(
            found.into_iter().map(Into::into).collect(),
        )))
    }

    /// List the farm inputs bearing on a batch
    ///
    /// Those of its plot (a batch without a plot: the household's flocks and herds) used in
    /// the 180 days up to its harvest; for its farmer and the officials of its village.
    #[oai(
        path = "/batches/:id/farm-inputs",
        method = "get",
        operation_id = "list_batch_farm_inputs"
    )]
    async fn list_batch_farm_inputs(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> Result<ListBatchInputsResponse, ApiError> {
        let batch = production::get_batch(&state.db, &auth.0.actor, id.0).await?;
        let views = certificates::input_views(state.db.conn(), &batch).await?;
        Ok(ListBatchInputsResponse::Ok(Json(
            views
                .into_iter()
                .map(|v| BatchInputView {
                    input: v.input.into(),
                    interval_respected: v.respected,
                })
                .collect(),
        )))
    }

    /// Issue a certificate for a batch
    ///
    /// By the batch's farmer or the manager of the co-operative its household belongs to: the
    /// product, quantity, origin and today's date from the batch, the promising party and
    /// phone, the promise, and its basis (a test needs its report attached). Refused while the
    /// batch was harvested inside a farm input's interval (`certificate.inside_interval`, with
    /// the first day allowed), while it has one in force (`certificate.already_issued`), and
    /// for a batch mixed or made from batches the rules cover that have none
    /// (`certificate.input_uncertified`).
    #[oai(
        path = "/batches/:id/certificates",
        method = "post",
        operation_id = "create_certificate"
    )]
    async fn create_certificate(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        /// 1 to 64 letters, digits, `-` or `_`, new for each certificate the client means to
        /// issue: the request sent again with the same key answers what the first one made.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        upload: CertificateUpload,
    ) -> Result<CreateCertificateResponse, ApiError> {
        let basis = entities::certificate::Basis::parse(upload.basis.trim())
            .ok_or_else(|| TraceError::Invalid(crate::service::reasons::certificate_basis()))?;
        let report = match upload.report {
            Some(file) => {
                let bytes = file
                    .into_vec()
                    .await
                    .map_err(|_| ApiError::new(ErrorCode::RequestBodyTooLarge))?;
                (!bytes.is_empty()).then_some(Report { bytes })
            }
            None => None,
        };
        let issued = certificates::issue_keyed(
            &state.db,
            state.photos.blobs(),
            &state.cache,
            &*state.clock,
            state.settings.certificate_keep_months,
            &auth.0.actor,
            id.0,
            NewCertificate {
                basis,
                issuer_name: upload.issuer_name,
                issuer_phone: upload.issuer_phone,
                report,
            },
            idempotency_key.0.as_deref(),
        )
        .await?;
        Ok(CreateCertificateResponse::Created(Json(
            CertificateView::of(issued, &state.settings.public_base_url),
        )))
    }

    /// List a batch's certificates
    #[oai(
        path = "/batches/:id/certificates",
        method = "get",
        operation_id = "list_batch_certificates"
    )]
    async fn list_batch_certificates(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> Result<ListCertificatesResponse, ApiError> {
        let found = certificates::of_own_batch(&state.db, &auth.0.actor, id.0).await?;
        let base = &state.settings.public_base_url;
        Ok(ListCertificatesResponse::Ok(Json(
            found
                .into_iter()
                .map(|c| CertificateView::of(c, base))
                .collect(),
        )))
    }

    /// Read a certificate
    ///
    /// Public, as its QR code is: the fields, the promise and its basis, withdrawn or not, the
    /// certificates it names, and the farm inputs of the batch's plot in the season.
    #[oai(
        path = "/certificates/:id",
        method = "get",
        operation_id = "get_certificate"
    )]
    async fn get_certificate(
        &self,
        state: Data<&AppState>,
        id: Path<i64>,
    ) -> Result<GetCertificateResponse, ApiError> {
        let view = certificates::public(&state.db, id.0).await?;
        let base = &state.settings.public_base_url;
        Ok(GetCertificateResponse::Ok(Json(CertificateDetailView {
            certificate: CertificateView::of(view.certificate, base),
            input_certificates: view
                .input_certificates
                .into_iter()
                .map(|c| CertificateView::of(c, base))
                .collect(),
            inputs: view
                .inputs
                .into_iter()
                .map(|v| BatchInputView {
                    input: v.input.into(),
                    interval_respected: v.respected,
                })
                .collect(),
        })))
    }

    /// Read a certificate's test report
    #[oai(
        path = "/certificates/:id/report",
        method = "get",
        operation_id = "get_certificate_report"
    )]
    async fn get_certificate_report(
        &self,
        state: Data<&AppState>,
        id: Path<i64>,
    ) -> Result<CertificateReportResponse, ApiError> {
        let (bytes, kind) = certificates::report(&state.db, state.photos.blobs(), id.0).await?;
        Ok(CertificateReportResponse::Ok(Binary(bytes.to_vec()), kind))
    }

    /// Print a certificate as a label (PDF)
    ///
    /// One page of `size` (`60x40`, `70x50` the default, or `100x70` mm) with the QR code,
    /// marked 「承诺达标合格证」, that opens the certificate's page.
    #[oai(
        path = "/certificates/:id/label.pdf",
        method = "get",
        operation_id = "get_certificate_label_pdf"
    )]
    async fn get_certificate_label_pdf(
        &self,
        state: Data<&AppState>,
        id: Path<i64>,
        size: Query<Option<String>>,
    ) -> Result<CertificateLabelPdfResponse, ApiError> {
        let size = label_size(size.0.as_deref())?;
        let view = certificates::public(&state.db, id.0).await?;
        let label = certificates::label_of(&view.certificate, &state.settings.public_base_url);
        let pdf = certificate_label::pdf(&label, size);
        Ok(CertificateLabelPdfResponse::Ok(
            Attachment::new(pdf).filename(format!("certificate-{}-{}.pdf", id.0, size.name())),
        ))
    }

    /// Print a certificate as a label (PNG)
    #[oai(
        path = "/certificates/:id/label.png",
        method = "get",
        operation_id = "get_certificate_label_png"
    )]
    async fn get_certificate_label_png(
        &self,
        state: Data<&AppState>,
        id: Path<i64>,
        size: Query<Option<String>>,
    ) -> Result<CertificateLabelPngResponse, ApiError> {
        let size = label_size(size.0.as_deref())?;
        let view = certificates::public(&state.db, id.0).await?;
        let label = certificates::label_of(&view.certificate, &state.settings.public_base_url);
        let fonts = state.label_fonts.clone();
        let png = tokio::task::spawn_blocking(move || certificate_label::png(&label, size, &fonts))
            .await
            .map_err(ApiError::internal)?;
        Ok(CertificateLabelPngResponse::Ok(Binary(png)))
    }

    /// Withdraw a certificate
    ///
    /// With a reason, which buyers read on its page; the batch's listings leave the shelf.
    #[oai(
        path = "/certificates/:id/withdrawal",
        method = "post",
        operation_id = "create_certificate_withdrawal"
    )]
    async fn create_certificate_withdrawal(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        /// 1 to 64 letters, digits, `-` or `_`, new for each withdrawal the client means to
        /// make: the request sent again with the same key answers the certificate as it is
        /// now; the key with another request is refused (`request.idempotency_key_reused`).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<CertificateWithdrawalInput>,
    ) -> Result<WithdrawCertificateResponse, ApiError> {
        let withdrawn = certificates::withdraw_keyed(
            &state.db,
            &state.cache,
            &*state.clock,
            &auth.0.actor,
            id.0,
            &body.0.reason,
            idempotency_key.0.as_deref(),
        )
        .await?;
        Ok(WithdrawCertificateResponse::Ok(Json(CertificateView::of(
            withdrawn,
            &state.settings.public_base_url,
        ))))
    }

    /// Delete a certificate
    ///
    /// Only after the day it must be kept until (`keep_until`, six months at least after it
    /// was issued); before, refused with `certificate.retained`.
    #[oai(
        path = "/certificates/:id",
        method = "delete",
        operation_id = "delete_certificate"
    )]
    async fn delete_certificate(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> Result<DeleteCertificateResponse, ApiError> {
        certificates::delete(&state.db, &*state.clock, &auth.0.actor, id.0).await?;
        Ok(DeleteCertificateResponse::Deleted)
    }

    /// Certificate figures of an area
    ///
    /// For officials: per village and township of their area (or `area_code` inside it), the
    /// batches the rules cover with and without certificates, farm inputs inside their
    /// interval today, and withdrawn certificates.
    #[oai(
        path = "/certificate-figures",
        method = "get",
        operation_id = "get_certificate_figures"
    )]
    async fn get_certificate_figures(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        area_code: Query<Option<String>>,
    ) -> Result<CertificateFiguresResponse, ApiError> {
        let area = area_code.0.as_deref().map(parse_area_code).transpose()?;
        let villages = certificates::figures(&state.db, &*state.clock, &auth.0.actor, area).await?;
        let townships = certificates::by_township(&villages);
        Ok(CertificateFiguresResponse::Ok(Json(FigureSheetView {
            villages: villages.into_iter().map(Into::into).collect(),
            townships: townships.into_iter().map(Into::into).collect(),
        })))
    }
}
