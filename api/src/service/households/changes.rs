//! Changing a registered household: its own fields, its members, or removing it. Each change
//! is checked against the same rules as registration, keeps exactly one head, and is audited
//! with the values before and after (ID numbers masked).

use chrono::Utc;
use entities::{
    area::{self, AreaLevel},
    batch, cooperative_member, exit_case,
    household::{self, PovertyCause},
    household_check, household_income,
    household_member::{self, Health, LabourCapacity, MemberRelation, Schooling},
    listing, order, plot, user,
};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DatabaseTransaction, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    sea_query::Expr,
};
use serde_json::{Value, json};

use super::{
    Flaw, HouseholdError, HouseholdRecord, NewMember, household_for, load_record, member_flaws,
    store,
};
use crate::{
    domain::{AreaCode, Phone},
    infra::{db::Database, pii::PiiVault},
    service::{
        audit::{self, NewAuditEntry},
        idempotency::{self, Claim},
        policy::{self, Action, Actor, Resource},
        users::Origin,
    },
};

/// Fields of a household to change; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct HouseholdChanges {
    /// Move the household to another village (both inside the actor's area).
    pub village: Option<AreaCode>,
    /// `Some(None)` clears the phone.
    pub phone: Option<Option<Phone>>,
    pub poverty_cause: Option<PovertyCause>,
    /// `Some(None)` clears the responsible cadre.
    pub responsible_cadre_id: Option<Option<i64>>,
    pub registered_year: Option<i32>,
}

/// Fields of a member to change. The ID number is not among them: a wrong number means a
/// different person, removed and added again.
#[derive(Clone, Debug, Default)]
pub struct MemberChanges {
    pub name: Option<String>,
    /// Making a member the head makes the current head `other`, so there is always one.
    pub relation: Option<MemberRelation>,
    pub labour_capacity: Option<LabourCapacity>,
    pub health: Option<Health>,
    pub schooling: Option<Schooling>,
    pub medical_insurance: Option<bool>,
}

pub async fn update(
    db: &Database,
    actor: &Actor,
    id: i64,
    changes: HouseholdChanges,
    origin: &Origin,
) -> Result<HouseholdRecord, HouseholdError> {
    let txn = db.begin_write().await?;
    let household = household_for(&txn, actor, id, Action::Update).await?;
    let before = household_json(&household);
    let mut active = household.clone().into_active_model();
    if let Some(village) = changes.village {
        let allowed = policy::can(
            actor,
            Action::Update,
            &Resource::Household {
                household_id: Some(id),
                area: &village,
            },
        );
        if !allowed {
            return Err(HouseholdError::Forbidden);
        }
        let is_village = area::Entity::find_by_id(village.to_string())
            .one(&txn)
            .await?
            .is_some_and(|a| a.level == AreaLevel::Village);
        if !is_village {
            return Err(HouseholdError::UnknownVillage);
        }
        active.village_code = Set(village.to_string());
    }
    if let Some(phone) = changes.phone {
        active.phone = Set(phone.map(|p| p.as_str().to_owned()));
    }
    if let Some(cause) = changes.poverty_cause {
        active.poverty_cause = Set(cause);
    }
    if let Some(cadre) = changes.responsible_cadre_id {
        if let Some(user_id) = cadre {
            super::check_responsible_cadre(&txn, user_id).await?;
        }
        active.responsible_cadre_id = Set(cadre);
    }
    if let Some(year) = changes.registered_year {
        let this_year = crate::domain::county_time::year_of(Utc::now());
        if !(2014..=this_year).contains(&year) {
            return Err(HouseholdError::Invalid(
                Flaw::YearOutOfRange { this_year }.reason(),
            ));
        }
        active.registered_year = Set(year);
    }
    active.updated_at = Set(Utc::now());
    let household = active.update(&txn).await?;
    write_audit(
        &txn,
        actor,
        origin,
        "household.updated",
        &household,
        Some(before),
        Some(household_json(&household)),
    )
    .await?;
    let record = load_record(&txn, household, None).await?;
    txn.commit().await?;
    Ok(record)
}

