//! What the exit operations take and answer: request and response objects, their conversions
//! from and to the service's types, and each operation's responses.

use super::*;

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
    /// 村集体经济收入, fen per year; at most 100 million yuan, as for household incomes.
    #[oai(validator(minimum(value = "0"), maximum(value = "10000000000")))]
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
    /// The year's e-commerce income by how it was confirmed.
    pub ecommerce: EcommerceIncomeView,
}

/// A year's e-commerce income by how each completed order was confirmed, in fen. Everything
/// but `held_fen` is part of `income_fen`.
#[derive(Object)]
#[oai(rename = "EcommerceIncome")]
pub struct EcommerceIncomeView {
    /// Completed by a buyer with no tie to the household.
    pub by_buyer_fen: i64,
    /// Completed by an official on the buyer's behalf.
    pub by_official_fen: i64,
    /// Bought by someone close to the household (bound to it, its phone, or an official over
    /// its village) and confirmed by a second official of the township or county.
    pub by_second_official_fen: i64,
    /// Completed before how orders were confirmed was recorded.
    pub unrecorded_fen: i64,
    /// Bought by someone close to the household and not yet confirmed: not counted.
    pub held_fen: i64,
    /// Orders held for confirmation.
    pub held_orders: u64,
}

impl From<HouseholdAssessment> for HouseholdAssessmentView {
    fn from(a: HouseholdAssessment) -> Self {
        let e = &a.ecommerce;
        let ecommerce = EcommerceIncomeView {
            by_buyer_fen: e.by_buyer_fen,
            by_official_fen: e.by_official_fen,
            by_second_official_fen: e.by_second_official_fen,
            unrecorded_fen: e.unrecorded_fen,
            held_fen: e.held_fen,
            held_orders: e.held_orders,
        };
        Self {
            ecommerce,
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
    /// Absent for an objection a villager made on the public notice board.
    pub actor_user_id: Option<i64>,
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
    /// A household's responsible cadre, help and visits on file (on `GET`).
    pub help: Option<crate::http::api::help::HelpFileView>,
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
            help: None,
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
    Ok(StoredJson<ProgressView>),
}

#[derive(ApiResponse)]
pub enum ImportVillagesResponse {
    /// Dry run: the file was checked and nothing written; `problems` lists what to fix.
    #[oai(status = 200)]
    Checked(Json<VillageImportReportView>),
    /// Every change in the file was written.
    #[oai(status = 201)]
    Created(Json<VillageImportReportView>),
}

/// What a village import found, and whether it wrote.
#[derive(Object)]
#[oai(rename = "VillageImportReport", skip_serializing_if_is_none)]
pub struct VillageImportReportView {
    /// `csv` or `xlsx`, as read from the file's contents.
    pub format: Option<String>,
    /// Village rows in the file.
    pub villages: u64,
    /// Villages whose record the file changes.
    pub changed: u64,
    /// Villages the file brings as de-listed (`delist_source` `imported`).
    pub villages_delisted: u64,
    /// Whether the changes were written.
    pub committed: bool,
    /// The problems found, in row order (at most 1,000; `problem_count` counts them all):
    /// `missing_column`, `empty`, `required`, `invalid_value`, `duplicate_in_file`,
    /// `unknown_village`, `outside_area`, `delisted_here` (a de-listing on record here that
    /// the row contradicts) or `in_procedure` (a village whose procedure runs here, brought as
    /// de-listed).
    pub problems: Vec<ImportProblemView>,
    pub problem_count: u64,
    /// Headers that were not read.
    pub ignored_columns: Vec<String>,
    /// Rows taken otherwise than written, which still import: `in_procedure_as_not_delisted`,
    /// a village in its exit procedure imported as not de-listed.
    pub notices: Vec<ImportProblemView>,
    pub notice_count: u64,
}

impl From<VillageImportReport> for VillageImportReportView {
    fn from(report: VillageImportReport) -> Self {
        Self {
            format: report.format.map(str::to_owned),
            villages: report.villages as u64,
            changed: report.changed as u64,
            villages_delisted: report.villages_delisted as u64,
            committed: report.committed,
            problem_count: report.problem_count as u64,
            ignored_columns: report.ignored_columns,
            notice_count: report.notice_count as u64,
            problems: report.problems.into_iter().map(Into::into).collect(),
            notices: report.notices.into_iter().map(Into::into).collect(),
        }
    }
}
