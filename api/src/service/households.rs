//! The household registry: registering a household with its members, and reading it back with
//! ID numbers masked unless an official of the owning area asks to reveal them (audited).

use chrono::{Datelike, NaiveDate, Utc};
use entities::{
    household::{self, HouseholdStatus, PovertyCause},
    household_member::{self, Health, LabourCapacity, MemberRelation, Schooling},
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DbErr, EntityTrait, ModelTrait,
    QueryFilter, QueryOrder, QuerySelect, SqlErr, sea_query::Query,
};
use serde_json::json;

use super::{
    audit::{self, NewAuditEntry},
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
    #[error("not allowed")]
    Forbidden,
    #[error("household {0} is already registered")]
    NumberTaken(String),
    #[error("the village does not exist")]
    UnknownVillage,
    #[error("{0}")]
    Invalid(String),
    #[error("member {member} is already registered in household {household_number} ({id_masked})")]
    DuplicatePerson {
        member: usize,
        household_number: String,
        id_masked: String,
    },
    #[error(transparent)]
    Pii(#[from] PiiError),
    #[error(transparent)]
    Database(#[from] DbErr),
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
    match register_once(db, vault, actor, new.clone(), origin).await {
        // Someone registered the same number or person between our checks and our insert
        // (only the unique indexes saw it); once more, the checks name the clash precisely.
        Err(HouseholdError::Database(e))
            if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
        {
            register_once(db, vault, actor, new, origin).await
        }
        other => other,
    }
}

async fn register_once(
    db: &Database,
    vault: &PiiVault,
    actor: &Actor,
    new: NewHousehold,
    origin: &Origin,
) -> Result<HouseholdRecord, HouseholdError> {
    let resource = Resource::Household {
        household_id: None,
        area: &new.village,
    };
    if !policy::can(actor, Action::Create, &resource) {
        return Err(HouseholdError::Forbidden);
    }
    validate(&new)?;

    let txn = db.begin_write().await?;
    let village = entities::area::Entity::find_by_id(new.village.to_string())
        .one(&txn)
        .await?;
    if village.is_none_or(|v| v.level != entities::area::AreaLevel::Village) {
        return Err(HouseholdError::UnknownVillage);
    }
    let number = new.household_number.trim().to_owned();
    if household::Entity::find()
        .filter(household::Column::HouseholdNumber.eq(&number))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(HouseholdError::NumberTaken(number));
    }
    let hashes: Vec<String> = new
        .members
        .iter()
        .map(|m| vault.search_hash(m.id_number.as_str()))
        .collect();
    let existing = household_member::Entity::find()
        .filter(household_member::Column::IdHash.is_in(hashes.clone()))
        .find_also_related(household::Entity)
        .all(&txn)
        .await?;
    if let Some((member, household)) = existing.first() {
        let position = hashes
            .iter()
            .position(|h| *h == member.id_hash)
            .unwrap_or(0);
        return Err(HouseholdError::DuplicatePerson {
            member: position + 1,
            household_number: household
                .as_ref()
                .map(|h| h.household_number.clone())
                .unwrap_or_default(),
            id_masked: member.id_masked.clone(),
        });
    }

    let now = Utc::now();
    let household = household::ActiveModel {
        household_number: Set(number),
        village_code: Set(new.village.to_string()),
        phone: Set(new.phone.as_ref().map(|p| p.as_str().to_owned())),
        poverty_cause: Set(new.poverty_cause),
        responsible_cadre_id: Set(new.responsible_cadre_id),
        registered_year: Set(new.registered_year),
        status: Set(HouseholdStatus::Poor),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut members = Vec::with_capacity(new.members.len());
    for (member, hash) in new.members.iter().zip(hashes) {
        let sealed = vault.seal(member.id_number.as_str());
        let stored = household_member::ActiveModel {
            household_id: Set(household.id),
            name: Set(member.name.trim().to_owned()),
            id_key_id: Set(sealed.key_id),
            id_ciphertext: Set(sealed.ciphertext),
            id_masked: Set(member.id_number.masked()),
            id_hash: Set(hash),
            relation: Set(member.relation),
            sex: Set(match member.id_number.sex() {
                Sex::Male => household_member::Sex::Male,
                Sex::Female => household_member::Sex::Female,
            }),
            birth_date: Set(member.id_number.birth_date()),
            labour_capacity: Set(member.labour_capacity),
            health: Set(member.health),
            schooling: Set(member.schooling),
            medical_insurance: Set(member.medical_insurance),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        members.push(MemberRecord {
            id_number: stored.id_masked.clone(),
            member: stored,
        });
    }
    audit::append(
        &txn,
        NewAuditEntry {
            actor_user_id: Some(actor.user_id),
            actor_ip: origin.ip.clone(),
            action: "household.registered",
            entity: "household",
            entity_id: household.id.to_string(),
            area_code: Some(household.village_code.clone()),
            after: Some(audit_json(&household, &members)),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(HouseholdRecord { household, members })
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
    let household = household::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or(HouseholdError::NotFound)?;
    let village = AreaCode::parse(&household.village_code)
        .map_err(|e| HouseholdError::Invalid(e.to_string()))?;
    let resource = Resource::Household {
        household_id: Some(household.id),
        area: &village,
    };
    // Out of reach reads as not found, so ids cannot be probed.
    if !policy::can(actor, Action::Read, &resource) {
        return Err(HouseholdError::NotFound);
    }
    if reveal && !policy::can(actor, Action::Reveal, &resource) {
        return Err(HouseholdError::Forbidden);
    }
    let stored = household
        .find_related(household_member::Entity)
        .order_by_asc(household_member::Column::Id)
        .all(db.conn())
        .await?;
    let mut members = Vec::with_capacity(stored.len());
    for member in stored {
        let id_number = if reveal {
            vault.open(&Sealed {
                key_id: member.id_key_id.clone(),
                ciphertext: member.id_ciphertext.clone(),
            })?
        } else {
            member.id_masked.clone()
        };
        members.push(MemberRecord { member, id_number });
    }
    if reveal {
        let txn = db.begin_write().await?;
        audit::append(
            &txn,
            NewAuditEntry {
                actor_user_id: Some(actor.user_id),
                actor_ip: origin.ip.clone(),
                action: "household.id_numbers_revealed",
                entity: "household",
                entity_id: household.id.to_string(),
                area_code: Some(household.village_code.clone()),
                ..Default::default()
            },
        )
        .await?;
        txn.commit().await?;
    }
    Ok(HouseholdRecord { household, members })
}

fn validate(new: &NewHousehold) -> Result<(), HouseholdError> {
    let invalid = |reason: String| Err(HouseholdError::Invalid(reason));
    let number = new.household_number.trim();
    if number.is_empty() || number.chars().count() > 32 {
        return invalid("a household number has 1 to 32 characters".into());
    }
    let this_year = Utc::now().year();
    if !(2014..=this_year).contains(&new.registered_year) {
        return invalid(format!(
            "the registered year lies between 2014 and {this_year}"
        ));
    }
    if new.members.is_empty() || new.members.len() > 30 {
        return invalid("a household has 1 to 30 members".into());
    }
    let heads = new
        .members
        .iter()
        .filter(|m| m.relation == MemberRelation::Head)
        .count();
    if heads != 1 {
        return invalid(format!("a household has exactly one head, not {heads}"));
    }
    for (i, member) in new.members.iter().enumerate() {
        let n = i + 1;
        let name = member.name.trim();
        if name.is_empty() || name.chars().count() > 64 {
            return invalid(format!("member {n}: a name has 1 to 64 characters"));
        }
        if member
            .declared_sex
            .is_some_and(|sex| sex != member.id_number.sex())
        {
            return invalid(format!("member {n}: the sex does not match the ID number"));
        }
        if member
            .declared_birth_date
            .is_some_and(|date| date != member.id_number.birth_date())
        {
            return invalid(format!(
                "member {n}: the birth date does not match the ID number"
            ));
        }
        if new.members[..i]
            .iter()
            .any(|other| other.id_number == member.id_number)
        {
            return invalid(format!("member {n}: the same ID number is listed twice"));
        }
    }
    Ok(())
}

/// What the audit log keeps of a household: ID numbers masked only.
fn audit_json(household: &household::Model, members: &[MemberRecord]) -> serde_json::Value {
    json!({
        "id": household.id,
        "household_number": household.household_number,
        "village_code": household.village_code,
        "status": format!("{:?}", household.status),
        "poverty_cause": format!("{:?}", household.poverty_cause),
        "members": members.iter().map(|m| json!({
            "name": m.member.name,
            "id_number": m.member.id_masked,
            "relation": format!("{:?}", m.member.relation),
        })).collect::<Vec<_>>(),
    })
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
