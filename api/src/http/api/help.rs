//! Help and visits (帮扶与走访) under a household: its responsible cadre, the help it was
//! given by kind and the visits made to it, for the officials of its area. Records are
//! appended, never changed.

use chrono::{DateTime, NaiveDate, Utc};
use poem::{Request, web::Data};
use poem_openapi::{
    ApiResponse, Multipart, Object, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
    types::multipart::Upload,
};

use super::{
    ApiTags,
    auth::{BearerAuth, RoleView},
    json::JsonBody,
    mirror_enum,
};
use crate::{
    app::AppState,
    http::{
        caller::origin,
        error::{ApiError, ErrorCode},
    },
    infra::imaging,
    service::{
        monitoring::{
            figures::{self, AreaFigures, Figures},
            help::{self, Cadre, HelpError, NewHelp, NewVisit, OnFile},
        },
        reasons,
    },
};

mirror_enum! {
    /// The kinds of help: industry, employment, public-welfare jobs, micro-credit, education,
    /// medical, housing, social assistance, and consumption (the household's goods sold, online
    /// among them).
    HelpKindView as "HelpKind" <=> entities::help_record::HelpKind {
        Industry, Employment, PublicWelfareJob, MicroCredit, Education, Medical, Housing,
        SocialAssistance, Consumption
    }
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct RecordHelpRequest {
    pub kind: HelpKindView,
    /// The day it was given, in the county's calendar; 2014-01-01 to today.
    pub given_on: NaiveDate,
    /// Fen, when the help has a sum.
    #[oai(validator(minimum(value = "0"), maximum(value = "1000000000")))]
    pub amount_fen: Option<i64>,
    #[oai(validator(max_length = 500))]
    pub note: Option<String>,
}

#[derive(Multipart)]
#[oai(deny_unknown_fields)]
pub struct VisitUpload {
    /// The day of the visit, `YYYY-MM-DD` in the county's calendar; 2014-01-01 to today.
    pub visited_on: String,
    /// What the visit found, 1 to 500 characters.
    pub findings: String,
    /// A photo taken there: JPEG, PNG or WebP, as listing photos.
    pub photo: Option<Upload>,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AssignCadreRequest {
    /// An official whose area takes in the household's village; `null` clears it.
    pub user_id: Option<i64>,
}

#[derive(Object)]
#[oai(rename = "HelpRecord", skip_serializing_if_is_none)]
pub struct HelpRecordView {
    pub id: i64,
    pub household_id: i64,
    pub kind: HelpKindView,
    pub given_on: NaiveDate,
    pub amount_fen: Option<i64>,
    pub note: Option<String>,
    pub recorded_by: i64,
    pub created_at: DateTime<Utc>,
}

impl From<entities::help_record::Model> for HelpRecordView {
    fn from(h: entities::help_record::Model) -> Self {
        Self {
            id: h.id,
            household_id: h.household_id,
            kind: h.kind.into(),
            given_on: h.given_on,
            amount_fen: h.amount_fen,
            note: h.note,
            recorded_by: h.recorded_by,
            created_at: h.created_at,
        }
    }
}

#[derive(Object)]
#[oai(rename = "HouseholdVisit", skip_serializing_if_is_none)]
pub struct VisitView {
    pub id: i64,
    pub household_id: i64,
    pub visited_on: NaiveDate,
    pub findings: String,
    /// The photo's id: `GET /photos/{id}/{size}` serves it.
    pub photo_id: Option<String>,
    pub visited_by: i64,
    pub created_at: DateTime<Utc>,
}

impl From<entities::household_visit::Model> for VisitView {
    fn from(v: entities::household_visit::Model) -> Self {
        Self {
            id: v.id,
            household_id: v.household_id,
            visited_on: v.visited_on,
            findings: v.findings,
            photo_id: v.photo_id,
            visited_by: v.visited_by,
            created_at: v.created_at,
        }
    }
}

#[derive(Object)]
#[oai(rename = "ResponsibleCadre")]
pub struct CadreView {
    pub user_id: i64,
    pub name: String,
    pub role: RoleView,
}

impl From<Cadre> for CadreView {
    fn from(c: Cadre) -> Self {
        Self {
            user_id: c.user_id,
            name: c.name,
            role: c.role.into(),
        }
    }
}

#[derive(Object)]
#[oai(rename = "HelpFile", skip_serializing_if_is_none)]
pub struct HelpFileView {
    pub household_id: i64,
    /// 帮扶责任人, when one is named.
    pub responsible_cadre: Option<CadreView>,
    /// The help given, newest first.
    pub help: Vec<HelpRecordView>,
    /// The sums of the help given, in fen.
    pub help_fen: i64,
    /// The visits made, newest first.
    pub visits: Vec<VisitView>,
}

impl From<OnFile> for HelpFileView {
    fn from(f: OnFile) -> Self {
        Self {
            household_id: f.household.id,
            help_fen: f.help_fen(),
            responsible_cadre: f.cadre.map(Into::into),
            help: f.help.into_iter().map(Into::into).collect(),
            visits: f.visits.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(ApiResponse)]
pub enum RecordHelpResponse {
    /// The help as recorded (or what the same key recorded before).
    #[oai(status = 201)]
    Created(Json<HelpRecordView>),
}

#[derive(ApiResponse)]
pub enum RecordVisitResponse {
    /// The visit as recorded (or what the same key recorded before).
    #[oai(status = 201)]
    Created(Json<VisitView>),
}

#[derive(ApiResponse)]
pub enum HelpFileResponse {
    /// The responsible cadre, the help and the visits on file.
    #[oai(status = 200)]
    Ok(Json<HelpFileView>),
}

#[derive(ApiResponse)]
pub enum VisitsResponse {
    /// The visits, newest first.
    #[oai(status = 200)]
    Ok(Json<Vec<VisitView>>),
}

/// Households in one area: under monitoring now, and being identified.
#[derive(Object)]
#[oai(rename = "MonitoringAreaFigures")]
pub struct AreaFiguresView {
    pub code: String,
    pub name: String,
    pub monitored: u64,
    pub identifying: u64,
}

impl From<AreaFigures> for AreaFiguresView {
    fn from(a: AreaFigures) -> Self {
        Self {
            code: a.code,
            name: a.name,
            monitored: a.monitored,
            identifying: a.identifying,
        }
    }
}

/// A count under one name (a category, a risk type).
#[derive(Object)]
#[oai(rename = "MonitoringCount")]
pub struct CountView {
    pub name: String,
    pub count: u64,
}

#[derive(Object)]
#[oai(rename = "MonitoringFigures", skip_serializing_if_is_none)]
pub struct FiguresView {
    /// The area counted; absent for everywhere.
    pub area: Option<String>,
    /// The county's year the yearly figures count.
    pub year: i32,
    /// Under monitoring now: identified, risk not yet eliminated.
    pub monitored: u64,
    /// Being identified now.
    pub identifying: u64,
    /// Under monitoring now, by category (`unstable_exited`, `edge`, `sudden_hardship`).
    pub by_category: Vec<CountView>,
    /// Under monitoring now, by risk type; a household with two risks counts under each.
    pub by_risk: Vec<CountView>,
    pub by_township: Vec<AreaFiguresView>,
    pub by_village: Vec<AreaFiguresView>,
    /// Confirmed into monitoring this year.
    pub identified: u64,
    /// Monitored this year with help given this year.
    pub helped: u64,
    /// Risk marked eliminated this year.
    pub eliminated: u64,
    /// Exited households marked returned to poverty this year.
    pub returned: u64,
}

impl From<Figures> for FiguresView {
    fn from(f: Figures) -> Self {
        use sea_orm::ActiveEnum;
        Self {
            area: f.area,
            year: f.year,
            monitored: f.monitored,
            identifying: f.identifying,
            by_category: f
                .by_category
                .into_iter()
                .map(|(c, count)| CountView {
                    name: c.to_value(),
                    count,
                })
                .collect(),
            by_risk: f
                .by_risk
                .into_iter()
                .map(|(r, count)| CountView {
                    name: r.name().to_owned(),
                    count,
                })
                .collect(),
            by_township: f.by_township.into_iter().map(Into::into).collect(),
            by_village: f.by_village.into_iter().map(Into::into).collect(),
            identified: f.identified,
            helped: f.helped,
            eliminated: f.eliminated,
            returned: f.returned,
        }
    }
}

#[derive(ApiResponse)]
pub enum FiguresResponse {
    /// The area's figures.
    #[oai(status = 200)]
    Ok(Json<FiguresView>),
}

pub struct HelpApi;

#[OpenApi(tag = "ApiTags::Monitoring")]
impl HelpApi {
    /// Get the help and visits on file for a household
    ///
    /// Its responsible cadre (帮扶责任人), the help it was given and the visits made to it,
    /// newest first; for the officials of its area and admins.
    #[oai(
        path = "/households/:id/help",
        method = "get",
        operation_id = "get_household_help"
    )]
    async fn get_household_help(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> Result<HelpFileResponse, ApiError> {
        let file = help::on_file(state.db.conn(), &auth.0.actor, id.0).await?;
        Ok(HelpFileResponse::Ok(Json(file.into())))
    }

    /// Record help given to a household
    ///
    /// An official of the household's area records one piece of help: its kind, the day, the
    /// sum if it has one, and a note. Records are never changed afterwards; each is audited.
    #[oai(
        path = "/households/:id/help",
        method = "post",
        operation_id = "create_household_help"
    )]
    async fn create_household_help(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        id: Path<i64>,
        /// 1 to 64 letters, digits, `-` or `_`, new for each record the client means to make:
        /// the request sent again with the same key answers what the first one made and makes
        /// nothing new; the key with another request is refused (`request.idempotency_key_reused`).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<RecordHelpRequest>,
    ) -> Result<RecordHelpResponse, ApiError> {
        let b = body.0;
        let new = NewHelp {
            household_id: id.0,
            kind: b.kind.into(),
            given_on: b.given_on,
            amount_fen: b.amount_fen,
            note: b.note,
        };
        let (db, clock, actor) = (&state.db, &*state.clock, &auth.0.actor);
        let key = idempotency_key.0.as_deref();
        let record = help::record_help(db, clock, actor, new, key, &origin(req)).await?;
        Ok(RecordHelpResponse::Created(Json(record.into())))
    }

    /// List the visits to a household
    ///
    /// Newest first; for the officials of its area and admins.
    #[oai(
        path = "/households/:id/visits",
        method = "get",
        operation_id = "list_household_visits"
    )]
    async fn list_household_visits(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> Result<VisitsResponse, ApiError> {
        let file = help::on_file(state.db.conn(), &auth.0.actor, id.0).await?;
        Ok(VisitsResponse::Ok(Json(
            file.visits.into_iter().map(Into::into).collect(),
        )))
    }

    /// Record a visit to a household
    ///
    /// 走访: an official of the household's area records the day, what was found and, if one
    /// was taken, a photo (checked and stored as listing photos are). Audited; never changed.
    #[oai(
        path = "/households/:id/visits",
        method = "post",
        operation_id = "create_household_visit"
    )]
    async fn create_household_visit(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        id: Path<i64>,
        /// 1 to 64 letters, digits, `-` or `_`, new for each record the client means to make:
        /// the request sent again with the same key answers what the first one made and makes
        /// nothing new; the key with another request is refused (`request.idempotency_key_reused`).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        upload: VisitUpload,
    ) -> Result<RecordVisitResponse, ApiError> {
        let visited_on = NaiveDate::parse_from_str(upload.visited_on.trim(), "%Y-%m-%d")
            .map_err(|_| HelpError::Invalid(reasons::help_day(state.clock.today())))?;
        let photo = match upload.photo {
            Some(file) => {
                let declared = imaging::declared_format(file.content_type(), file.file_name());
                let bytes = file
                    .into_vec()
                    .await
                    .map_err(|_| ApiError::new(ErrorCode::RequestBodyTooLarge))?;
                (!bytes.is_empty()).then_some((bytes, declared))
            }
            None => None,
        };
        let new = NewVisit {
            household_id: id.0,
            visited_on,
            findings: upload.findings,
        };
        let visit = help::record_visit(
            &state.db,
            &*state.clock,
            &state.photos,
            &auth.0.actor,
            new,
            photo,
            idempotency_key.0.as_deref(),
            &origin(req),
        )
        .await?;
        Ok(RecordVisitResponse::Created(Json(visit.into())))
    }

    /// Get the monitoring figures of an area
    ///
    /// Households under monitoring by category, risk type, township and village, and those
    /// identified, helped, eliminated and returned to poverty in the county's year now; for the
    /// caller's own area, or a part of it named by `area_code`.
    #[oai(
        path = "/monitoring-figures",
        method = "get",
        operation_id = "get_monitoring_figures"
    )]
    async fn get_monitoring_figures(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// A village, township or county code inside the caller's area; absent, the caller's
        /// own area.
        area_code: Query<Option<String>>,
    ) -> Result<FiguresResponse, ApiError> {
        let asked = area_code
            .0
            .as_deref()
            .map(super::areas::parse_area_code)
            .transpose()?;
        let area = figures::area_for(&auth.0.actor, asked)?;
        let year = state.clock.this_year();
        let figures = figures::of(state.db.conn(), area.as_ref(), year).await?;
        Ok(FiguresResponse::Ok(Json(figures.into())))
    }

    /// Name a household's responsible cadre
    ///
    /// 帮扶责任人: a village cadre or township official of the household's area names an
    /// official whose own area takes in the household's village (`null` clears it). Audited.
    #[oai(
        path = "/households/:id/responsible-cadre",
        method = "put",
        operation_id = "update_responsible_cadre"
    )]
    async fn update_responsible_cadre(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        id: Path<i64>,
        body: JsonBody<AssignCadreRequest>,
    ) -> Result<HelpFileResponse, ApiError> {
        let file = help::assign_cadre(
            &state.db,
            &*state.clock,
            &auth.0.actor,
            id.0,
            body.0.user_id,
            &origin(req),
        )
        .await?;
        Ok(HelpFileResponse::Ok(Json(file.into())))
    }
}