/// Removes a household registered in error, with its members and income records; the audit
/// entry keeps what it held (ID numbers masked). Farmers bound to it are unbound. A household
/// that other records rely on (its assessments, exit cases, goods, orders, plots, batches,
/// co-operative memberships) is kept: those are official or traded records.
pub async fn delete(
    db: &Database,
    actor: &Actor,
    id: i64,
    reason: &str,
    origin: &Origin,
) -> Result<(), HouseholdError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 200 {
        return Err(HouseholdError::Invalid(
            crate::service::reasons::removal_reason_length(200),
        ));
    }
    let txn = db.begin_write().await?;
    let household = household_for(&txn, actor, id, Action::Update).await?;
    let relied_on = records_relying_on(&txn, id).await?;
    if !relied_on.is_empty() {
        return Err(HouseholdError::InUse(relied_on));
    }
    let record = load_record(&txn, household, None).await?;
    let mut before = record_json(&record);
    before["reason"] = json!(reason);

    user::Entity::update_many()
        .col_expr(user::Column::HouseholdId, Expr::value(None::<i64>))
        .filter(user::Column::HouseholdId.eq(id))
        .exec(&txn)
        .await?;
    household_income::Entity::delete_many()
        .filter(household_income::Column::HouseholdId.eq(id))
        .exec(&txn)
        .await?;
    household_member::Entity::delete_many()
        .filter(household_member::Column::HouseholdId.eq(id))
        .exec(&txn)
        .await?;
    household::Entity::delete_by_id(id).exec(&txn).await?;
    write_audit(
        &txn,
        actor,
        origin,
        "household.deleted",
        &record.household,
        Some(before),
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The kinds of record that rely on a household, by name.
async fn records_relying_on(
    conn: &impl ConnectionTrait,
    id: i64,
) -> Result<Vec<&'static str>, HouseholdError> {
    /// How many rows of `E` name the household in `column`.
    async fn count<E>(
        conn: &impl ConnectionTrait,
        column: E::Column,
        id: i64,
    ) -> Result<u64, sea_orm::DbErr>
    where
        E: EntityTrait,
        E::Model: Sync,
    {
        E::find().filter(column.eq(id)).count(conn).await
    }
    let counts = [
        (
            "checks",
            count::<household_check::Entity>(conn, household_check::Column::HouseholdId, id)
                .await?,
        ),
        (
            "exit_cases",
            count::<exit_case::Entity>(conn, exit_case::Column::HouseholdId, id).await?,
        ),
        (
            "listings",
            count::<listing::Entity>(conn, listing::Column::HouseholdId, id).await?,
        ),
        (
            "orders",
            count::<order::Entity>(conn, order::Column::HouseholdId, id).await?,
        ),
        (
            "plots",
            count::<plot::Entity>(conn, plot::Column::HouseholdId, id).await?,
        ),
        (
            "batches",
            count::<batch::Entity>(conn, batch::Column::HouseholdId, id).await?,
        ),
        (
            "cooperative_memberships",
            count::<cooperative_member::Entity>(conn, cooperative_member::Column::HouseholdId, id)
                .await?,
        ),
    ];
    Ok(counts
        .into_iter()
        .filter(|&(_, count)| count > 0)
        .map(|(name, _)| name)
        .collect())
}

/// Adds a person to a household; they must not be registered anywhere yet.
pub async fn add_member(
    db: &Database,
    vault: &PiiVault,
    actor: &Actor,
    id: i64,
    member: NewMember,
    origin: &Origin,
) -> Result<HouseholdRecord, HouseholdError> {
    add_member_keyed(db, vault, actor, id, member, origin, None).await
}

/// [`add_member`], once for a client's key: the same request sent again answers the household
/// as it is now, with the member added once; the key with another request is refused.
pub async fn add_member_keyed(
    db: &Database,
    vault: &PiiVault,
    actor: &Actor,
    id: i64,
    member: NewMember,
    origin: &Origin,
    key: Option<&str>,
) -> Result<HouseholdRecord, HouseholdError> {
    let claim = Claim::new(
        actor,
        key,
        "household_member",
        serde_json::json!([id, member.request(vault)]),
    )?;
    // What the key kept is the member; the answer is its household as it is now.
    if idempotency::earlier(db.conn(), claim.as_ref())
        .await?
        .is_some()
    {
        return super::made(db, actor, id).await;
    }
    if let Some(flaw) = member_flaws(&member, 0).into_iter().next() {
        return Err(HouseholdError::Invalid(flaw.reason()));
    }
    if member.relation == MemberRelation::Head {
        return Err(HouseholdError::Invalid(
            crate::service::reasons::head_already(),
        ));
    }
    let txn = db.begin_write().await?;
    let household = household_for(&txn, actor, id, Action::Update).await?;
    let before = load_record(&txn, household.clone(), None).await?;
    if before.members.len() >= 30 {
        return Err(HouseholdError::Invalid(Flaw::MemberCount.reason()));
    }
    let hash = vault.search_hash(member.id_number.as_str());
    if let Some(found) = store::registered_persons(&txn, &[hash])
        .await?
        .into_iter()
        .next()
    {
        return Err(match store::told(Some(actor), found) {
            Some(found) => HouseholdError::DuplicatePerson {
                member: 1,
                household_number: found.household_number,
                id_masked: found.id_masked,
            },
            None => HouseholdError::RegisteredElsewhere { member: 1 },
        });
    }
    let added = store::member_row(vault, id, &member, Utc::now())
        .insert(&txn)
        .await?;
    let after = record_member_change(&txn, actor, origin, "household.member_added", before).await?;
    let resource = added.id.to_string();
    if idempotency::commit(db, txn, claim.as_ref(), &resource)
        .await?
        .is_some()
    {
        return super::made(db, actor, id).await;
    }
    Ok(after)
}

