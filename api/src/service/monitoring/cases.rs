//! The two monitoring procedures, each as one transition table in the exit procedure's style:
//! identification (监测对象识别) and risk elimination (风险消除). Every step checks the actor's
//! role and area, records who, when and why, and is audited in the same transaction. The
//! village notice ends by the clock, judged on every request from the stored end time:
//! objections are taken only while it runs, and the township reviews only after it ends. An
//! objection returns the case to the home check (入户核实).

use chrono::{DateTime, Utc};
use entities::{
    household::{self, HouseholdStatus},
    monitored_household::{self, DiscoveryChannel, MonitoringCategory, MonitoringStatus},
    monitoring_case::{self, MonitoringProcedure, MonitoringState},
    monitoring_case_step,
    user::Role,
};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;

use super::{MonitoringError, RiskType};
use crate::{
    domain::{
        AreaCode,
        county_time::{self, Clock},
    },
    infra::db::Database,
    service::{
        audit::{self, NewAuditEntry},
        exit::{
            assessment::{self, Failing},
            household_for,
            rules::ExitRules,
        },
        idempotency::{self, Claim, Kept},
        policy::{Action, Actor},
        reasons,
        users::Origin,
    },
};

/// What is done to a monitoring case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitoringAction {
    /// 入户核实: the cadre visited and checked the household's situation.
    Check,
    /// 农户授权承诺: the household authorised the check of its data (identification).
    Authorize,
    /// 民主评议
    Appraise,
    /// 村内公示: publish the notice; it runs for the configured days.
    StartNotice,
    /// An objection during the notice: back to the home check.
    Object,
    /// 乡镇审核, once the notice has ended.
    Review,
    /// 县级确定: the household is identified and monitored.
    Confirm,
    /// 县级确认: the risk is marked eliminated.
    Eliminate,
    Reject,
}

impl MonitoringAction {
    pub const ALL: [MonitoringAction; 9] = [
        MonitoringAction::Check,
        MonitoringAction::Authorize,
        MonitoringAction::Appraise,
        MonitoringAction::StartNotice,
        MonitoringAction::Object,
        MonitoringAction::Review,
        MonitoringAction::Confirm,
        MonitoringAction::Eliminate,
        MonitoringAction::Reject,
    ];

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            MonitoringAction::Check => "check",
            MonitoringAction::Authorize => "authorize",
            MonitoringAction::Appraise => "appraise",
            MonitoringAction::StartNotice => "start_notice",
            MonitoringAction::Object => "object",
            MonitoringAction::Review => "review",
            MonitoringAction::Confirm => "confirm",
            MonitoringAction::Eliminate => "eliminate",
            MonitoringAction::Reject => "reject",
        }
    }
}

/// When, relative to the village notice, a step may be taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NoticeTiming {
    Any,
    /// Only while the notice runs.
    During,
    /// Only once it has ended.
    After,
}

struct Transition {
    action: MonitoringAction,
    from: &'static [MonitoringState],
    to: MonitoringState,
    roles: &'static [Role],
    timing: NoticeTiming,
    /// Forward steps of an elimination re-check that the risk is gone.
    requalify: bool,
    needs_reason: bool,
}

use MonitoringState::*;
use Role::{CountyOfficial, TownshipOfficial, VillageCadre};

const OFFICIALS: &[Role] = &[VillageCadre, TownshipOfficial, CountyOfficial];
const VILLAGE_OR_TOWNSHIP: &[Role] = &[VillageCadre, TownshipOfficial];

