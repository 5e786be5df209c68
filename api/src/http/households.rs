//! `/api/v1/households`: the registry of poor households, for officials of the owning area.

use poem::{Request, web::Data};
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use serde_json::json;

use super::{
    ApiTags,
    areas::parse_area_code,
    auth::BearerAuth,
    error::{ApiError, ErrorCode},
    json::JsonBody,
    mirror_enum,
    pagination::{encode_cursor, page_request},
    users::origin,
};
use crate::{
    app::AppState,
    domain::{IdNumber, Phone, Sex},
    service::households::{
        self, HouseholdError, HouseholdFilter, HouseholdRecord, HouseholdSort, HouseholdSummary,
        NewHousehold, NewMember,
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
        let area = area_code.0.as_deref().map(parse_area_code).transpose()?;
        let filter = HouseholdFilter {
            area,
            status: status.0.map(Into::into),
            poverty_cause: poverty_cause.0.map(Into::into),
            text: q.0,
        };
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
}

/// A household to register.
#[derive(Object)]
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
#[oai(rename = "Household")]
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
#[oai(rename = "HouseholdMember")]
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
#[oai(rename = "HouseholdSummary")]
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
#[oai(rename = "HouseholdPage")]
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
            .filter(|p| !p.trim().is_empty())
            .map(Phone::parse)
            .transpose()
            .map_err(|_| ApiError::new(ErrorCode::UserInvalidPhone))?;
        let members = body
            .members
            .into_iter()
            .enumerate()
            .map(|(i, m)| {
                let id_number = IdNumber::parse(&m.id_number).map_err(|e| {
                    ApiError::new(ErrorCode::HouseholdInvalidIdNumber)
                        .with_details(json!({ "member": i + 1, "reason": e.to_string() }))
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
            })
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

impl From<HouseholdError> for ApiError {
    fn from(err: HouseholdError) -> Self {
        match err {
            HouseholdError::NotFound => ErrorCode::HouseholdNotFound.into(),
            HouseholdError::Forbidden => ErrorCode::AuthForbidden.into(),
            HouseholdError::NumberTaken(number) => ApiError::new(ErrorCode::HouseholdNumberTaken)
                .with_details(json!({ "household_number": number })),
            HouseholdError::UnknownVillage => ErrorCode::HouseholdUnknownVillage.into(),
            HouseholdError::Invalid(reason) => {
                ApiError::new(ErrorCode::HouseholdInvalid).with_details(json!({ "reason": reason }))
            }
            HouseholdError::DuplicatePerson {
                member,
                household_number,
                id_masked,
            } => ApiError::new(ErrorCode::HouseholdDuplicatePerson).with_details(json!({
                "member": member,
                "household_number": household_number,
                "id_number": id_masked,
            })),
            HouseholdError::Pii(e) => ApiError::internal(e),
            HouseholdError::Database(e) => ApiError::internal(e),
        }
    }
}
