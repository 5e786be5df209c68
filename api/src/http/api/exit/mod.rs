//! De-listing: assessments, exit cases and progress, for officials of the area.

use chrono::{DateTime, Utc};
use poem::{Request, web::Data};
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};
use serde_json::json;

use super::{
    ApiTags,
    areas::parse_area_code,
    auth::BearerAuth,
    households::{
        HouseholdStatusView, ImportProblemView, ImportUpload, SheetFileResponse, SheetFormatView,
        sheet_file,
    },
    json::{JsonBody, StoredJson},
    mirror_enum,
};
use crate::http::{
    caller::origin,
    error::{ApiError, ErrorCode},
};
use crate::{
    app::AppState,
    service::exit::{
        assessment::{
            self, Failing, HouseholdAssessment, NewCheck, NewIndicators, VillageAssessment,
        },
        cases::{self, CaseRecord, ExitSubjectRef},
        progress::{
            self, PartProgress, PeopleCounts, Progress, VillageCounts, VillageIncidence,
            VillageStage,
        },
        village_sheet::{self, VillageImportReport},
    },
    service::households::export::SheetKind,
    service::monitoring::help,
};

mod views;

pub use views::*;

pub struct ExitApi;

/// Where village sheets are uploaded; it takes larger bodies than other routes.
pub const VILLAGE_IMPORT_PATH: &str = "/villages/import";

