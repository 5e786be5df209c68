//! The household's own application for monitoring (农户自主申报): a farmer says in plain words
//! what happened and which risk it is; the identification of their own registered household
//! starts at `warning`, with the channel "own application". A household monitored already, or
//! with an application still being handled, is refused plainly; a farmer applies only for the
//! household their account is bound to.

use entities::{household, monitored_household::DiscoveryChannel, user::Role};
use sea_orm::{EntityTrait, QuerySelect};
use serde_json::json;

use super::{
    MonitoringError, RiskType,
    cases::{self, MonitoringRecord, OpenAs},
};
use crate::{
    domain::county_time::Clock,
    infra::db::Database,
    service::{
        exit::rules::ExitRules,
        idempotency::{self, Claim},
        policy::Actor,
        reasons,
        users::Origin,
    },
};

/// What the farmer wrote.
#[derive(Clone, Debug)]
pub struct Application {
    pub risk: RiskType,
    /// 发生了什么, in their own words.
    pub what: String,
}

/// Starts the identification of the farmer's own household. Sent again with the same key, it
/// answers what the first one made.
pub async fn apply(
    db: &Database,
    clock: &dyn Clock,
    rules: &ExitRules,
    actor: &Actor,
    application: Application,
    key: Option<&str>,
    origin: &Origin,
) -> Result<MonitoringRecord, MonitoringError> {
    if actor.role != Role::Farmer {
        return Err(MonitoringError::Forbidden);
    }
    let Some(household_id) = actor.household_id else {
        return Err(MonitoringError::Refused(reasons::monitoring_no_household()));
    };
    let what = cases::checked_note(Some(application.what))?
        .ok_or(MonitoringError::Invalid(reasons::monitoring_what_needed()))?;
    let now = clock.now();
    let year = crate::domain::county_time::year_of(now);
    if rules.monitoring_line_fen(year).is_none() {
        return Err(MonitoringError::Invalid(reasons::monitoring_no_line()));
    }
    let request = json!([household_id, application.risk.name(), what]);
    let claim = Claim::new(actor, key, "monitoring.application", request)?;
    if let Some(earlier) = idempotency::earlier(db.conn(), claim.as_ref()).await? {
        return cases::record_of(db, now, idempotency::id_of(&earlier)?).await;
    }
    let txn = db.begin_write().await?;
    // Locked, as an official's opening locks it: one open record per household.
    let household = household::Entity::find_by_id(household_id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(MonitoringError::Refused(reasons::monitoring_no_household()))?;
    let category = super::category_for(household.status);
    let opened = cases::open_in(
        &txn,
        &household,
        Some(actor.user_id),
        OpenAs {
            category,
            risk_types: vec![application.risk],
            channel: DiscoveryChannel::Application,
            year,
            note: Some(what),
        },
        origin,
        now,
    )
    .await;
    let record = match opened {
        Ok(record) => record,
        Err(MonitoringError::Open(_)) => {
            return Err(MonitoringError::Refused(
                reasons::monitoring_already_applied(),
            ));
        }
        Err(e) => return Err(e),
    };
    let made = record.monitored.id.to_string();
    match idempotency::commit(db, txn, claim.as_ref(), &made).await? {
        None => Ok(record),
        // Another request with the same key made it first.
        Some(winner) => cases::record_of(db, now, idempotency::id_of(&winner)?).await,
    }
}
