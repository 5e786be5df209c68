//! `/api/v1/households`: the registry of poor households, for officials of the owning area.

use entities::household_income::IncomeSource;
use poem::{Request, web::Data};
use poem_openapi::{
    ApiResponse, Multipart, Object, OpenApi,
    param::{Path, Query},
    payload::{Attachment, Json},
    types::{MaybeUndefined, multipart::Upload},
};
use serde_json::json;

use super::{
    ApiTags,
    areas::parse_area_code,
    auth::BearerAuth,
    json::JsonBody,
    mirror_enum,
    pagination::{encode_cursor, page_request},
    users::GetUserResponse,
};
use crate::http::{
    caller::origin,
    error::{ApiError, ErrorCode},
};
use crate::{
    app::AppState,
    domain::{IdNumber, Phone, Sex},
    service::households::{
        self, HouseholdFilter, HouseholdRecord, HouseholdSort, HouseholdSummary, NewHousehold,
        NewMember,
        changes::{self, HouseholdChanges, MemberChanges},
        export::{self, SheetKind},
        import::{self, ImportError, ImportReport},
        incomes::{self, IncomeYear},
    },
    service::pagination::Page,
};

mirror_enum! {
    /// Why a household is poor, in the official categories.
    PovertyCauseView as "PovertyCause" <=> entities::household::PovertyCause {
        Illness, Disability, Education, Labour, Land, Water, Capital, Skills, Transport,
        Disaster, InsufficientDrive
    }
}

mirror_enum! {
    /// Where a household stands on its way out of poverty.
    HouseholdStatusView as "HouseholdStatus" <=> entities::household::HouseholdStatus {
        Poor, ExitPending, Exited, Returned
    }
}

mirror_enum! {
    /// A member's relation to the head of the household.
    RelationView as "MemberRelation" <=> entities::household_member::MemberRelation {
        Head, Spouse, Child, Parent, Grandchild, Sibling, Other
    }
}

mirror_enum! {
    SexView as "Sex" <=> entities::household_member::Sex { Male, Female }
}

mirror_enum! {
    /// Ability to work.
    LabourCapacityView as "LabourCapacity" <=> entities::household_member::LabourCapacity {
        Full, Partial, None
    }
}

mirror_enum! {
    HealthView as "Health" <=> entities::household_member::Health {
        Healthy, Chronic, Serious, Disabled
    }
}

mirror_enum! {
    /// Highest schooling reached (or being attended).
    SchoolingView as "Schooling" <=> entities::household_member::Schooling {
        None, Preschool, Primary, JuniorSecondary, SeniorSecondary, Vocational, College
    }
}

pub struct HouseholdsApi;

/// Where spreadsheets are uploaded; it takes larger bodies than other routes.
pub const IMPORT_PATH: &str = "/households/import";

