//! The checks against what the registry already holds and the writes that add households, in
//! batches: one household from the API, tens of thousands from an import or the demo seed all
//! go through here.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use entities::{
    area::{self, AreaLevel},
    household::{self, HouseholdStatus},
    household_member,
};
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr,
    EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::json;

use super::NewHousehold;
use crate::{
    domain::Sex,
    infra::pii::PiiVault,
    service::{
        audit::{self, NewAuditEntry},
        policy::Actor,
        users::Origin,
    },
};

/// Rows per statement: well under every backend's limit on bound parameters.
const CHUNK: usize = 400;

/// A conflict between households being added and the registry (or the actor's reach).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Clash {
    UnknownVillage {
        household: usize,
    },
    /// The village lies outside the actor's area.
    OutsideArea {
        household: usize,
    },
    NumberTaken {
        household: usize,
        household_number: String,
    },
    /// The person is already registered; `household_number` is where.
    PersonRegistered {
        household: usize,
        member: usize,
        household_number: String,
        id_masked: String,
    },
}

/// Every clash of `households` (indexes into the slice) with the registry. `actor` is `None`
/// for the command line, which reaches the whole county.
pub async fn find_clashes(
    conn: &impl ConnectionTrait,
    vault: &PiiVault,
    actor: Option<&Actor>,
    households: &[NewHousehold],
) -> Result<Vec<Clash>, DbErr> {
    let mut clashes = Vec::new();

    let wanted: HashSet<String> = households.iter().map(|h| h.village.to_string()).collect();
    let wanted: Vec<String> = wanted.into_iter().collect();
    let mut villages = HashSet::new();
    for chunk in wanted.chunks(CHUNK) {
        let found: Vec<String> = area::Entity::find()
            .select_only()
            .column(area::Column::Code)
            .filter(area::Column::Code.is_in(chunk.iter().cloned()))
            .filter(area::Column::Level.eq(AreaLevel::Village))
            .into_tuple()
            .all(conn)
            .await?;
        villages.extend(found);
    }
    for (i, h) in households.iter().enumerate() {
        if !villages.contains(&h.village.to_string()) {
            clashes.push(Clash::UnknownVillage { household: i });
        } else if actor.is_some_and(|a| !a.governs(&h.village)) {
            clashes.push(Clash::OutsideArea { household: i });
        }
    }

    let numbers: Vec<&str> = households
        .iter()
        .map(|h| h.household_number.trim())
        .collect();
    let mut taken = HashSet::new();
    for chunk in numbers.chunks(CHUNK) {
        let found: Vec<String> = household::Entity::find()
            .select_only()
            .column(household::Column::HouseholdNumber)
            .filter(household::Column::HouseholdNumber.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(conn)
            .await?;
        taken.extend(found);
    }
    for (i, number) in numbers.iter().enumerate() {
        if taken.contains(*number) {
            clashes.push(Clash::NumberTaken {
                household: i,
                household_number: (*number).to_owned(),
            });
        }
    }

    let mut by_hash: HashMap<String, (usize, usize)> = HashMap::new();
    for (i, h) in households.iter().enumerate() {
        for (m, member) in h.members.iter().enumerate() {
            by_hash.insert(vault.search_hash(member.id_number.as_str()), (i, m));
        }
    }
    let hashes: Vec<String> = by_hash.keys().cloned().collect();
    let registered = registered_persons(conn, &hashes).await?;
    for (hash, id_masked, household_number) in registered {
        let (household, member) = by_hash[&hash];
        clashes.push(Clash::PersonRegistered {
            household,
            member,
            household_number,
            id_masked,
        });
    }
    clashes.sort_by_key(|c| match c {
        Clash::UnknownVillage { household }
        | Clash::OutsideArea { household }
        | Clash::NumberTaken { household, .. } => (*household, 0),
        Clash::PersonRegistered {
            household, member, ..
        } => (*household, member + 1),
    });
    Ok(clashes)
}

/// Who of the people with these ID hashes is registered already: (hash, masked ID number,
/// household number).
pub async fn registered_persons(
    conn: &impl ConnectionTrait,
    hashes: &[String],
) -> Result<Vec<(String, String, String)>, DbErr> {
    let mut registered = Vec::new();
    for chunk in hashes.chunks(CHUNK) {
        let found: Vec<(String, String, String)> = household_member::Entity::find()
            .select_only()
            .column(household_member::Column::IdHash)
            .column(household_member::Column::IdMasked)
            .column(household::Column::HouseholdNumber)
            .inner_join(household::Entity)
            .filter(household_member::Column::IdHash.is_in(chunk.iter().map(String::as_str)))
            .into_tuple()
            .all(conn)
            .await?;
        registered.extend(found);
    }
    Ok(registered)
}

/// A member row for `household_id`, its ID number sealed, masked and hashed.
pub fn member_row(
    vault: &PiiVault,
    household_id: i64,
    member: &super::NewMember,
    now: chrono::DateTime<Utc>,
) -> household_member::ActiveModel {
    let sealed = vault.seal(member.id_number.as_str());
    household_member::ActiveModel {
        household_id: Set(household_id),
        name: Set(member.name.trim().to_owned()),
        id_key_id: Set(sealed.key_id),
        id_ciphertext: Set(sealed.ciphertext),
        id_masked: Set(member.id_number.masked()),
        id_hash: Set(vault.search_hash(member.id_number.as_str())),
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
}

/// Inserts checked households with their members (ID numbers sealed, masked and hashed) and one
/// audit entry each, inside the caller's write transaction. Returns the new ids in order.
pub async fn insert_households(
    txn: &DatabaseTransaction,
    vault: &PiiVault,
    households: &[NewHousehold],
    audit_action: &'static str,
    actor_user_id: Option<i64>,
    origin: &Origin,
) -> Result<Vec<i64>, DbErr> {
    let now = Utc::now();
    let mut ids = Vec::with_capacity(households.len());
    for chunk in households.chunks(CHUNK) {
        let rows = chunk.iter().map(|new| household::ActiveModel {
            household_number: Set(new.household_number.trim().to_owned()),
            village_code: Set(new.village.to_string()),
            phone: Set(new.phone.as_ref().map(|p| p.as_str().to_owned())),
            poverty_cause: Set(new.poverty_cause),
            responsible_cadre_id: Set(new.responsible_cadre_id),
            registered_year: Set(new.registered_year),
            status: Set(HouseholdStatus::Poor),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        });
        household::Entity::insert_many(rows)
            .exec_without_returning(txn)
            .await?;
        let numbers: Vec<String> = chunk
            .iter()
            .map(|h| h.household_number.trim().to_owned())
            .collect();
        let inserted: HashMap<String, i64> = household::Entity::find()
            .select_only()
            .column(household::Column::HouseholdNumber)
            .column(household::Column::Id)
            .filter(household::Column::HouseholdNumber.is_in(numbers.iter().cloned()))
            .into_tuple::<(String, i64)>()
            .all(txn)
            .await?
            .into_iter()
            .collect();
        let chunk_ids: Vec<i64> = numbers.iter().map(|n| inserted[n]).collect();

        let members: Vec<household_member::ActiveModel> = chunk
            .iter()
            .zip(&chunk_ids)
            .flat_map(|(new, id)| new.members.iter().map(move |m| (*id, m)))
            .map(|(household_id, member)| member_row(vault, household_id, member, now))
            .collect();
        for rows in members.chunks(CHUNK) {
            household_member::Entity::insert_many(rows.iter().cloned())
                .exec_without_returning(txn)
                .await?;
        }

        let entries = chunk.iter().zip(&chunk_ids).map(|(new, id)| NewAuditEntry {
            actor_user_id,
            actor_ip: origin.ip.clone(),
            action: audit_action,
            entity: "household",
            entity_id: id.to_string(),
            area_code: Some(new.village.to_string()),
            after: Some(audit_json(*id, new)),
            ..Default::default()
        });
        audit::append_many(txn, entries).await?;
        ids.extend(chunk_ids);
    }
    Ok(ids)
}

/// What the audit log keeps of a new household: ID numbers masked only.
fn audit_json(id: i64, new: &NewHousehold) -> serde_json::Value {
    json!({
        "id": id,
        "household_number": new.household_number.trim(),
        "village_code": new.village.to_string(),
        "status": "poor",
        "poverty_cause": new.poverty_cause.to_value(),
        "registered_year": new.registered_year,
        "members": new.members.iter().map(|m| json!({
            "name": m.name.trim(),
            "id_number": m.id_number.masked(),
            "relation": m.relation.to_value(),
        })).collect::<Vec<_>>(),
    })
}
