//! Help and visits (帮扶与走访): each registered or monitored household has its responsible
//! cadre (帮扶责任人), a record of the help it was given by kind, and the visits cadres made to
//! it. Records are appended, never changed; each is audited in its own transaction, keyed
//! against a form sent twice, and read or written only by the officials of the household's
//! area. The exit and monitoring cases show what is on file.

use std::collections::HashMap;

use chrono::NaiveDate;
use entities::{
    help_record::{self, HelpKind},
    household, household_visit,
    user::{self, Role},
};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;

use crate::{
    domain::{AreaCode, county_time::Clock},
    infra::{
        blobs::BlobError,
        db::Database,
        imaging::{Declared, PhotoRejection},
    },
    service::{
        audit::{self, NewAuditEntry},
        households::{HouseholdError, household_for},
        idempotency::{self, Claim},
        market::{MarketError, photos::Photos},
        policy::{Action, Actor},
        reasons::{self, Reason},
        users::Origin,
    },
};

/// The longest note on help, and the longest account of a visit.
pub const MAX_NOTE: usize = 500;
/// The largest sum one piece of help records: ten million yuan, in fen.
pub const MAX_AMOUNT_FEN: i64 = 1_000_000_000;
/// The first day help or a visit can be recorded for: the registry starts in 2014.
pub fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2014, 1, 1).expect("a valid date")
}

#[derive(Debug, thiserror::Error)]
pub enum HelpError {
    /// No such household, or not in the actor's area.
    #[error("not found")]
    NotFound,
    #[error("not allowed")]
    Forbidden,
    #[error("{0}")]
    Invalid(Reason),
    #[error("the key was used for another request")]
    KeyReused,
    #[error(transparent)]
    Photo(PhotoRejection),
    #[error(transparent)]
    Storage(BlobError),
    #[error(transparent)]
    Database(#[from] DbErr),
}

impl From<idempotency::KeyError> for HelpError {
    fn from(e: idempotency::KeyError) -> Self {
        match e {
            idempotency::KeyError::Malformed(reason) => Self::Invalid(reason),
            idempotency::KeyError::Reused => Self::KeyReused,
            idempotency::KeyError::Database(e) => Self::Database(e),
        }
    }
}

impl From<HouseholdError> for HelpError {
    fn from(err: HouseholdError) -> Self {
        match err {
            HouseholdError::NotFound | HouseholdError::UserNotFound => Self::NotFound,
            HouseholdError::Forbidden => Self::Forbidden,
            HouseholdError::Invalid(reason) => Self::Invalid(reason),
            HouseholdError::Database(e) => Self::Database(e),
            _ => Self::Invalid(reasons::household_records()),
        }
    }
}

impl From<MarketError> for HelpError {
    fn from(err: MarketError) -> Self {
        match err {
            MarketError::Photo(rejection) => Self::Photo(rejection),
            MarketError::Storage(e) => Self::Storage(e),
            MarketError::Database(e) => Self::Database(e),
            MarketError::Invalid(reason) => Self::Invalid(reason),
            MarketError::KeyReused | MarketError::IdempotencyKeyReused => Self::KeyReused,
            MarketError::Forbidden => Self::Forbidden,
            _ => Self::NotFound,
        }
    }
}

/// Every kind of help, in the order the forms list them.
pub const KINDS: [HelpKind; 9] = [
    HelpKind::Industry,
    HelpKind::Employment,
    HelpKind::PublicWelfareJob,
    HelpKind::MicroCredit,
    HelpKind::Education,
    HelpKind::Medical,
    HelpKind::Housing,
    HelpKind::SocialAssistance,
    HelpKind::Consumption,
];

/// What a kind of help is called in each language.
pub fn kind_names(kind: HelpKind) -> (&'static str, &'static str) {
    match kind {
        HelpKind::Industry => ("产业帮扶", "Industry"),
        HelpKind::Employment => ("就业帮扶", "Employment"),
        HelpKind::PublicWelfareJob => ("公益岗位", "Public-welfare job"),
        HelpKind::MicroCredit => ("小额信贷", "Micro-credit"),
        HelpKind::Education => ("教育帮扶", "Education"),
        HelpKind::Medical => ("医疗帮扶", "Medical"),
        HelpKind::Housing => ("住房安全", "Housing"),
        HelpKind::SocialAssistance => ("社会救助", "Social assistance"),
        HelpKind::Consumption => ("消费帮扶", "Consumption"),
    }
}

/// The kind stored as `name` (`industry`, `micro_credit`, …).
pub fn kind_named(name: &str) -> Option<HelpKind> {
    KINDS.into_iter().find(|k| k.to_value() == name.trim())
}

/// A household's responsible cadre, as the case pages name them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cadre {
    pub user_id: i64,
    pub name: String,
    pub role: Role,
}