#[OpenApi(tag = "ApiTags::Households")]
impl HouseholdsApi {
    /// Register a household
    ///
    /// A household with all its members, in a village inside the caller's area. ID numbers are
    /// checked (GB 11643) and sealed; a person already registered in another household is
    /// refused, naming that household.
    #[oai(
        path = "/households",
        method = "post",
        operation_id = "register_household"
    )]
    async fn register_household(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        body: JsonBody<RegisterHouseholdRequest>,
    ) -> Result<RegisterHouseholdResponse, ApiError> {
        let new = body.0.try_into()?;
        let record =
            households::register(&state.db, &state.pii, &auth.0.actor, new, &origin(req)).await?;
        Ok(RegisterHouseholdResponse::Created(Json(record.into())))
    }

    /// List households
    ///
    /// The households of an area (default: the caller's own), filtered by status, poverty
    /// cause and part of the household number or a member's name, page by page.
    #[oai(path = "/households", method = "get", operation_id = "list_households")]
    #[allow(clippy::too_many_arguments)]
    async fn list_households(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// Area code; households in it and below it are listed.
        area_code: Query<Option<String>>,
        status: Query<Option<HouseholdStatusView>>,
        poverty_cause: Query<Option<PovertyCauseView>>,
        /// Part of the household number or of a member's name.
        q: Query<Option<String>>,
        /// `registered` (default) or `household_number`.
        sort: Query<Option<HouseholdSortView>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
        /// Items per page, 1 to 100 (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u64>>,
    ) -> Result<ListHouseholdsResponse, ApiError> {
        let filter = household_filter(area_code.0, status.0, poverty_cause.0, q.0)?;
        let sort = match sort.0.unwrap_or(HouseholdSortView::Registered) {
            HouseholdSortView::Registered => HouseholdSort::Registered,
            HouseholdSortView::HouseholdNumber => HouseholdSort::HouseholdNumber,
        };
        let page = page_request(cursor.0.as_deref(), limit.0, |key| !key.is_empty())?;
        let found = households::list(&state.db, &auth.0.actor, &filter, sort, &page).await?;
        Ok(ListHouseholdsResponse::Ok(Json(found.into())))
    }

    /// Get a household
    ///
    /// ID numbers are masked (`500235********123X`); officials of the owning area may ask for
    /// them in full with `reveal=true`, which is written to the audit log.
    #[oai(
        path = "/households/:id",
        method = "get",
        operation_id = "get_household"
    )]
    async fn get_household(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        id: Path<i64>,
        /// Show full ID numbers (officials of the owning area only; audited).
        reveal: Query<Option<bool>>,
    ) -> Result<GetHouseholdResponse, ApiError> {
        let record = households::get(
            &state.db,
            &state.pii,
            &auth.0.actor,
            id.0,
            reveal.0.unwrap_or(false),
            &origin(req),
        )
        .await?;
        Ok(GetHouseholdResponse::Ok(Json(record.into())))
    }

    /// Import households from a spreadsheet
    ///
    /// A CSV or XLSX file in the registry template's layout (one row per member, household
    /// fields repeated; see `GET /households/import/template`), as the multipart field
    /// `file`. With `dry_run=true` every problem is reported by row and column and nothing
    /// is written. Otherwise all households are written in one transaction, or none: a file
    /// with any problem answers 422 with the same report in `details`.
    #[oai(
        path = "/households/import",
        method = "post",
        operation_id = "import_households"
    )]
    async fn import_households(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        /// Check only; write nothing.
        dry_run: Query<Option<bool>>,
        upload: ImportUpload,
    ) -> Result<ImportHouseholdsResponse, ApiError> {
        let file = upload.file.into_file().into_std().await;
        let report = import::import_file(
            &state.db,
            &state.pii,
            Some(&auth.0.actor),
            file,
            dry_run.0.unwrap_or(false),
            &origin(req),
        )
        .await?;
        Ok(if report.committed {
            ImportHouseholdsResponse::Created(Json(report.into()))
        } else {
            ImportHouseholdsResponse::Checked(Json(report.into()))
        })
    }

    /// Download the blank import template
    ///
    /// The header row of the registry sheet; the XLSX template has a second sheet that
    /// explains every column and the values it takes.
    #[oai(
        path = "/households/import/template",
        method = "get",
        operation_id = "get_household_import_template"
    )]
    async fn get_household_import_template(
        &self,
        /// `xlsx` (default) or `csv`.
        format: Query<Option<SheetFormatView>>,
    ) -> Result<SheetFileResponse, ApiError> {
        let kind = format.0.unwrap_or(SheetFormatView::Xlsx).into();
        let file = export::template(kind).map_err(ApiError::internal)?;
        Ok(sheet_file(file, "households-template", kind))
    }

    /// Export households
    ///
    /// The households a list with the same filters shows, one row per member in the import
    /// template's layout plus village name and status. ID numbers are masked unless
    /// `reveal=true`, which officials of the whole area may ask for; every export is written
    /// to the audit log.
    #[oai(
        path = "/households/export",
        method = "get",
        operation_id = "export_households"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn export_households(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        /// Area code; households in it and below it are exported.
        area_code: Query<Option<String>>,
        status: Query<Option<HouseholdStatusView>>,
        poverty_cause: Query<Option<PovertyCauseView>>,
        /// Part of the household number or of a member's name.
        q: Query<Option<String>>,
        /// Full ID numbers (officials of the area only; audited).
        reveal: Query<Option<bool>>,
        /// `xlsx` (default) or `csv`.
        format: Query<Option<SheetFormatView>>,
    ) -> Result<SheetFileResponse, ApiError> {
        let filter = household_filter(area_code.0, status.0, poverty_cause.0, q.0)?;
        let kind = format.0.unwrap_or(SheetFormatView::Xlsx).into();
        let file = export::export(
            &state.db,
            &state.pii,
            &auth.0.actor,
            &filter,
            reveal.0.unwrap_or(false),
            kind,
            &origin(req),
        )
        .await?;
        Ok(sheet_file(file, "households", kind))
    }
}

