//! De-listing: assessments, exit cases and progress, for officials of the area.

use chrono::{DateTime, Utc};
use poem::{Request, web::Data};
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use serde_json::json;

use super::{
    ApiTags, areas::parse_area_code, auth::BearerAuth, households::HouseholdStatusView,
    json::JsonBody, mirror_enum,
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
    },
};

mirror_enum! {
    /// One of 两不愁三保障 and safe water.
    CheckView as "AssessmentCheck" <=> entities::household_check::CheckKind {
        Food, Clothing, Education, Medical, Housing, Water
    }
}

mirror_enum! {
    /// A step of the exit procedure.
    ExitActionView as "ExitAction" <=> crate::service::exit::cases::ExitAction {
        Appraise, Verify, StartNotice, Object, Review, Approve, Announce, Reject
    }
}

mirror_enum! {
    /// Where an exit case stands.
    ExitStateView as "ExitState" <=> entities::exit_case::ExitState {
        Proposed, Appraised, Verified, PublicNotice, Reviewed, Approved, Announced, Rejected
    }
}

mirror_enum! {
    ExitSubjectView as "ExitSubject" <=> entities::exit_case::ExitSubject { Household, Village }
}

pub struct ExitApi;

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
    /// `exit_pending`.
    #[oai(path = "/exit-cases", method = "post", operation_id = "propose_exit")]
    async fn propose_exit(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        req: &Request,
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
        let record = cases::propose(
            &state.db,
            &state.exit_rules,
            &auth.0.actor,
            subject,
            b.year,
            &origin(req),
        )
        .await?;
        Ok(ProposeExitResponse::Created(Json(record.into())))
    }

    /// Get an exit case
    ///
    /// The case, every step it took, and what may happen next now.
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
        let record = cases::get(&state.db, &auth.0.actor, id.0).await?;
        Ok(ExitCaseResponse::Ok(Json(record.into())))
    }

    /// Take a step of the exit procedure
    ///
    /// `appraise` (village cadre), `verify`, `start_notice` (village cadre or township),
    /// `object` during the notice (with a reason; back to verification), `review` (township,
    /// once the notice has ended), `approve` and `announce` (county), or `reject` (with a
    /// reason). A step the case's state does not allow now answers 409 with the allowed ones.
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
        let household =
            cases::mark_returned(&state.db, &auth.0.actor, id.0, &body.0.reason, &origin(req))
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
        let found = progress::progress(
            &state.db,
            &state.cache,
            &state.exit_rules,
            &auth.0.actor,
            area,
        )
        .await?;
        Ok(ProgressResponse::Ok(Json(found.into())))
    }
}

/// A check's result.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct RecordCheckRequest {
    pub passed: bool,
    #[oai(validator(max_length = 500))]
    pub note: Option<String>,
    /// A photo or document that shows it.
    #[oai(validator(max_length = 500))]
    pub evidence_url: Option<String>,
}

