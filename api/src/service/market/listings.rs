//! Listings: a farmer household's goods for sale. A farmer manages only their own household's
//! listings; officials of the area read them; anyone browses what is on sale.

use chrono::Utc;
use entities::{
    household,
    listing::{self, ListingStatus, Model as Listing, Unit},
    listing_photo, photo, product_category,
    user::Role,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};

use super::{MarketError, cooperatives};
use crate::{
    domain::AreaCode,
    infra::db::Database,
    service::{
        idempotency::{self, Claim, Kept},
        pagination::{Page, PageRequest},
        policy::Actor,
    },
};

const MAX_PRICE_FEN: i64 = 100_000_000;
const MAX_STOCK: i64 = 10_000_000;
/// The most a listing may ask a buyer to take at once.
pub const MAX_MIN_ORDER: i64 = 10_000;

/// A listing to create, or the changes to one (`None` keeps a field).
#[derive(Clone, Debug, Default)]
pub struct ListingFields {
    /// For a co-operative's manager: the member household whose goods these are (a farmer
    /// always lists their own household's).
    pub household_id: Option<i64>,
    pub category_id: Option<i64>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub price_fen: Option<i64>,
    pub unit: Option<Unit>,
    pub stock: Option<i64>,
    pub min_order: Option<i64>,
    pub status: Option<ListingStatus>,
}

/// The rules every listing keeps, checked on the listing as it would be after a change.
fn check(listing: &Listing) -> Result<(), MarketError> {
    let invalid = |reason| Err(MarketError::Invalid(reason));
    let title = listing.title.trim();
    if title.is_empty() || title.chars().count() > 64 {
        return invalid(crate::service::reasons::title_length());
    }
    if listing.description.chars().count() > 2000 {
        return invalid(crate::service::reasons::description_length());
    }
    if !(1..=MAX_PRICE_FEN).contains(&listing.price_fen) {
        return invalid(crate::service::reasons::price_range());
    }
    if !(0..=MAX_STOCK).contains(&listing.stock) {
        return invalid(crate::service::reasons::stock_range(MAX_STOCK));
    }
    if !(1..=MAX_MIN_ORDER).contains(&listing.min_order) {
        return invalid(crate::service::reasons::min_order_range(MAX_MIN_ORDER));
    }
    if listing.status == ListingStatus::OnSale && listing.stock < listing.min_order {
        let (unit_zh, unit_en) = crate::service::reasons::unit_names(listing.unit);
        return invalid(crate::service::reasons::on_sale_needs_stock(
            listing.min_order,
            unit_zh,
            unit_en,
        ));
    }
    Ok(())
}

/// A listing goes on sale only when every batch it sells that the certificate rules cover has
/// a certificate in force (承诺达标合格证).
async fn needs_no_certificate(
    conn: &impl ConnectionTrait,
    listing_id: i64,
) -> Result<(), MarketError> {
    use crate::service::trace::{TraceError, certificates};
    match certificates::uncertified_batch_of_listing(conn, listing_id).await {
        Ok(None) => Ok(()),
        Ok(Some(batch)) => Err(MarketError::Invalid(
            crate::service::reasons::listing_needs_certificate(batch),
        )),
        Err(TraceError::Database(e)) => Err(MarketError::Database(e)),
        Err(e) => Err(MarketError::Database(sea_orm::DbErr::Custom(e.to_string()))),
    }
}

/// A minimum order set now must be orderable from the stock there is: a listing that asks more
/// than it holds could never be ordered.
fn check_min_order(listing: &Listing) -> Result<(), MarketError> {
    if listing.min_order > 1 && listing.min_order > listing.stock {
        let (unit_zh, unit_en) = crate::service::reasons::unit_names(listing.unit);
        return Err(MarketError::Invalid(
            crate::service::reasons::min_order_above_stock(listing.stock, unit_zh, unit_en),
        ));
    }
    Ok(())
}