pub struct HouseholdChangesApi;

#[OpenApi(tag = "ApiTags::Households")]
impl HouseholdChangesApi {
    /// Change a household
    ///
    /// Only the fields sent change; `null` clears the phone or the responsible cadre. Moving
    /// to another village needs both villages inside the caller's area.
    #[oai(
        path = "/households/:id",
        method = "patch",
        operation_id = "update_household"
    )]
    async fn update_household(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        id: Path<i64>,
        body: JsonBody<UpdateHouseholdRequest>,
    ) -> Result<GetHouseholdResponse, ApiError> {
        let body = body.0;
        let changes = HouseholdChanges {
            village: body
                .village_code
                .as_deref()
                .map(parse_area_code)
                .transpose()?,
            phone: match body.phone {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(phone) => Some(parse_phone(&phone)?),
            },
            poverty_cause: body.poverty_cause.map(Into::into),
            responsible_cadre_id: match body.responsible_cadre_id {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(id) => Some(Some(id)),
            },
            registered_year: body.registered_year,
        };
        let record = changes::update(&state.db, &auth.0.actor, id.0, changes, &origin(req)).await?;
        Ok(GetHouseholdResponse::Ok(Json(record.into())))
    }

    /// Remove a household
    ///
    /// With its members and income records, for a household registered by mistake; the
    /// audit log keeps what it held and the reason. A household that other records rely on
    /// (assessments, exit cases, goods, orders, plots, batches) is kept: 409
    /// `household.in_use`, with the kinds of record in `details.records`.
    #[oai(
        path = "/households/:id",
        method = "delete",
        operation_id = "delete_household"
    )]
    async fn delete_household(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        id: Path<i64>,
        /// Why it is removed (1 to 200 characters).
        reason: Query<String>,
    ) -> Result<DeletedResponse, ApiError> {
        changes::delete(&state.db, &auth.0.actor, id.0, &reason.0, &origin(req)).await?;
        Ok(DeletedResponse::Deleted)
    }

    /// Add a member
    ///
    /// A person who joined the household (birth, marriage). They must not be registered in
    /// any household yet; the head is changed by making another member the head.
    #[oai(
        path = "/households/:id/members",
        method = "post",
        operation_id = "add_household_member"
    )]
    async fn add_household_member(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        id: Path<i64>,
        body: JsonBody<MemberInput>,
    ) -> Result<RegisterHouseholdResponse, ApiError> {
        let member = new_member(body.0, 1)?;
        let record = changes::add_member(
            &state.db,
            &state.pii,
            &auth.0.actor,
            id.0,
            member,
            &origin(req),
        )
        .await?;
        Ok(RegisterHouseholdResponse::Created(Json(record.into())))
    }

    /// Change a member
    ///
    /// Only the fields sent change. Making a member the head makes the current head `other`.
    #[oai(
        path = "/households/:id/members/:member_id",
        method = "patch",
        operation_id = "update_household_member"
    )]
    async fn update_household_member(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        id: Path<i64>,
        member_id: Path<i64>,
        body: JsonBody<UpdateMemberRequest>,
    ) -> Result<GetHouseholdResponse, ApiError> {
        let body = body.0;
        let changes = MemberChanges {
            name: body.name,
            relation: body.relation.map(Into::into),
            labour_capacity: body.labour_capacity.map(Into::into),
            health: body.health.map(Into::into),
            schooling: body.schooling.map(Into::into),
            medical_insurance: body.medical_insurance,
        };
        let record = changes::update_member(
            &state.db,
            &auth.0.actor,
            id.0,
            member_id.0,
            changes,
            &origin(req),
        )
        .await?;
        Ok(GetHouseholdResponse::Ok(Json(record.into())))
    }

    /// Remove a member
    ///
    /// A person who left the household. The head cannot be removed.
    #[oai(
        path = "/households/:id/members/:member_id",
        method = "delete",
        operation_id = "delete_household_member"
    )]
    async fn delete_household_member(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        id: Path<i64>,
        member_id: Path<i64>,
    ) -> Result<GetHouseholdResponse, ApiError> {
        let record =
            changes::remove_member(&state.db, &auth.0.actor, id.0, member_id.0, &origin(req))
                .await?;
        Ok(GetHouseholdResponse::Ok(Json(record.into())))
    }

    /// Bind a farmer to the household
    ///
    /// After checking that the account's owner belongs to the household, an official of the
    /// area binds it: the account becomes a farmer's, acting for this household only, and
    /// must sign in again.
    #[oai(
        path = "/households/:id/farmers/:user_id",
        method = "put",
        operation_id = "bind_household_farmer"
    )]
    async fn bind_household_farmer(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        id: Path<i64>,
        user_id: Path<i64>,
    ) -> Result<GetUserResponse, ApiError> {
        let user =
            changes::bind_farmer(&state.db, &auth.0.actor, id.0, user_id.0, &origin(req)).await?;
        Ok(GetUserResponse::Ok(Json(user.into())))
    }

    /// Unbind a farmer from the household
    ///
    /// The account becomes a buyer's again and must sign in again.
    #[oai(
        path = "/households/:id/farmers/:user_id",
        method = "delete",
        operation_id = "unbind_household_farmer"
    )]
    async fn unbind_household_farmer(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        id: Path<i64>,
        user_id: Path<i64>,
    ) -> Result<GetUserResponse, ApiError> {
        let user =
            changes::unbind_farmer(&state.db, &auth.0.actor, id.0, user_id.0, &origin(req)).await?;
        Ok(GetUserResponse::Ok(Json(user.into())))
    }

    /// List a household's income
    ///
    /// Every year with recorded income, newest first, by source, in fen. The household's own
    /// farmer may read it too.
    #[oai(
        path = "/households/:id/incomes",
        method = "get",
        operation_id = "list_household_incomes"
    )]
    async fn list_household_incomes(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> Result<ListIncomesResponse, ApiError> {
        let years = incomes::list(&state.db, &auth.0.actor, id.0).await?;
        Ok(ListIncomesResponse::Ok(Json(
            years.into_iter().map(Into::into).collect(),
        )))
    }

    /// Record a year's income
    ///
    /// Amounts in fen for the sources sent; the others keep their amounts. E-commerce income
    /// is written by completed orders and cannot be set here.
    #[oai(
        path = "/households/:id/incomes/:year",
        method = "put",
        operation_id = "record_household_income"
    )]
    async fn record_household_income(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        id: Path<i64>,
        year: Path<i32>,
        body: JsonBody<RecordIncomeRequest>,
    ) -> Result<RecordIncomeResponse, ApiError> {
        let body = body.0;
        let amounts: Vec<(IncomeSource, i64)> = [
            (IncomeSource::Wages, body.wages_fen),
            (IncomeSource::Farming, body.farming_fen),
            (IncomeSource::Transfers, body.transfers_fen),
            (IncomeSource::Other, body.other_fen),
        ]
        .into_iter()
        .filter_map(|(source, amount)| amount.map(|a| (source, a)))
        .collect();
        let recorded = incomes::record_year(
            &state.db,
            &auth.0.actor,
            id.0,
            year.0,
            &amounts,
            &origin(req),
        )
        .await?;
        Ok(RecordIncomeResponse::Ok(Json(recorded.into())))
    }
}