/// Identification, in one place: warning → home check → the household's authorisation →
/// democratic appraisal → village notice → township review → county decision.
const IDENTIFICATION: &[Transition] = &[
    Transition {
        action: MonitoringAction::Check,
        from: &[Warning],
        to: Checked,
        roles: VILLAGE_OR_TOWNSHIP,
        timing: NoticeTiming::Any,
        requalify: false,
        needs_reason: false,
    },
    Transition {
        action: MonitoringAction::Authorize,
        from: &[Checked],
        to: Authorized,
        roles: VILLAGE_OR_TOWNSHIP,
        timing: NoticeTiming::Any,
        requalify: false,
        needs_reason: false,
    },
    Transition {
        action: MonitoringAction::Appraise,
        from: &[Authorized],
        to: Appraised,
        roles: &[VillageCadre],
        timing: NoticeTiming::Any,
        requalify: false,
        needs_reason: false,
    },
    Transition {
        action: MonitoringAction::StartNotice,
        from: &[Appraised],
        to: PublicNotice,
        roles: VILLAGE_OR_TOWNSHIP,
        timing: NoticeTiming::Any,
        requalify: false,
        needs_reason: false,
    },
    Transition {
        action: MonitoringAction::Object,
        from: &[PublicNotice],
        to: Warning,
        roles: OFFICIALS,
        timing: NoticeTiming::During,
        requalify: false,
        needs_reason: true,
    },
    Transition {
        action: MonitoringAction::Review,
        from: &[PublicNotice],
        to: Reviewed,
        roles: &[TownshipOfficial],
        timing: NoticeTiming::After,
        requalify: false,
        needs_reason: false,
    },
    Transition {
        action: MonitoringAction::Confirm,
        from: &[Reviewed],
        to: Confirmed,
        roles: &[CountyOfficial],
        timing: NoticeTiming::Any,
        requalify: false,
        needs_reason: false,
    },
    Transition {
        action: MonitoringAction::Reject,
        from: &[Warning, Checked, Authorized, Appraised, PublicNotice],
        to: Rejected,
        roles: OFFICIALS,
        timing: NoticeTiming::Any,
        requalify: false,
        needs_reason: true,
    },
    Transition {
        action: MonitoringAction::Reject,
        from: &[Reviewed],
        to: Rejected,
        roles: &[TownshipOfficial, CountyOfficial],
        timing: NoticeTiming::Any,
        requalify: false,
        needs_reason: true,
    },
];

/// Risk elimination, in one place: proposed → home check → democratic appraisal → village
/// notice → township review → county confirmation. Forward steps re-check that income stays
/// above the monitoring line and the guarantees and safe water hold.
const ELIMINATION: &[Transition] = &[
    Transition {
        action: MonitoringAction::Check,
        from: &[Proposed],
        to: Checked,
        roles: VILLAGE_OR_TOWNSHIP,
        timing: NoticeTiming::Any,
        requalify: true,
        needs_reason: false,
    },
    Transition {
        action: MonitoringAction::Appraise,
        from: &[Checked],
        to: Appraised,
        roles: &[VillageCadre],
        timing: NoticeTiming::Any,
        requalify: true,
        needs_reason: false,
    },
    Transition {
        action: MonitoringAction::StartNotice,
        from: &[Appraised],
        to: PublicNotice,
        roles: VILLAGE_OR_TOWNSHIP,
        timing: NoticeTiming::Any,
        requalify: true,
        needs_reason: false,
    },
    Transition {
        action: MonitoringAction::Object,
        from: &[PublicNotice],
        to: Proposed,
        roles: OFFICIALS,
        timing: NoticeTiming::During,
        requalify: false,
        needs_reason: true,
    },
    Transition {
        action: MonitoringAction::Review,
        from: &[PublicNotice],
        to: Reviewed,
        roles: &[TownshipOfficial],
        timing: NoticeTiming::After,
        requalify: true,
        needs_reason: false,
    },
    Transition {
        action: MonitoringAction::Eliminate,
        from: &[Reviewed],
        to: Eliminated,
        roles: &[CountyOfficial],
        timing: NoticeTiming::Any,
        requalify: true,
        needs_reason: false,
    },
    Transition {
        action: MonitoringAction::Reject,
        from: &[Proposed, Checked, Appraised, PublicNotice],
        to: Rejected,
        roles: OFFICIALS,
        timing: NoticeTiming::Any,
        requalify: false,
        needs_reason: true,
    },
    Transition {
        action: MonitoringAction::Reject,
        from: &[Reviewed],
        to: Rejected,
        roles: &[TownshipOfficial, CountyOfficial],
        timing: NoticeTiming::Any,
        requalify: false,
        needs_reason: true,
    },
];

fn table(procedure: MonitoringProcedure) -> &'static [Transition] {
    match procedure {
        MonitoringProcedure::Identification => IDENTIFICATION,
        MonitoringProcedure::Elimination => ELIMINATION,
    }
}

/// Whether the case's village notice runs at `now`.
pub fn notice_running(case: &monitoring_case::Model, now: DateTime<Utc>) -> bool {
    case.state == PublicNotice && case.notice_ends_at.is_some_and(|end| now < end)
}

