//! Exit cases: the de-listing procedure as one transition table. Every step checks the actor's
//! role and area, checks that the subject still qualifies, records who, when and why, and is
//! audited in the same transaction. The public notice ends by the clock: objections are taken
//! only while it runs and the township reviews only after it ends, judged on every request
//! from the stored end time, so a restart changes nothing.

use crate::service::idempotency::{self, Claim, Kept};
use chrono::{DateTime, Utc};
use entities::{
    area,
    exit_case::{self, ExitState, ExitSubject},
    exit_case_step,
    household::{self, ExitSource, HouseholdStatus},
    user::Role,
};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;

use super::{
    ExitError,
    assessment::{self, Failing},
    household_for,
    rules::ExitRules,
    village_in_reach,
};
use crate::{
    domain::{AreaCode, county_time::Clock},
    infra::db::Database,
    service::{
        audit::{self, NewAuditEntry},
        policy::{Action, Actor, StepBy},
        users::Origin,
    },
};

/// What an official does to a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitAction {
    /// 民主评议: the village's democratic appraisal agreed.
    Appraise,
    /// 村两委和驻村工作队核实.
    Verify,
    /// 公示: publish the notice; it runs for the configured days.
    StartNotice,
    /// An objection during the notice: back to verification.
    Object,
    /// 乡镇审核, once the notice has ended.
    Review,
    /// 县审定.
    Approve,
    /// 公告退出: the subject has exited.
    Announce,
    Reject,
}

impl ExitAction {
    pub const ALL: [ExitAction; 8] = [
        ExitAction::Appraise,
        ExitAction::Verify,
        ExitAction::StartNotice,
        ExitAction::Object,
        ExitAction::Review,
        ExitAction::Approve,
        ExitAction::Announce,
        ExitAction::Reject,
    ];

    /// The action [`ExitAction::name`] spells this way.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            ExitAction::Appraise => "appraise",
            ExitAction::Verify => "verify",
            ExitAction::StartNotice => "start_notice",
            ExitAction::Object => "object",
            ExitAction::Review => "review",
            ExitAction::Approve => "approve",
            ExitAction::Announce => "announce",
            ExitAction::Reject => "reject",
        }
    }
}

/// When, relative to the public notice, a step may be taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NoticeTiming {
    Any,
    /// Only while the notice runs.
    During,
    /// Only once it has ended.
    After,
}

struct Transition {
    action: ExitAction,
    from: &'static [ExitState],
    to: ExitState,
    roles: &'static [Role],
    timing: NoticeTiming,
    /// Forward steps re-check that the subject still qualifies.
    requalify: bool,
    needs_reason: bool,
}

use ExitState::*;
use Role::{CountyOfficial, TownshipOfficial, VillageCadre};

const OFFICIALS: &[Role] = &[VillageCadre, TownshipOfficial, CountyOfficial];

