//! Plots (地块) and batches (批次): what a household grows where, and each quantity it harvests
//! or makes. A farmer records their own household's; officials of the area read them.

use chrono::{NaiveDate, Utc};
use entities::{
    area::AreaLevel,
    batch::{self, Model as Batch},
    batch_listing, household, listing,
    plot::{self, Model as Plot},
    plot_crop, product_category,
    user::Role,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::TraceError;
use crate::{
    domain::{AreaCode, county_time::Clock},
    infra::db::Database,
    service::{
        idempotency::{self, Claim, Kept},
        policy::Actor,
        reasons,
    },
};

/// The household a farmer records for.
pub(crate) fn own_household(actor: &Actor) -> Result<i64, TraceError> {
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

/// A plot to record, or a plot's new particulars.
#[derive(Clone, Debug, Default)]
pub struct NewPlot {
    pub name: String,
    /// Default: the household's village.
    pub village: Option<AreaCode>,
    pub area_mu: f64,
    /// What grows there, in words; default: the names of its crops.
    pub crop: String,
    /// The county's products the plot grows; a batch from it is one of them. None given: the
    /// products the words of `crop` name, if any.
    pub crop_ids: Vec<i64>,
    pub location: Option<(f64, f64)>,
}

impl NewPlot {
    /// Everything the plot asks, for its idempotency key.
    fn request(&self) -> serde_json::Value {
        let mut crops = self.crop_ids.clone();
        crops.sort_unstable();
        serde_json::json!([
            self.name.trim(),
            self.village.as_ref().map(AreaCode::as_str),
            self.area_mu,
            self.crop.trim(),
            crops,
            self.location,
        ])
    }
}

/// A plot checked: its words, village, area and crops, ready to write.
struct CheckedPlot {
    name: String,
    village: String,
    area_centimu: i64,
    crop: String,
    crops: Vec<i64>,
}

/// Checks a plot of the farmer's household.
async fn checked_plot(
    conn: &impl ConnectionTrait,
    household_id: i64,
    new: &NewPlot,
) -> Result<CheckedPlot, TraceError> {
    let household = household::Entity::find_by_id(household_id)
        .one(conn)
        .await?
        .ok_or(TraceError::Forbidden)?;
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 32 {
        return Err(TraceError::Invalid(reasons::plot_name_length()));
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
    let village = match &new.village {
        Some(village) if village.level() != AreaLevel::Village => {
            return Err(TraceError::Invalid(reasons::plot_not_in_village()));
        }
        Some(village) if village.as_str() != household.village_code => {
            return Err(TraceError::PlotOutsideVillage);
        }
        _ => household.village_code.clone(),
    };
    if entities::area::Entity::find_by_id(village.clone())
        .one(conn)
        .await?
        .is_none()
    {
        return Err(TraceError::Invalid(reasons::unknown_village()));
    }
    let categories = product_category::Entity::find()
        .filter(product_category::Column::Active.eq(true))
        .order_by_asc(product_category::Column::Id)
        .all(conn)
        .await?;
    let words = new.crop.trim();
    let mut crops: Vec<&product_category::Model> = Vec::new();
    for id in &new.crop_ids {
        let category = categories
            .iter()
            .find(|c| c.id == *id)
            .ok_or_else(|| TraceError::Invalid(reasons::crop_unknown()))?;
        if !crops.iter().any(|c| c.id == category.id) {
            crops.push(category);
        }
    }
    if crops.is_empty() {
        crops.extend(categories.iter().filter(|c| {
            [&c.name_zh, &c.name_en, &c.code]
                .iter()
                .any(|n| *n == words)
        }));
    }
    if crops.len() > MAX_CROPS {
        return Err(TraceError::Invalid(reasons::too_many_crops(MAX_CROPS)));
    }
    let crop = if words.is_empty() {
        crops
            .iter()
            .map(|c| c.name_zh.as_str())
            .collect::<Vec<_>>()
            .join("、")
    } else {
        words.to_owned()
    };
    if crop.is_empty() {
        return Err(TraceError::Invalid(reasons::plot_needs_crop()));
    }
    if crop.chars().count() > 32 {
        return Err(TraceError::Invalid(reasons::plot_crop_length()));
    }
    Ok(CheckedPlot {
        name: name.to_owned(),
        village,
        area_centimu: (new.area_mu * 100.0).round() as i64,
        crop,
        crops: crops.iter().map(|c| c.id).collect(),
    })
}

/// Most products one plot grows.
pub const MAX_CROPS: usize = 8;

/// Writes a plot's crops, in place of those it had.
async fn write_crops(
    conn: &impl ConnectionTrait,
    plot_id: i64,
    crops: &[i64],
) -> Result<(), TraceError> {
    plot_crop::Entity::delete_many()
        .filter(plot_crop::Column::PlotId.eq(plot_id))
        .exec(conn)
        .await?;
    for &category_id in crops {
        plot_crop::ActiveModel {
            plot_id: Set(plot_id),
            category_id: Set(category_id),
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}

pub async fn create_plot(db: &Database, actor: &Actor, new: NewPlot) -> Result<Plot, TraceError> {
    create_plot_keyed(db, actor, new, None).await
}

/// Records a plot of the farmer's own household, once for a client's key.
pub async fn create_plot_keyed(
    db: &Database,
    actor: &Actor,
    new: NewPlot,
    key: Option<&str>,
) -> Result<Plot, TraceError> {
    let household_id = own_household(actor)?;
    let claim = Claim::new(actor, key, "plot", new.request())?;
    if let Some(earlier) = idempotency::earlier(db.conn(), claim.as_ref()).await? {
        return plot_made(db, idempotency::id_of(&earlier)?).await;
    }
    let checked = checked_plot(db.conn(), household_id, &new).await?;
    let now = Utc::now();
    let txn = db.begin_write().await?;
    let plot = plot::ActiveModel {
        household_id: Set(household_id),
        name: Set(checked.name),
        village_code: Set(checked.village),
        area_centimu: Set(checked.area_centimu),
        crop: Set(checked.crop),
        latitude: Set(new.location.map(|l| l.0)),
        longitude: Set(new.location.map(|l| l.1)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    write_crops(&txn, plot.id, &checked.crops).await?;
    match idempotency::keep(&txn, claim.as_ref(), &plot.id.to_string()).await {
        Ok(()) => {
            txn.commit().await?;
            Ok(plot)
        }
        Err(Kept::Raced) => {
            drop(txn);
            let winner = idempotency::winner(db.conn(), claim.as_ref()).await?;
            plot_made(db, idempotency::id_of(&winner)?).await
        }
        Err(Kept::Failed(e)) => Err(e.into()),
    }
}

/// A plot a key's earlier request made.
async fn plot_made(db: &Database, id: i64) -> Result<Plot, TraceError> {
    plot::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or(TraceError::NotFound)
}

/// Changes a plot of the farmer's own household: its name, area, where it lies and what it
/// grows. Batches recorded before keep what they are.
pub async fn update_plot(
    db: &Database,
    actor: &Actor,
    id: i64,
    new: NewPlot,
) -> Result<Plot, TraceError> {
    let household_id = own_household(actor)?;
    let checked = checked_plot(db.conn(), household_id, &new).await?;
    let txn = db.begin_write().await?;
    let current = plot::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .filter(|p| p.household_id == household_id)
        .ok_or(TraceError::NotFound)?;
    let mut active = current.into_active_model();
    active.name = Set(checked.name);
    active.village_code = Set(checked.village);
    active.area_centimu = Set(checked.area_centimu);
    active.crop = Set(checked.crop);
    if let Some((lat, lon)) = new.location {
        active.latitude = Set(Some(lat));
        active.longitude = Set(Some(lon));
    }
    active.updated_at = Set(Utc::now());
    let plot = active.update(&txn).await?;
    write_crops(&txn, plot.id, &checked.crops).await?;
    txn.commit().await?;
    Ok(plot)
}

/// The farmer's own plot, with the products it grows.
pub async fn own_plot(
    db: &Database,
    actor: &Actor,
    id: i64,
) -> Result<(Plot, Vec<i64>), TraceError> {
    let household_id = own_household(actor)?;
    let plot = plot::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .filter(|p| p.household_id == household_id)
        .ok_or(TraceError::NotFound)?;
    let crops = crops_of(db.conn(), &[plot.id])
        .await?
        .remove(&plot.id)
        .unwrap_or_default();
    Ok((plot, crops))
}

/// The products each plot grows, by plot.
pub async fn crops_of(
    conn: &impl ConnectionTrait,
    plot_ids: &[i64],
) -> Result<std::collections::HashMap<i64, Vec<i64>>, TraceError> {
    let mut crops: std::collections::HashMap<i64, Vec<i64>> = Default::default();
    if plot_ids.is_empty() {
        return Ok(crops);
    }
    for row in plot_crop::Entity::find()
        .filter(plot_crop::Column::PlotId.is_in(plot_ids.iter().copied()))
        .order_by_asc(plot_crop::Column::CategoryId)
        .all(conn)
        .await?
    {
        crops.entry(row.plot_id).or_default().push(row.category_id);
    }
    Ok(crops)
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

impl NewBatch {
    /// Everything the batch asks, for its idempotency key.
    fn request(&self) -> serde_json::Value {
        let mut listings = self.listing_ids.clone();
        listings.sort_unstable();
        serde_json::json!([
            self.category_id,
            self.plot_id,
            self.quantity,
            self.unit.map(|u| format!("{u:?}")),
            self.produced_on.to_string(),
            self.note.trim(),
            listings,
        ])
    }
}

pub async fn create_batch(
    db: &Database,
    clock: &dyn Clock,
    actor: &Actor,
    new: NewBatch,
) -> Result<Batch, TraceError> {
    create_batch_keyed(db, clock, actor, new, None).await
}

/// Records a batch of the farmer's own household, once for a client's key. A batch from a plot
/// is one of the plot's crops.
pub async fn create_batch_keyed(
    db: &Database,
    clock: &dyn Clock,
    actor: &Actor,
    new: NewBatch,
    key: Option<&str>,
) -> Result<Batch, TraceError> {
    let household_id = own_household(actor)?;
    let claim = Claim::new(actor, key, "batch", new.request())?;
    if let Some(earlier) = idempotency::earlier(db.conn(), claim.as_ref()).await? {
        return batch_made(db, idempotency::id_of(&earlier)?).await;
    }
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
            let plot = plot::Entity::find_by_id(plot_id)
                .one(&txn)
                .await?
                .filter(|p| p.household_id == household_id)
                .ok_or_else(|| TraceError::Invalid(reasons::plot_not_own()))?;
            grows(&txn, &plot, &category).await?;
            plot.village_code
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
    match idempotency::keep(&txn, claim.as_ref(), &created.id.to_string()).await {
        Ok(()) => {
            txn.commit().await?;
            Ok(created)
        }
        Err(Kept::Raced) => {
            drop(txn);
            let winner = idempotency::winner(db.conn(), claim.as_ref()).await?;
            batch_made(db, idempotency::id_of(&winner)?).await
        }
        Err(Kept::Failed(e)) => Err(e.into()),
    }
}

/// A batch a key's earlier request made.
async fn batch_made(db: &Database, id: i64) -> Result<Batch, TraceError> {
    batch::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or(TraceError::NotFound)
}

/// Whether the plot grows the product: a plot whose crops are known takes batches of them
/// only, and the refusal names them (这块地种的是红橘，不能登记核桃批次).
async fn grows(
    conn: &impl ConnectionTrait,
    plot: &Plot,
    product: &product_category::Model,
) -> Result<(), TraceError> {
    let crops = crops_of(conn, &[plot.id])
        .await?
        .remove(&plot.id)
        .unwrap_or_default();
    if crops.is_empty() || crops.contains(&product.id) {
        return Ok(());
    }
    let names = product_category::Entity::find()
        .filter(product_category::Column::Id.is_in(crops))
        .order_by_asc(product_category::Column::Id)
        .all(conn)
        .await?;
    let zh = names.iter().map(|c| c.name_zh.as_str()).collect::<Vec<_>>();
    let en = names.iter().map(|c| c.name_en.as_str()).collect::<Vec<_>>();
    Err(TraceError::Invalid(reasons::batch_not_plot_crop(
        &zh.join("、"),
        &en.join(", "),
        &product.name_zh,
        &product.name_en,
    )))
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
    let household_id = own_household(actor)?;
    batch::Entity::find_by_id(id)
        .lock_exclusive()
        .one(conn)
        .await?
        .filter(|b| b.household_id == household_id)
        .ok_or(TraceError::NotFound)
}

/// The batches a listing sells, at most 20, newest first.
pub async fn batches_of_listing(
    conn: &impl ConnectionTrait,
    listing_id: i64,
) -> Result<Vec<i64>, TraceError> {
    Ok(batch_listing::Entity::find()
        .filter(batch_listing::Column::ListingId.eq(listing_id))
        .order_by_desc(batch_listing::Column::BatchId)
        .limit(20)
        .all(conn)
        .await?
        .into_iter()
        .map(|l| l.batch_id)
        .collect())
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