fn timing_allows(timing: NoticeTiming, case: &monitoring_case::Model, now: DateTime<Utc>) -> bool {
    match timing {
        NoticeTiming::Any => true,
        NoticeTiming::During => notice_running(case, now),
        NoticeTiming::After => !notice_running(case, now),
    }
}

/// The actions the case's procedure allows from its state at `now`, whoever takes them.
pub fn next_actions(case: &monitoring_case::Model, now: DateTime<Utc>) -> Vec<MonitoringAction> {
    let mut actions: Vec<MonitoringAction> = table(case.procedure)
        .iter()
        .filter(|t| t.from.contains(&case.state) && timing_allows(t.timing, case, now))
        .map(|t| t.action)
        .collect();
    actions.dedup();
    actions
}

/// Whether a step moves a case on (rather than back or out).
pub fn moves_forward(action: MonitoringAction) -> bool {
    !matches!(action, MonitoringAction::Reject | MonitoringAction::Object)
}

/// The steps this actor may take on the case at `now`, forward steps first.
pub fn actions_for(
    actor: &Actor,
    case: &monitoring_case::Model,
    now: DateTime<Utc>,
) -> Vec<MonitoringAction> {
    let mut actions: Vec<MonitoringAction> = table(case.procedure)
        .iter()
        .filter(|t| {
            t.from.contains(&case.state)
                && timing_allows(t.timing, case, now)
                && t.roles.contains(&actor.role)
        })
        .map(|t| t.action)
        .collect();
    actions.dedup();
    actions.sort_by_key(|a| !moves_forward(*a));
    actions
}

/// A case with its steps, as read back.
#[derive(Clone, Debug)]
pub struct CaseRecord {
    pub case: monitoring_case::Model,
    pub steps: Vec<monitoring_case_step::Model>,
    pub next_actions: Vec<MonitoringAction>,
    pub notice_running: bool,
}

/// A monitored household with every case it went through, oldest first.
#[derive(Clone, Debug)]
pub struct MonitoringRecord {
    pub monitored: monitored_household::Model,
    pub cases: Vec<CaseRecord>,
}

impl MonitoringRecord {
    /// The case still open, if any.
    pub fn open_case(&self) -> Option<&CaseRecord> {
        self.cases.iter().find(|c| c.case.open)
    }
}

/// A household put forward for monitoring.
#[derive(Clone, Debug)]
pub struct NewMonitoring {
    pub household_id: i64,
    pub category: MonitoringCategory,
    pub risk_types: Vec<RiskType>,
    pub channel: DiscoveryChannel,
    pub year: i32,
    pub note: Option<String>,
}

impl NewMonitoring {
    /// Everything the request asks, for its idempotency key.
    fn request(&self) -> serde_json::Value {
        json!([
            self.household_id,
            self.category.to_value(),
            RiskType::join(&self.risk_types),
            self.channel.to_value(),
            self.year,
            self.note,
        ])
    }
}

/// Starts monitoring a registered household: a record and its identification case at
/// `warning`. A household already monitored (or still being identified) is refused with its
/// record; one whose risk was eliminated may be monitored again. Sent again with the same
/// key, it answers what the first request made.
pub async fn open(
    db: &Database,
    clock: &dyn Clock,
    rules: &ExitRules,
    actor: &Actor,
    new: NewMonitoring,
    key: Option<&str>,
    origin: &Origin,
) -> Result<MonitoringRecord, MonitoringError> {
    refuse_admin(actor)?;
    if !matches!(actor.role, VillageCadre | TownshipOfficial) {
        return Err(MonitoringError::Forbidden);
    }
    let note = checked_note(new.note.clone())?;
    if new.risk_types.is_empty() {
        return Err(MonitoringError::Invalid(reasons::monitoring_no_risk_type()));
    }
    let now = clock.now();
    if new.year > county_time::year_of(now) || new.year < 2000 {
        return Err(MonitoringError::Invalid(
            reasons::monitoring_year_out_of_range(),
        ));
    }
    if rules.monitoring_line_fen(new.year).is_none() {
        return Err(MonitoringError::Invalid(reasons::monitoring_no_line()));
    }
    let claim = Claim::new(actor, key, "monitoring", new.request())?;
    if let Some(earlier) = idempotency::earlier(db.conn(), claim.as_ref()).await? {
        return get(db, clock, actor, idempotency::id_of(&earlier)?).await;
    }
    let txn = db.begin_write().await?;
    let household = household_for(&txn, actor, new.household_id, Action::Update).await?;
    let record = open_in(
        &txn,
        &household,
        Some(actor.user_id),
        OpenAs {
            category: new.category,
            risk_types: new.risk_types,
            channel: new.channel,
            year: new.year,
            note,
        },
        origin,
        now,
    )
    .await?;
    match idempotency::keep(&txn, claim.as_ref(), &record.monitored.id.to_string()).await {
        Ok(()) => {
            txn.commit().await?;
            Ok(record)
        }
        Err(Kept::Raced) => {
            drop(txn);
            let winner = idempotency::winner(db.conn(), claim.as_ref()).await?;
            get(db, clock, actor, idempotency::id_of(&winner)?).await
        }
        Err(Kept::Failed(e)) => Err(e.into()),
    }
}