/// Who sells a new listing: a farmer for their own household, or a co-operative's manager for
/// a member household. Answers the producing household and the co-operative, if any.
async fn seller_of(
    db: &Database,
    actor: &Actor,
    household_id: Option<i64>,
) -> Result<(household::Model, Option<i64>), MarketError> {
    if actor.role != Role::Farmer {
        return Err(MarketError::Forbidden);
    }
    let own = actor
        .household_id
        .filter(|own| household_id.is_none_or(|h| h == *own));
    let (producer, cooperative) = match own {
        Some(own) => (own, None),
        None => {
            let cooperative = cooperatives::managed_by(db.conn(), actor.user_id)
                .await?
                .ok_or(MarketError::Forbidden)?;
            let member = household_id.ok_or_else(|| {
                MarketError::Invalid(crate::service::reasons::cooperative_needs_member())
            })?;
            if !cooperatives::is_member(db.conn(), cooperative.id, member).await? {
                return Err(MarketError::Invalid(crate::service::reasons::not_a_member()));
            }
            (member, Some(cooperative.id))
        }
    };
    let household = household::Entity::find_by_id(producer)
        .one(db.conn())
        .await?
        .ok_or(MarketError::Forbidden)?;
    Ok((household, cooperative))
}

async fn active_category(
    conn: &impl ConnectionTrait,
    id: i64,
) -> Result<product_category::Model, MarketError> {
    product_category::Entity::find_by_id(id)
        .one(conn)
        .await?
        .filter(|c| c.active)
        .ok_or_else(|| MarketError::Invalid(crate::service::reasons::category_unknown()))
}

/// Lists goods of the farmer's own household, as a draft or straight on sale.
pub async fn create(
    db: &Database,
    actor: &Actor,
    fields: ListingFields,
) -> Result<Listing, MarketError> {
    create_with_photos(db, actor, fields, &[]).await
}

/// [`create`], showing photos stored already (see `Photos::store`): the listing and its photos
/// are saved together or not at all.
pub async fn create_with_photos(
    db: &Database,
    actor: &Actor,
    fields: ListingFields,
    photos: &[photo::Model],
) -> Result<Listing, MarketError> {
    create_claimed(db, actor, fields, photos, None).await
}

impl ListingFields {
    /// Everything a new listing asks, for its idempotency key.
    pub fn request(&self) -> serde_json::Value {
        serde_json::json!([
            self.household_id,
            self.category_id,
            self.title.as_deref().map(str::trim),
            self.description.as_deref().map(str::trim),
            self.price_fen,
            self.unit.map(|u| format!("{u:?}")),
            self.stock,
            self.min_order,
            self.status.map(|s| format!("{s:?}")),
        ])
    }
}

/// [`create`], once for a client's key.
pub async fn create_keyed(
    db: &Database,
    actor: &Actor,
    fields: ListingFields,
    key: Option<&str>,
) -> Result<Listing, MarketError> {
    let claim = Claim::new(actor, key, "listing", fields.request())?;
    if let Some(earlier) = idempotency::earlier(db.conn(), claim.as_ref()).await? {
        return listing_made(db, idempotency::id_of(&earlier)?).await;
    }
    create_claimed(db, actor, fields, &[], claim.as_ref()).await
}

/// A listing a key's earlier request made.
pub(crate) async fn listing_made(db: &Database, id: i64) -> Result<Listing, MarketError> {
    listing::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or(MarketError::NotFound)
}

