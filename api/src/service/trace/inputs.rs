//! Farm inputs (投入品): what a farmer sprayed on a plot or gave a flock, with the days to wait
//! before harvest (安全间隔期 for pesticides, 休药期 for veterinary drugs). Recorded by the farmer,
//! never changed (a correction is a new record), audited; a certificate reads them.

use chrono::{Duration, NaiveDate, Utc};
use entities::{
    batch::Model as Batch,
    farm_input::{self, InputKind, Model as FarmInput},
    household, plot,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::json;

use super::{TraceError, production};
use crate::{
    domain::county_time::Clock,
    infra::db::Database,
    service::{
        audit::{self, NewAuditEntry},
        idempotency::{self, Claim, Kept},
        policy::Actor,
        reasons::{self, Reason},
    },
};

/// The longest interval or withdrawal period, in days.
pub const MAX_INTERVAL_DAYS: i32 = 365;
/// How far back before a harvest the inputs of its plot count as this season's.
pub const SEASON_DAYS: i64 = 180;
/// Most inputs one list shows.
pub const LISTED: u64 = 200;

/// An input to record.
#[derive(Clone, Debug)]
pub struct NewInput {
    pub kind: InputKind,
    /// The plot, for crops …
    pub plot_id: Option<i64>,
    /// … or the flock or herd, for eggs and livestock.
    pub flock: Option<String>,
    pub product_name: String,
    /// Pesticides: 农药登记证号; veterinary drugs: 兽药批准文号.
    pub registration_no: Option<String>,
    pub active_ingredient: Option<String>,
    pub dose: String,
    pub method: String,
    pub applied_on: NaiveDate,
    /// Pesticides and veterinary drugs: the days to wait before harvest.
    pub interval_days: Option<i32>,
}

/// A pesticide registration number (农药登记证号) as the label prints it: `PD` (full
/// registration), `LS` (temporary), `WP` / `WL` (public-health use), then the year and a
/// four-digit serial (`PD20080001`, `LS20071573`); spaces and case are forgiven.
pub fn pesticide_registration(typed: &str) -> Option<String> {
    let s: String = typed
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let (prefix, digits) = s.split_at_checked(2)?;
    let year = digits.get(..4)?.parse::<u32>().ok()?;
    let ok = ["PD", "LS", "WP", "WL"].contains(&prefix)
        && digits.len() == 8
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (1980..=2100).contains(&year);
    ok.then_some(s)
}

/// A veterinary drug approval number (兽药批准文号) as the package prints it: 兽药字, 兽药生字 or
/// 兽药添字, optionally the year in brackets, then nine digits (province, maker, product):
/// `兽药字(2020)150012345`, `兽药生字 150012345`. Full-width brackets are read as ASCII ones.
pub fn vet_approval(typed: &str) -> Option<String> {
    let s: String = typed
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            c => c,
        })
        .collect();
    let rest = ["兽药字", "兽药生字", "兽药添字"]
        .iter()
        .find_map(|p| s.strip_prefix(p))?;
    let digits = match rest.strip_prefix('(') {
        Some(bracketed) => {
            let (year, after) = bracketed.split_once(')')?;
            if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            after
        }
        None => rest,
    };
    (digits.len() == 9 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(s)
}

/// The first day a harvest is clear of the input.
pub fn allowed_from(input: &FarmInput) -> NaiveDate {
    input.applied_on + Duration::days(i64::from(input.interval_days))
}