/// Household fields to change; absent fields stay as they are.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct UpdateHouseholdRequest {
    /// Move to this village (12-digit code).
    #[oai(validator(max_length = 12))]
    pub village_code: Option<String>,
    /// `null` clears it.
    pub phone: MaybeUndefined<String>,
    pub poverty_cause: Option<PovertyCauseView>,
    /// `null` clears it.
    pub responsible_cadre_id: MaybeUndefined<i64>,
    pub registered_year: Option<i32>,
}

/// Member fields to change; absent fields stay as they are.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct UpdateMemberRequest {
    #[oai(validator(min_length = 1, max_length = 64))]
    pub name: Option<String>,
    pub relation: Option<RelationView>,
    pub labour_capacity: Option<LabourCapacityView>,
    pub health: Option<HealthView>,
    pub schooling: Option<SchoolingView>,
    pub medical_insurance: Option<bool>,
}

/// A year's income by source, in fen; absent sources keep their amounts.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct RecordIncomeRequest {
    /// 工资性收入
    #[oai(validator(minimum(value = "0")))]
    pub wages_fen: Option<i64>,
    /// 生产经营性收入
    #[oai(validator(minimum(value = "0")))]
    pub farming_fen: Option<i64>,
    /// 转移性收入
    #[oai(validator(minimum(value = "0")))]
    pub transfers_fen: Option<i64>,
    /// 财产性及其他收入
    #[oai(validator(minimum(value = "0")))]
    pub other_fen: Option<i64>,
}