#[OpenApi(tag = "ApiTags::Exit")]
impl ExitApi {
    /// Assess a household
    ///
    /// Per-capita income against the year's line and the recorded checks; `failing` lists
    /// every criterion not met (empty when the household qualifies to exit).
    #[oai(
        path = "/households/:id/assessment",
        method = "get",
        operation_id = "get_household_assessment"
    )]
    async fn get_household_assessment(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        /// The assessment year.
        year: Query<i32>,
    ) -> Result<HouseholdAssessmentResponse, ApiError> {
        let assessment = assessment::household_assessment(
            &state.db,
            &state.exit_rules,
            &auth.0.actor,
            id.0,
            year.0,
        )
        .await?;
        Ok(HouseholdAssessmentResponse::Ok(Json(assessment.into())))
    }

    /// Record a household check
    ///
    /// Whether one of 两不愁三保障 or safe water holds for the household in the year, with
    /// an optional note and evidence link; recording again replaces it. Answers the
    /// assessment as it now stands.
    #[oai(
        path = "/households/:id/checks/:year/:check",
        method = "put",
        operation_id = "record_household_check"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn record_household_check(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        id: Path<i64>,
        year: Path<i32>,
        check: Path<CheckView>,
        body: JsonBody<RecordCheckRequest>,
    ) -> Result<HouseholdAssessmentResponse, ApiError> {
        let body = body.0;
        let new = NewCheck {
            check: check.0.into(),
            passed: body.passed,
            note: body.note,
            evidence_url: body.evidence_url,
        };
        let assessment = assessment::record_check(
            &state.db,
            &state.exit_rules,
            &auth.0.actor,
            id.0,
            year.0,
            new,
            &origin(req),
        )
        .await?;
        Ok(HouseholdAssessmentResponse::Ok(Json(assessment.into())))
    }

    /// Assess a village
    ///
    /// Poverty incidence against the threshold and the recorded indicators; `failing` lists
    /// every criterion not met.
    #[oai(
        path = "/villages/:code/assessment",
        method = "get",
        operation_id = "get_village_assessment"
    )]
    async fn get_village_assessment(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        code: Path<String>,
        year: Query<i32>,
    ) -> Result<VillageAssessmentResponse, ApiError> {
        let code = parse_area_code(&code.0)?;
        let assessment = assessment::village_assessment(
            &state.db,
            &state.exit_rules,
            &auth.0.actor,
            &code,
            year.0,
        )
        .await?;
        Ok(VillageAssessmentResponse::Ok(Json(assessment.into())))
    }

    /// Export villages
    ///
    /// The villages of an area (the caller's own when `area_code` is left out), one row each:
    /// code, name, township, whether it is a registered poor village, its rural population,
    /// and where its de-listing stands (未出列, 出列中 or 已出列 with the year). The same layout
    /// imports back. Every export is written to the audit log.
    #[oai(
        path = "/villages/export",
        method = "get",
        operation_id = "export_villages"
    )]
    async fn export_villages(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        /// Area code; its villages are exported.
        area_code: Query<Option<String>>,
        /// `xlsx` (default) or `csv`.
        format: Query<Option<SheetFormatView>>,
    ) -> Result<SheetFileResponse, ApiError> {
        let area = area_code.0.as_deref().map(parse_area_code).transpose()?;
        let kind: SheetKind = format.0.unwrap_or(SheetFormatView::Xlsx).into();
        let file =
            village_sheet::export(&state.db, &auth.0.actor, area.as_ref(), kind, &origin(req))
                .await?;
        Ok(sheet_file(file, "villages", kind))
    }

    /// Import villages
    ///
    /// A CSV or XLSX file in the village export's layout, as the multipart field `file`:
    /// each row may set a village's poor-village flag and rural population, and bring its
    /// de-listing as 已出列 with its year (on record as imported; no procedure is run). An
    /// empty cell leaves the village as it is. A village 出列中 is imported as not de-listed,
    /// with a notice; an import never undoes or moves a de-listing on record here. With
    /// `dry_run=true` every problem is reported by row and column and nothing is written;
    /// otherwise all changes are written in one transaction, or none (422 with the report).
    #[oai(
        path = "/villages/import",
        method = "post",
        operation_id = "import_villages"
    )]
    async fn import_villages(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        /// Check only; write nothing.
        dry_run: Query<Option<bool>>,
        /// 1 to 64 letters, digits, `-` or `_`, new for each import the client means to write:
        /// the same file sent again with the same key changes nothing more and answers the
        /// first import's counts; the key with another file is refused
        /// (`request.idempotency_key_reused`). Dry runs keep no key.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        upload: ImportUpload,
    ) -> Result<ImportVillagesResponse, ApiError> {
        let file = upload.file.into_file().into_std().await;
        let report = village_sheet::import_file_keyed(
            &state.db,
            Some(&auth.0.actor),
            file,
            dry_run.0.unwrap_or(false),
            &origin(req),
            idempotency_key.0.as_deref(),
        )
        .await?;
        Ok(if report.committed {
            ImportVillagesResponse::Created(Json(report.into()))
        } else {
            ImportVillagesResponse::Checked(Json(report.into()))
        })
    }

    /// Record village indicators
    ///
    /// The village's exit indicators for a year; recording again replaces them.
    #[oai(
        path = "/villages/:code/indicators/:year",
        method = "put",
        operation_id = "record_village_indicators"
    )]
    async fn record_village_indicators(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        code: Path<String>,
        year: Path<i32>,
        body: JsonBody<VillageIndicatorsInput>,
    ) -> Result<VillageAssessmentResponse, ApiError> {
        let code = parse_area_code(&code.0)?;
        let b = body.0;
        let new = NewIndicators {
            hardened_road: b.hardened_road,
            safe_water: b.safe_water,
            power: b.power,
            broadband: b.broadband,
            clinic: b.clinic,
            cultural_room: b.cultural_room,
            collective_income_fen: b.collective_income_fen,
        };
        let assessment = assessment::record_indicators(
            &state.db,
            &state.exit_rules,
            &auth.0.actor,
            &code,
            year.0,
            new,
            &origin(req),
        )
        .await?;
        Ok(VillageAssessmentResponse::Ok(Json(assessment.into())))
    }

    /// Propose an exit
    ///
    /// Opens an exit case for a household (village cadres and townships) or a village
    /// (townships and the county) that qualifies in the year. The household becomes
    /// `exit_pending`. Admins take no step of the procedure: 403 with
    /// `details.reason_code` `exit.admin_takes_no_step`.
    #[oai(path = "/exit-cases", method = "post", operation_id = "propose_exit")]
    async fn propose_exit(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        /// 1 to 64 letters, digits, `-` or `_`, new for each case the client means to open:
        /// the request sent again with the same key answers the case the first one opened;
        /// the key with another request is refused (`request.idempotency_key_reused`).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<ProposeExitRequest>,
    ) -> Result<ProposeExitResponse, ApiError> {
        let b = body.0;
        let subject = match (b.subject, b.household_id, b.village_code) {
            (ExitSubjectView::Household, Some(id), None) => ExitSubjectRef::Household(id),
            (ExitSubjectView::Village, None, Some(code)) => {
                ExitSubjectRef::Village(parse_area_code(&code)?)
            }
            _ => {
                return Err(ApiError::new(ErrorCode::ExitInvalid).with_details(json!({
                    "reason": "a household case names household_id, a village case village_code"
                })));
            }
        };
        let record = cases::propose_keyed(
            &state.db,
            &*state.clock,
            &state.exit_rules,
            &auth.0.actor,
            subject,
            b.year,
            &origin(req),
            idempotency_key.0.as_deref(),
        )
        .await?;
        Ok(ProposeExitResponse::Created(Json(record.into())))
    }

    /// Get an exit case
    ///
    /// The case, every step it took, what may happen next now and, for a household, the help
    /// and visits on file; for the officials of its area and for admins.
    #[oai(
        path = "/exit-cases/:id",
        method = "get",
        operation_id = "get_exit_case"
    )]
    async fn get_exit_case(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> Result<ExitCaseResponse, ApiError> {
        let actor = &auth.0.actor;
        let record = cases::get(&state.db, &*state.clock, actor, id.0).await?;
        let file = match record.case.household_id {
            Some(household_id) => Some(help::on_file(state.db.conn(), actor, household_id).await?),
            None => None,
        };
        let mut view = ExitCaseView::from(record);
        view.help = file.map(Into::into);
        Ok(ExitCaseResponse::Ok(Json(view)))
    }

    /// Take a step of the exit procedure
    ///
    /// `appraise` (village cadre), `verify`, `start_notice` (village cadre or township),
    /// `object` during the notice (with a reason; back to verification), `review` (township,
    /// once the notice has ended), `approve` and `announce` (county), or `reject` (with a
    /// reason). A step the case's state does not allow now answers 409 with the allowed ones.
    /// Admins take no step: 403 with `details.reason_code` `exit.admin_takes_no_step`.
    #[oai(
        path = "/exit-cases/:id/steps",
        method = "post",
        operation_id = "create_exit_case_step"
    )]
    async fn create_exit_case_step(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        id: Path<i64>,
        body: JsonBody<ExitStepRequest>,
    ) -> Result<ExitCaseResponse, ApiError> {
        let b = body.0;
        let record = cases::transition(
            &state.db,
            &*state.clock,
            &state.exit_rules,
            &auth.0.actor,
            id.0,
            b.action.into(),
            b.reason,
            &origin(req),
        )
        .await?;
        Ok(ExitCaseResponse::Ok(Json(record.into())))
    }

    /// Mark a household returned to poverty
    ///
    /// 返贫: an exited household is poor again, for the reason given.
    #[oai(
        path = "/households/:id/return",
        method = "post",
        operation_id = "return_household"
    )]
    async fn return_household(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        id: Path<i64>,
        body: JsonBody<ReturnRequest>,
    ) -> Result<ReturnResponse, ApiError> {
        let household = cases::mark_returned(
            &state.db,
            &*state.clock,
            &auth.0.actor,
            id.0,
            &body.0.reason,
            &origin(req),
        )
        .await?;
        Ok(ReturnResponse::Ok(Json(HouseholdStatusChange {
            household_id: household.id,
            status: household.status.into(),
        })))
    }

    /// Progress toward the goals
    ///
    /// For an area the caller governs (default: their own): poor villages de-listed, in
    /// progress and not started; people lifted out and still poor; the same for each part of
    /// the area; villages not yet de-listed ranked by poverty incidence. Counted from the
    /// records, recomputed after any change.
    #[oai(path = "/progress", method = "get", operation_id = "get_progress")]
    async fn get_progress(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// Area code (default: the caller's area).
        area_code: Query<Option<String>>,
    ) -> Result<ProgressResponse, ApiError> {
        let area = area_code.0.as_deref().map(parse_area_code).transpose()?;
        let rendered = progress::progress_rendered(
            &state.db,
            &state.cache,
            &state.progress,
            auth.0.stamp.as_ref(),
            &state.exit_rules,
            &auth.0.actor,
            area,
            |found| StoredJson::render(&ProgressView::from(found)),
        )
        .await?;
        Ok(ProgressResponse::Ok(rendered.into()))
    }
}