/// The procedure, in one place.
const TRANSITIONS: &[Transition] = &[
    Transition {
        action: ExitAction::Appraise,
        from: &[Proposed],
        to: Appraised,
        roles: &[VillageCadre],
        timing: NoticeTiming::Any,
        requalify: true,
        needs_reason: false,
    },
    Transition {
        action: ExitAction::Verify,
        from: &[Appraised],
        to: Verified,
        roles: &[VillageCadre, TownshipOfficial],
        timing: NoticeTiming::Any,
        requalify: true,
        needs_reason: false,
    },
    Transition {
        action: ExitAction::StartNotice,
        from: &[Verified],
        to: PublicNotice,
        roles: &[VillageCadre, TownshipOfficial],
        timing: NoticeTiming::Any,
        requalify: true,
        needs_reason: false,
    },
    Transition {
        action: ExitAction::Object,
        from: &[PublicNotice],
        to: Verified,
        roles: OFFICIALS,
        timing: NoticeTiming::During,
        requalify: false,
        needs_reason: true,
    },
    Transition {
        action: ExitAction::Review,
        from: &[PublicNotice],
        to: Reviewed,
        roles: &[TownshipOfficial],
        timing: NoticeTiming::After,
        requalify: true,
        needs_reason: false,
    },
    Transition {
        action: ExitAction::Approve,
        from: &[Reviewed],
        to: Approved,
        roles: &[CountyOfficial],
        timing: NoticeTiming::Any,
        requalify: true,
        needs_reason: false,
    },
    Transition {
        action: ExitAction::Announce,
        from: &[Approved],
        to: Announced,
        roles: &[CountyOfficial],
        timing: NoticeTiming::Any,
        requalify: true,
        needs_reason: false,
    },
    Transition {
        action: ExitAction::Reject,
        from: &[Proposed, Appraised, Verified, PublicNotice],
        to: Rejected,
        roles: OFFICIALS,
        timing: NoticeTiming::Any,
        requalify: false,
        needs_reason: true,
    },
    Transition {
        action: ExitAction::Reject,
        from: &[Reviewed],
        to: Rejected,
        roles: &[TownshipOfficial, CountyOfficial],
        timing: NoticeTiming::Any,
        requalify: false,
        needs_reason: true,
    },
    Transition {
        action: ExitAction::Reject,
        from: &[Approved],
        to: Rejected,
        roles: &[CountyOfficial],
        timing: NoticeTiming::Any,
        requalify: false,
        needs_reason: true,
    },
];

/// Who may propose: village cadres propose households; townships propose villages.
fn may_propose(role: Role, subject: ExitSubject) -> bool {
    match subject {
        ExitSubject::Household => matches!(role, VillageCadre | TownshipOfficial),
        ExitSubject::Village => matches!(role, TownshipOfficial | CountyOfficial),
    }
}

fn notice_running(case: &exit_case::Model, now: DateTime<Utc>) -> bool {
    case.state == PublicNotice && case.notice_ends_at.is_some_and(|end| now < end)
}

fn timing_allows(timing: NoticeTiming, case: &exit_case::Model, now: DateTime<Utc>) -> bool {
    match timing {
        NoticeTiming::Any => true,
        NoticeTiming::During => notice_running(case, now),
        NoticeTiming::After => !notice_running(case, now),
    }
}

/// The actions the procedure allows from the case's state at `now`, whoever takes them.
pub fn next_actions(case: &exit_case::Model, now: DateTime<Utc>) -> Vec<ExitAction> {
    let mut actions: Vec<ExitAction> = TRANSITIONS
        .iter()
        .filter(|t| t.from.contains(&case.state) && timing_allows(t.timing, case, now))
        .map(|t| t.action)
        .collect();
    actions.dedup();
    actions
}

/// A case with its steps, as read back.
#[derive(Clone, Debug)]
pub struct CaseRecord {
    pub case: exit_case::Model,
    pub steps: Vec<exit_case_step::Model>,
    /// What may happen next, at the time of reading.
    pub next_actions: Vec<ExitAction>,
    /// Whether the notice is still running, at the time of reading.
    pub notice_running: bool,
}

/// What a case is about.
#[derive(Clone, Debug)]
pub enum ExitSubjectRef {
    Household(i64),
    Village(AreaCode),
}

/// Opens a case for a subject that qualifies in `year`. A household becomes `exit_pending`.
pub async fn propose(
    db: &Database,
    clock: &dyn Clock,
    rules: &ExitRules,
    actor: &Actor,
    subject: ExitSubjectRef,
    year: i32,
    origin: &Origin,
) -> Result<CaseRecord, ExitError> {
    propose_keyed(db, clock, rules, actor, subject, year, origin, None).await
}