/// A household's income in one year, in fen.
#[derive(Object)]
#[oai(rename = "IncomeYear", skip_serializing_if_is_none)]
pub struct IncomeYearView {
    pub year: i32,
    pub wages_fen: i64,
    pub farming_fen: i64,
    /// From completed orders.
    pub ecommerce_fen: i64,
    pub transfers_fen: i64,
    pub other_fen: i64,
    pub total_fen: i64,
}

impl From<IncomeYear> for IncomeYearView {
    fn from(year: IncomeYear) -> Self {
        Self {
            year: year.year,
            wages_fen: year.amount(IncomeSource::Wages),
            farming_fen: year.amount(IncomeSource::Farming),
            ecommerce_fen: year.amount(IncomeSource::Ecommerce),
            transfers_fen: year.amount(IncomeSource::Transfers),
            other_fen: year.amount(IncomeSource::Other),
            total_fen: year.total_fen,
        }
    }
}

#[derive(ApiResponse)]
pub enum DeletedResponse {
    /// Removed.
    #[oai(status = 204)]
    Deleted,
}

#[derive(ApiResponse)]
pub enum ListIncomesResponse {
    /// The years with recorded income, newest first.
    #[oai(status = 200)]
    Ok(Json<Vec<IncomeYearView>>),
}

#[derive(ApiResponse)]
pub enum RecordIncomeResponse {
    /// The year's income as now recorded.
    #[oai(status = 200)]
    Ok(Json<IncomeYearView>),
}

fn sheet_file(file: Vec<u8>, name: &str, kind: SheetKind) -> SheetFileResponse {
    SheetFileResponse::Ok(Attachment::new(file).filename(format!("{name}.{}", kind.extension())))
}

/// The spreadsheet to import.
#[derive(Multipart)]
pub struct ImportUpload {
    /// A CSV (UTF-8 or GB18030) or XLSX file; its kind is read from its contents.
    file: Upload,
}

