//! Co-operatives (合作社): officials register one with a manager's account and the households
//! whose goods it sells. The manager lists, ships and is paid for members' goods; each sale
//! stays the producing household's, in its village of origin and its income.

use chrono::Utc;
use entities::{area::AreaLevel, cooperative, cooperative_member, household, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr,
};
use serde_json::json;

use super::MarketError;
use crate::{
    domain::AreaCode,
    infra::db::Database,
    service::{
        audit::{self, NewAuditEntry},
        idempotency::{self, Claim},
        policy::Actor,
        users::Origin,
    },
};

/// A co-operative and the households it sells for.
#[derive(Clone, Debug)]
pub struct Cooperative {
    pub cooperative: cooperative::Model,
    pub member_household_ids: Vec<i64>,
}

/// The co-operative an account manages, if any.
pub async fn managed_by(
    conn: &impl ConnectionTrait,
    user_id: i64,
) -> Result<Option<cooperative::Model>, MarketError> {
    Ok(cooperative::Entity::find()
        .filter(cooperative::Column::ManagerUserId.eq(user_id))
        .one(conn)
        .await?)
}

/// Whether the household is a member of the co-operative.
pub async fn is_member(
    conn: &impl ConnectionTrait,
    cooperative_id: i64,
    household_id: i64,
) -> Result<bool, MarketError> {
    Ok(
        cooperative_member::Entity::find_by_id((cooperative_id, household_id))
            .one(conn)
            .await?
            .is_some(),
    )
}

/// Registers a co-operative in a township or village the official governs, managed by a
/// farmer account that manages no other; once for a client's key: the same request sent again
/// answers the co-operative the first one registered, the key with another request is refused.
pub async fn create_keyed(
    db: &Database,
    actor: &Actor,
    name: &str,
    area: &AreaCode,
    manager_user_id: i64,
    origin: &Origin,
    key: Option<&str>,
) -> Result<Cooperative, MarketError> {
    let claim = Claim::new(
        actor,
        key,
        "cooperative",
        json!([name.trim(), area.as_str(), manager_user_id]),
    )?;
    if let Some(earlier) = idempotency::earlier(db.conn(), claim.as_ref()).await? {
        return get(db, actor, idempotency::id_of(&earlier)?).await;
    }
    if !actor.governs(area) {
        return Err(MarketError::Forbidden);
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(MarketError::Invalid(
            crate::service::reasons::cooperative_name_length(),
        ));
    }
    if area.level() == AreaLevel::County {
        return Err(MarketError::Invalid(
            crate::service::reasons::cooperative_area(),
        ));
    }
    let txn = db.begin_write().await?;
    let manager = user::Entity::find_by_id(manager_user_id)
        .one(&txn)
        .await?
        .filter(|u| u.role == user::Role::Farmer && !u.disabled)
        .ok_or_else(|| MarketError::Invalid(crate::service::reasons::cooperative_manager()))?;
    let now = Utc::now();
    let created = cooperative::ActiveModel {
        name: Set(name.to_owned()),
        area_code: Set(area.as_str().to_owned()),
        manager_user_id: Set(manager.id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            MarketError::Invalid(crate::service::reasons::manages_another())
        }
        _ => e.into(),
    })?;
    audit::append(
        &txn,
        NewAuditEntry {
            actor_user_id: Some(actor.user_id),
            actor_ip: origin.ip.clone(),
            action: "cooperative.created",
            entity: "cooperative",
            entity_id: created.id.to_string(),
            area_code: Some(created.area_code.clone()),
            before: None,
            after: Some(json!({ "name": created.name, "manager_user_id": manager.id })),
        },
    )
    .await?;
    let resource = created.id.to_string();
    if let Some(winner) = idempotency::commit(db, txn, claim.as_ref(), &resource).await? {
        return get(db, actor, idempotency::id_of(&winner)?).await;
    }
    Ok(Cooperative {
        cooperative: created,
        member_household_ids: Vec::new(),
    })
}

/// Adds a household (`add`) or takes one off (`!add`). The official governs both the
/// co-operative's area and the household's village, and a new member household lives in the
/// co-operative's township (any village of it, for one registered in a village).
pub async fn change_member(
    db: &Database,
    actor: &Actor,
    cooperative_id: i64,
    household_id: i64,
    add: bool,
    origin: &Origin,
) -> Result<Cooperative, MarketError> {
    change_member_keyed(db, actor, cooperative_id, household_id, add, origin, None).await
}

