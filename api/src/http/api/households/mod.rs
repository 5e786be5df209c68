//! `/api/v1/households`: the registry of poor households, for officials of the owning area.

use entities::household_income::IncomeSource;
use poem::{Request, web::Data};
use poem_openapi::{
    ApiResponse, Multipart, Object, OpenApi,
    param::{Header, Path, Query},
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
        import::{self, ImportError, ImportReport, Problem},
        incomes::{self, IncomeYear},
    },
    service::pagination::Page,
};

mod views;

pub use views::*;

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
        /// 1 to 64 letters, digits, `-` or `_`, new for each household the client means to make:
        /// the request sent again with the same key answers what the first one made and makes
        /// nothing new; the key with another request is refused (`request.idempotency_key_reused`).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<RegisterHouseholdRequest>,
    ) -> Result<RegisterHouseholdResponse, ApiError> {
        let new = body.0.try_into()?;
        let record = households::register_keyed(
            &state.db,
            &state.pii,
            &auth.0.actor,
            new,
            &origin(req),
            idempotency_key.0.as_deref(),
        )
        .await?;
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
        /// 1 to 64 letters, digits, `-` or `_`, new for each import the client means to write:
        /// the same file sent again with the same key writes nothing more and answers the
        /// first import's report; the key with another file is refused
        /// (`request.idempotency_key_reused`). Dry runs keep no key.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        upload: ImportUpload,
    ) -> Result<ImportHouseholdsResponse, ApiError> {
        let file = upload.file.into_file().into_std().await;
        let report = import::import_file_keyed(
            &state.db,
            &state.pii,
            Some(&auth.0.actor),
            file,
            dry_run.0.unwrap_or(false),
            &origin(req),
            idempotency_key.0.as_deref(),
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
        /// 1 to 64 letters, digits, `-` or `_`, new for each member the client means to make:
        /// the request sent again with the same key answers what the first one made and makes
        /// nothing new; the key with another request is refused (`request.idempotency_key_reused`).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<MemberInput>,
    ) -> Result<RegisterHouseholdResponse, ApiError> {
        let member = new_member(body.0, 1)?;
        let record = changes::add_member_keyed(
            &state.db,
            &state.pii,
            &auth.0.actor,
            id.0,
            member,
            &origin(req),
            idempotency_key.0.as_deref(),
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

pub(super) fn sheet_file(file: Vec<u8>, name: &str, kind: SheetKind) -> SheetFileResponse {
    SheetFileResponse::Ok(Attachment::new(file).filename(format!("{name}.{}", kind.extension())))
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

/// A member as given, its ID number checked; `position` (from 1) names it in errors.
fn new_member(m: MemberInput, position: usize) -> Result<NewMember, ApiError> {
    let id_number = IdNumber::parse(&m.id_number).map_err(|e| {
        ApiError::new(ErrorCode::HouseholdInvalidIdNumber)
            .with_details(json!({ "member": position }))
            .with_reason(crate::service::reasons::id_number(&e))
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