/// A spreadsheet file kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, poem_openapi::Enum)]
#[oai(rename = "SheetFormat", rename_all = "snake_case")]
pub enum SheetFormatView {
    Xlsx,
    Csv,
}

impl From<SheetFormatView> for SheetKind {
    fn from(format: SheetFormatView) -> Self {
        match format {
            SheetFormatView::Xlsx => SheetKind::Xlsx,
            SheetFormatView::Csv => SheetKind::Csv,
        }
    }
}

#[derive(ApiResponse)]
pub enum SheetFileResponse {
    /// The spreadsheet, as an attachment.
    #[oai(status = 200)]
    Ok(Attachment<Vec<u8>>),
}

#[derive(ApiResponse)]
pub enum ImportHouseholdsResponse {
    /// Dry run: the file was checked and nothing written; `problems` lists what to fix.
    #[oai(status = 200)]
    Checked(Json<ImportReportView>),
    /// Every household in the file was written.
    #[oai(status = 201)]
    Created(Json<ImportReportView>),
}

/// What an import found, and whether it wrote.
#[derive(Object)]
#[oai(rename = "ImportReport", skip_serializing_if_is_none)]
pub struct ImportReportView {
    /// `csv` or `xlsx`, as read from the file's contents.
    pub format: Option<String>,
    /// Households and members in the file.
    pub households: u64,
    pub members: u64,
    /// Whether the households were written.
    pub committed: bool,
    /// The problems found, in row order (at most 1,000; `problem_count` counts them all).
    pub problems: Vec<ImportProblemView>,
    pub problem_count: u64,
    /// Headers that were not read.
    pub ignored_columns: Vec<String>,
}

/// One problem in an imported file.
#[derive(Object)]
#[oai(rename = "ImportProblem", skip_serializing_if_is_none)]
pub struct ImportProblemView {
    /// The row as the spreadsheet numbers it (the header is row 1).
    pub row: u32,
    /// The header of the column at fault, when it is one column.
    pub column: Option<String>,
    /// `missing_column`, `empty`, `required`, `invalid_value`, `invalid_id_number`,
    /// `mismatch`, `inconsistent_household`, `head_count`, `member_count`,
    /// `duplicate_in_file`, `already_registered`, `number_taken`, `unknown_village` or
    /// `outside_area`.
    pub code: String,
    pub message: String,
}

impl From<ImportReport> for ImportReportView {
    fn from(report: ImportReport) -> Self {
        Self {
            format: report.format.map(str::to_owned),
            households: report.households as u64,
            members: report.members as u64,
            committed: report.committed,
            problem_count: report.problem_count as u64,
            ignored_columns: report.ignored_columns,
            problems: report
                .problems
                .into_iter()
                .map(|p| ImportProblemView {
                    row: p.row,
                    column: p.column.map(str::to_owned),
                    code: p.code.name().to_owned(),
                    message: p.message,
                })
                .collect(),
        }
    }
}

impl From<ImportError> for ApiError {
    fn from(err: ImportError) -> Self {
        match err {
            ImportError::Forbidden => ErrorCode::AuthForbidden.into(),
            ImportError::Sheet(e) => ApiError::new(ErrorCode::HouseholdImportUnreadable)
                .with_details(json!({ "reason": e.to_string() })),
            ImportError::Rejected(report) => {
                let view = ImportReportView::from(*report);
                ApiError::new(ErrorCode::HouseholdImportRejected).with_details(json!({
                    "problem_count": view.problem_count,
                    "households": view.households,
                    "members": view.members,
                    "problems": view.problems.iter().map(|p| json!({
                        "row": p.row,
                        "column": p.column,
                        "code": p.code,
                        "message": p.message,
                    })).collect::<Vec<_>>(),
                }))
            }
            ImportError::Database(e) => ApiError::internal(e),
        }
    }
}