pub(super) struct OpenAs {
    pub(super) category: MonitoringCategory,
    pub(super) risk_types: Vec<RiskType>,
    pub(super) channel: DiscoveryChannel,
    pub(super) year: i32,
    pub(super) note: Option<String>,
}

pub(super) async fn open_in(
    txn: &DatabaseTransaction,
    household: &household::Model,
    by: Option<i64>,
    new: OpenAs,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<MonitoringRecord, MonitoringError> {
    if new.category == MonitoringCategory::UnstableExited
        && !matches!(
            household.status,
            HouseholdStatus::Exited | HouseholdStatus::Returned
        )
    {
        return Err(MonitoringError::Invalid(
            reasons::monitoring_unstable_needs_exit(),
        ));
    }
    if let Some(existing) = monitored_household::Entity::find()
        .filter(monitored_household::Column::HouseholdId.eq(household.id))
        .filter(monitored_household::Column::Open.eq(true))
        .one(txn)
        .await?
    {
        return Err(MonitoringError::Open(existing.id));
    }
    let monitored = monitored_household::ActiveModel {
        household_id: Set(household.id),
        village_code: Set(household.village_code.clone()),
        category: Set(new.category),
        risk_types: Set(RiskType::join(&new.risk_types)),
        channel: Set(new.channel),
        year: Set(new.year),
        status: Set(MonitoringStatus::Identifying),
        open: Set(true),
        note: Set(new.note.clone()),
        created_by: Set(by),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    audit::append(
        txn,
        NewAuditEntry {
            actor_user_id: by,
            actor_ip: origin.ip.clone(),
            action: "monitoring.opened",
            entity: "monitored_household",
            entity_id: monitored.id.to_string(),
            area_code: Some(monitored.village_code.clone()),
            before: None,
            after: Some(json!({
                "household_id": household.id,
                "category": monitored.category.to_value(),
                "risk_types": monitored.risk_types,
                "channel": monitored.channel.to_value(),
                "year": monitored.year,
                "note": monitored.note,
            })),
        },
    )
    .await?;
    let case = new_case(
        txn,
        &monitored,
        MonitoringProcedure::Identification,
        Warning,
        new.year,
        by,
        origin,
        now,
    )
    .await?;
    Ok(MonitoringRecord {
        monitored,
        cases: vec![load(txn, case, now).await?],
    })
}

/// Opens the elimination of a monitored household's risk, judged on `year`'s records: its
/// income per person must be above that year's monitoring line and its guarantees and safe
/// water met.
pub async fn propose_elimination(
    db: &Database,
    clock: &dyn Clock,
    rules: &ExitRules,
    actor: &Actor,
    monitored_id: i64,
    year: i32,
    origin: &Origin,
) -> Result<MonitoringRecord, MonitoringError> {
    refuse_admin(actor)?;
    if !matches!(actor.role, VillageCadre | TownshipOfficial) {
        return Err(MonitoringError::Forbidden);
    }
    let now = clock.now();
    if year > county_time::year_of(now) || year < 2000 {
        return Err(MonitoringError::Invalid(
            reasons::monitoring_year_out_of_range(),
        ));
    }
    let txn = db.begin_write().await?;
    let monitored = monitored_in_reach(&txn, actor, monitored_id, Action::Update).await?;
    if monitored.status != MonitoringStatus::Monitored {
        return Err(MonitoringError::Invalid(reasons::monitoring_not_monitored()));
    }
    if let Some(open) = monitoring_case::Entity::find()
        .filter(monitoring_case::Column::MonitoredId.eq(monitored.id))
        .filter(monitoring_case::Column::Open.eq(true))
        .one(&txn)
        .await?
    {
        return Err(MonitoringError::Open(open.monitored_id));
    }
    let failing = risk_remaining(&txn, rules, monitored.household_id, year).await?;
    if !failing.is_empty() {
        return Err(MonitoringError::NotQualified(failing));
    }
    new_case(
        &txn,
        &monitored,
        MonitoringProcedure::Elimination,
        Proposed,
        year,
        Some(actor.user_id),
        origin,
        now,
    )
    .await?;
    let record = load_record(&txn, monitored, now).await?;
    txn.commit().await?;
    Ok(record)
}

pub use crate::service::policy::StepBy;

/// Moves a case one step, as its procedure's table allows.
#[allow(clippy::too_many_arguments)]
pub async fn transition(
    db: &Database,
    clock: &dyn Clock,
    rules: &ExitRules,
    by: StepBy<'_>,
    case_id: i64,
    action: MonitoringAction,
    reason: Option<String>,
    origin: &Origin,
) -> Result<MonitoringRecord, MonitoringError> {
    if let StepBy::Official(actor) = by {
        refuse_admin(actor)?;
    }
    let reason = crate::service::policy::step_reason(reason).map_err(MonitoringError::Invalid)?;
    let txn = db.begin_write().await?;
    let now = clock.now();
    let case = match by {
        StepBy::Official(actor) => case_in_reach(&txn, actor, case_id, true).await?,
        StepBy::Villager { .. } => monitoring_case::Entity::find_by_id(case_id)
            .lock_exclusive()
            .one(&txn)
            .await?
            .ok_or(MonitoringError::NotFound)?,
    };
    let step = table(case.procedure)
        .iter()
        .filter(|t| t.action == action && t.from.contains(&case.state))
        .find(|t| timing_allows(t.timing, &case, now));
    let Some(step) = step else {
        return Err(MonitoringError::NotAllowedNow {
            procedure: case.procedure,
            state: case.state,
            action,
            next: next_actions(&case, now),
            notice_ends_at: case.notice_ends_at,
        });
    };
    let allowed = match by {
        StepBy::Official(actor) => step.roles.contains(&actor.role),
        StepBy::Villager { .. } => action == MonitoringAction::Object,
    };
    if !allowed {
        return Err(MonitoringError::Forbidden);
    }
    if step.needs_reason && reason.is_none() {
        return Err(MonitoringError::Invalid(reasons::step_needs_reason()));
    }
    if step.requalify {
        let failing = risk_remaining(&txn, rules, case.household_id, case.year).await?;
        if !failing.is_empty() {
            return Err(MonitoringError::NotQualified(failing));
        }
    }

    let from = case.state;
    let mut active = case.clone().into_active_model();
    active.state = Set(step.to);
    active.updated_at = Set(now);
    if step.to == PublicNotice {
        active.notice_ends_at = Set(Some(now + rules.monitoring_notice));
    }
    if matches!(step.to, Confirmed | Eliminated | Rejected) {
        active.open = Set(false);
    }
    let case = active.update(&txn).await?;
    let status = match (case.procedure, step.to) {
        (MonitoringProcedure::Identification, Confirmed) => Some(MonitoringStatus::Monitored),
        (MonitoringProcedure::Identification, Rejected) => Some(MonitoringStatus::NotIdentified),
        (MonitoringProcedure::Elimination, Eliminated) => Some(MonitoringStatus::Eliminated),
        _ => None,
    };
    let monitored = monitored_household::Entity::find_by_id(case.monitored_id)
        .one(&txn)
        .await?
        .ok_or(MonitoringError::NotFound)?;
    let monitored = match status {
        Some(status) => {
            let mut active = monitored.into_active_model();
            active.status = Set(status);
            active.open = Set(status == MonitoringStatus::Monitored);
            active.updated_at = Set(now);
            active.update(&txn).await?
        }
        None => monitored,
    };
    let (user_id, objector) = match by {
        StepBy::Official(actor) => (Some(actor.user_id), None),
        StepBy::Villager { phone_masked } => (None, Some(phone_masked)),
    };
    record_step(
        &txn,
        StepActor { user_id, objector },
        origin,
        &case,
        Some(from),
        action.name(),
        reason,
    )
    .await?;
    let record = load_record(&txn, monitored, now).await?;
    txn.commit().await?;
    Ok(record)
}

/// A monitored household with its cases, for the officials of its area.
pub async fn get(
    db: &Database,
    clock: &dyn Clock,
    actor: &Actor,
    monitored_id: i64,
) -> Result<MonitoringRecord, MonitoringError> {
    let monitored = monitored_in_reach(db.conn(), actor, monitored_id, Action::Read).await?;
    load_record(db.conn(), monitored, clock.now()).await
}

/// The monitoring records of a household, newest first, for the officials of its area.
pub async fn of_household(
    db: &Database,
    actor: &Actor,
    household_id: i64,
) -> Result<Vec<monitored_household::Model>, MonitoringError> {
    household_for(db.conn(), actor, household_id, Action::Read).await?;
    Ok(monitored_household::Entity::find()
        .filter(monitored_household::Column::HouseholdId.eq(household_id))
        .order_by_desc(monitored_household::Column::Id)
        .all(db.conn())
        .await?)
}

/// What still stands between a household and the elimination of its risk in `year`: its
/// income per person at or below the monitoring line, and every check of the guarantees and
/// safe water not met, as the exit assessment reads them.
pub async fn risk_remaining(
    conn: &impl ConnectionTrait,
    rules: &ExitRules,
    household_id: i64,
    year: i32,
) -> Result<Vec<Failing>, MonitoringError> {
    let assessment = assessment::assess_household(conn, rules, household_id, year).await?;
    let mut failing: Vec<Failing> = assessment
        .failing
        .into_iter()
        .filter(|f| {
            !matches!(
                f,
                Failing::NoIncomeLine | Failing::IncomeAtOrBelowLine { .. }
            )
        })
        .collect();
    match rules.monitoring_line_fen(year) {
        None => failing.insert(0, Failing::NoIncomeLine),
        Some(line_fen) if assessment.per_capita_fen <= line_fen => failing.insert(
            0,
            Failing::IncomeAtOrBelowLine {
                per_capita_fen: assessment.per_capita_fen,
                line_fen,
            },
        ),
        Some(_) => {}
    }
    Ok(failing)
}

pub(super) fn checked_note(note: Option<String>) -> Result<Option<String>, MonitoringError> {
    let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 500) {
        return Err(MonitoringError::Invalid(reasons::monitoring_note_length(
            500,
        )));
    }
    Ok(note)
}

/// Monitoring steps are decisions of the officials the tables name; an admin takes none.
fn refuse_admin(actor: &Actor) -> Result<(), MonitoringError> {
    if actor.role == Role::Admin {
        return Err(MonitoringError::Refused(
            reasons::monitoring_admin_takes_no_step(),
        ));
    }
    Ok(())
}

fn reads(actor: &Actor, village_code: &str) -> bool {
    let Ok(village) = AreaCode::parse(village_code) else {
        return false;
    };
    (actor.is_official() || actor.role == Role::Admin) && actor.governs(&village)
}

async fn monitored_in_reach(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
    action: Action,
) -> Result<monitored_household::Model, MonitoringError> {
    let mut find = monitored_household::Entity::find_by_id(id);
    if action == Action::Update {
        find = find.lock_exclusive();
    }
    let monitored = find.one(conn).await?.ok_or(MonitoringError::NotFound)?;
    if !reads(actor, &monitored.village_code) {
        return Err(MonitoringError::NotFound);
    }
    Ok(monitored)
}

async fn case_in_reach(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    case_id: i64,
    lock: bool,
) -> Result<monitoring_case::Model, MonitoringError> {
    let mut find = monitoring_case::Entity::find_by_id(case_id);
    if lock {
        find = find.lock_exclusive();
    }
    let case = find.one(conn).await?.ok_or(MonitoringError::NotFound)?;
    if !reads(actor, &case.village_code) {
        return Err(MonitoringError::NotFound);
    }
    Ok(case)
}

#[allow(clippy::too_many_arguments)]
async fn new_case(
    txn: &DatabaseTransaction,
    monitored: &monitored_household::Model,
    procedure: MonitoringProcedure,
    state: MonitoringState,
    year: i32,
    by: Option<i64>,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<monitoring_case::Model, MonitoringError> {
    let case = monitoring_case::ActiveModel {
        monitored_id: Set(monitored.id),
        household_id: Set(monitored.household_id),
        village_code: Set(monitored.village_code.clone()),
        procedure: Set(procedure),
        year: Set(year),
        state: Set(state),
        open: Set(true),
        notice_ends_at: Set(None),
        started_by: Set(by),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    record_step(
        txn,
        StepActor {
            user_id: by,
            objector: None,
        },
        origin,
        &case,
        None,
        "open",
        None,
    )
    .await?;
    Ok(case)
}

/// Who took a step, as it is recorded.
struct StepActor<'a> {
    user_id: Option<i64>,
    /// A villager's masked phone, for an objection from the notice board.
    objector: Option<&'a str>,
}

async fn record_step(
    txn: &DatabaseTransaction,
    by: StepActor<'_>,
    origin: &Origin,
    case: &monitoring_case::Model,
    from: Option<MonitoringState>,
    action: &'static str,
    reason: Option<String>,
) -> Result<(), MonitoringError> {
    monitoring_case_step::ActiveModel {
        case_id: Set(case.id),
        from_state: Set(from),
        to_state: Set(case.state),
        action: Set(action.to_owned()),
        actor_user_id: Set(by.user_id),
        reason: Set(reason.clone()),
        at: Set(case.updated_at),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    audit::append(
        txn,
        NewAuditEntry {
            actor_user_id: by.user_id,
            actor_ip: origin.ip.clone(),
            action: "monitoring_case.step",
            entity: "monitoring_case",
            entity_id: case.id.to_string(),
            area_code: Some(case.village_code.clone()),
            before: from.map(|s| json!({ "state": s.to_value() })),
            after: Some(json!({
                "action": action,
                "procedure": case.procedure.to_value(),
                "state": case.state.to_value(),
                "monitored_id": case.monitored_id,
                "household_id": case.household_id,
                "year": case.year,
                "reason": reason,
                "objector_phone": by.objector,
            })),
        },
    )
    .await?;
    Ok(())
}

async fn load(
    conn: &impl ConnectionTrait,
    case: monitoring_case::Model,
    now: DateTime<Utc>,
) -> Result<CaseRecord, MonitoringError> {
    let steps = monitoring_case_step::Entity::find()
        .filter(monitoring_case_step::Column::CaseId.eq(case.id))
        .order_by_asc(monitoring_case_step::Column::Id)
        .all(conn)
        .await?;
    Ok(CaseRecord {
        next_actions: next_actions(&case, now),
        notice_running: notice_running(&case, now),
        case,
        steps,
    })
}

async fn load_record(
    conn: &impl ConnectionTrait,
    monitored: monitored_household::Model,
    now: DateTime<Utc>,
) -> Result<MonitoringRecord, MonitoringError> {
    let cases = monitoring_case::Entity::find()
        .filter(monitoring_case::Column::MonitoredId.eq(monitored.id))
        .order_by_asc(monitoring_case::Column::Id)
        .all(conn)
        .await?;
    let mut loaded = Vec::with_capacity(cases.len());
    for case in cases {
        loaded.push(load(conn, case, now).await?);
    }
    Ok(MonitoringRecord {
        monitored,
        cases: loaded,
    })
}

/// A monitoring record by id as it now stands, whoever asks: for the household's own
/// application read back on a repeated key.
pub(super) async fn record_of(
    db: &Database,
    now: DateTime<Utc>,
    monitored_id: i64,
) -> Result<MonitoringRecord, MonitoringError> {
    let monitored = monitored_household::Entity::find_by_id(monitored_id)
        .one(db.conn())
        .await?
        .ok_or(MonitoringError::NotFound)?;
    load_record(db.conn(), monitored, now).await
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn case(
        procedure: MonitoringProcedure,
        state: MonitoringState,
        notice_ends_at: Option<DateTime<Utc>>,
    ) -> monitoring_case::Model {
        let now = Utc::now();
        monitoring_case::Model {
            id: 1,
            monitored_id: 1,
            household_id: 1,
            village_code: "500235101201".into(),
            procedure,
            year: 2021,
            state,
            open: true,
            notice_ends_at,
            started_by: Some(1),
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn each_identification_state_allows_exactly_its_next_steps() {
        let now = Utc::now();
        let running = Some(now + Duration::days(3));
        let ended = Some(now - Duration::seconds(1));
        use MonitoringAction as A;
        let id = |s, n| case(MonitoringProcedure::Identification, s, n);
        let expected = [
            (id(Warning, None), vec![A::Check, A::Reject]),
            (id(Checked, None), vec![A::Authorize, A::Reject]),
            (id(Authorized, None), vec![A::Appraise, A::Reject]),
            (id(Appraised, None), vec![A::StartNotice, A::Reject]),
            (id(PublicNotice, running), vec![A::Object, A::Reject]),
            (id(PublicNotice, ended), vec![A::Review, A::Reject]),
            (id(Reviewed, None), vec![A::Confirm, A::Reject]),
            (id(Confirmed, None), vec![]),
            (id(Rejected, None), vec![]),
            // States of the other procedure lead nowhere here.
            (id(Proposed, None), vec![]),
            (id(Eliminated, None), vec![]),
        ];
        for (case, actions) in expected {
            assert_eq!(next_actions(&case, now), actions, "{:?}", case.state);
        }
    }

    #[test]
    fn each_elimination_state_allows_exactly_its_next_steps() {
        let now = Utc::now();
        let running = Some(now + Duration::days(3));
        let ended = Some(now - Duration::seconds(1));
        use MonitoringAction as A;
        let el = |s, n| case(MonitoringProcedure::Elimination, s, n);
        let expected = [
            (el(Proposed, None), vec![A::Check, A::Reject]),
            (el(Checked, None), vec![A::Appraise, A::Reject]),
            (el(Appraised, None), vec![A::StartNotice, A::Reject]),
            (el(PublicNotice, running), vec![A::Object, A::Reject]),
            (el(PublicNotice, ended), vec![A::Review, A::Reject]),
            (el(Reviewed, None), vec![A::Eliminate, A::Reject]),
            (el(Eliminated, None), vec![]),
            (el(Rejected, None), vec![]),
            (el(Warning, None), vec![]),
            (el(Authorized, None), vec![]),
            (el(Confirmed, None), vec![]),
        ];
        for (case, actions) in expected {
            assert_eq!(next_actions(&case, now), actions, "{:?}", case.state);
        }
    }

    #[test]
    fn each_step_belongs_to_its_officials() {
        let roles_for = |procedure, action: MonitoringAction, state: MonitoringState| {
            table(procedure)
                .iter()
                .filter(|t| t.action == action && t.from.contains(&state))
                .flat_map(|t| t.roles.iter().copied())
                .collect::<Vec<Role>>()
        };
        use MonitoringProcedure::{Elimination, Identification};
        assert_eq!(
            roles_for(Identification, MonitoringAction::Appraise, Authorized),
            vec![VillageCadre]
        );
        assert_eq!(
            roles_for(Identification, MonitoringAction::Review, PublicNotice),
            vec![TownshipOfficial]
        );
        assert_eq!(
            roles_for(Identification, MonitoringAction::Confirm, Reviewed),
            vec![CountyOfficial]
        );
        assert_eq!(
            roles_for(Elimination, MonitoringAction::Eliminate, Reviewed),
            vec![CountyOfficial]
        );
        assert!(
            !roles_for(Elimination, MonitoringAction::Reject, Reviewed).contains(&VillageCadre)
        );
        for procedure in [Identification, Elimination] {
            for t in table(procedure) {
                for role in [Role::Farmer, Role::Buyer, Role::Admin] {
                    assert!(!t.roles.contains(&role));
                }
                // Steps back or out say why.
                assert_eq!(t.needs_reason, !moves_forward(t.action));
            }
        }
    }

    #[test]
    fn an_objection_returns_each_case_to_its_home_check() {
        let object = |procedure| {
            table(procedure)
                .iter()
                .find(|t| t.action == MonitoringAction::Object)
                .map(|t| (t.from, t.to, t.timing))
                .unwrap()
        };
        assert_eq!(
            object(MonitoringProcedure::Identification),
            (&[PublicNotice][..], Warning, NoticeTiming::During)
        );
        assert_eq!(
            object(MonitoringProcedure::Elimination),
            (&[PublicNotice][..], Proposed, NoticeTiming::During)
        );
    }
}