fn trimmed(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

impl NewInput {
    fn request(&self) -> serde_json::Value {
        json!([
            format!("{:?}", self.kind),
            self.plot_id,
            self.flock.as_deref().map(str::trim),
            self.product_name.trim(),
            self.registration_no.as_deref().map(str::trim),
            self.active_ingredient.as_deref().map(str::trim),
            self.dose.trim(),
            self.method.trim(),
            self.applied_on,
            self.interval_days,
        ])
    }
}

/// Records an input on one of the farmer's plots or flocks, once for a client's key.
pub async fn record_keyed(
    db: &Database,
    clock: &dyn Clock,
    actor: &Actor,
    new: NewInput,
    key: Option<&str>,
) -> Result<FarmInput, TraceError> {
    let household_id = production::own_household(actor)?;
    let claim = Claim::new(actor, key, "farm_input", new.request())?;
    if let Some(earlier) = idempotency::earlier(db.conn(), claim.as_ref()).await? {
        return made(db, idempotency::id_of(&earlier)?).await;
    }
    let invalid = |reason: Reason| Err(TraceError::Invalid(reason));
    let name = new.product_name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return invalid(reasons::input_product_name());
    }
    let registration_no = match (new.kind, trimmed(new.registration_no.as_deref())) {
        (InputKind::Pesticide, typed) => Some(
            typed
                .as_deref()
                .and_then(pesticide_registration)
                .ok_or_else(|| TraceError::Invalid(reasons::pesticide_registration_no()))?,
        ),
        (InputKind::VetDrug, typed) => Some(
            typed
                .as_deref()
                .and_then(vet_approval)
                .ok_or_else(|| TraceError::Invalid(reasons::vet_approval_no()))?,
        ),
        (_, typed) => typed,
    };
    if registration_no
        .as_ref()
        .is_some_and(|r| r.chars().count() > 32)
    {
        return invalid(reasons::pesticide_registration_no());
    }
    let ingredient = trimmed(new.active_ingredient.as_deref());
    if ingredient.as_ref().is_some_and(|i| i.chars().count() > 64) {
        return invalid(reasons::input_ingredient());
    }
    let dose = new.dose.trim();
    if dose.is_empty() || dose.chars().count() > 64 {
        return invalid(reasons::input_dose());
    }
    let method = new.method.trim();
    if method.is_empty() || method.chars().count() > 32 {
        return invalid(reasons::input_method());
    }
    let interval = match (new.kind, new.interval_days) {
        (InputKind::Pesticide | InputKind::VetDrug, Some(days))
            if (0..=MAX_INTERVAL_DAYS).contains(&days) =>
        {
            days
        }
        (InputKind::Pesticide | InputKind::VetDrug, _) => {
            return invalid(reasons::input_interval(MAX_INTERVAL_DAYS));
        }
        (_, Some(days)) if !(0..=MAX_INTERVAL_DAYS).contains(&days) => {
            return invalid(reasons::input_interval(MAX_INTERVAL_DAYS));
        }
        (_, days) => days.unwrap_or(0),
    };
    if new.applied_on > clock.today() {
        return invalid(reasons::input_in_future(clock.today()));
    }
    let flock = trimmed(new.flock.as_deref());
    if flock.as_ref().is_some_and(|f| f.chars().count() > 32) {
        return invalid(reasons::input_flock_length());
    }
    let txn = db.begin_write().await?;
    let village_code = match (new.plot_id, &flock) {
        (Some(plot_id), _) => {
            plot::Entity::find_by_id(plot_id)
                .one(&txn)
                .await?
                .filter(|p| p.household_id == household_id)
                .ok_or_else(|| TraceError::Invalid(reasons::plot_not_own()))?
                .village_code
        }
        (None, Some(_)) => {
            household::Entity::find_by_id(household_id)
                .one(&txn)
                .await?
                .ok_or(TraceError::Forbidden)?
                .village_code
        }
        (None, None) => return invalid(reasons::input_needs_place()),
    };
    let input = farm_input::ActiveModel {
        household_id: Set(household_id),
        plot_id: Set(new.plot_id),
        flock: Set(flock),
        village_code: Set(village_code),
        kind: Set(new.kind),
        product_name: Set(name.to_owned()),
        registration_no: Set(registration_no),
        active_ingredient: Set(ingredient),
        dose: Set(dose.to_owned()),
        method: Set(method.to_owned()),
        applied_on: Set(new.applied_on),
        interval_days: Set(interval),
        recorded_by: Set(actor.user_id),
        recorded_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        NewAuditEntry {
            actor_user_id: Some(actor.user_id),
            actor_ip: None,
            action: "farm_input.recorded",
            entity: "farm_input",
            entity_id: input.id.to_string(),
            area_code: Some(input.village_code.clone()),
            before: None,
            after: Some(json!({
                "household_id": input.household_id,
                "plot_id": input.plot_id,
                "flock": input.flock,
                "kind": format!("{:?}", input.kind),
                "product_name": input.product_name,
                "registration_no": input.registration_no,
                "applied_on": input.applied_on,
                "interval_days": input.interval_days,
            })),
        },
    )
    .await?;
    match idempotency::keep(&txn, claim.as_ref(), &input.id.to_string()).await {
        Ok(()) => {}
        Err(Kept::Raced) => {
            drop(txn);
            let winner = idempotency::winner(db.conn(), claim.as_ref()).await?;
            return made(db, idempotency::id_of(&winner)?).await;
        }
        Err(Kept::Failed(e)) => return Err(e.into()),
    }
    txn.commit().await?;
    Ok(input)
}

