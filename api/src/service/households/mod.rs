//! The household registry: registering a household with its members, and reading it back with
//! ID numbers masked unless an official of the owning area asks to reveal them (audited).

pub mod changes;
pub mod export;
pub mod file;
pub mod import;
pub mod incomes;
pub mod sheet;
pub(crate) mod store;

pub use store::Clash;

use chrono::{NaiveDate, Utc};
use entities::{
    household::{self, HouseholdStatus, PovertyCause},
    household_member::{self, Health, LabourCapacity, MemberRelation, Schooling},
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, ModelTrait, QueryFilter,
    QueryOrder, QuerySelect, SqlErr, sea_query::Query,
};

use super::{
    audit::{self, NewAuditEntry},
    idempotency::{self, Claim},
    pagination::{Page, PageRequest},
    policy::{self, Action, Actor, Resource},
    users::Origin,
};
use crate::{
    domain::{AreaCode, IdNumber, Phone, Sex},
    infra::{
        db::Database,
        pii::{PiiError, PiiVault, Sealed},
    },
};

#[derive(Debug, thiserror::Error)]
pub enum HouseholdError {
    #[error("no such household")]
    NotFound,
    #[error("no such user")]
    UserNotFound,
    #[error("not allowed")]
    Forbidden,
    #[error("household {0} is already registered")]
    NumberTaken(String),
    #[error("the village does not exist")]
    UnknownVillage,
    #[error("{0}")]
    Invalid(crate::service::reasons::Reason),
    #[error("member {member} is already registered in household {household_number} ({id_masked})")]
    DuplicatePerson {
        member: usize,
        household_number: String,
        id_masked: String,
    },
    /// The person is registered in a household outside the actor's area: nothing more is told.
    #[error("member {member} is already registered elsewhere in the county")]
    RegisteredElsewhere { member: usize },
    /// Other records rely on the household (assessments, exit cases, goods, orders, plots,
    /// batches, co-operative memberships): it cannot be removed.
    #[error("the household has records that rely on it: {}", .0.join(", "))]
    InUse(Vec<&'static str>),
    /// The client's idempotency key was sent before with another request.
    #[error("the key was used for another request")]
    KeyReused,
    #[error(transparent)]
    Pii(#[from] PiiError),
    #[error(transparent)]
    Sheet(#[from] export::SheetWriteError),
    #[error(transparent)]
    Database(#[from] DbErr),
}

impl From<crate::service::idempotency::KeyError> for HouseholdError {
    fn from(e: crate::service::idempotency::KeyError) -> Self {
        use crate::service::idempotency::KeyError;
        match e {
            KeyError::Malformed(reason) => Self::Invalid(reason),
            KeyError::Reused => Self::KeyReused,
            KeyError::Database(e) => Self::Database(e),
        }
    }
}

/// A household to register, with all its members.
#[derive(Clone, Debug)]
pub struct NewHousehold {
    pub household_number: String,
    pub village: AreaCode,
    pub phone: Option<Phone>,
    pub poverty_cause: PovertyCause,
    pub responsible_cadre_id: Option<i64>,
    pub registered_year: i32,
    pub members: Vec<NewMember>,
}

#[derive(Clone, Debug)]
pub struct NewMember {
    pub name: String,
    pub id_number: IdNumber,
    pub relation: MemberRelation,
    /// When given, must agree with the ID number.
    pub declared_sex: Option<Sex>,
    /// When given, must agree with the ID number.
    pub declared_birth_date: Option<NaiveDate>,
    pub labour_capacity: LabourCapacity,
    pub health: Health,
    pub schooling: Schooling,
    pub medical_insurance: bool,
}

impl NewHousehold {
    /// Everything the registration asks, for its idempotency key; names, ID numbers and the
    /// phone only as the vault's keyed hashes.
    pub(crate) fn request(&self, vault: &PiiVault) -> serde_json::Value {
        serde_json::json!([
            self.household_number.trim(),
            self.village.as_str(),
            self.phone.as_ref().map(|p| vault.search_hash(p.as_str())),
            format!("{:?}", self.poverty_cause),
            self.responsible_cadre_id,
            self.registered_year,
            self.members
                .iter()
                .map(|m| m.request(vault))
                .collect::<Vec<_>>(),
        ])
    }
}

impl NewMember {
    /// Everything a member's entry asks, for an idempotency key (see [`NewHousehold::request`]).
    pub(crate) fn request(&self, vault: &PiiVault) -> serde_json::Value {
        serde_json::json!([
            vault.search_hash(self.name.trim()),
            vault.search_hash(self.id_number.as_str()),
            format!("{:?}", self.relation),
            self.declared_sex.map(|s| format!("{s:?}")),
            self.declared_birth_date.map(|d| d.to_string()),
            format!("{:?}", self.labour_capacity),
            format!("{:?}", self.health),
            format!("{:?}", self.schooling),
            self.medical_insurance,
        ])
    }
}

/// A household as read back; each member's ID number masked or, when revealed, in full.
#[derive(Clone, Debug)]
pub struct HouseholdRecord {
    pub household: household::Model,
    pub members: Vec<MemberRecord>,
}

#[derive(Clone, Debug)]
pub struct MemberRecord {
    pub member: household_member::Model,
    /// Masked unless revealed.
    pub id_number: String,
}

pub async fn register(
    db: &Database,
    vault: &PiiVault,
    actor: &Actor,
    new: NewHousehold,
    origin: &Origin,
) -> Result<HouseholdRecord, HouseholdError> {
    register_keyed(db, vault, actor, new, origin, None).await
}

/// [`register`], once for a client's key: the same request sent again answers the household
/// the first one registered; the key with another request is refused.
pub async fn register_keyed(
    db: &Database,
    vault: &PiiVault,
    actor: &Actor,
    new: NewHousehold,
    origin: &Origin,
    key: Option<&str>,
) -> Result<HouseholdRecord, HouseholdError> {
    let claim = Claim::new(actor, key, "household", new.request(vault))?;
    if let Some(earlier) = idempotency::earlier(db.conn(), claim.as_ref()).await? {
        return made(db, actor, idempotency::id_of(&earlier)?).await;
    }
    let claim = claim.as_ref();
    match register_once(db, vault, actor, &new, origin, claim).await {
        // Someone registered the same number or person between our checks and our insert
        // (only the unique indexes saw it); once more, the checks name the clash precisely.
        Err(HouseholdError::Database(e))
            if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
        {
            register_once(db, vault, actor, &new, origin, claim).await
        }
        other => other,
    }
}

/// What an earlier request with the same key made: the household as read back now.
pub(crate) async fn made(
    db: &Database,
    actor: &Actor,
    id: i64,
) -> Result<HouseholdRecord, HouseholdError> {
    let household = household_for(db.conn(), actor, id, Action::Read).await?;
    load_record(db.conn(), household, None).await
}

async fn register_once(
    db: &Database,
    vault: &PiiVault,
    actor: &Actor,
    new: &NewHousehold,
    origin: &Origin,
    claim: Option<&Claim>,
) -> Result<HouseholdRecord, HouseholdError> {
    let resource = Resource::Household {
        household_id: None,
        area: &new.village,
    };
    if !policy::can(actor, Action::Create, &resource) {
        return Err(HouseholdError::Forbidden);
    }
    if let Some(flaw) = flaws(new).into_iter().next() {
        return Err(HouseholdError::Invalid(flaw.reason()));
    }

    let txn = db.begin_write().await?;
    if let Some(cadre) = new.responsible_cadre_id {
        check_responsible_cadre(&txn, cadre).await?;
    }
    let households = std::slice::from_ref(new);
    if let Some(clash) = store::find_clashes(&txn, vault, Some(actor), households)
        .await?
        .into_iter()
        .next()
    {
        return Err(clash.into());
    }
    let ids = store::insert_households(
        &txn,
        vault,
        households,
        "household.registered",
        Some(actor.user_id),
        origin,
    )
    .await?;
    let household = find_household(&txn, ids[0]).await?;
    let record = load_record(&txn, household, None).await?;
    if let Some(winner) = idempotency::commit(db, txn, claim, &ids[0].to_string()).await? {
        return made(db, actor, idempotency::id_of(&winner)?).await;
    }
    Ok(record)
}

/// A household's responsible cadre must be an official's account.
pub(crate) async fn check_responsible_cadre(
    conn: &impl ConnectionTrait,
    user_id: i64,
) -> Result<(), HouseholdError> {
    let is_official = entities::user::Entity::find_by_id(user_id)
        .one(conn)
        .await?
        .is_some_and(|u| policy::is_official_role(u.role));
    if is_official {
        Ok(())
    } else {
        Err(HouseholdError::Invalid(
            crate::service::reasons::cadre_unknown(user_id),
        ))
    }
}

impl From<Clash> for HouseholdError {
    fn from(clash: Clash) -> Self {
        match clash {
            Clash::UnknownVillage { .. } => HouseholdError::UnknownVillage,
            Clash::OutsideArea { .. } => HouseholdError::Forbidden,
            Clash::NumberTaken {
                household_number, ..
            } => HouseholdError::NumberTaken(household_number),
            Clash::PersonRegistered {
                member,
                registered_in: Some(found),
                ..
            } => HouseholdError::DuplicatePerson {
                member: member + 1,
                household_number: found.household_number,
                id_masked: found.id_masked,
            },
            Clash::PersonRegistered {
                member,
                registered_in: None,
                ..
            } => HouseholdError::RegisteredElsewhere { member: member + 1 },
        }
    }
}

async fn find_household(
    conn: &impl ConnectionTrait,
    id: i64,
) -> Result<household::Model, HouseholdError> {
    household::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(HouseholdError::NotFound)
}

/// A household with its members; ID numbers opened with `reveal_with`, masked without it.
async fn load_record(
    conn: &impl ConnectionTrait,
    household: household::Model,
    reveal_with: Option<&PiiVault>,
) -> Result<HouseholdRecord, HouseholdError> {
    let stored = household
        .find_related(household_member::Entity)
        .order_by_asc(household_member::Column::Id)
        .all(conn)
        .await?;
    let mut members = Vec::with_capacity(stored.len());
    for member in stored {
        let id_number = match reveal_with {
            Some(vault) => vault.open(&Sealed {
                key_id: member.id_key_id.clone(),
                ciphertext: member.id_ciphertext.clone(),
            })?,
            None => member.id_masked.clone(),
        };
        members.push(MemberRecord { member, id_number });
    }
    Ok(HouseholdRecord { household, members })
}

/// The household `id` if the actor may take `action` on it. Out of reach reads as not found,
/// so ids cannot be probed.
pub(crate) async fn household_for(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
    action: Action,
) -> Result<household::Model, HouseholdError> {
    // A household about to change is read FOR UPDATE (PostgreSQL, MySQL; SQLite's write
    // transactions run one at a time): two changes to it run one after the other, the second
    // seeing what the first left (its status, an open exit case).
    let household = if action == Action::Update {
        household::Entity::find_by_id(id)
            .lock_exclusive()
            .one(conn)
            .await?
            .ok_or(HouseholdError::NotFound)?
    } else {
        find_household(conn, id).await?
    };
    let village = AreaCode::parse(&household.village_code).map_err(|_| {
        HouseholdError::Invalid(crate::service::reasons::area_code_invalid(
            household.village_code.clone(),
        ))
    })?;
    let resource = Resource::Household {
        household_id: Some(household.id),
        area: &village,
    };
    if !policy::can(actor, Action::Read, &resource) {
        return Err(HouseholdError::NotFound);
    }
    if !policy::can(actor, action, &resource) {
        return Err(HouseholdError::Forbidden);
    }
    Ok(household)
}

/// A household with its members. `reveal` shows full ID numbers to officials of the owning
/// area and writes an audit entry saying who looked.
pub async fn get(
    db: &Database,
    vault: &PiiVault,
    actor: &Actor,
    id: i64,
    reveal: bool,
    origin: &Origin,
) -> Result<HouseholdRecord, HouseholdError> {
    let action = if reveal { Action::Reveal } else { Action::Read };
    let household = household_for(db.conn(), actor, id, action).await?;
    if !reveal {
        return load_record(db.conn(), household, None).await;
    }
    let txn = db.begin_write().await?;
    let record = load_record(&txn, household, Some(vault)).await?;
    audit::append(
        &txn,
        NewAuditEntry {
            actor_user_id: Some(actor.user_id),
            actor_ip: origin.ip.clone(),
            action: "household.id_numbers_revealed",
            entity: "household",
            entity_id: record.household.id.to_string(),
            area_code: Some(record.household.village_code.clone()),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(record)
}

/// Something wrong with a household as given, found before the registry is consulted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Flaw {
    #[error("a household number has 1 to 32 characters")]
    NumberLength,
    #[error("a household number has no invisible or control characters and no full-width digits")]
    NumberCharacters,
    #[error("the registered year lies between 2014 and {this_year}")]
    YearOutOfRange { this_year: i32 },
    #[error("a household has 1 to 30 members")]
    MemberCount,
    #[error("a household has exactly one head, not {0}")]
    HeadCount(usize),
    #[error("a name has 1 to 64 characters")]
    NameLength { member: usize },
    #[error("the sex does not match the ID number")]
    SexMismatch { member: usize },
    #[error("the birth date does not match the ID number")]
    BirthDateMismatch { member: usize },
    #[error("the same ID number is listed twice")]
    RepeatedIdNumber { member: usize },
}

impl Flaw {
    /// The flaw as a person reads it, in either language.
    pub fn reason(&self) -> crate::service::reasons::Reason {
        use crate::service::reasons;
        match *self {
            Flaw::NumberLength => reasons::household_number_length(),
            Flaw::NumberCharacters => reasons::household_number_characters(),
            Flaw::YearOutOfRange { this_year } => reasons::registered_year(this_year),
            Flaw::MemberCount => reasons::member_count(),
            Flaw::HeadCount(heads) => reasons::head_count(heads),
            Flaw::NameLength { member } => reasons::member_name_length(member + 1),
            Flaw::SexMismatch { member } => reasons::member_sex_mismatch(member + 1),
            Flaw::BirthDateMismatch { member } => reasons::member_birth_mismatch(member + 1),
            Flaw::RepeatedIdNumber { member } => reasons::member_repeated(member + 1),
        }
    }

    /// The flaw as said of a whole household: "member 2: …" where it is one member's.
    pub fn in_household(&self) -> String {
        match self {
            Flaw::NameLength { member }
            | Flaw::SexMismatch { member }
            | Flaw::BirthDateMismatch { member }
            | Flaw::RepeatedIdNumber { member } => format!("member {}: {self}", member + 1),
            _ => self.to_string(),
        }
    }
}

/// Every flaw of a household, in the order of its fields and members.
pub fn flaws(new: &NewHousehold) -> Vec<Flaw> {
    let mut flaws = Vec::new();
    let number = new.household_number.trim();
    if number.is_empty() || number.chars().count() > 32 {
        flaws.push(Flaw::NumberLength);
    }
    // Look-alike numbers (full-width digits, a zero-width space, a direction override) would
    // register one household twice.
    if crate::domain::text::identifier(number).as_deref() != Ok(number) {
        flaws.push(Flaw::NumberCharacters);
    }
    let this_year = crate::domain::county_time::year_of(Utc::now());
    if !(2014..=this_year).contains(&new.registered_year) {
        flaws.push(Flaw::YearOutOfRange { this_year });
    }
    if new.members.is_empty() || new.members.len() > 30 {
        flaws.push(Flaw::MemberCount);
    }
    let heads = new
        .members
        .iter()
        .filter(|m| m.relation == MemberRelation::Head)
        .count();
    if heads != 1 && !new.members.is_empty() {
        flaws.push(Flaw::HeadCount(heads));
    }
    for (member, m) in new.members.iter().enumerate() {
        flaws.extend(member_flaws(m, member));
        if new.members[..member]
            .iter()
            .any(|other| other.id_number == m.id_number)
        {
            flaws.push(Flaw::RepeatedIdNumber { member });
        }
    }
    flaws
}

fn member_flaws(m: &NewMember, member: usize) -> Vec<Flaw> {
    let mut flaws = Vec::new();
    let name = m.name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        flaws.push(Flaw::NameLength { member });
    }
    if m.declared_sex.is_some_and(|sex| sex != m.id_number.sex()) {
        flaws.push(Flaw::SexMismatch { member });
    }
    if m.declared_birth_date
        .is_some_and(|date| date != m.id_number.birth_date())
    {
        flaws.push(Flaw::BirthDateMismatch { member });
    }
    flaws
}

/// Which households a list shows; every filter is optional and they combine with AND.
#[derive(Clone, Debug, Default)]
pub struct HouseholdFilter {
    /// The area whose households are listed (default: the actor's own).
    pub area: Option<AreaCode>,
    pub status: Option<HouseholdStatus>,
    pub poverty_cause: Option<PovertyCause>,
    /// Part of the household number or of a member's name.
    pub text: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HouseholdSort {
    /// In the order they were registered.
    #[default]
    Registered,
    HouseholdNumber,
}

/// One line of a household list.
#[derive(Clone, Debug)]
pub struct HouseholdSummary {
    pub household: household::Model,
    pub head_name: Option<String>,
    pub member_count: u64,
}

/// One page of the households in an area the actor governs.
pub async fn list(
    db: &Database,
    actor: &Actor,
    filter: &HouseholdFilter,
    sort: HouseholdSort,
    page: &PageRequest,
) -> Result<Page<HouseholdSummary>, HouseholdError> {
    let area = filter.area.clone().or_else(|| actor.area.clone());
    let mut query = household::Entity::find();
    match &area {
        Some(area) if actor.governs(area) => {
            query =
                query.filter(household::Column::VillageCode.starts_with(area.descendant_prefix()));
        }
        None if actor.role == entities::user::Role::Admin => {}
        _ => return Err(HouseholdError::Forbidden),
    }
    if let Some(status) = filter.status {
        query = query.filter(household::Column::Status.eq(status));
    }
    if let Some(cause) = filter.poverty_cause {
        query = query.filter(household::Column::PovertyCause.eq(cause));
    }
    if let Some(text) = filter
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let pattern = super::contains_pattern(text);
        let by_member = Query::select()
            .column(household_member::Column::HouseholdId)
            .from(household_member::Entity)
            .and_where(household_member::Column::Name.like(pattern.clone()))
            .to_owned();
        query = query.filter(
            Condition::any()
                .add(household::Column::HouseholdNumber.like(pattern))
                .add(household::Column::Id.in_subquery(by_member)),
        );
    }
    let rows = match sort {
        HouseholdSort::Registered => {
            if let Some(after) = page.after.as_deref().and_then(|a| a.parse::<i64>().ok()) {
                query = query.filter(household::Column::Id.gt(after));
            }
            query.order_by_asc(household::Column::Id)
        }
        HouseholdSort::HouseholdNumber => {
            if let Some(after) = &page.after {
                query = query.filter(household::Column::HouseholdNumber.gt(after.as_str()));
            }
            query.order_by_asc(household::Column::HouseholdNumber)
        }
    }
    .limit(page.fetch_limit())
    .all(db.conn())
    .await?;
    let page = Page::from_rows(rows, page, |h| match sort {
        HouseholdSort::Registered => h.id.to_string(),
        HouseholdSort::HouseholdNumber => h.household_number.clone(),
    });

    // Heads and sizes of the households on this page, in one query.
    let ids: Vec<i64> = page.items.iter().map(|h| h.id).collect();
    let members: Vec<(i64, String, MemberRelation)> = household_member::Entity::find()
        .select_only()
        .column(household_member::Column::HouseholdId)
        .column(household_member::Column::Name)
        .column(household_member::Column::Relation)
        .filter(household_member::Column::HouseholdId.is_in(ids))
        .into_tuple()
        .all(db.conn())
        .await?;
    Ok(page.map(|household| {
        let own = members.iter().filter(|(id, _, _)| *id == household.id);
        HouseholdSummary {
            head_name: own
                .clone()
                .find(|(_, _, relation)| *relation == MemberRelation::Head)
                .map(|(_, name, _)| name.clone()),
            member_count: own.count() as u64,
            household,
        }
    }))
}
