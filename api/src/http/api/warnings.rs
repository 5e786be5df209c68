//! Monitoring warnings (预警) for the officials of an area: the households to visit and why.

use chrono::NaiveDate;
use poem::web::Data;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, param::Query, payload::Json};
use serde_json::json;

use super::{
    ApiTags,
    areas::parse_area_code,
    auth::BearerAuth,
    households::HouseholdStatusView,
    pagination::{encode_cursor, page_request},
};
use crate::{
    app::AppState,
    http::error::{ApiError, ErrorCode, Lang},
    service::{
        exit::assessment::check_name,
        monitoring::{
            sector::{self, SectorImportError, SectorReport},
            warnings::{self, Warning, WarningReason, Warnings, sector_name},
        },
    },
};

/// What a warning rests on.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename = "WarningKind", rename_all = "snake_case")]
pub enum WarningKindView {
    /// Income per person at or below the monitoring line.
    IncomeAtOrBelowLine,
    /// Income per person above the line by at most the configured margin.
    IncomeNearLine,
    /// A check of the year recorded as not met.
    CheckNotMet,
    /// E-commerce income fell by at least the configured share from the year before.
    EcommerceFell,
    /// A sector's imported list names a member.
    Sector,
}

/// One reason, with the figures it rests on.
#[derive(Object)]
#[oai(rename = "WarningReason", skip_serializing_if_is_none)]
pub struct WarningReasonView {
    pub kind: WarningKindView,
    /// The reason in plain words, in the language asked for (Chinese unless
    /// `Accept-Language` prefers English).
    pub message: String,
    pub per_capita_fen: Option<i64>,
    pub line_fen: Option<i64>,
    pub margin_percent: Option<u32>,
    /// `food`, `clothing`, `education`, `medical`, `housing` or `water`.
    pub check: Option<String>,
    pub previous_fen: Option<i64>,
    pub current_fen: Option<i64>,
    /// `health_insurance`, `civil_affairs`, `emergency` or `education`.
    pub sector: Option<String>,
    /// What the sector says happened.
    pub what: Option<String>,
    /// The day it happened.
    pub on: Option<NaiveDate>,
}

impl WarningReasonView {
    fn of(reason: WarningReason, english: bool) -> Self {
        let message = if english { reason.en() } else { reason.zh() };
        let mut view = Self {
            kind: WarningKindView::Sector,
            message,
            per_capita_fen: None,
            line_fen: None,
            margin_percent: None,
            check: None,
            previous_fen: None,
            current_fen: None,
            sector: None,
            what: None,
            on: None,
        };
        match reason {
            WarningReason::IncomeAtOrBelowLine {
                per_capita_fen,
                line_fen,
            } => {
                view.kind = WarningKindView::IncomeAtOrBelowLine;
                view.per_capita_fen = Some(per_capita_fen);
                view.line_fen = Some(line_fen);
            }
            WarningReason::IncomeNearLine {
                per_capita_fen,
                line_fen,
                margin_percent,
            } => {
                view.kind = WarningKindView::IncomeNearLine;
                view.per_capita_fen = Some(per_capita_fen);
                view.line_fen = Some(line_fen);
                view.margin_percent = Some(margin_percent);
            }
            WarningReason::CheckNotMet { check } => {
                view.kind = WarningKindView::CheckNotMet;
                view.check = Some(check_name(check).to_owned());
            }
            WarningReason::EcommerceFell {
                previous_fen,
                current_fen,
            } => {
                view.kind = WarningKindView::EcommerceFell;
                view.previous_fen = Some(previous_fen);
                view.current_fen = Some(current_fen);
            }
            WarningReason::Sector { sector, what, on } => {
                view.sector = Some(sector_name(sector).to_owned());
                view.what = Some(what);
                view.on = Some(on);
            }
        }
        view
    }
}

/// A household to visit.
#[derive(Object)]
#[oai(rename = "MonitoringWarning", skip_serializing_if_is_none)]
pub struct WarningView {
    pub household_id: i64,
    pub household_number: String,
    pub village_code: String,
    pub household_status: HouseholdStatusView,
    pub head_name: Option<String>,
    /// At least one.
    pub reasons: Vec<WarningReasonView>,
}

