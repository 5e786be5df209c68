//! Plots (地块) and batches (批次): what a household grows where, and each quantity it harvests
//! or makes. A farmer records their own household's; officials of the area read them.

use chrono::{NaiveDate, Utc};
use entities::{
    area::AreaLevel,
    batch::{self, Model as Batch},
    batch_listing, household, listing,
    plot::{self, Model as Plot},
    product_category,
    user::Role,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};

use super::TraceError;
use crate::{
    domain::{AreaCode, county_time::Clock},
    infra::db::Database,
    service::{policy::Actor, reasons},
};

/// The household a farmer records for.
fn own_household(actor: &Actor) -> Result<i64, TraceError> {
    match (actor.role, actor.household_id) {
        (Role::Farmer, Some(id)) => Ok(id),
        _ => Err(TraceError::Forbidden),
    }
}

/// Whether the actor may read what a household in `village_code` recorded.
pub(crate) fn may_read(actor: &Actor, household_id: i64, village_code: &str) -> bool {
    actor.household_id == Some(household_id)
        || (actor.role != Role::Farmer
            && AreaCode::parse(village_code).is_ok_and(|v| actor.governs(&v)))
}

/// A plot to record.
#[derive(Clone, Debug)]
pub struct NewPlot {
    pub name: String,
    /// Default: the household's village.
    pub village: Option<AreaCode>,
    pub area_mu: f64,
    pub crop: String,
    pub location: Option<(f64, f64)>,
}