/// What is on file for a household: its responsible cadre, the help it was given and the
/// visits made to it, newest first.
#[derive(Clone, Debug)]
pub struct OnFile {
    pub household: household::Model,
    pub cadre: Option<Cadre>,
    pub help: Vec<help_record::Model>,
    pub visits: Vec<household_visit::Model>,
}

impl OnFile {
    /// The help given, summed in fen (help without a sum counts nothing).
    pub fn help_fen(&self) -> i64 {
        self.help.iter().filter_map(|h| h.amount_fen).sum()
    }
}

/// How much is on file for a household, for lists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub help: usize,
    pub visits: usize,
    pub last_visit: Option<NaiveDate>,
}

/// A piece of help to record.
#[derive(Clone, Debug)]
pub struct NewHelp {
    pub household_id: i64,
    pub kind: HelpKind,
    pub given_on: NaiveDate,
    pub amount_fen: Option<i64>,
    pub note: Option<String>,
}

/// A visit to record.
#[derive(Clone, Debug)]
pub struct NewVisit {
    pub household_id: i64,
    pub visited_on: NaiveDate,
    pub findings: String,
}

/// Records help and visits are officials' work; an admin reads only.
fn refuse_non_official(actor: &Actor) -> Result<(), HelpError> {
    if actor.role == Role::Admin {
        return Err(HelpError::Invalid(reasons::help_admin_records_nothing()));
    }
    if !actor.is_official() {
        return Err(HelpError::Forbidden);
    }
    Ok(())
}

fn checked_day(day: NaiveDate, clock: &dyn Clock) -> Result<NaiveDate, HelpError> {
    let today = clock.today();
    if day > today || day < first_day() {
        return Err(HelpError::Invalid(reasons::help_day(today)));
    }
    Ok(day)
}