/// The filter the list and the export share.
fn household_filter(
    area_code: Option<String>,
    status: Option<HouseholdStatusView>,
    poverty_cause: Option<PovertyCauseView>,
    text: Option<String>,
) -> Result<HouseholdFilter, ApiError> {
    Ok(HouseholdFilter {
        area: area_code.as_deref().map(parse_area_code).transpose()?,
        status: status.map(Into::into),
        poverty_cause: poverty_cause.map(Into::into),
        text,
    })
}

/// A household to register.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct RegisterHouseholdRequest {
    /// The registry's household number, unique in the county.
    #[oai(validator(min_length = 1, max_length = 32))]
    pub household_number: String,
    /// The village's 12-digit code.
    #[oai(validator(max_length = 12))]
    pub village_code: String,
    #[oai(validator(max_length = 32))]
    pub phone: Option<String>,
    pub poverty_cause: PovertyCauseView,
    /// The cadre responsible for helping this household (帮扶责任人).
    pub responsible_cadre_id: Option<i64>,
    /// The year the household was registered as poor.
    pub registered_year: i32,
    /// 1 to 30 members, exactly one of them the head.
    #[oai(validator(min_items = 1, max_items = 30))]
    pub members: Vec<MemberInput>,
}

/// A member to register.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct MemberInput {
    #[oai(validator(min_length = 1, max_length = 64))]
    pub name: String,
    /// The 18-character national ID number.
    #[oai(validator(max_length = 18))]
    pub id_number: String,
    pub relation: RelationView,
    /// When given, must agree with the ID number.
    pub sex: Option<SexView>,
    /// When given, must agree with the ID number.
    pub birth_date: Option<chrono::NaiveDate>,
    pub labour_capacity: LabourCapacityView,
    pub health: HealthView,
    pub schooling: SchoolingView,
    /// Enrolled in basic medical insurance.
    pub medical_insurance: bool,
}

/// A registered household.
#[derive(Object)]
#[oai(rename = "Household", skip_serializing_if_is_none)]
pub struct HouseholdView {
    pub id: i64,
    pub household_number: String,
    pub village_code: String,
    pub phone: Option<String>,
    pub poverty_cause: PovertyCauseView,
    pub responsible_cadre_id: Option<i64>,
    pub registered_year: i32,
    pub status: HouseholdStatusView,
    pub members: Vec<MemberView>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A member of a household.
#[derive(Object)]
#[oai(rename = "HouseholdMember", skip_serializing_if_is_none)]
pub struct MemberView {
    pub id: i64,
    pub name: String,
    /// Masked (`500235********123X`) unless revealed.
    pub id_number: String,
    pub relation: RelationView,
    /// From the ID number.
    pub sex: SexView,
    /// From the ID number.
    pub birth_date: chrono::NaiveDate,
    pub labour_capacity: LabourCapacityView,
    pub health: HealthView,
    pub schooling: SchoolingView,
    pub medical_insurance: bool,
}

/// Order of a household list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, poem_openapi::Enum)]
#[oai(rename = "HouseholdSort", rename_all = "snake_case")]
pub enum HouseholdSortView {
    Registered,
    HouseholdNumber,
}

/// One line of a household list.
#[derive(Object)]
#[oai(rename = "HouseholdSummary", skip_serializing_if_is_none)]
pub struct HouseholdSummaryView {
    pub id: i64,
    pub household_number: String,
    pub village_code: String,
    pub status: HouseholdStatusView,
    pub poverty_cause: PovertyCauseView,
    pub registered_year: i32,
    pub head_name: Option<String>,
    pub member_count: u64,
}

/// One page of households.
#[derive(Object)]
#[oai(rename = "HouseholdPage", skip_serializing_if_is_none)]
pub struct HouseholdPageView {
    pub items: Vec<HouseholdSummaryView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum ListHouseholdsResponse {
    /// One page of households.
    #[oai(status = 200)]
    Ok(Json<HouseholdPageView>),
}

#[derive(ApiResponse)]
pub enum RegisterHouseholdResponse {
    /// The household as registered, ID numbers masked.
    #[oai(status = 201)]
    Created(Json<HouseholdView>),
}

#[derive(ApiResponse)]
pub enum GetHouseholdResponse {
    /// The household and its members.
    #[oai(status = 200)]
    Ok(Json<HouseholdView>),
}

impl TryFrom<RegisterHouseholdRequest> for NewHousehold {
    type Error = ApiError;