/// [`create_with_photos`], its key written with it; the caller has found no earlier request
/// with the key.
pub(crate) async fn create_claimed(
    db: &Database,
    actor: &Actor,
    fields: ListingFields,
    photos: &[photo::Model],
    claim: Option<&Claim>,
) -> Result<Listing, MarketError> {
    if photos.len() > super::photos::MAX_PHOTOS_PER_LISTING {
        return Err(MarketError::Invalid(
            crate::service::reasons::too_many_photos(super::photos::MAX_PHOTOS_PER_LISTING),
        ));
    }
    let (household, cooperative_id) = seller_of(db, actor, fields.household_id).await?;
    let Some(category_id) = fields.category_id else {
        return Err(MarketError::Invalid(
            crate::service::reasons::listing_needs_category(),
        ));
    };
    let category = active_category(db.conn(), category_id).await?;
    let status = fields.status.unwrap_or(ListingStatus::Draft);
    if !matches!(status, ListingStatus::Draft | ListingStatus::OnSale) {
        return Err(MarketError::Invalid(
            crate::service::reasons::new_listing_status(),
        ));
    }
    let now = Utc::now();
    let listing = Listing {
        id: 0,
        seller_user_id: actor.user_id,
        household_id: household.id,
        cooperative_id,
        village_code: household.village_code.clone(),
        category_id,
        title: fields.title.unwrap_or_default().trim().to_owned(),
        description: fields.description.unwrap_or_default().trim().to_owned(),
        price_fen: fields.price_fen.unwrap_or(0),
        unit: fields.unit.unwrap_or(category.default_unit),
        stock: fields.stock.unwrap_or(0),
        min_order: fields.min_order.unwrap_or(1),
        status,
        created_at: now,
        updated_at: now,
    };
    check(&listing)?;
    check_min_order(&listing)?;
    let mut active = listing.into_active_model();
    active.id = sea_orm::ActiveValue::NotSet;
    let txn = db.begin_write().await?;
    let listing = active.insert(&txn).await?;
    for (position, photo) in photos.iter().enumerate() {
        listing_photo::ActiveModel {
            listing_id: Set(listing.id),
            photo_id: Set(photo.id.clone()),
            position: Set(position as i32),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
    }
    match idempotency::keep(&txn, claim, &listing.id.to_string()).await {
        Ok(()) => {}
        Err(Kept::Raced) => {
            drop(txn);
            let winner = idempotency::winner(db.conn(), claim).await?;
            return listing_made(db, idempotency::id_of(&winner)?).await;
        }
        Err(Kept::Failed(e)) => return Err(e.into()),
    }
    txn.commit().await?;
    Ok(listing)
}

/// Changes one of the farmer's own listings. Another household's listing is not found.
pub async fn update(
    db: &Database,
    actor: &Actor,
    id: i64,
    fields: ListingFields,
) -> Result<Listing, MarketError> {
    let txn = db.begin_write().await?;
    let current = listing::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .filter(|l| owns(actor, l))
        .ok_or(MarketError::NotFound)?;
    let mut next = current.clone();
    if let Some(category_id) = fields.category_id {
        active_category(&txn, category_id).await?;
        next.category_id = category_id;
    }
    if let Some(title) = fields.title {
        next.title = title.trim().to_owned();
    }
    if let Some(description) = fields.description {
        next.description = description.trim().to_owned();
    }
    if let Some(price) = fields.price_fen {
        next.price_fen = price;
    }
    if let Some(unit) = fields.unit {
        next.unit = unit;
    }
    if let Some(stock) = fields.stock {
        next.stock = stock;
    }
    if let Some(min_order) = fields.min_order {
        next.min_order = min_order;
        check_min_order(&next)?;
    }
    if let Some(status) = fields.status {
        if status == ListingStatus::SoldOut {
            return Err(MarketError::Invalid(
                crate::service::reasons::sold_out_by_stock(),
            ));
        }
        next.status = status;
    }
    // Restocking a sold-out listing puts it back on sale; emptying one marks it sold out.
    if next.status == ListingStatus::SoldOut && next.stock >= next.min_order {
        next.status = ListingStatus::OnSale;
    } else if next.status == ListingStatus::OnSale && next.stock == 0 {
        next.status = ListingStatus::SoldOut;
    }
    check(&next)?;
    if next.status == ListingStatus::OnSale && current.status != ListingStatus::OnSale {
        needs_no_certificate(&txn, current.id).await?;
    }
    let mut active = current.into_active_model();
    active.category_id = Set(next.category_id);
    active.title = Set(next.title);
    active.description = Set(next.description);
    active.price_fen = Set(next.price_fen);
    active.unit = Set(next.unit);
    active.stock = Set(next.stock);
    active.min_order = Set(next.min_order);
    active.status = Set(next.status);
    active.updated_at = Set(Utc::now());
    let updated = active.update(&txn).await?;
    txn.commit().await?;
    Ok(updated)
}

/// A co-operative's listing is its manager's (the seller); any other is its household's farmer's.
pub(crate) fn owns(actor: &Actor, listing: &Listing) -> bool {
    sells(
        actor,
        listing.cooperative_id,
        listing.seller_user_id,
        listing.household_id,
    )
}

/// Whether the actor is the seller of goods sold by `seller_user_id` for `household_id`,
/// through `cooperative_id` if set.
pub(crate) fn sells(
    actor: &Actor,
    cooperative_id: Option<i64>,
    seller_user_id: i64,
    household_id: i64,
) -> bool {
    actor.role == Role::Farmer
        && match cooperative_id {
            Some(_) => actor.user_id == seller_user_id,
            None => actor.household_id == Some(household_id),
        }
}

/// What a seller's own lists select, as [`sells`] decides: what they sell for a co-operative,
/// and their household's goods not sold through one.
pub(crate) fn sold_by(
    actor: &Actor,
    seller_column: impl ColumnTrait,
    household_column: impl ColumnTrait,
    cooperative_column: impl ColumnTrait,
) -> Result<Condition, MarketError> {
    if actor.role != Role::Farmer {
        return Err(MarketError::Forbidden);
    }
    let mut mine = Condition::any().add(
        Condition::all()
            .add(seller_column.eq(actor.user_id))
            .add(cooperative_column.is_not_null()),
    );
    if let Some(household_id) = actor.household_id {
        mine = mine.add(
            Condition::all()
                .add(household_column.eq(household_id))
                .add(cooperative_column.is_null()),
        );
    }
    Ok(mine)
}

/// What the public sees: listings on sale or sold out.
fn public(listing: &Listing) -> bool {
    matches!(
        listing.status,
        ListingStatus::OnSale | ListingStatus::SoldOut
    )
}

/// One listing: public ones for anyone, the rest for their farmer and the area's officials.
pub async fn get(db: &Database, actor: Option<&Actor>, id: i64) -> Result<Listing, MarketError> {
    let listing = listing::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or(MarketError::NotFound)?;
    let visible = public(&listing)
        || actor.is_some_and(|a| {
            owns(a, &listing) || AreaCode::parse(&listing.village_code).is_ok_and(|v| a.governs(&v))
        });
    if visible {
        Ok(listing)
    } else {
        Err(MarketError::NotFound)
    }
}

/// The titles of listings, by id (for lists of orders).
pub async fn titles(
    db: &Database,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, String>, MarketError> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(listing::Entity::find()
        .select_only()
        .column(listing::Column::Id)
        .column(listing::Column::Title)
        .filter(listing::Column::Id.is_in(ids.iter().copied()))
        .into_tuple::<(i64, String)>()
        .all(db.conn())
        .await?
        .into_iter()
        .collect())
}

/// What a browse selects; filters combine with AND.
#[derive(Clone, Debug, Default)]
pub struct ListingFilter {
    pub category_id: Option<i64>,
    /// A village, township or the county.
    pub area: Option<AreaCode>,
    pub min_price_fen: Option<i64>,
    pub max_price_fen: Option<i64>,
    /// Part of the title or description.
    pub text: Option<String>,
}

/// Listings on sale, newest first, page by page. With `mine`, the farmer's own in every status.
pub async fn browse(
    db: &Database,
    filter: &ListingFilter,
    mine: Option<&Actor>,
    page: &PageRequest,
) -> Result<Page<Listing>, MarketError> {
    let mut query = listing::Entity::find();
    match mine {
        Some(actor) => {
            query = query.filter(sold_by(
                actor,
                listing::Column::SellerUserId,
                listing::Column::HouseholdId,
                listing::Column::CooperativeId,
            )?);
        }
        None => query = query.filter(listing::Column::Status.eq(ListingStatus::OnSale)),
    }
    if let Some(category) = filter.category_id {
        query = query.filter(listing::Column::CategoryId.eq(category));
    }
    if let Some(area) = &filter.area {
        query = query.filter(listing::Column::VillageCode.starts_with(area.descendant_prefix()));
    }
    if let Some(min) = filter.min_price_fen {
        query = query.filter(listing::Column::PriceFen.gte(min));
    }
    if let Some(max) = filter.max_price_fen {
        query = query.filter(listing::Column::PriceFen.lte(max));
    }
    if let Some(text) = filter
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let pattern = crate::service::contains_pattern(text);
        query = query.filter(
            Condition::any()
                .add(listing::Column::Title.like(pattern.clone()))
                .add(listing::Column::Description.like(pattern)),
        );
    }
    if let Some(after) = page.after.as_deref().and_then(|a| a.parse::<i64>().ok()) {
        query = query.filter(listing::Column::Id.lt(after));
    }
    let rows = query
        .order_by_desc(listing::Column::Id)
        .limit(page.fetch_limit())
        .all(db.conn())
        .await?;
    Ok(Page::from_rows(rows, page, |l| l.id.to_string()))
}