/// A village's exit indicators for a year.
#[derive(Object)]
#[oai(rename = "VillageIndicators", skip_serializing_if_is_none)]
pub struct VillageIndicatorsInput {
    /// 通硬化路
    pub hardened_road: bool,
    /// 安全饮水
    pub safe_water: bool,
    /// 通动力电
    pub power: bool,
    /// 通宽带
    pub broadband: bool,
    /// 有卫生室和合格村医
    pub clinic: bool,
    /// 有综合性文化服务中心
    pub cultural_room: bool,
    /// 村集体经济收入, fen per year.
    #[oai(validator(minimum(value = "0")))]
    pub collective_income_fen: i64,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ProposeExitRequest {
    pub subject: ExitSubjectView,
    /// For a household case.
    pub household_id: Option<i64>,
    /// For a village case.
    #[oai(validator(max_length = 12))]
    pub village_code: Option<String>,
    /// The assessment year the case is judged on.
    pub year: i32,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ExitStepRequest {
    pub action: ExitActionView,
    /// Required for `object` and `reject`.
    #[oai(validator(max_length = 500))]
    pub reason: Option<String>,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ReturnRequest {
    #[oai(validator(min_length = 1, max_length = 500))]
    pub reason: String,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct HouseholdStatusChange {
    pub household_id: i64,
    pub status: HouseholdStatusView,
}

/// A criterion that is not met.
#[derive(Object)]
#[oai(rename = "FailingCriterion", skip_serializing_if_is_none)]
pub struct FailingView {
    /// `no_income_line`, `income_at_or_below_line`, `check_missing`, `check_failed`,
    /// `members_uninsured`, `incidence_too_high`, `indicators_missing` or `indicator_unmet`.
    pub criterion: String,
    pub check: Option<String>,
    pub indicator: Option<String>,
    pub per_capita_fen: Option<i64>,
    pub line_fen: Option<i64>,
    pub incidence_bp: Option<i64>,
    pub threshold_bp: Option<i64>,
    pub count: Option<u64>,
}

impl From<&Failing> for FailingView {
    fn from(f: &Failing) -> Self {
        let view = |criterion: &str| FailingView {
            criterion: criterion.to_owned(),
            check: None,
            indicator: None,
            per_capita_fen: None,
            line_fen: None,
            incidence_bp: None,
            threshold_bp: None,
            count: None,
        };
        match f {
            Failing::NoIncomeLine => view("no_income_line"),
            Failing::IncomeAtOrBelowLine {
                per_capita_fen,
                line_fen,
            } => FailingView {
                per_capita_fen: Some(*per_capita_fen),
                line_fen: Some(*line_fen),
                ..view("income_at_or_below_line")
            },
            Failing::CheckMissing { check } => FailingView {
                check: Some((*check).to_owned()),
                ..view("check_missing")
            },
            Failing::CheckFailed { check } => FailingView {
                check: Some((*check).to_owned()),
                ..view("check_failed")
            },
            Failing::MembersUninsured { count } => FailingView {
                count: Some(*count as u64),
                ..view("members_uninsured")
            },
            Failing::IncidenceTooHigh {
                incidence_bp,
                threshold_bp,
            } => FailingView {
                incidence_bp: Some(*incidence_bp),
                threshold_bp: Some(*threshold_bp),
                ..view("incidence_too_high")
            },
            Failing::IndicatorsMissing => view("indicators_missing"),
            Failing::IndicatorUnmet { indicator } => FailingView {
                indicator: Some((*indicator).to_owned()),
                ..view("indicator_unmet")
            },
        }
    }
}

/// One recorded check.
#[derive(Object)]
#[oai(rename = "RecordedCheck", skip_serializing_if_is_none)]
pub struct RecordedCheckView {
    pub check: CheckView,
    /// `None` when not recorded for the year.
    pub passed: Option<bool>,
    pub note: Option<String>,
    pub evidence_url: Option<String>,
    pub checked_by: Option<i64>,
    pub checked_at: Option<DateTime<Utc>>,
}

#[derive(Object)]
#[oai(rename = "HouseholdAssessment", skip_serializing_if_is_none)]
pub struct HouseholdAssessmentView {
    pub household_id: i64,
    pub year: i32,
    pub members: u64,
    pub income_fen: i64,
    pub per_capita_fen: i64,
    /// The year's income line per person, in fen.
    pub line_fen: Option<i64>,
    pub checks: Vec<RecordedCheckView>,
    pub qualifies: bool,
    pub failing: Vec<FailingView>,
}

impl From<HouseholdAssessment> for HouseholdAssessmentView {
    fn from(a: HouseholdAssessment) -> Self {
        Self {
            household_id: a.household_id,
            year: a.year,
            members: a.members as u64,
            income_fen: a.income_fen,
            per_capita_fen: a.per_capita_fen,
            line_fen: a.line_fen,
            qualifies: a.qualifies(),
            failing: a.failing.iter().map(Into::into).collect(),
            checks: a
                .checks
                .into_iter()
                .map(|c| RecordedCheckView {
                    check: c.check.into(),
                    passed: c.record.as_ref().map(|r| r.passed),
                    note: c.record.as_ref().and_then(|r| r.note.clone()),
                    evidence_url: c.record.as_ref().and_then(|r| r.evidence_url.clone()),
                    checked_by: c.record.as_ref().map(|r| r.checked_by),
                    checked_at: c.record.as_ref().map(|r| r.checked_at),
                })
                .collect(),
        }
    }
}

#[derive(Object)]
#[oai(rename = "VillageAssessment", skip_serializing_if_is_none)]
pub struct VillageAssessmentView {
    pub village_code: String,
    pub year: i32,
    /// Registered people still poor, pending exit or returned.
    pub poor_people: i64,
    pub rural_population: i64,
    /// Poverty incidence in basis points (100 = 1%).
    pub incidence_bp: i64,
    pub threshold_bp: i64,
    pub indicators: Option<VillageIndicatorsInput>,
    pub qualifies: bool,
    pub failing: Vec<FailingView>,
}

impl From<VillageAssessment> for VillageAssessmentView {
    fn from(a: VillageAssessment) -> Self {
        Self {
            qualifies: a.qualifies(),
            failing: a.failing.iter().map(Into::into).collect(),
            village_code: a.village_code,
            year: a.year,
            poor_people: a.poor_people,
            rural_population: a.rural_population,
            incidence_bp: a.incidence_bp,
            threshold_bp: a.threshold_bp,
            indicators: a.indicators.map(|i| VillageIndicatorsInput {
                hardened_road: i.hardened_road,
                safe_water: i.safe_water,
                power: i.power,
                broadband: i.broadband,
                clinic: i.clinic,
                cultural_room: i.cultural_room,
                collective_income_fen: i.collective_income_fen,
            }),
        }
    }
}

/// One step an exit case took.
#[derive(Object)]
#[oai(rename = "ExitCaseStep", skip_serializing_if_is_none)]
pub struct ExitStepView {
    pub action: String,
    pub from_state: Option<ExitStateView>,
    pub to_state: ExitStateView,
    pub actor_user_id: i64,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Object)]
#[oai(rename = "ExitCase", skip_serializing_if_is_none)]
pub struct ExitCaseView {
    pub id: i64,
    pub subject: ExitSubjectView,
    pub household_id: Option<i64>,
    pub village_code: String,
    pub year: i32,
    pub state: ExitStateView,
    pub open: bool,
    pub notice_ends_at: Option<DateTime<Utc>>,
    /// Whether the public notice is running now.
    pub notice_running: bool,
    /// The steps the procedure allows now (the caller's role may allow fewer).
    pub next_actions: Vec<ExitActionView>,
    pub steps: Vec<ExitStepView>,
}

impl From<CaseRecord> for ExitCaseView {
    fn from(r: CaseRecord) -> Self {
        Self {
            id: r.case.id,
            subject: r.case.subject.into(),
            household_id: r.case.household_id,
            village_code: r.case.village_code,
            year: r.case.year,
            state: r.case.state.into(),
            open: r.case.open,
            notice_ends_at: r.case.notice_ends_at,
            notice_running: r.notice_running,
            next_actions: r.next_actions.into_iter().map(Into::into).collect(),
            steps: r
                .steps
                .into_iter()
                .map(|s| ExitStepView {
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
#[oai(rename = "VillageCounts", skip_serializing_if_is_none)]
pub struct VillageCountsView {
    /// Registered poor villages.
    pub poor: u32,
    pub delisted: u32,
    pub in_progress: u32,
    pub not_started: u32,
}

#[derive(Object)]
#[oai(rename = "PeopleCounts", skip_serializing_if_is_none)]
pub struct PeopleCountsView {
    /// Members of registered households.
    pub registered: u64,
    /// Members of households that exited.
    pub lifted_out: u64,
    /// Members of households still poor, pending exit or returned.
    pub still_poor: u64,
    pub households: u64,
    pub households_exited: u64,
}

#[derive(Object)]
#[oai(rename = "PartProgress", skip_serializing_if_is_none)]
pub struct PartProgressView {
    pub code: String,
    pub name: String,
    pub villages: VillageCountsView,
    pub people: PeopleCountsView,
}

#[derive(Object)]
#[oai(rename = "VillageIncidence", skip_serializing_if_is_none)]
pub struct VillageIncidenceView {
    pub code: String,
    pub name: String,
    /// `delisted`, `in_progress` or `not_started`.
    pub stage: String,
    pub poor_people: u64,
    pub rural_population: i64,
    /// Basis points (100 = 1%).
    pub incidence_bp: i64,
}

/// A cumulative target by the end of a year.
#[derive(Object)]
#[oai(rename = "YearGoal", skip_serializing_if_is_none)]
pub struct YearGoalView {
    pub year: i32,
    /// Poor villages de-listed by the end of the year.
    pub villages: Option<i64>,
    /// People lifted out by the end of the year.
    pub people: Option<i64>,
}

/// The area's numbers on one day.
#[derive(Object)]
#[oai(rename = "ProgressSnapshot", skip_serializing_if_is_none)]
pub struct SnapshotPointView {
    pub day: chrono::NaiveDate,
    pub villages_delisted: u32,
    pub villages_in_progress: u32,
    pub people_lifted_out: u64,
    pub people_still_poor: u64,
}

/// When the goals are reached at the pace of the last 30 days of snapshots.
#[derive(Object)]
#[oai(rename = "ProgressProjection", skip_serializing_if_is_none)]
pub struct ProjectionView {
    /// Days of history the pace is measured over (0: no history yet).
    pub basis_days: i64,
    pub people_per_day: Option<f64>,
    pub villages_per_day: Option<f64>,
    /// Absent without history or without progress in it; today when already reached.
    pub people_goal_date: Option<chrono::NaiveDate>,
    pub villages_goal_date: Option<chrono::NaiveDate>,
}

#[derive(Object)]
#[oai(rename = "Progress", skip_serializing_if_is_none)]
pub struct ProgressView {
    pub area_code: String,
    pub area_name: String,
    pub level: String,
    pub goal_villages: u32,
    pub goal_people: u64,
    /// The county's yearly targets on the way (county only).
    pub yearly_goals: Vec<YearGoalView>,
    pub villages: VillageCountsView,
    pub people: PeopleCountsView,
    /// Townships of a county, villages of a township.
    pub parts: Vec<PartProgressView>,
    /// Poor villages not yet de-listed, highest incidence first.
    pub villages_by_incidence: Vec<VillageIncidenceView>,
    /// Daily snapshots of this area over the last year, oldest first (county and townships).
    pub history: Vec<SnapshotPointView>,
    pub projection: ProjectionView,
    pub computed_at: DateTime<Utc>,
    /// The last recorded change the numbers include.
    pub as_of_change: i64,
}

impl From<VillageCounts> for VillageCountsView {
    fn from(c: VillageCounts) -> Self {
        Self {
            poor: c.poor,
            delisted: c.delisted,
            in_progress: c.in_progress,
            not_started: c.not_started,
        }
    }
}

impl From<PeopleCounts> for PeopleCountsView {
    fn from(c: PeopleCounts) -> Self {
        Self {
            registered: c.registered,
            lifted_out: c.lifted_out,
            still_poor: c.still_poor,
            households: c.households,
            households_exited: c.households_exited,
        }
    }
}

impl From<PartProgress> for PartProgressView {
    fn from(p: PartProgress) -> Self {
        Self {
            code: p.code,
            name: p.name,
            villages: p.villages.into(),
            people: p.people.into(),
        }
    }
}

impl From<VillageIncidence> for VillageIncidenceView {
    fn from(v: VillageIncidence) -> Self {
        Self {
            stage: match v.stage {
                VillageStage::Delisted => "delisted",
                VillageStage::InProgress => "in_progress",
                VillageStage::NotStarted => "not_started",
            }
            .to_owned(),
            code: v.code,
            name: v.name,
            poor_people: v.poor_people,
            rural_population: v.rural_population,
            incidence_bp: v.incidence_bp,
        }
    }
}

impl From<Progress> for ProgressView {
    fn from(p: Progress) -> Self {
        Self {
            area_code: p.area_code,
            area_name: p.area_name,
            level: p.level,
            goal_villages: p.goal_villages,
            goal_people: p.goal_people,
            yearly_goals: p
                .yearly_goals
                .into_iter()
                .map(|g| YearGoalView {
                    year: g.year,
                    villages: g.villages,
                    people: g.people,
                })
                .collect(),
            villages: p.villages.into(),
            people: p.people.into(),
            parts: p.parts.into_iter().map(Into::into).collect(),
            villages_by_incidence: p
                .villages_by_incidence
                .into_iter()
                .map(Into::into)
                .collect(),
            history: p
                .history
                .into_iter()
                .map(|h| SnapshotPointView {
                    day: h.day,
                    villages_delisted: h.villages_delisted,
                    villages_in_progress: h.villages_in_progress,
                    people_lifted_out: h.people_lifted_out,
                    people_still_poor: h.people_still_poor,
                })
                .collect(),
            projection: ProjectionView {
                basis_days: p.projection.basis_days,
                people_per_day: p.projection.people_per_day,
                villages_per_day: p.projection.villages_per_day,
                people_goal_date: p.projection.people_goal_date,
                villages_goal_date: p.projection.villages_goal_date,
            },
            computed_at: p.computed_at,
            as_of_change: p.as_of_change,
        }
    }
}

#[derive(ApiResponse)]
pub enum HouseholdAssessmentResponse {
    /// The assessment as the records stand.
    #[oai(status = 200)]
    Ok(Json<HouseholdAssessmentView>),
}

#[derive(ApiResponse)]
pub enum VillageAssessmentResponse {
    /// The assessment as the records stand.
    #[oai(status = 200)]
    Ok(Json<VillageAssessmentView>),
}

#[derive(ApiResponse)]
pub enum ProposeExitResponse {
    /// The new case.
    #[oai(status = 201)]
    Created(Json<ExitCaseView>),
}

#[derive(ApiResponse)]
pub enum ExitCaseResponse {
    /// The case as it now stands.
    #[oai(status = 200)]
    Ok(Json<ExitCaseView>),
}

#[derive(ApiResponse)]
pub enum ReturnResponse {
    /// The household's new status.
    #[oai(status = 200)]
    Ok(Json<HouseholdStatusChange>),
}

#[derive(ApiResponse)]
pub enum ProgressResponse {
    /// The numbers, counted from the records.
    #[oai(status = 200)]
    Ok(Json<ProgressView>),
}