fn checked_text(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

/// The household of the officials' area, to read or to add to; anyone else's is not found.
async fn household_in_reach(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
    action: Action,
) -> Result<household::Model, HelpError> {
    if !(actor.is_official() || actor.role == Role::Admin) {
        return Err(HelpError::NotFound);
    }
    Ok(household_for(conn, actor, id, action).await?)
}

/// Records a piece of help given to a household of the official's area. Sent again with the
/// same key, it answers what the first request recorded.
pub async fn record_help(
    db: &Database,
    clock: &dyn Clock,
    actor: &Actor,
    new: NewHelp,
    key: Option<&str>,
    origin: &Origin,
) -> Result<help_record::Model, HelpError> {
    refuse_non_official(actor)?;
    let given_on = checked_day(new.given_on, clock)?;
    if new
        .amount_fen
        .is_some_and(|fen| !(0..=MAX_AMOUNT_FEN).contains(&fen))
    {
        return Err(HelpError::Invalid(reasons::help_amount_range(
            MAX_AMOUNT_FEN / 100,
        )));
    }
    let note = checked_text(new.note.clone());
    if note.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTE) {
        return Err(HelpError::Invalid(reasons::help_note_length(MAX_NOTE)));
    }
    let request = json!([
        new.household_id,
        new.kind.to_value(),
        given_on.to_string(),
        new.amount_fen,
        note,
    ]);
    let claim = Claim::new(actor, key, "help_record", request)?;
    if let Some(earlier) = idempotency::earlier(db.conn(), claim.as_ref()).await? {
        return help_made(db, idempotency::id_of(&earlier)?).await;
    }
    let now = clock.now();
    let txn = db.begin_write().await?;
    let household = household_in_reach(&txn, actor, new.household_id, Action::Update).await?;
    let record = help_record::ActiveModel {
        household_id: Set(household.id),
        village_code: Set(household.village_code.clone()),
        kind: Set(new.kind),
        given_on: Set(given_on),
        amount_fen: Set(new.amount_fen),
        note: Set(note),
        recorded_by: Set(actor.user_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        NewAuditEntry {
            actor_user_id: Some(actor.user_id),
            actor_ip: origin.ip.clone(),
            action: "help.recorded",
            entity: "help_record",
            entity_id: record.id.to_string(),
            area_code: Some(record.village_code.clone()),
            before: None,
            after: Some(json!({
                "household_id": record.household_id,
                "kind": record.kind.to_value(),
                "given_on": record.given_on.to_string(),
                "amount_fen": record.amount_fen,
                "note": record.note,
            })),
        },
    )
    .await?;
    match idempotency::commit(db, txn, claim.as_ref(), &record.id.to_string()).await? {
        None => Ok(record),
        // Another request with the same key made it first.
        Some(winner) => help_made(db, idempotency::id_of(&winner)?).await,
    }
}

async fn help_made(db: &Database, id: i64) -> Result<help_record::Model, HelpError> {
    help_record::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or(HelpError::NotFound)
}

async fn visit_made(db: &Database, id: i64) -> Result<household_visit::Model, HelpError> {
    household_visit::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or(HelpError::NotFound)
}

/// Records a visit to a household of the official's area, with the photo taken there if one
/// was (stored as listings' photos are, checked before anything is recorded). Sent again with
/// the same key, it answers what the first request recorded.
#[allow(clippy::too_many_arguments)]
pub async fn record_visit(
    db: &Database,
    clock: &dyn Clock,
    photos: &Photos,
    actor: &Actor,
    new: NewVisit,
    photo: Option<(Vec<u8>, Declared)>,
    key: Option<&str>,
    origin: &Origin,
) -> Result<household_visit::Model, HelpError> {
    refuse_non_official(actor)?;
    let visited_on = checked_day(new.visited_on, clock)?;
    let findings = new.findings.trim().to_owned();
    if findings.is_empty() || findings.chars().count() > MAX_NOTE {
        return Err(HelpError::Invalid(reasons::visit_findings_length(MAX_NOTE)));
    }
    let digest = photo
        .as_ref()
        .map(|(bytes, _)| crate::infra::tokens::sha256_hex(bytes));
    let request = json!([new.household_id, visited_on.to_string(), findings, digest]);
    let claim = Claim::new(actor, key, "household_visit", request)?;
    if let Some(earlier) = idempotency::earlier(db.conn(), claim.as_ref()).await? {
        return visit_made(db, idempotency::id_of(&earlier)?).await;
    }
    // Checked before the work of storing a photo, and again under the lock.
    household_in_reach(db.conn(), actor, new.household_id, Action::Update).await?;
    let photo_id = match photo {
        Some((bytes, declared)) => Some(photos.store(db, actor, bytes, declared).await?.id),
        None => None,
    };
    let now = clock.now();
    let txn = db.begin_write().await?;
    let household = household_in_reach(&txn, actor, new.household_id, Action::Update).await?;
    let visit = household_visit::ActiveModel {
        household_id: Set(household.id),
        village_code: Set(household.village_code.clone()),
        visited_on: Set(visited_on),
        findings: Set(findings),
        photo_id: Set(photo_id),
        visited_by: Set(actor.user_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        NewAuditEntry {
            actor_user_id: Some(actor.user_id),
            actor_ip: origin.ip.clone(),
            action: "visit.recorded",
            entity: "household_visit",
            entity_id: visit.id.to_string(),
            area_code: Some(visit.village_code.clone()),
            before: None,
            after: Some(json!({
                "household_id": visit.household_id,
                "visited_on": visit.visited_on.to_string(),
                "findings": visit.findings,
                "photo_id": visit.photo_id,
            })),
        },
    )
    .await?;
    match idempotency::commit(db, txn, claim.as_ref(), &visit.id.to_string()).await? {
        None => Ok(visit),
        // Another request with the same key made it first.
        Some(winner) => visit_made(db, idempotency::id_of(&winner)?).await,
    }
}

/// Names a household's responsible cadre (帮扶责任人), or clears it with `None`: a village
/// cadre or township official of the household's area names an official whose own area takes
/// in the household's village. Audited with the cadre before and after.
pub async fn assign_cadre(
    db: &Database,
    clock: &dyn Clock,
    actor: &Actor,
    household_id: i64,
    cadre_id: Option<i64>,
    origin: &Origin,
) -> Result<OnFile, HelpError> {
    refuse_non_official(actor)?;
    if !matches!(actor.role, Role::VillageCadre | Role::TownshipOfficial) {
        return Err(HelpError::Forbidden);
    }
    let txn = db.begin_write().await?;
    let household = household_in_reach(&txn, actor, household_id, Action::Update).await?;
    if let Some(user_id) = cadre_id {
        let village = AreaCode::parse(&household.village_code)
            .map_err(|_| HelpError::Invalid(reasons::household_records()))?;
        // Locked, so the account cannot be disabled or moved while it is named.
        let fits = user::Entity::find_by_id(user_id)
            .lock_shared()
            .one(&txn)
            .await?
            .filter(|u| !u.disabled && crate::service::policy::is_official_role(u.role))
            .and_then(|u| u.area_code)
            .and_then(|a| AreaCode::parse(&a).ok())
            .is_some_and(|area| area == village || area.contains(&village));
        if !fits {
            return Err(HelpError::Invalid(reasons::help_cadre_outside(user_id)));
        }
    }
    let before = household.responsible_cadre_id;
    let mut active = household.into_active_model();
    active.responsible_cadre_id = Set(cadre_id);
    active.updated_at = Set(clock.now());
    let household = active.update(&txn).await?;
    audit::append(
        &txn,
        NewAuditEntry {
            actor_user_id: Some(actor.user_id),
            actor_ip: origin.ip.clone(),
            action: "household.cadre_assigned",
            entity: "household",
            entity_id: household.id.to_string(),
            area_code: Some(household.village_code.clone()),
            before: Some(json!({ "responsible_cadre_id": before })),
            after: Some(json!({ "responsible_cadre_id": cadre_id })),
        },
    )
    .await?;
    txn.commit().await?;
    on_file(db.conn(), actor, household_id).await
}

/// The officials who may be named a household's responsible cadre: those of its village, its
/// township and its county, enabled, by name.
pub async fn eligible_cadres(
    conn: &impl ConnectionTrait,
    household: &household::Model,
) -> Result<Vec<Cadre>, HelpError> {
    let village = &household.village_code;
    // Codes are kept padded to 12 digits: the county's and the township's end in zeros.
    let areas: Vec<String> = [(6, "000000"), (9, "000"), (12, "")]
        .into_iter()
        .filter_map(|(len, zeros)| village.get(..len).map(|code| format!("{code}{zeros}")))
        .collect();
    let users = user::Entity::find()
        .filter(user::Column::AreaCode.is_in(areas))
        .filter(user::Column::Disabled.eq(false))
        .order_by_asc(user::Column::DisplayName)
        .order_by_asc(user::Column::Id)
        .all(conn)
        .await?;
    Ok(users
        .into_iter()
        .filter(|u| crate::service::policy::is_official_role(u.role))
        .map(|u| Cadre {
            user_id: u.id,
            name: u.display_name,
            role: u.role,
        })
        .collect())
}

/// What is on file for a household of the reader's area (officials and admins).
pub async fn on_file(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    household_id: i64,
) -> Result<OnFile, HelpError> {
    let household = household_in_reach(conn, actor, household_id, Action::Read).await?;
    file_of(conn, household).await
}

/// What is on file for a household already read in the caller's reach.
pub async fn file_of(
    conn: &impl ConnectionTrait,
    household: household::Model,
) -> Result<OnFile, HelpError> {
    let cadre = match household.responsible_cadre_id {
        Some(id) => user::Entity::find_by_id(id)
            .one(conn)
            .await?
            .map(|u| Cadre {
                user_id: u.id,
                name: u.display_name,
                role: u.role,
            }),
        None => None,
    };
    let help = help_record::Entity::find()
        .filter(help_record::Column::HouseholdId.eq(household.id))
        .order_by_desc(help_record::Column::GivenOn)
        .order_by_desc(help_record::Column::Id)
        .all(conn)
        .await?;
    let visits = household_visit::Entity::find()
        .filter(household_visit::Column::HouseholdId.eq(household.id))
        .order_by_desc(household_visit::Column::VisitedOn)
        .order_by_desc(household_visit::Column::Id)
        .all(conn)
        .await?;
    Ok(OnFile {
        household,
        cadre,
        help,
        visits,
    })
}

/// How much is on file for each of `household_ids` (the caller has read them in its reach).
pub async fn tallies(
    conn: &impl ConnectionTrait,
    household_ids: &[i64],
) -> Result<HashMap<i64, Tally>, HelpError> {
    let mut tallies: HashMap<i64, Tally> = HashMap::new();
    if household_ids.is_empty() {
        return Ok(tallies);
    }
    let help = help_record::Entity::find()
        .filter(help_record::Column::HouseholdId.is_in(household_ids.iter().copied()))
        .all(conn)
        .await?;
    for h in help {
        tallies.entry(h.household_id).or_default().help += 1;
    }
    let visits = household_visit::Entity::find()
        .filter(household_visit::Column::HouseholdId.is_in(household_ids.iter().copied()))
        .all(conn)
        .await?;
    for v in visits {
        let tally = tallies.entry(v.household_id).or_default();
        tally.visits += 1;
        tally.last_visit = tally.last_visit.max(Some(v.visited_on));
    }
    Ok(tallies)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_name_and_reads_back() {
        for kind in KINDS {
            let (zh, en) = kind_names(kind);
            assert!(!zh.is_empty() && !en.is_empty());
            assert_eq!(kind_named(&kind.to_value()), Some(kind));
        }
        assert_eq!(kind_named("lottery"), None);
    }
}