async fn made(db: &Database, id: i64) -> Result<FarmInput, TraceError> {
    farm_input::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or(TraceError::NotFound)
}

/// The farmer's household's inputs, latest first.
pub async fn own(db: &Database, actor: &Actor) -> Result<Vec<FarmInput>, TraceError> {
    let household_id = production::own_household(actor)?;
    Ok(farm_input::Entity::find()
        .filter(farm_input::Column::HouseholdId.eq(household_id))
        .order_by_desc(farm_input::Column::AppliedOn)
        .order_by_desc(farm_input::Column::Id)
        .limit(LISTED)
        .all(db.conn())
        .await?)
}

/// The inputs that bear on a batch: those of its plot (a batch without a plot: the household's
/// flocks and herds) used in the season before it was harvested, up to that day; oldest first.
pub async fn bearing_on(
    conn: &impl ConnectionTrait,
    batch: &Batch,
) -> Result<Vec<FarmInput>, TraceError> {
    let mut query = farm_input::Entity::find()
        .filter(farm_input::Column::HouseholdId.eq(batch.household_id))
        .filter(farm_input::Column::AppliedOn.lte(batch.produced_on))
        .filter(farm_input::Column::AppliedOn.gte(batch.produced_on - Duration::days(SEASON_DAYS)));
    query = match batch.plot_id {
        Some(plot) => query.filter(farm_input::Column::PlotId.eq(plot)),
        None => query.filter(farm_input::Column::PlotId.is_null()),
    };
    Ok(query
        .order_by_asc(farm_input::Column::AppliedOn)
        .order_by_asc(farm_input::Column::Id)
        .limit(LISTED)
        .all(conn)
        .await?)
}

/// The input whose interval the harvest falls in and that clears last, if any.
pub fn blocking(batch: &Batch, inputs: &[FarmInput]) -> Option<FarmInput> {
    inputs
        .iter()
        .filter(|i| i.interval_days > 0 && allowed_from(i) > batch.produced_on)
        .max_by_key(|i| allowed_from(i))
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pesticide_numbers_are_read_as_labels_print_them() {
        assert_eq!(
            pesticide_registration("pd 2008 0001").as_deref(),
            Some("PD20080001")
        );
        assert_eq!(
            pesticide_registration("LS20071573").as_deref(),
            Some("LS20071573")
        );
        assert_eq!(
            pesticide_registration("WP20100012").as_deref(),
            Some("WP20100012")
        );
        for bad in [
            "PD2008001",
            "XK13067009",
            "PD2008000A",
            "PD18000001",
            "",
            "PD",
        ] {
            assert_eq!(pesticide_registration(bad), None, "{bad}");
        }
    }

    #[test]
    fn veterinary_numbers_are_read_with_or_without_the_year() {
        assert_eq!(
            vet_approval("兽药字（2020）150012345").as_deref(),
            Some("兽药字(2020)150012345")
        );
        assert_eq!(
            vet_approval("兽药添字 150012345").as_deref(),
            Some("兽药添字150012345")
        );
        for bad in [
            "兽药字(20)150012345",
            "兽药字15001234",
            "药字150012345",
            "PD20080001",
        ] {
            assert_eq!(vet_approval(bad), None, "{bad}");
        }
    }
}