impl WarningView {
    fn of(w: Warning, english: bool) -> Self {
        Self {
            household_id: w.household_id,
            household_number: w.household_number,
            village_code: w.village_code,
            household_status: w.status.into(),
            head_name: w.head,
            reasons: w
                .reasons
                .into_iter()
                .map(|r| WarningReasonView::of(r, english))
                .collect(),
        }
    }
}

/// One page of warnings.
#[derive(Object)]
#[oai(rename = "MonitoringWarningPage", skip_serializing_if_is_none)]
pub struct WarningPageView {
    /// The year the warnings are for.
    pub year: i32,
    /// That year's monitoring line, fen per person.
    pub line_fen: i64,
    pub items: Vec<WarningView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl WarningPageView {
    fn of(w: Warnings, english: bool) -> Self {
        Self {
            year: w.year,
            line_fen: w.line_fen,
            next_cursor: w.page.next_after.as_deref().map(encode_cursor),
            items: w
                .page
                .items
                .into_iter()
                .map(|i| WarningView::of(i, english))
                .collect(),
        }
    }
}

/// The sector list to import.
#[derive(poem_openapi::Multipart)]
#[oai(deny_unknown_fields)]
pub struct SectorListUpload {
    /// A CSV (UTF-8 or GB18030) or XLSX file with the columns 身份证号, 姓名, 部门 (医保, 民政,
    /// 应急 or 教育), 情况, 金额（元） (optional) and 日期.
    file: poem_openapi::types::multipart::Upload,
}

/// A row that matched no registered member of the caller's area.
#[derive(Object)]
#[oai(rename = "SectorUnmatchedRow")]
pub struct UnmatchedView {
    pub row: u32,
    pub name: String,
    /// The ID number masked: `500235********123X`.
    pub id_masked: String,
    /// Registered, but in a household outside the caller's area.
    pub outside_area: bool,
}

/// What a sector list import found, and whether it wrote.
#[derive(Object)]
#[oai(rename = "SectorImportReport", skip_serializing_if_is_none)]
pub struct SectorReportView {
    /// `csv` or `xlsx`, as read from the file's contents.
    pub format: Option<String>,
    /// People (rows) in the file.
    pub rows: u64,
    /// Rows matched to a registered member of the area, and how many households they are.
    pub matched_rows: u64,
    pub matched_households: u64,
    /// Every row that matched no registered member of the area; kept too when committed.
    pub unmatched: Vec<UnmatchedView>,
    pub committed: bool,
    /// The problems found, in row order (at most 1,000; `problem_count` counts them all).
    pub problems: Vec<super::households::ImportProblemView>,
    pub problem_count: u64,
    /// Headers that were not read.
    pub ignored_columns: Vec<String>,
}

impl From<SectorReport> for SectorReportView {
    fn from(r: SectorReport) -> Self {
        Self {
            format: r.format.map(str::to_owned),
            rows: r.rows as u64,
            matched_rows: r.matched_rows as u64,
            matched_households: r.matched_households as u64,
            unmatched: r
                .unmatched
                .into_iter()
                .map(|u| UnmatchedView {
                    row: u.row,
                    name: u.name,
                    id_masked: u.id_masked,
                    outside_area: u.outside_area,
                })
                .collect(),
            committed: r.committed,
            problems: r.problems.into_iter().map(Into::into).collect(),
            problem_count: r.problem_count as u64,
            ignored_columns: r.ignored_columns,
        }
    }
}

impl From<SectorImportError> for ApiError {
    fn from(err: SectorImportError) -> Self {
        match err {
            SectorImportError::Forbidden => ErrorCode::AuthForbidden.into(),
            SectorImportError::Sheet(e) => ApiError::new(ErrorCode::SectorImportUnreadable)
                .with_details(json!({ "reason": e.to_string() })),
            SectorImportError::Rejected(report) => {
                let view = SectorReportView::from(*report);
                ApiError::new(ErrorCode::SectorImportRejected).with_details(json!({
                    "problem_count": view.problem_count,
                    "rows": view.rows,
                    "problems": view.problems.iter().map(|p| json!({
                        "row": p.row,
                        "column": p.column,
                        "code": p.code,
                        "message": p.message,
                    })).collect::<Vec<_>>(),
                }))
            }
            SectorImportError::Invalid(reason) => {
                ApiError::new(ErrorCode::RequestInvalidParameter).with_reason(reason)
            }
            SectorImportError::KeyReused => ErrorCode::RequestIdempotencyKeyReused.into(),
            SectorImportError::Database(e) => ApiError::internal(e),
        }
    }
}

#[derive(ApiResponse)]
pub enum ImportSectorListResponse {
    /// Dry run: the file was checked and matched, and nothing written.
    #[oai(status = 200)]
    Checked(Json<SectorReportView>),
    /// Every row was stored; matched households are now among the warnings.
    #[oai(status = 201)]
    Created(Json<SectorReportView>),
}

#[derive(ApiResponse)]
pub enum ListWarningsResponse {
    /// The households to visit, in the order they were registered.
    #[oai(status = 200)]
    Ok(Json<WarningPageView>),
}

/// Where sector lists are uploaded; it takes larger bodies than other routes.
pub const SECTOR_IMPORT_PATH: &str = "/monitoring/sector-lists";

pub struct WarningsApi;

#[OpenApi(tag = "ApiTags::Monitoring")]
impl WarningsApi {
    /// List monitoring warnings
    ///
    /// The registered households of an area (default: the caller's own; a village cadre's is
    /// their village) that should be visited, each with why: income per person for the year
    /// at or below the monitoring line, or above it by at most `SHANHUO_MONITORING_MARGIN_PERCENT`
    /// of it; a check recorded as not met; e-commerce income down by at least
    /// `SHANHUO_MONITORING_ECOMMERCE_DROP_PERCENT` from the year before; a sector's imported list
    /// naming a member. Households with an open monitoring record are left out.
    #[oai(
        path = "/monitoring/warnings",
        method = "get",
        operation_id = "list_monitoring_warnings"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn list_warnings(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &poem::Request,
        /// Area code; households in it and below it are listed.
        area_code: Query<Option<String>>,
        /// Default: this year in the county's time.
        year: Query<Option<i32>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
        /// Items per page, 1 to 100 (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u64>>,
    ) -> Result<ListWarningsResponse, ApiError> {
        let area = area_code.0.as_deref().map(parse_area_code).transpose()?;
        let page = page_request(cursor.0.as_deref(), limit.0, |key| {
            key.parse::<i64>().is_ok()
        })?;
        let found = warnings::list(
            &state.db,
            &*state.clock,
            &state.exit_rules,
            &auth.0.actor,
            area,
            year.0,
            &page,
        )
        .await?;
        let accept = req
            .headers()
            .get(poem::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        let english = Lang::from_accept_language(accept) == Lang::En;
        Ok(ListWarningsResponse::Ok(Json(WarningPageView::of(
            found, english,
        ))))
    }
    /// Import a sector's list
    ///
    /// A township or county official uploads a sector's list of people (health insurance:
    /// large medical expenses; civil affairs; emergency management: disaster victims;
    /// education) as the multipart field `file`. Each row is matched to a registered member by
    /// the ID number's keyed hash; a matched household of the caller's area becomes a warning
    /// for the year of the row's date. Rows matching no member of the area are listed in
    /// `unmatched` and stored too. With `dry_run=true` nothing is written; otherwise every row
    /// is stored in one transaction, or none: a file with any problem answers 422
    /// `sector.import_rejected` with the problems by row and column.
    #[oai(
        path = "/monitoring/sector-lists",
        method = "post",
        operation_id = "import_sector_list"
    )]
    async fn import_sector_list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &poem::Request,
        /// Check only; write nothing.
        dry_run: Query<Option<bool>>,
        /// A key of the client's own (8 to 64 letters, digits, `-` or `_`) for this import:
        /// the same file sent again with the same key stores nothing more and answers as the
        /// first import did; the key with another file is refused
        /// (`request.idempotency_key_reused`). Dry runs keep no key.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: poem_openapi::param::Header<Option<String>>,
        upload: SectorListUpload,
    ) -> Result<ImportSectorListResponse, ApiError> {
        let file = upload.file.into_file().into_std().await;
        let report = sector::import_file(
            &state.db,
            &state.pii,
            &*state.clock,
            &auth.0.actor,
            file,
            dry_run.0.unwrap_or(false),
            &crate::http::caller::origin(req),
            idempotency_key.0.as_deref(),
        )
        .await?;
        Ok(if report.committed {
            ImportSectorListResponse::Created(Json(report.into()))
        } else {
            ImportSectorListResponse::Checked(Json(report.into()))
        })
    }
}