pub async fn update_member(
    db: &Database,
    actor: &Actor,
    id: i64,
    member_id: i64,
    changes: MemberChanges,
    origin: &Origin,
) -> Result<HouseholdRecord, HouseholdError> {
    let txn = db.begin_write().await?;
    let (before, stored) = member_for_change(&txn, actor, id, member_id).await?;
    let now = Utc::now();
    if let Some(name) = &changes.name {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(HouseholdError::Invalid(
                Flaw::NameLength { member: 0 }.reason(),
            ));
        }
    }
    match changes.relation {
        Some(MemberRelation::Head) if stored.relation != MemberRelation::Head => {
            // One head at a time: the current head steps aside.
            household_member::Entity::update_many()
                .col_expr(
                    household_member::Column::Relation,
                    Expr::value(MemberRelation::Other.to_value()),
                )
                .col_expr(household_member::Column::UpdatedAt, Expr::value(now))
                .filter(household_member::Column::HouseholdId.eq(id))
                .filter(household_member::Column::Relation.eq(MemberRelation::Head))
                .exec(&txn)
                .await?;
        }
        Some(relation)
            if relation != MemberRelation::Head && stored.relation == MemberRelation::Head =>
        {
            return Err(HouseholdError::Invalid(
                crate::service::reasons::head_stays(),
            ));
        }
        _ => {}
    }
    let mut active = stored.into_active_model();
    if let Some(name) = changes.name {
        active.name = Set(name.trim().to_owned());
    }
    if let Some(relation) = changes.relation {
        active.relation = Set(relation);
    }
    if let Some(value) = changes.labour_capacity {
        active.labour_capacity = Set(value);
    }
    if let Some(value) = changes.health {
        active.health = Set(value);
    }
    if let Some(value) = changes.schooling {
        active.schooling = Set(value);
    }
    if let Some(value) = changes.medical_insurance {
        active.medical_insurance = Set(value);
    }
    active.updated_at = Set(now);
    active.update(&txn).await?;
    finish_member_change(txn, actor, origin, "household.member_updated", before).await
}

/// Removes a member who has left the household (moved away, married out, died). The head and
/// the last member cannot be removed.
pub async fn remove_member(
    db: &Database,
    actor: &Actor,
    id: i64,
    member_id: i64,
    origin: &Origin,
) -> Result<HouseholdRecord, HouseholdError> {
    let txn = db.begin_write().await?;
    let (before, member) = member_for_change(&txn, actor, id, member_id).await?;
    if member.relation == MemberRelation::Head {
        return Err(HouseholdError::Invalid(
            crate::service::reasons::head_not_removed(),
        ));
    }
    household_member::Entity::delete_by_id(member_id)
        .exec(&txn)
        .await?;
    finish_member_change(txn, actor, origin, "household.member_removed", before).await
}

/// Binds a farmer's account to the household, after an official of the area has checked that
/// the person belongs to it. The account becomes a `farmer` account and its tokens are
/// revoked, so the next sign-in carries the new role.
pub async fn bind_farmer(
    db: &Database,
    actor: &Actor,
    id: i64,
    user_id: i64,
    origin: &Origin,
) -> Result<user::Model, HouseholdError> {
    set_farmer(db, actor, id, user_id, true, origin).await
}

/// Ends a farmer's binding to the household; the account becomes a buyer's again.
pub async fn unbind_farmer(
    db: &Database,
    actor: &Actor,
    id: i64,
    user_id: i64,
    origin: &Origin,
) -> Result<user::Model, HouseholdError> {
    set_farmer(db, actor, id, user_id, false, origin).await
}