pub async fn create_plot(db: &Database, actor: &Actor, new: NewPlot) -> Result<Plot, TraceError> {
    let household_id = own_household(actor)?;
    let household = household::Entity::find_by_id(household_id)
        .one(db.conn())
        .await?
        .ok_or(TraceError::Forbidden)?;
    let name = new.name.trim();
    let crop = new.crop.trim();
    if name.is_empty() || name.chars().count() > 32 {
        return Err(TraceError::Invalid(reasons::plot_name_length()));
    }
    if crop.is_empty() || crop.chars().count() > 32 {
        return Err(TraceError::Invalid(reasons::plot_crop_length()));
    }
    if !(new.area_mu > 0.0 && new.area_mu <= 100_000.0) {
        return Err(TraceError::Invalid(reasons::plot_area_range()));
    }
    if let Some((lat, lon)) = new.location
        && !((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon))
    {
        return Err(TraceError::Invalid(reasons::plot_location()));
    }
    // A farmer's plots lie in the household's own village, whose officials read and correct
    // them and whose production statistics count them.
    let village = match new.village {
        Some(village) if village.level() != AreaLevel::Village => {
            return Err(TraceError::Invalid(reasons::plot_not_in_village()));
        }
        Some(village) if village.as_str() != household.village_code => {
            return Err(TraceError::PlotOutsideVillage);
        }
        _ => household.village_code.clone(),
    };
    if entities::area::Entity::find_by_id(village.clone())
        .one(db.conn())
        .await?
        .is_none()
    {
        return Err(TraceError::Invalid(reasons::unknown_village()));
    }
    let now = Utc::now();
    Ok(plot::ActiveModel {
        household_id: Set(household_id),
        name: Set(name.to_owned()),
        village_code: Set(village),
        area_centimu: Set((new.area_mu * 100.0).round() as i64),
        crop: Set(crop.to_owned()),
        latitude: Set(new.location.map(|l| l.0)),
        longitude: Set(new.location.map(|l| l.1)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db.conn())
    .await?)
}

/// A household's plots, for its farmer and the officials of its village.
pub async fn plots_of(
    db: &Database,
    actor: &Actor,
    household_id: i64,
) -> Result<Vec<Plot>, TraceError> {
    let household = household::Entity::find_by_id(household_id)
        .one(db.conn())
        .await?
        .filter(|h| may_read(actor, h.id, &h.village_code))
        .ok_or(TraceError::NotFound)?;
    Ok(plot::Entity::find()
        .filter(plot::Column::HouseholdId.eq(household.id))
        .order_by_asc(plot::Column::Id)
        .all(db.conn())
        .await?)
}

/// A batch to record.
#[derive(Clone, Debug)]
pub struct NewBatch {
    pub category_id: i64,
    /// The plot it came from; none for goods the household made (vermicelli from its own
    /// sweet potatoes, say).
    pub plot_id: Option<i64>,
    pub quantity: i64,
    /// Default: the category's unit.
    pub unit: Option<entities::listing::Unit>,
    pub produced_on: NaiveDate,
    pub note: String,
    /// The household's listings that sell it.
    pub listing_ids: Vec<i64>,
}

pub async fn create_batch(
    db: &Database,
    clock: &dyn Clock,
    actor: &Actor,
    new: NewBatch,
) -> Result<Batch, TraceError> {
    let household_id = own_household(actor)?;
    if new.quantity < 1 || new.quantity > 100_000_000 {
        return Err(TraceError::Invalid(reasons::batch_quantity_range()));
    }
    // The farmer's today is the county's: at 7 a.m. in Beijing it is still yesterday in UTC.
    if new.produced_on > clock.today() {
        return Err(TraceError::Invalid(reasons::batch_in_future(clock.today())));
    }
    if new.note.chars().count() > 500 {
        return Err(TraceError::Invalid(reasons::note_length(500)));
    }
    let txn = db.begin_write().await?;
    let household = household::Entity::find_by_id(household_id)
        .one(&txn)
        .await?
        .ok_or(TraceError::Forbidden)?;
    let category = product_category::Entity::find_by_id(new.category_id)
        .one(&txn)
        .await?
        .filter(|c| c.active)
        .ok_or_else(|| TraceError::Invalid(reasons::category_unknown()))?;
    let village = match new.plot_id {
        Some(plot_id) => {
            plot::Entity::find_by_id(plot_id)
                .one(&txn)
                .await?
                .filter(|p| p.household_id == household_id)
                .ok_or_else(|| TraceError::Invalid(reasons::plot_not_own()))?
                .village_code
        }
        None => household.village_code.clone(),
    };
    let created = batch::ActiveModel {
        household_id: Set(household_id),
        plot_id: Set(new.plot_id),
        village_code: Set(village),
        category_id: Set(category.id),
        quantity: Set(new.quantity),
        unit: Set(new.unit.unwrap_or(category.default_unit)),
        produced_on: Set(new.produced_on),
        note: Set(new.note.trim().to_owned()),
        recalled_at: Set(None),
        recall_reason: Set(None),
        created_by: Set(actor.user_id),
        created_at: Set(clock.now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    link_listings(&txn, &created, &new.listing_ids).await?;
    txn.commit().await?;
    Ok(created)
}

async fn link_listings(
    conn: &impl ConnectionTrait,
    batch: &Batch,
    listing_ids: &[i64],
) -> Result<(), TraceError> {
    for &listing_id in listing_ids {
        listing::Entity::find_by_id(listing_id)
            .one(conn)
            .await?
            .filter(|l| l.household_id == batch.household_id)
            .ok_or_else(|| TraceError::Invalid(reasons::listing_not_own(listing_id.to_string())))?;
        batch_listing::Entity::insert(batch_listing::ActiveModel {
            batch_id: Set(batch.id),
            listing_id: Set(listing_id),
        })
        .on_conflict_do_nothing_on([
            batch_listing::Column::BatchId,
            batch_listing::Column::ListingId,
        ])
        .exec(conn)
        .await?;
    }
    Ok(())
}

/// One batch, for its farmer and the officials of its village.
pub async fn get_batch(db: &Database, actor: &Actor, id: i64) -> Result<Batch, TraceError> {
    batch::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .filter(|b| may_read(actor, b.household_id, &b.village_code))
        .ok_or(TraceError::NotFound)
}

/// The farmer's own household's most recent batches, newest first.
pub async fn own_batches(
    db: &Database,
    actor: &Actor,
    limit: u64,
) -> Result<Vec<Batch>, TraceError> {
    use sea_orm::QuerySelect;
    let household_id = own_household(actor)?;
    Ok(batch::Entity::find()
        .filter(batch::Column::HouseholdId.eq(household_id))
        .order_by_desc(batch::Column::Id)
        .limit(limit)
        .all(db.conn())
        .await?)
}

/// The farmer's own batch, locked for a change, or not found.
pub(crate) async fn own_batch(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
) -> Result<Batch, TraceError> {
    use sea_orm::QuerySelect;
    let household_id = own_household(actor)?;
    batch::Entity::find_by_id(id)
        .lock_exclusive()
        .one(conn)
        .await?
        .filter(|b| b.household_id == household_id)
        .ok_or(TraceError::NotFound)
}

/// The listings that sell a batch.
pub async fn listings_of(
    conn: &impl ConnectionTrait,
    batch_id: i64,
) -> Result<Vec<i64>, TraceError> {
    Ok(batch_listing::Entity::find()
        .filter(batch_listing::Column::BatchId.eq(batch_id))
        .order_by_asc(batch_listing::Column::ListingId)
        .all(conn)
        .await?
        .into_iter()
        .map(|l| l.listing_id)
        .collect())
}
