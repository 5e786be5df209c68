//! Return-to-poverty monitoring: households under monitoring and the steps of their two
//! procedures (identification, risk elimination), for the officials of their area.

use chrono::{DateTime, Utc};
use poem::{Request, web::Data};
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Header, Path},
    payload::Json,
};

use super::{ApiTags, auth::BearerAuth, json::JsonBody, mirror_enum};
use crate::{
    app::AppState,
    http::{caller::origin, error::ApiError},
    service::monitoring::{
        RiskType,
        cases::{self, CaseRecord, MonitoringRecord, NewMonitoring, StepBy},
        help,
    },
};

mirror_enum! {
    /// The three kinds of monitored households: 脱贫不稳定户, 边缘易致贫户, 突发严重困难户.
    MonitoringCategoryView as "MonitoringCategory" <=> entities::monitored_household::MonitoringCategory {
        UnstableExited, Edge, SuddenHardship
    }
}

mirror_enum! {
    /// How the risk came to light: the household's application, a cadre's visit, a sector's
    /// data, or the platform's own warnings.
    DiscoveryChannelView as "DiscoveryChannel" <=> entities::monitored_household::DiscoveryChannel {
        Application, CadreVisit, SectorData, Warning
    }
}

mirror_enum! {
    /// Where a monitored household stands.
    MonitoringStatusView as "MonitoringStatus" <=> entities::monitored_household::MonitoringStatus {
        Identifying, Monitored, Eliminated, NotIdentified
    }
}

mirror_enum! {
    /// Which procedure a case belongs to.
    MonitoringProcedureView as "MonitoringProcedure" <=> entities::monitoring_case::MonitoringProcedure {
        Identification, Elimination
    }
}

mirror_enum! {
    /// Where a monitoring case stands; each procedure uses its own states.
    MonitoringStateView as "MonitoringState" <=> entities::monitoring_case::MonitoringState {
        Warning, Proposed, Checked, Authorized, Appraised, PublicNotice, Reviewed, Confirmed,
        Eliminated, Rejected
    }
}

mirror_enum! {
    /// A step of a monitoring procedure.
    MonitoringActionView as "MonitoringAction" <=> crate::service::monitoring::cases::MonitoringAction {
        Check, Authorize, Appraise, StartNotice, Object, Review, Confirm, Eliminate, Reject
    }
}