async fn set_farmer(
    db: &Database,
    actor: &Actor,
    id: i64,
    user_id: i64,
    bind: bool,
    origin: &Origin,
) -> Result<user::Model, HouseholdError> {
    let txn = db.begin_write().await?;
    let household = household_for(&txn, actor, id, Action::Update).await?;
    let account = user::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .ok_or(HouseholdError::UserNotFound)?;
    let bound_here = account.household_id == Some(id);
    if bind {
        if !matches!(account.role, user::Role::Buyer | user::Role::Farmer) {
            return Err(HouseholdError::Invalid(
                crate::service::reasons::account_kind(),
            ));
        }
        if account.phone.is_none() {
            return Err(HouseholdError::Invalid(
                crate::service::reasons::account_without_phone(),
            ));
        }
        if account.household_id.is_some() && !bound_here {
            return Err(HouseholdError::Invalid(
                crate::service::reasons::account_bound_elsewhere(),
            ));
        }
    } else if !bound_here {
        return Err(HouseholdError::UserNotFound);
    }
    let before = json!({ "user_id": account.id, "role": account.role.to_value(), "household_id": account.household_id });
    let mut active = account.clone().into_active_model();
    active.role = Set(if bind {
        user::Role::Farmer
    } else {
        user::Role::Buyer
    });
    active.household_id = Set(bind.then_some(id));
    active.token_version = Set(account.token_version + 1);
    active.updated_at = Set(Utc::now());
    let after = active.update(&txn).await?;
    crate::service::sessions::revoke_all(&txn, after.id).await?;
    write_audit(
        &txn,
        actor,
        origin,
        if bind {
            "household.farmer_bound"
        } else {
            "household.farmer_unbound"
        },
        &household,
        Some(before),
        Some(json!({ "user_id": after.id, "role": after.role.to_value(), "household_id": after.household_id })),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// The household as it is and one of its members, if the actor may change them; a member of
/// another household is not found.
async fn member_for_change(
    txn: &DatabaseTransaction,
    actor: &Actor,
    id: i64,
    member_id: i64,
) -> Result<(HouseholdRecord, household_member::Model), HouseholdError> {
    let household = household_for(txn, actor, id, Action::Update).await?;
    let record = load_record(txn, household, None).await?;
    let member = record
        .members
        .iter()
        .find(|m| m.member.id == member_id)
        .map(|m| m.member.clone())
        .ok_or(HouseholdError::NotFound)?;
    Ok((record, member))
}

/// Audits a change to the members (the whole list before and after) and commits it.
async fn finish_member_change(
    txn: DatabaseTransaction,
    actor: &Actor,
    origin: &Origin,
    action: &'static str,
    before: HouseholdRecord,
) -> Result<HouseholdRecord, HouseholdError> {
    let after = record_member_change(&txn, actor, origin, action, before).await?;
    txn.commit().await?;
    Ok(after)
}

/// Touches the household and audits the change of its members, in `txn`.
async fn record_member_change(
    txn: &DatabaseTransaction,
    actor: &Actor,
    origin: &Origin,
    action: &'static str,
    before: HouseholdRecord,
) -> Result<HouseholdRecord, HouseholdError> {
    let mut active = before.household.clone().into_active_model();
    active.updated_at = Set(Utc::now());
    let household = active.update(txn).await?;
    let after = load_record(txn, household, None).await?;
    write_audit(
        txn,
        actor,
        origin,
        action,
        &after.household,
        Some(record_json(&before)),
        Some(record_json(&after)),
    )
    .await?;
    Ok(after)
}

async fn write_audit(
    txn: &DatabaseTransaction,
    actor: &Actor,
    origin: &Origin,
    action: &'static str,
    household: &household::Model,
    before: Option<Value>,
    after: Option<Value>,
) -> Result<(), HouseholdError> {
    audit::append(
        txn,
        NewAuditEntry {
            actor_user_id: Some(actor.user_id),
            actor_ip: origin.ip.clone(),
            action,
            entity: "household",
            entity_id: household.id.to_string(),
            area_code: Some(household.village_code.clone()),
            before,
            after,
        },
    )
    .await?;
    Ok(())
}

fn household_json(h: &household::Model) -> Value {
    json!({
        "id": h.id,
        "household_number": h.household_number,
        "village_code": h.village_code,
        "phone": h.phone,
        "poverty_cause": h.poverty_cause.to_value(),
        "responsible_cadre_id": h.responsible_cadre_id,
        "registered_year": h.registered_year,
        "status": h.status.to_value(),
    })
}

/// A household and its members as the audit log keeps them: ID numbers masked.
fn record_json(record: &HouseholdRecord) -> Value {
    let mut value = household_json(&record.household);
    value["members"] = record
        .members
        .iter()
        .map(|m| {
            json!({
                "id": m.member.id,
                "name": m.member.name,
                "id_number": m.member.id_masked,
                "relation": m.member.relation.to_value(),
                "labour_capacity": m.member.labour_capacity.to_value(),
                "health": m.member.health.to_value(),
                "schooling": m.member.schooling.to_value(),
                "medical_insurance": m.member.medical_insurance,
            })
        })
        .collect();
    value
}
