//! What the households operations take and answer: request and response objects, their conversions
//! from and to the service's types, and each operation's responses.

use super::*;
use sea_orm::ActiveEnum;

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

/// The spreadsheet to import.
#[derive(Multipart)]
#[oai(deny_unknown_fields)]
pub struct ImportUpload {
    /// A CSV (UTF-8 or GB18030) or XLSX file; its kind is read from its contents.
    pub(in crate::http::api) file: Upload,
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
    /// Households the file brings as exited (`exit_source` `imported`).
    pub households_exited: u64,
    /// Rows taken otherwise than written, which still import: `exit_pending_as_poor`, a
    /// household in an exit procedure imported as poor (at most 1,000; `notice_count` counts
    /// them all).
    pub notices: Vec<ImportProblemView>,
    pub notice_count: u64,
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
    /// `outside_area`; among notices, `exit_pending_as_poor`.
    pub code: String,
    pub message: String,
}

impl From<Problem> for ImportProblemView {
    fn from(p: Problem) -> Self {
        Self {
            row: p.row,
            column: p.column.map(str::to_owned),
            code: p.code.name().to_owned(),
            message: p.message,
        }
    }
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
            households_exited: report.households_exited as u64,
            notice_count: report.notice_count as u64,
            problems: report.problems.into_iter().map(Into::into).collect(),
            notices: report.notices.into_iter().map(Into::into).collect(),
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
            ImportError::Invalid(reason) => {
                ApiError::new(ErrorCode::HouseholdInvalid).with_reason(reason)
            }
            ImportError::KeyReused => ErrorCode::RequestIdempotencyKeyReused.into(),
            ImportError::Database(e) => ApiError::internal(e),
        }
    }
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
    /// The 18-character national ID number: 17 digits and a digit or X (full-width ones are
    /// read as such). A wrong one answers 422 `household.invalid_id_number` saying what is
    /// wrong (`details.reason_code`: `id_number.length`, `.characters`, `.region`,
    /// `.birth_date`, `.check_digit`).
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
    /// The year it exited, for a household that did.
    pub exit_year: Option<i32>,
    /// How its exit is on record: `procedure` (through the exit procedure here) or `imported`
    /// (brought by a registry sheet as already exited).
    pub exit_source: Option<String>,
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
            exit_year: h.exit_year,
            exit_source: h.exit_source.map(|source| source.to_value()),
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