/// [`change_member`], once for a client's key (adding, as `POST` does): the same request sent
/// again answers the co-operative as it is now; the key with another request is refused.
pub async fn change_member_keyed(
    db: &Database,
    actor: &Actor,
    cooperative_id: i64,
    household_id: i64,
    add: bool,
    origin: &Origin,
    key: Option<&str>,
) -> Result<Cooperative, MarketError> {
    let claim = Claim::new(
        actor,
        key,
        "cooperative_member",
        json!([cooperative_id, household_id, add]),
    )?;
    if idempotency::earlier(db.conn(), claim.as_ref())
        .await?
        .is_some()
    {
        return get(db, actor, cooperative_id).await;
    }
    let txn = db.begin_write().await?;
    // Locked, so two changes to the membership run one after the other.
    let found = governed_for_update(&txn, actor, cooperative_id).await?;
    let household = household::Entity::find_by_id(household_id)
        .one(&txn)
        .await?
        .filter(|h| AreaCode::parse(&h.village_code).is_ok_and(|v| actor.governs(&v)))
        .ok_or(MarketError::NotFound)?;
    let member = is_member(&txn, cooperative_id, household_id).await?;
    if add && !member && !same_township(&found.area_code, &household.village_code) {
        return Err(MarketError::Invalid(
            crate::service::reasons::cooperative_member_outside(),
        ));
    }
    if add && !member {
        cooperative_member::ActiveModel {
            cooperative_id: Set(cooperative_id),
            household_id: Set(household.id),
            created_at: Set(Utc::now()),
        }
        .insert(&txn)
        .await?;
    } else if !add && member {
        cooperative_member::Entity::delete_by_id((cooperative_id, household_id))
            .exec(&txn)
            .await?;
    } else {
        idempotency::commit(db, txn, claim.as_ref(), &cooperative_id.to_string()).await?;
        return with_members(db, found).await;
    }
    audit::append(
        &txn,
        NewAuditEntry {
            actor_user_id: Some(actor.user_id),
            actor_ip: origin.ip.clone(),
            action: if add {
                "cooperative.member_added"
            } else {
                "cooperative.member_removed"
            },
            entity: "cooperative",
            entity_id: cooperative_id.to_string(),
            area_code: Some(household.village_code.clone()),
            before: None,
            after: Some(json!({ "household_id": household.id })),
        },
    )
    .await?;
    idempotency::commit(db, txn, claim.as_ref(), &cooperative_id.to_string()).await?;
    with_members(db, found).await
}

/// A co-operative, for its manager and the officials of its area.
pub async fn get(db: &Database, actor: &Actor, id: i64) -> Result<Cooperative, MarketError> {
    let found = cooperative::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .filter(|c| {
            c.manager_user_id == actor.user_id
                || AreaCode::parse(&c.area_code).is_ok_and(|a| actor.governs(&a))
        })
        .ok_or(MarketError::NotFound)?;
    with_members(db, found).await
}

/// A co-operative the official governs, read FOR UPDATE for a change to it.
async fn governed_for_update(
    txn: &DatabaseTransaction,
    actor: &Actor,
    id: i64,
) -> Result<cooperative::Model, MarketError> {
    cooperative::Entity::find_by_id(id)
        .lock_exclusive()
        .one(txn)
        .await?
        .filter(|c| AreaCode::parse(&c.area_code).is_ok_and(|a| actor.governs(&a)))
        .ok_or(MarketError::NotFound)
}

async fn with_members(
    db: &Database,
    cooperative: cooperative::Model,
) -> Result<Cooperative, MarketError> {
    let member_household_ids = cooperative_member::Entity::find()
        .filter(cooperative_member::Column::CooperativeId.eq(cooperative.id))
        .order_by_asc(cooperative_member::Column::HouseholdId)
        .all(db.conn())
        .await?
        .into_iter()
        .map(|m| m.household_id)
        .collect();
    Ok(Cooperative {
        cooperative,
        member_household_ids,
    })
}

/// Whether a household's village lies in the township of a co-operative's area (the township
/// itself, or the township of its village): the first nine digits of both codes.
fn same_township(cooperative_area: &str, village: &str) -> bool {
    cooperative_area.len() >= 9 && village.len() >= 9 && cooperative_area[..9] == village[..9]
}