mirror_enum! {
    /// What put the household at risk.
    RiskTypeView as "RiskType" <=> crate::service::monitoring::RiskType {
        Illness, Disability, Disaster, Accident, UnstableWork, FailedBusiness, Schooling, Other
    }
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct OpenMonitoringRequest {
    pub household_id: i64,
    pub category: MonitoringCategoryView,
    /// At least one.
    #[oai(validator(min_items = 1, max_items = 8))]
    pub risk_types: Vec<RiskTypeView>,
    pub channel: DiscoveryChannelView,
    /// The year the risk was found; this year or an earlier one with a monitoring line.
    pub year: i32,
    /// What happened.
    #[oai(validator(max_length = 500))]
    pub note: Option<String>,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ProposeEliminationRequest {
    /// The year whose income and checks the case is judged on.
    pub year: i32,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct MonitoringStepRequest {
    pub action: MonitoringActionView,
    /// Required for `object` and `reject`.
    #[oai(validator(max_length = 500))]
    pub reason: Option<String>,
}

#[derive(Object)]
#[oai(rename = "MonitoringStep", skip_serializing_if_is_none)]
pub struct MonitoringStepView {
    pub action: String,
    pub from_state: Option<MonitoringStateView>,
    pub to_state: MonitoringStateView,
    /// Absent for an objection a villager made on the public notice board.
    pub actor_user_id: Option<i64>,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Object)]
#[oai(rename = "MonitoringCase", skip_serializing_if_is_none)]
pub struct MonitoringCaseView {
    pub id: i64,
    pub procedure: MonitoringProcedureView,
    pub year: i32,
    pub state: MonitoringStateView,
    pub open: bool,
    pub notice_ends_at: Option<DateTime<Utc>>,
    /// Whether the village notice is running now.
    pub notice_running: bool,
    /// The steps the procedure allows now (the caller's role may allow fewer).
    pub next_actions: Vec<MonitoringActionView>,
    pub steps: Vec<MonitoringStepView>,
}

impl From<CaseRecord> for MonitoringCaseView {
    fn from(r: CaseRecord) -> Self {
        Self {
            id: r.case.id,
            procedure: r.case.procedure.into(),
            year: r.case.year,
            state: r.case.state.into(),
            open: r.case.open,
            notice_ends_at: r.case.notice_ends_at,
            notice_running: r.notice_running,
            next_actions: r.next_actions.into_iter().map(Into::into).collect(),
            steps: r
                .steps
                .into_iter()
                .map(|s| MonitoringStepView {
                    action: s.action,
                    from_state: s.from_state.map(Into::into),
                    to_state: s.to_state.into(),
                    actor_user_id: s.actor_user_id,
                    reason: s.reason,
                    at: s.at,
                })
                .collect(),
        }
    }
}

#[derive(Object)]
#[oai(rename = "MonitoredHousehold", skip_serializing_if_is_none)]
pub struct MonitoredHouseholdView {
    pub id: i64,
    pub household_id: i64,
    pub village_code: String,
    pub category: MonitoringCategoryView,
    pub risk_types: Vec<RiskTypeView>,
    pub channel: DiscoveryChannelView,
    pub year: i32,
    pub status: MonitoringStatusView,
    /// Until the risk is eliminated or the household is not identified.
    pub open: bool,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Every case, oldest first.
    pub cases: Vec<MonitoringCaseView>,
    /// The responsible cadre, help and visits on file for the household (on `GET`).
    pub help: Option<super::help::HelpFileView>,
}

impl From<MonitoringRecord> for MonitoredHouseholdView {
    fn from(r: MonitoringRecord) -> Self {
        let m = r.monitored;
        Self {
            id: m.id,
            household_id: m.household_id,
            village_code: m.village_code,
            category: m.category.into(),
            risk_types: RiskType::split(&m.risk_types)
                .into_iter()
                .map(Into::into)
                .collect(),
            channel: m.channel.into(),
            year: m.year,
            status: m.status.into(),
            open: m.open,
            note: m.note,
            created_at: m.created_at,
            cases: r.cases.into_iter().map(Into::into).collect(),
            help: None,
        }
    }
}

#[derive(ApiResponse)]
pub enum CreateMonitoringResponse {
    /// The record and its identification case at `warning` (or what the same key made before).
    #[oai(status = 201)]
    Created(Json<MonitoredHouseholdView>),
}

#[derive(ApiResponse)]
pub enum MonitoringResponse {
    /// The monitored household and its cases as they now stand.
    #[oai(status = 200)]
    Ok(Json<MonitoredHouseholdView>),
}

pub struct MonitoringApi;

#[OpenApi(tag = "ApiTags::Monitoring")]
impl MonitoringApi {
    /// Start monitoring a household
    ///
    /// A village cadre or township official puts a registered household of their area forward
    /// (防返贫监测): its category, risk types, how the risk came to light and the year. Its
    /// identification starts at `warning`. A household monitored already answers 409
    /// `monitoring.open`; one whose risk was eliminated may be monitored again.
    #[oai(
        path = "/monitoring",
        method = "post",
        operation_id = "create_monitoring"
    )]
    async fn create_monitoring(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        /// 1 to 64 letters, digits, `-` or `_`, new for each record the client means to make:
        /// the request sent again with the same key answers what the first one made and makes
        /// nothing new; the key with another request is refused (`request.idempotency_key_reused`).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<OpenMonitoringRequest>,
    ) -> Result<CreateMonitoringResponse, ApiError> {
        let b = body.0;
        let new = NewMonitoring {
            household_id: b.household_id,
            category: b.category.into(),
            risk_types: b.risk_types.into_iter().map(Into::into).collect(),
            channel: b.channel.into(),
            year: b.year,
            note: b.note,
        };
        let record = cases::open(
            &state.db,
            &*state.clock,
            &state.exit_rules,
            &auth.0.actor,
            new,
            idempotency_key.0.as_deref(),
            &origin(req),
        )
        .await?;
        Ok(CreateMonitoringResponse::Created(Json(record.into())))
    }

    /// Get a monitored household
    ///
    /// The record and every case of its procedures with their steps, and the help and visits
    /// on file for the household; for the officials of its area and for admins.
    #[oai(
        path = "/monitoring/:id",
        method = "get",
        operation_id = "get_monitoring"
    )]
    async fn get_monitoring(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> Result<MonitoringResponse, ApiError> {
        let actor = &auth.0.actor;
        let record = cases::get(&state.db, &*state.clock, actor, id.0).await?;
        let household_id = record.monitored.household_id;
        let file = help::on_file(state.db.conn(), actor, household_id).await?;
        let mut view = MonitoredHouseholdView::from(record);
        view.help = Some(file.into());
        Ok(MonitoringResponse::Ok(Json(view)))
    }

    /// Propose eliminating a household's risk
    ///
    /// 风险消除: for a monitored household whose income per person in the year is above the
    /// monitoring line and whose guarantees and safe water hold (409 `monitoring.not_qualified`
    /// lists what fails). Opens its elimination case at `proposed`.
    #[oai(
        path = "/monitoring/:id/elimination",
        method = "post",
        operation_id = "propose_elimination"
    )]
    async fn propose_elimination(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        id: Path<i64>,
        body: JsonBody<ProposeEliminationRequest>,
    ) -> Result<CreateMonitoringResponse, ApiError> {
        let record = cases::propose_elimination(
            &state.db,
            &*state.clock,
            &state.exit_rules,
            &auth.0.actor,
            id.0,
            body.0.year,
            &origin(req),
        )
        .await?;
        Ok(CreateMonitoringResponse::Created(Json(record.into())))
    }

    /// Take a step of a monitoring procedure
    ///
    /// Identification: `check` and `authorize` (village cadre or township), `appraise` (village
    /// cadre), `start_notice` (village cadre or township), `object` during the notice (with a
    /// reason; back to `warning`), `review` (township, once the notice has ended), `confirm`
    /// (county). Elimination: `check`, `appraise`, `start_notice`, `object` (back to
    /// `proposed`), `review`, `eliminate` (county). `reject` with a reason. A step the case's
    /// state does not allow now answers 409 with the allowed ones.
    #[oai(
        path = "/monitoring-cases/:id/steps",
        method = "post",
        operation_id = "create_monitoring_step"
    )]
    async fn create_monitoring_step(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
        id: Path<i64>,
        body: JsonBody<MonitoringStepRequest>,
    ) -> Result<MonitoringResponse, ApiError> {
        let b = body.0;
        let record = cases::transition(
            &state.db,
            &*state.clock,
            &state.exit_rules,
            StepBy::Official(&auth.0.actor),
            id.0,
            b.action.into(),
            b.reason,
            &origin(req),
        )
        .await?;
        Ok(MonitoringResponse::Ok(Json(record.into())))
    }
}
