//! The checks against what the registry already holds and the writes that add households, in
//! batches: one household from the API, tens of thousands from an import or the demo seed all
//! go through here.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use entities::{
    area::{self, AreaLevel},
    household::{self, ExitSource, HouseholdStatus},
    household_member,
};
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr,
    EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::json;

use super::NewHousehold;
use crate::{
    domain::{AreaCode, Sex},
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
    /// The person is already registered. Where is told only when the actor governs that
    /// household's village: outside their area, the clash says nothing more, so the registry
    /// cannot be searched for people across areas.
    PersonRegistered {
        household: usize,
        member: usize,
        registered_in: Option<RegisteredIn>,
    },
}

/// Where a person is registered, for officials of that household's area.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisteredIn {
    pub household_number: String,
    pub id_masked: String,
}

/// What the actor may be told of a person registered in `village`: everything inside their
/// area (and on the command line, which reaches the whole county), nothing outside it.
pub fn told(actor: Option<&Actor>, registered: Registered) -> Option<RegisteredIn> {
    let inside = match actor {
        None => true,
        Some(actor) => {
            AreaCode::parse(&registered.village_code).is_ok_and(|village| actor.governs(&village))
        }
    };
    inside.then_some(RegisteredIn {
        household_number: registered.household_number,
        id_masked: registered.id_masked,
    })
}

/// A person found registered: the search hash of their ID number, the masked number, and the
/// household's number and village.
#[derive(Clone, Debug)]
pub struct Registered {
    pub hash: String,
    pub id_masked: String,
    pub household_number: String,
    pub village_code: String,
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
    for found in registered {
        let (household, member) = by_hash[&found.hash];
        clashes.push(Clash::PersonRegistered {
            household,
            member,
            registered_in: told(actor, found),
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

/// Who of the people with these ID hashes is registered already.
pub async fn registered_persons(
    conn: &impl ConnectionTrait,
    hashes: &[String],
) -> Result<Vec<Registered>, DbErr> {
    let mut registered = Vec::new();
    for chunk in hashes.chunks(CHUNK) {
        let found: Vec<(String, String, String, String)> = household_member::Entity::find()
            .select_only()
            .column(household_member::Column::IdHash)
            .column(household_member::Column::IdMasked)
            .column(household::Column::HouseholdNumber)
            .column(household::Column::VillageCode)
            .inner_join(household::Entity)
            .filter(household_member::Column::IdHash.is_in(chunk.iter().map(String::as_str)))
            .into_tuple()
            .all(conn)
            .await?;
        registered.extend(found.into_iter().map(
            |(hash, id_masked, household_number, village_code)| Registered {
                hash,
                id_masked,
                household_number,
                village_code,
            },
        ));
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

/// Where a household being added stands. New households are poor; an imported sheet may bring
/// them as exited (or returned) elsewhere, which is kept as its own provenance.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Standing {
    pub status: Option<HouseholdStatus>,
    /// With an exited or returned status: the year of the exit, on record as imported.
    pub exit_year: Option<i32>,
    /// The sheet said 拟退出: imported as poor, since half a procedure cannot be imported.
    pub was_exit_pending: bool,
}

impl Standing {
    fn status(&self) -> HouseholdStatus {
        self.status.unwrap_or(HouseholdStatus::Poor)
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
    let poor = vec![Standing::default(); households.len()];
    insert_households_standing(
        txn,
        vault,
        households,
        &poor,
        audit_action,
        actor_user_id,
        origin,
    )
    .await
}

/// As [`insert_households`], each household standing as `standings` says (one per household).
pub async fn insert_households_standing(
    txn: &DatabaseTransaction,
    vault: &PiiVault,
    households: &[NewHousehold],
    standings: &[Standing],
    audit_action: &'static str,
    actor_user_id: Option<i64>,
    origin: &Origin,
) -> Result<Vec<i64>, DbErr> {
    assert_eq!(
        households.len(),
        standings.len(),
        "one standing a household"
    );
    let now = Utc::now();
    let mut ids = Vec::with_capacity(households.len());
    for (chunk, standings) in households.chunks(CHUNK).zip(standings.chunks(CHUNK)) {
        let rows = chunk
            .iter()
            .zip(standings)
            .map(|(new, standing)| household::ActiveModel {
                household_number: Set(new.household_number.trim().to_owned()),
                village_code: Set(new.village.to_string()),
                phone: Set(new.phone.as_ref().map(|p| p.as_str().to_owned())),
                poverty_cause: Set(new.poverty_cause),
                responsible_cadre_id: Set(new.responsible_cadre_id),
                registered_year: Set(new.registered_year),
                status: Set(standing.status()),
                exit_year: Set(standing.exit_year),
                exit_source: Set(standing.exit_year.map(|_| ExitSource::Imported)),
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

        let entries = chunk
            .iter()
            .zip(standings)
            .zip(&chunk_ids)
            .map(|((new, standing), id)| NewAuditEntry {
                actor_user_id,
                actor_ip: origin.ip.clone(),
                action: audit_action,
                entity: "household",
                entity_id: id.to_string(),
                area_code: Some(new.village.to_string()),
                after: Some(audit_json(*id, new, standing)),
                ..Default::default()
            });
        audit::append_many(txn, entries).await?;
        ids.extend(chunk_ids);
    }
    Ok(ids)
}

/// What the audit log keeps of a new household: ID numbers masked only; an exit the sheet
/// brought is marked as imported, and a pending exit it could not bring is named.
fn audit_json(id: i64, new: &NewHousehold, standing: &Standing) -> serde_json::Value {
    let mut entry = json!({
        "id": id,
        "household_number": new.household_number.trim(),
        "village_code": new.village.to_string(),
        "status": standing.status().to_value(),
        "poverty_cause": new.poverty_cause.to_value(),
        "registered_year": new.registered_year,
        "members": new.members.iter().map(|m| json!({
            "name": m.name.trim(),
            "id_number": m.id_number.masked(),
            "relation": m.relation.to_value(),
        })).collect::<Vec<_>>(),
    });
    if let Some(year) = standing.exit_year {
        entry["exit_year"] = json!(year);
        entry["exit_source"] = json!(ExitSource::Imported.to_value());
    }
    if standing.was_exit_pending {
        entry["sheet_status"] = json!(HouseholdStatus::ExitPending.to_value());
    }
    entry
}