/// [`propose`], once for a client's key: the same request sent again answers the case the
/// first one opened.
#[allow(clippy::too_many_arguments)]
pub async fn propose_keyed(
    db: &Database,
    clock: &dyn Clock,
    rules: &ExitRules,
    actor: &Actor,
    subject: ExitSubjectRef,
    year: i32,
    origin: &Origin,
    key: Option<&str>,
) -> Result<CaseRecord, ExitError> {
    refuse_admin(actor)?;
    let asked = match &subject {
        ExitSubjectRef::Household(id) => serde_json::json!(["household", id, year]),
        ExitSubjectRef::Village(code) => serde_json::json!(["village", code.as_str(), year]),
    };
    let claim = Claim::new(actor, key, "exit_case", asked)?;
    if let Some(earlier) = idempotency::earlier(db.conn(), claim.as_ref()).await? {
        return get(db, clock, actor, idempotency::id_of(&earlier)?).await;
    }
    let txn = db.begin_write().await?;
    let now = clock.now();
    let mut status = None;
    let (kind, household_id, village_code) = match &subject {
        ExitSubjectRef::Household(id) => {
            let household = household_for(&txn, actor, *id, Action::Update).await?;
            status = Some(household.status);
            (ExitSubject::Household, Some(*id), household.village_code)
        }
        ExitSubjectRef::Village(code) => {
            let village = village_in_reach(&txn, actor, code, Action::Update).await?;
            if !village.is_poor_village {
                return Err(ExitError::Invalid(
                    crate::service::reasons::village_not_poor(),
                ));
            }
            if village.delisted_year.is_some() {
                return Err(ExitError::Invalid(crate::service::reasons::village_exited()));
            }
            (ExitSubject::Village, None, village.code)
        }
    };
    if !may_propose(actor.role, kind) {
        return Err(ExitError::Forbidden);
    }
    let mut open = exit_case::Entity::find()
        .filter(exit_case::Column::Subject.eq(kind.to_value()))
        .filter(exit_case::Column::Open.eq(true));
    open = match household_id {
        Some(id) => open.filter(exit_case::Column::HouseholdId.eq(id)),
        None => open.filter(exit_case::Column::VillageCode.eq(&village_code)),
    };
    if let Some(existing) = open.one(&txn).await? {
        return Err(ExitError::CaseOpen(existing.id));
    }
    if let Some(status) = status
        && !matches!(status, HouseholdStatus::Poor | HouseholdStatus::Returned)
    {
        return Err(ExitError::Invalid(
            crate::service::reasons::household_not_poor(),
        ));
    }
    let failing = still_qualifies(&txn, rules, kind, household_id, &village_code, year).await?;
    if !failing.is_empty() {
        return Err(ExitError::NotQualified(failing));
    }

    let case = exit_case::ActiveModel {
        subject: Set(kind),
        household_id: Set(household_id),
        village_code: Set(village_code.clone()),
        year: Set(year),
        state: Set(Proposed),
        open: Set(true),
        notice_ends_at: Set(None),
        proposed_by: Set(actor.user_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    if let Some(id) = household_id {
        set_household_status(&txn, now, id, HouseholdStatus::ExitPending).await?;
    }
    record_step(&txn, actor, origin, &case, None, "propose", None).await?;
    let record = load(&txn, case, now).await?;
    match idempotency::keep(&txn, claim.as_ref(), &record.case.id.to_string()).await {
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

/// Moves a case one step, as the transition table allows, for an official.
#[allow(clippy::too_many_arguments)]
pub async fn transition(
    db: &Database,
    clock: &dyn Clock,
    rules: &ExitRules,
    actor: &Actor,
    case_id: i64,
    action: ExitAction,
    reason: Option<String>,
    origin: &Origin,
) -> Result<CaseRecord, ExitError> {
    let by = StepBy::Official(actor);
    take_step(db, clock, rules, by, case_id, action, reason, origin).await
}

/// A villager's objection to a running exit notice, from the public notice board, by a phone
/// the caller confirmed with a texted code (kept masked, in the step's audit entry). Taken
/// only while the notice runs, as an official's objection is; the case goes back to
/// verification.
pub async fn object_from_board(
    db: &Database,
    clock: &dyn Clock,
    rules: &ExitRules,
    case_id: i64,
    phone_masked: &str,
    reason: String,
    origin: &Origin,
) -> Result<CaseRecord, ExitError> {
    let by = StepBy::Villager { phone_masked };
    let action = ExitAction::Object;
    take_step(db, clock, rules, by, case_id, action, Some(reason), origin).await
}

/// One step of the transition table, by an official or a villager objecting.
#[allow(clippy::too_many_arguments)]
async fn take_step(
    db: &Database,
    clock: &dyn Clock,
    rules: &ExitRules,
    by: StepBy<'_>,
    case_id: i64,
    action: ExitAction,
    reason: Option<String>,
    origin: &Origin,
) -> Result<CaseRecord, ExitError> {
    if let StepBy::Official(actor) = by {
        refuse_admin(actor)?;
    }
    let reason = crate::service::policy::step_reason(reason).map_err(ExitError::Invalid)?;
    let txn = db.begin_write().await?;
    let now = clock.now();
    let case = match by {
        StepBy::Official(actor) => case_in_reach(&txn, actor, case_id, Lock::ForUpdate).await?,
        StepBy::Villager { .. } => exit_case::Entity::find_by_id(case_id)
            .lock_exclusive()
            .one(&txn)
            .await?
            .ok_or(ExitError::NotFound)?,
    };
    let candidates: Vec<&Transition> = TRANSITIONS
        .iter()
        .filter(|t| t.action == action && t.from.contains(&case.state))
        .collect();
    let Some(step) = candidates
        .iter()
        .find(|t| timing_allows(t.timing, &case, now))
    else {
        return Err(ExitError::NotAllowedNow {
            state: case.state,
            action,
            next: next_actions(&case, now),
            notice_ends_at: case.notice_ends_at,
        });
    };
    let allowed = match by {
        StepBy::Official(actor) => step.roles.contains(&actor.role),
        StepBy::Villager { .. } => action == ExitAction::Object,
    };
    if !allowed {
        return Err(ExitError::Forbidden);
    }
    if step.needs_reason && reason.is_none() {
        return Err(ExitError::Invalid(
            crate::service::reasons::step_needs_reason(),
        ));
    }
    if step.requalify {
        let failing = still_qualifies(
            &txn,
            rules,
            case.subject,
            case.household_id,
            &case.village_code,
            case.year,
        )
        .await?;
        if !failing.is_empty() {
            return Err(ExitError::NotQualified(failing));
        }
    }

    let from = case.state;
    let mut active = case.clone().into_active_model();
    active.state = Set(step.to);
    active.updated_at = Set(now);
    if step.to == PublicNotice {
        active.notice_ends_at = Set(Some(now + rules.notice));
    }
    if matches!(step.to, Announced | Rejected) {
        active.open = Set(false);
    }
    let case = active.update(&txn).await?;
    if case.subject == ExitSubject::Village && step.to == Announced {
        set_village_delisted(&txn, now, &case.village_code, case.year).await?;
    }
    if let Some(id) = case.household_id {
        match step.to {
            Announced => {
                set_household_exited(&txn, now, id, case.year).await?;
            }
            Rejected => {
                // Back to where it stood: poor, or returned if it had exited before.
                let exited_before = exit_case::Entity::find()
                    .filter(exit_case::Column::HouseholdId.eq(id))
                    .filter(exit_case::Column::State.eq(Announced.to_value()))
                    .one(&txn)
                    .await?
                    .is_some();
                let status = if exited_before {
                    HouseholdStatus::Returned
                } else {
                    HouseholdStatus::Poor
                };
                set_household_status(&txn, now, id, status).await?;
            }
            _ => {}
        }
    }
    let (user_id, objector) = match by {
        StepBy::Official(actor) => (Some(actor.user_id), None),
        StepBy::Villager { phone_masked } => (None, Some(phone_masked)),
    };
    let (from, action) = (Some(from), action.name());
    record_step_by(&txn, user_id, objector, origin, &case, from, action, reason).await?;
    let record = load(&txn, case, now).await?;
    txn.commit().await?;
    Ok(record)
}

/// An open case and the steps the official may take on it now.
#[derive(Clone, Debug)]
pub struct AwaitingCase {
    pub case: exit_case::Model,
    /// Forward steps first; rejecting and objecting last.
    pub actions: Vec<ExitAction>,
}

/// Whether a step moves a case on (rather than back or out).
pub fn moves_forward(action: ExitAction) -> bool {
    !matches!(action, ExitAction::Reject | ExitAction::Object)
}

/// The steps of the procedure this actor may take on the case at `now`.
pub fn actions_for(actor: &Actor, case: &exit_case::Model, now: DateTime<Utc>) -> Vec<ExitAction> {
    let mut actions: Vec<ExitAction> = TRANSITIONS
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

/// The open cases of the official's area that wait for a forward step the official may take,
/// oldest first, at most `limit`.
pub async fn awaiting(
    db: &Database,
    clock: &dyn Clock,
    actor: &Actor,
    limit: usize,
) -> Result<Vec<AwaitingCase>, ExitError> {
    if !actor.is_official() {
        return Err(ExitError::Forbidden);
    }
    // Only the states a step of this role leads on from; the notice's timing is checked per case.
    let states: Vec<ExitState> = TRANSITIONS
        .iter()
        .filter(|t| moves_forward(t.action) && t.roles.contains(&actor.role))
        .flat_map(|t| t.from.iter().copied())
        .collect();
    if states.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = exit_case::Entity::find()
        .filter(exit_case::Column::Open.eq(true))
        .filter(exit_case::Column::State.is_in(states));
    if let Some(area) = &actor.area {
        query = query.filter(exit_case::Column::VillageCode.starts_with(area.descendant_prefix()));
    }
    let now = clock.now();
    let mut waiting = Vec::new();
    let mut open = query
        .order_by_asc(exit_case::Column::Id)
        .stream(db.conn())
        .await?;
    while let Some(case) = futures_util::TryStreamExt::try_next(&mut open).await? {
        let actions = actions_for(actor, &case, now);
        if actions.iter().any(|a| moves_forward(*a)) {
            waiting.push(AwaitingCase { case, actions });
            if waiting.len() == limit {
                break;
            }
        }
    }
    Ok(waiting)
}

/// A case with its steps, for officials of its area.
pub async fn get(
    db: &Database,
    clock: &dyn Clock,
    actor: &Actor,
    case_id: i64,
) -> Result<CaseRecord, ExitError> {
    let case = case_in_reach(db.conn(), actor, case_id, Lock::None).await?;
    load(db.conn(), case, clock.now()).await
}

/// Marks an exited household as returned to poverty (返贫); it counts as poor again.
pub async fn mark_returned(
    db: &Database,
    clock: &dyn Clock,
    actor: &Actor,
    household_id: i64,
    reason: &str,
    origin: &Origin,
) -> Result<household::Model, ExitError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ExitError::Invalid(
            crate::service::reasons::return_reason_length(500),
        ));
    }
    let txn = db.begin_write().await?;
    let household = household_for(&txn, actor, household_id, Action::Update).await?;
    if household.status != HouseholdStatus::Exited {
        return Err(ExitError::Invalid(
            crate::service::reasons::only_exited_return(),
        ));
    }
    let updated =
        set_household_status(&txn, clock.now(), household_id, HouseholdStatus::Returned).await?;
    audit::append(
        &txn,
        NewAuditEntry {
            actor_user_id: Some(actor.user_id),
            actor_ip: origin.ip.clone(),
            action: "household.returned_to_poverty",
            entity: "household",
            entity_id: household_id.to_string(),
            area_code: Some(household.village_code.clone()),
            before: Some(json!({ "status": "exited" })),
            after: Some(json!({ "status": "returned", "reason": reason })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

async fn still_qualifies(
    txn: &DatabaseTransaction,
    rules: &ExitRules,
    subject: ExitSubject,
    household_id: Option<i64>,
    village_code: &str,
    year: i32,
) -> Result<Vec<Failing>, ExitError> {
    Ok(match (subject, household_id) {
        (ExitSubject::Household, Some(id)) => {
            assessment::assess_household(txn, rules, id, year)
                .await?
                .failing
        }
        _ => {
            let village = area::Entity::find_by_id(village_code.to_owned())
                .one(txn)
                .await?
                .ok_or(ExitError::NotFound)?;
            assessment::assess_village(txn, rules, &village, year)
                .await?
                .failing
        }
    })
}

/// Whether a case is read to be changed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lock {
    None,
    /// Held until the transaction ends (`FOR UPDATE` on PostgreSQL and MySQL; SQLite's write
    /// transactions already run one at a time): two officials stepping the same case at once
    /// step it one after the other, the second on the case as the first left it.
    ForUpdate,
}

/// The steps of the procedure are decisions of the village, township and county officials the
/// transition table names; an admin, who runs the system, takes none of them (separation of
/// duties) and is told so.
fn refuse_admin(actor: &Actor) -> Result<(), ExitError> {
    if actor.role == Role::Admin {
        return Err(ExitError::Refused(
            crate::service::reasons::exit_admin_takes_no_step(),
        ));
    }
    Ok(())
}

async fn case_in_reach(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    case_id: i64,
    lock: Lock,
) -> Result<exit_case::Model, ExitError> {
    let mut find = exit_case::Entity::find_by_id(case_id);
    if lock == Lock::ForUpdate {
        find = find.lock_exclusive();
    }
    let case = find.one(txn).await?.ok_or(ExitError::NotFound)?;
    let village = AreaCode::parse(&case.village_code).map_err(|_| ExitError::NotFound)?;
    // Admins read every case (and take no step: see `refuse_admin`).
    let reads = actor.is_official() || actor.role == Role::Admin;
    if !reads || !actor.governs(&village) {
        return Err(ExitError::NotFound);
    }
    Ok(case)
}

async fn set_household_status(
    txn: &DatabaseTransaction,
    now: DateTime<Utc>,
    id: i64,
    status: HouseholdStatus,
) -> Result<household::Model, ExitError> {
    let household = household::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or(ExitError::NotFound)?;
    let mut active = household.into_active_model();
    active.status = Set(status);
    active.updated_at = Set(now);
    Ok(active.update(txn).await?)
}

/// The household exited through the procedure, judged on `year`'s assessment.
async fn set_household_exited(
    txn: &DatabaseTransaction,
    now: DateTime<Utc>,
    id: i64,
    year: i32,
) -> Result<household::Model, ExitError> {
    let household = household::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or(ExitError::NotFound)?;
    let mut active = household.into_active_model();
    active.status = Set(HouseholdStatus::Exited);
    active.exit_year = Set(Some(year));
    active.exit_source = Set(Some(ExitSource::Procedure));
    active.updated_at = Set(now);
    Ok(active.update(txn).await?)
}

async fn set_village_delisted(
    txn: &DatabaseTransaction,
    now: DateTime<Utc>,
    code: &str,
    year: i32,
) -> Result<area::Model, ExitError> {
    let village = area::Entity::find_by_id(code.to_owned())
        .one(txn)
        .await?
        .ok_or(ExitError::NotFound)?;
    let mut active = village.into_active_model();
    active.delisted_year = Set(Some(year));
    active.delist_source = Set(Some(ExitSource::Procedure));
    active.updated_at = Set(now);
    Ok(active.update(txn).await?)
}

async fn record_step(
    txn: &DatabaseTransaction,
    actor: &Actor,
    origin: &Origin,
    case: &exit_case::Model,
    from: Option<ExitState>,
    action: &'static str,
    reason: Option<String>,
) -> Result<(), ExitError> {
    record_step_by(
        txn,
        Some(actor.user_id),
        None,
        origin,
        case,
        from,
        action,
        reason,
    )
    .await
}

/// [`record_step`] by an official (`user_id`) or by a villager whose masked phone is kept.
#[allow(clippy::too_many_arguments)]
async fn record_step_by(
    txn: &DatabaseTransaction,
    user_id: Option<i64>,
    objector: Option<&str>,
    origin: &Origin,
    case: &exit_case::Model,
    from: Option<ExitState>,
    action: &'static str,
    reason: Option<String>,
) -> Result<(), ExitError> {
    exit_case_step::ActiveModel {
        case_id: Set(case.id),
        from_state: Set(from),
        to_state: Set(case.state),
        action: Set(action.to_owned()),
        actor_user_id: Set(user_id),
        reason: Set(reason.clone()),
        at: Set(case.updated_at),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    audit::append(
        txn,
        NewAuditEntry {
            actor_user_id: user_id,
            actor_ip: origin.ip.clone(),
            action: "exit_case.step",
            entity: "exit_case",
            entity_id: case.id.to_string(),
            area_code: Some(case.village_code.clone()),
            before: from.map(|s| json!({ "state": s.to_value() })),
            after: Some(json!({
                "action": action,
                "state": case.state.to_value(),
                "subject": case.subject.to_value(),
                "household_id": case.household_id,
                "year": case.year,
                "reason": reason,
                "objector_phone": objector,
            })),
        },
    )
    .await?;
    Ok(())
}

async fn load(
    txn: &impl ConnectionTrait,
    case: exit_case::Model,
    now: DateTime<Utc>,
) -> Result<CaseRecord, ExitError> {
    let steps = exit_case_step::Entity::find()
        .filter(exit_case_step::Column::CaseId.eq(case.id))
        .order_by_asc(exit_case_step::Column::Id)
        .all(txn)
        .await?;
    Ok(CaseRecord {
        next_actions: next_actions(&case, now),
        notice_running: notice_running(&case, now),
        case,
        steps,
    })
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn case(state: ExitState, notice_ends_at: Option<DateTime<Utc>>) -> exit_case::Model {
        let now = Utc::now();
        exit_case::Model {
            id: 1,
            subject: ExitSubject::Household,
            household_id: Some(1),
            village_code: "500235101201".into(),
            year: 2020,
            state,
            open: true,
            notice_ends_at,
            proposed_by: 1,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn each_state_allows_exactly_its_next_steps() {
        let now = Utc::now();
        let running = Some(now + Duration::days(3));
        let ended = Some(now - Duration::seconds(1));
        use ExitAction as A;
        let expected = [
            (case(Proposed, None), vec![A::Appraise, A::Reject]),
            (case(Appraised, None), vec![A::Verify, A::Reject]),
            (case(Verified, None), vec![A::StartNotice, A::Reject]),
            (case(PublicNotice, running), vec![A::Object, A::Reject]),
            (case(PublicNotice, ended), vec![A::Review, A::Reject]),
            (case(Reviewed, None), vec![A::Approve, A::Reject]),
            (case(Approved, None), vec![A::Announce, A::Reject]),
            (case(Announced, None), vec![]),
            (case(Rejected, None), vec![]),
        ];
        for (case, actions) in expected {
            assert_eq!(next_actions(&case, now), actions, "{:?}", case.state);
        }
    }

    #[test]
    fn each_step_belongs_to_its_officials() {
        let roles_for = |action: ExitAction, state: ExitState| -> Vec<Role> {
            TRANSITIONS
                .iter()
                .filter(|t| t.action == action && t.from.contains(&state))
                .flat_map(|t| t.roles.iter().copied())
                .collect()
        };
        assert_eq!(
            roles_for(ExitAction::Appraise, Proposed),
            vec![VillageCadre]
        );
        assert_eq!(
            roles_for(ExitAction::Review, PublicNotice),
            vec![TownshipOfficial]
        );
        assert_eq!(
            roles_for(ExitAction::Approve, Reviewed),
            vec![CountyOfficial]
        );
        assert_eq!(
            roles_for(ExitAction::Announce, Approved),
            vec![CountyOfficial]
        );
        assert_eq!(
            roles_for(ExitAction::Reject, Approved),
            vec![CountyOfficial]
        );
        assert!(!roles_for(ExitAction::Reject, Reviewed).contains(&VillageCadre));
        // No step is open to farmers, buyers or admins.
        for t in TRANSITIONS {
            for role in [Role::Farmer, Role::Buyer, Role::Admin] {
                assert!(!t.roles.contains(&role));
            }
        }
    }
}