    fn try_from(body: RegisterHouseholdRequest) -> Result<Self, ApiError> {
        let village = parse_area_code(&body.village_code)?;
        let phone = body
            .phone
            .as_deref()
            .map(parse_phone)
            .transpose()?
            .flatten();
        let members = body
            .members
            .into_iter()
            .enumerate()
            .map(|(i, m)| new_member(m, i + 1))
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok(NewHousehold {
            household_number: body.household_number,
            village,
            phone,
            poverty_cause: body.poverty_cause.into(),
            responsible_cadre_id: body.responsible_cadre_id,
            registered_year: body.registered_year,
            members,
        })
    }
}

/// A member as given, its ID number checked; `position` (from 1) names it in errors.
fn new_member(m: MemberInput, position: usize) -> Result<NewMember, ApiError> {
    let id_number = IdNumber::parse(&m.id_number).map_err(|e| {
        ApiError::new(ErrorCode::HouseholdInvalidIdNumber)
            .with_details(json!({ "member": position, "reason": e.to_string() }))
    })?;
    Ok(NewMember {
        name: m.name,
        id_number,
        relation: m.relation.into(),
        declared_sex: m.sex.map(|s| match s {
            SexView::Male => Sex::Male,
            SexView::Female => Sex::Female,
        }),
        declared_birth_date: m.birth_date,
        labour_capacity: m.labour_capacity.into(),
        health: m.health.into(),
        schooling: m.schooling.into(),
        medical_insurance: m.medical_insurance,
    })
}

/// A phone that may be left empty.
fn parse_phone(phone: &str) -> Result<Option<Phone>, ApiError> {
    if phone.trim().is_empty() {
        return Ok(None);
    }
    super::users::parse_phone(phone).map(Some)
}

impl From<Page<HouseholdSummary>> for HouseholdPageView {
    fn from(page: Page<HouseholdSummary>) -> Self {
        Self {
            next_cursor: page.next_after.as_deref().map(encode_cursor),
            items: page
                .items
                .into_iter()
                .map(|s| HouseholdSummaryView {
                    id: s.household.id,
                    household_number: s.household.household_number,
                    village_code: s.household.village_code,
                    status: s.household.status.into(),
                    poverty_cause: s.household.poverty_cause.into(),
                    registered_year: s.household.registered_year,
                    head_name: s.head_name,
                    member_count: s.member_count,
                })
                .collect(),
        }
    }
}

impl From<HouseholdRecord> for HouseholdView {
    fn from(record: HouseholdRecord) -> Self {
        let h = record.household;
        Self {
            id: h.id,
            household_number: h.household_number,
            village_code: h.village_code,
            phone: h.phone,
            poverty_cause: h.poverty_cause.into(),
            responsible_cadre_id: h.responsible_cadre_id,
            registered_year: h.registered_year,
            status: h.status.into(),
            created_at: h.created_at,
            members: record
                .members
                .into_iter()
                .map(|m| MemberView {
                    id: m.member.id,
                    name: m.member.name,
                    id_number: m.id_number,
                    relation: m.member.relation.into(),
                    sex: m.member.sex.into(),
                    birth_date: m.member.birth_date,
                    labour_capacity: m.member.labour_capacity.into(),
                    health: m.member.health.into(),
                    schooling: m.member.schooling.into(),
                    medical_insurance: m.member.medical_insurance,
                })
                .collect(),
        }
    }
}
