//! Orders: a buyer takes a quantity of a listing, its stock reserved in the same transaction
//! that records the order, so two buyers cannot take the last unit twice. An order moves
//! placed → paid → shipped → delivered → completed, or is cancelled while placed or paid (its
//! stock returns). Completing it adds its amount to the producing household's e-commerce
//! income for the year, in the same transaction, once.
//!
//! Separation of duties, because that income decides whether a household exits poverty: nobody
//! takes both sides of one order (the buyer never records payment or shipping, and whoever
//! recorded them never completes it), and an order bought by someone close to the producing
//! household — bound to it, using its phone, or an official over its village — is income only
//! once a second official of the township (or above) confirms it.

use chrono::Utc;
use entities::{
    household,
    listing::{self, ListingStatus},
    order::{self, IncomeConfirmation, Model as Order, OrderStatus},
    user::{self, Role},
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;

use super::{
    MarketError,
    listings::{sells, sold_by},
    shipping::Shipment,
};
use crate::{
    domain::{AreaCode, Phone, region::Destination},
    infra::db::Database,
    service::{
        audit::{self, NewAuditEntry},
        households::incomes,
        idempotency::{self, Claim, KeyError},
        pagination::{Page, PageRequest},
        policy::Actor,
        users::Origin,
    },
};

/// What a buyer asks for.
#[derive(Clone, Debug)]
pub struct NewOrder {
    pub listing_id: i64,
    pub quantity: i64,
    pub destination: Destination,
    pub address: String,
    pub recipient_name: String,
    pub recipient_phone: Phone,
    /// The client's key for this request: a retry with the same key returns the same order.
    pub idempotency_key: Option<String>,
}

impl NewOrder {
    /// Everything the order asks, so a reused key can be told apart from a retry. The keys
    /// orders kept before the shared table were carried over with this same request, from the
    /// order's row (`m20261210_000010_move_order_keys`).
    fn request(&self) -> serde_json::Value {
        json!([
            self.listing_id,
            self.quantity,
            self.destination.province_code,
            self.destination.city_code,
            self.address.trim(),
            self.recipient_name.trim(),
            self.recipient_phone.as_str(),
        ])
    }

    fn check(&self) -> Result<(), MarketError> {
        let invalid = |reason| Err(MarketError::Invalid(reason));
        if self.quantity < 1 {
            return invalid(crate::service::reasons::order_quantity());
        }
        let address = self.address.trim().chars().count();
        if address == 0 || address > 200 {
            return invalid(crate::service::reasons::order_address_length());
        }
        let name = self.recipient_name.trim().chars().count();
        if name == 0 || name > 32 {
            return invalid(crate::service::reasons::order_recipient_length());
        }
        if let Some(key) = &self.idempotency_key
            && (key.is_empty()
                || key.len() > 64
                || !key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        {
            return invalid(crate::service::reasons::idempotency_key_format());
        }
        Ok(())
    }
}

/// The order, and whether this request made it (a retry finds the one made before).
#[derive(Clone, Debug)]
pub struct Placed {
    pub order: Order,
    pub created: bool,
}

/// Places an order: checks the listing, reserves its stock and records the order, atomically.
pub async fn place(db: &Database, actor: &Actor, new: NewOrder) -> Result<Placed, MarketError> {
    new.check()?;
    // An order's key sent with another request keeps its own catalogued refusal.
    let order_key = |e: KeyError| match e {
        KeyError::Reused => MarketError::IdempotencyKeyReused,
        e => e.into(),
    };
    let claim = Claim::new(
        actor,
        new.idempotency_key.as_deref(),
        "order",
        new.request(),
    )
    .map_err(order_key)?;
    if let Some(earlier) = idempotency::earlier(db.conn(), claim.as_ref())
        .await
        .map_err(order_key)?
    {
        return placed_before(db, actor, idempotency::id_of(&earlier)?).await;
    }

    let txn = db.begin_write().await?;
    let listing = listing::Entity::find_by_id(new.listing_id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(MarketError::NotFound)?;
    if actor.household_id == Some(listing.household_id)
        || sells(
            actor,
            listing.cooperative_id,
            listing.seller_user_id,
            listing.household_id,
        )
    {
        return Err(MarketError::Invalid(crate::service::reasons::own_goods()));
    }
    if listing.status != ListingStatus::OnSale && listing.status != ListingStatus::SoldOut {
        return Err(MarketError::NotFound);
    }
    if new.quantity < listing.min_order {
        return Err({
            let (unit_zh, unit_en) = crate::service::reasons::unit_names(listing.unit);
            MarketError::Invalid(crate::service::reasons::below_min_order(
                listing.min_order,
                unit_zh,
                unit_en,
            ))
        });
    }
    if listing.status == ListingStatus::SoldOut || listing.stock < new.quantity {
        return Err(MarketError::OutOfStock {
            available: listing.stock,
            unit: listing.unit,
        });
    }
    let amount_fen = listing
        .price_fen
        .checked_mul(new.quantity)
        .filter(|a| *a <= 1_000_000_000_000)
        .ok_or_else(|| MarketError::Invalid(crate::service::reasons::order_amount_too_large()))?;

    let now = Utc::now();
    let stock = listing.stock - new.quantity;
    let mut reserved = listing.clone().into_active_model();
    reserved.stock = Set(stock);
    if stock < listing.min_order {
        reserved.status = Set(ListingStatus::SoldOut);
    }
    reserved.updated_at = Set(now);
    reserved.update(&txn).await?;

    let inserted = order::ActiveModel {
        listing_id: Set(listing.id),
        household_id: Set(listing.household_id),
        village_code: Set(listing.village_code.clone()),
        category_id: Set(listing.category_id),
        seller_user_id: Set(listing.seller_user_id),
        cooperative_id: Set(listing.cooperative_id),
        buyer_user_id: Set(actor.user_id),
        quantity: Set(new.quantity),
        unit: Set(listing.unit),
        unit_price_fen: Set(listing.price_fen),
        amount_fen: Set(amount_fen),
        province_code: Set(new.destination.province_code.into()),
        city_code: Set(new.destination.city_code.into()),
        address: Set(new.address.trim().into()),
        recipient_name: Set(new.recipient_name.trim().into()),
        recipient_phone: Set(new.recipient_phone.as_str().into()),
        status: Set(OrderStatus::Placed),
        placed_at: Set(now),
        paid_at: Set(None),
        shipped_at: Set(None),
        delivered_at: Set(None),
        completed_at: Set(None),
        cancelled_at: Set(None),
        cancel_reason: Set(None),
        income_year: Set(None),
        updated_at: Set(now),
        paid_by_user_id: Set(None),
        shipped_by_user_id: Set(None),
        completed_by_user_id: Set(None),
        income_confirmation: Set(None),
        confirmed_by_user_id: Set(None),
        confirmed_at: Set(None),
        carrier: Set(None),
        waybill_number: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let resource = inserted.id.to_string();
    if let Some(winner) = idempotency::commit(db, txn, claim.as_ref(), &resource)
        .await
        .map_err(order_key)?
    {
        // The same key raced in on another connection and won: answer with its order.
        return placed_before(db, actor, idempotency::id_of(&winner)?).await;
    }
    Ok(Placed {
        order: inserted,
        created: true,
    })
}

/// The order this buyer placed before with the same key.
async fn placed_before(db: &Database, actor: &Actor, id: i64) -> Result<Placed, MarketError> {
    let order = order::Entity::find_by_id(id)
        .filter(order::Column::BuyerUserId.eq(actor.user_id))
        .one(db.conn())
        .await?
        .ok_or(MarketError::NotFound)?;
    Ok(Placed {
        order,
        created: false,
    })
}

/// A step in an order's life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderAction {
    Pay,
    Ship,
    Deliver,
    Complete,
    Cancel,
    /// A second official confirms the income of an order whose buyer is close to the
    /// producing household.
    Confirm,
}

impl OrderAction {
    pub const ALL: [OrderAction; 6] = [Pay, Ship, Deliver, Complete, Cancel, Confirm];

    /// The action [`OrderAction::name`] spells this way.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Pay => "pay",
            Ship => "ship",
            Deliver => "deliver",
            Complete => "complete",
            Cancel => "cancel",
            Confirm => "confirm",
        }
    }
}

/// How the actor stands to an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Party {
    Buyer,
    Seller,
    /// An official of the village's area, or an admin.
    Official,
    /// A township or county official of the village's area, or an admin, who is not the buyer
    /// and took no step on the order: may confirm income held for confirmation.
    Confirmer,
}

use OrderAction::*;
use OrderStatus::*;
use Party::*;

/// Who may take which step from which state. Payment is outside the system: the seller or an
/// official records it. The seller may not complete their own order: completion credits the
/// household's income, which the exit assessment reads.
const STEPS: &[(OrderStatus, OrderAction, OrderStatus, &[Party])] = &[
    (Placed, Pay, Paid, &[Seller, Official]),
    (Paid, Ship, Shipped, &[Seller, Official]),
    (Shipped, Deliver, Delivered, &[Buyer, Seller, Official]),
    (Delivered, Complete, Completed, &[Buyer, Official]),
    (Placed, Cancel, Cancelled, &[Buyer, Seller, Official]),
    (Paid, Cancel, Cancelled, &[Seller, Official]),
    (Completed, Confirm, Completed, &[Confirmer]),
];

/// Whether the user recorded a step of the seller's side or completed the order.
fn took_a_step(order: &Order, user_id: i64) -> bool {
    [
        order.paid_by_user_id,
        order.shipped_by_user_id,
        order.completed_by_user_id,
    ]
    .contains(&Some(user_id))
}

/// Whether the step can be taken on the order as it stands, whoever asks: a confirmation only
/// for income held for one, a completion never by whoever took the seller's side.
fn open_to(actor: &Actor, order: &Order, action: OrderAction) -> bool {
    match action {
        Confirm => order.income_confirmation == Some(IncomeConfirmation::Pending),
        Complete => !took_a_step(order, actor.user_id),
        _ => true,
    }
}

fn parties(actor: &Actor, order: &Order) -> Vec<Party> {
    // The buyer is the buyer only: an official who buys from their own area takes no seller's
    // step and confirms nothing on that order.
    if actor.user_id == order.buyer_user_id {
        return vec![Buyer];
    }
    let mut parties = Vec::new();
    if sells(
        actor,
        order.cooperative_id,
        order.seller_user_id,
        order.household_id,
    ) {
        parties.push(Seller);
    }
    let governs = AreaCode::parse(&order.village_code).is_ok_and(|v| actor.governs(&v));
    if actor.role != Role::Farmer && governs {
        parties.push(Official);
    }
    if governs
        && matches!(
            actor.role,
            Role::TownshipOfficial | Role::CountyOfficial | Role::Admin
        )
        && !took_a_step(order, actor.user_id)
    {
        parties.push(Confirmer);
    }
    parties
}

/// The steps this actor may take on the order now.
pub fn next_actions(actor: &Actor, order: &Order) -> Vec<OrderAction> {
    let parties = parties(actor, order);
    STEPS
        .iter()
        .filter(|(from, action, _, who)| {
            *from == order.status
                && who.iter().any(|p| parties.contains(p))
                && open_to(actor, order, *action)
        })
        .map(|(_, action, _, _)| *action)
        .collect()
}

/// The buyer's receiving: delivered and completed at once, so one press finishes the order
/// (each step is checked and recorded as it always is). An order already delivered is
/// completed.
pub async fn receive(
    db: &Database,
    actor: &Actor,
    order_id: i64,
    origin: &Origin,
) -> Result<Order, MarketError> {
    let delivered = match act(db, actor, order_id, Deliver, None, origin).await {
        Ok(order) => order,
        Err(MarketError::StepNotAllowed { allowed }) if allowed.contains(&Complete) => {
            return act(db, actor, order_id, Complete, None, origin).await;
        }
        Err(e) => return Err(e),
    };
    if delivered.buyer_user_id != actor.user_id {
        return Ok(delivered);
    }
    act(db, actor, order_id, Complete, None, origin).await
}

/// The seller's side cancels a buyer's order: only with a reason, which the buyer reads on
/// their order.
pub async fn cancel_for_buyer(
    db: &Database,
    actor: &Actor,
    order_id: i64,
    reason: &str,
    origin: &Origin,
) -> Result<Order, MarketError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(MarketError::Invalid(
            crate::service::reasons::cancel_needs_reason(),
        ));
    }
    act(db, actor, order_id, Cancel, Some(reason.to_owned()), origin).await
}

/// Takes one step. Cancelling returns the stock; completing credits the household's income;
/// shipping goes through [`ship`], with its carrier and waybill number.
pub async fn act(
    db: &Database,
    actor: &Actor,
    order_id: i64,
    action: OrderAction,
    reason: Option<String>,
    origin: &Origin,
) -> Result<Order, MarketError> {
    take(db, actor, order_id, action, reason, None, origin, None).await
}

/// A step of the order's ([`act`], or [`ship`] with its carrier and waybill), once for a
/// client's key: the step sent again with the same key answers the order as it is now instead
/// of a refusal that the step was taken; the key with another step is refused.
#[allow(clippy::too_many_arguments)]
pub async fn step_keyed(
    db: &Database,
    actor: &Actor,
    order_id: i64,
    action: OrderAction,
    reason: Option<String>,
    shipment: Option<(&str, &str)>,
    origin: &Origin,
    key: Option<&str>,
) -> Result<Order, MarketError> {
    let claim = Claim::new(
        actor,
        key,
        "order_step",
        json!([
            order_id,
            action.name(),
            reason.as_deref().map(str::trim),
            shipment.map(|(carrier, waybill)| [carrier.trim(), waybill.trim()]),
        ]),
    )?;
    if idempotency::earlier(db.conn(), claim.as_ref())
        .await?
        .is_some()
    {
        return stepped(db, order_id).await;
    }
    let shipment = match (action, shipment) {
        (Ship, shipment) => Some(shipment.unwrap_or_default()),
        _ => None,
    };
    take(
        db,
        actor,
        order_id,
        action,
        reason,
        shipment,
        origin,
        claim.as_ref(),
    )
    .await
}

/// The order a step was taken on, as it is now.
async fn stepped(db: &Database, order_id: i64) -> Result<Order, MarketError> {
    order::Entity::find_by_id(order_id)
        .one(db.conn())
        .await?
        .ok_or(MarketError::NotFound)
}

/// Ships the order with a carrier of the catalogue and its waybill number as the seller typed
/// it, which the buyer then follows; shipping without them, or with a number not of the
/// carrier's shape, is refused (once the order may be shipped by this actor at all).
pub async fn ship(
    db: &Database,
    actor: &Actor,
    order_id: i64,
    carrier: &str,
    waybill: &str,
    origin: &Origin,
) -> Result<Order, MarketError> {
    take(
        db,
        actor,
        order_id,
        Ship,
        None,
        Some((carrier, waybill)),
        origin,
        None,
    )
    .await
}

/// Takes one step; shipping records the shipment.
#[allow(clippy::too_many_arguments)]
async fn take(
    db: &Database,
    actor: &Actor,
    order_id: i64,
    action: OrderAction,
    reason: Option<String>,
    shipment: Option<(&str, &str)>,
    origin: &Origin,
    claim: Option<&Claim>,
) -> Result<Order, MarketError> {
    let txn = db.begin_write().await?;
    let current = order::Entity::find_by_id(order_id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(MarketError::NotFound)?;
    let parties = parties(actor, &current);
    if parties.is_empty() {
        return Err(MarketError::NotFound);
    }
    let Some((_, _, to, who)) = STEPS.iter().find(|(from, a, _, _)| {
        *from == current.status
            && *a == action
            && (action != Confirm || open_to(actor, &current, action))
    }) else {
        return Err(MarketError::StepNotAllowed {
            allowed: next_actions(actor, &current),
        });
    };
    if !who.iter().any(|p| parties.contains(p)) {
        return Err(MarketError::Forbidden);
    }
    if !open_to(actor, &current, action) {
        return Err(MarketError::BothSides);
    }
    let now = Utc::now();
    let mut next = current.clone().into_active_model();
    next.status = Set(*to);
    next.updated_at = Set(now);
    match action {
        Pay => {
            next.paid_at = Set(Some(now));
            next.paid_by_user_id = Set(Some(actor.user_id));
        }
        Ship => {
            let (carrier, waybill) = shipment.unwrap_or_default();
            let shipment = Shipment::parse(carrier, waybill)?;
            next.shipped_at = Set(Some(now));
            next.shipped_by_user_id = Set(Some(actor.user_id));
            next.carrier = Set(Some(shipment.carrier.code.to_owned()));
            next.waybill_number = Set(Some(shipment.waybill));
        }
        Deliver => next.delivered_at = Set(Some(now)),
        Complete => {
            let year = crate::domain::county_time::year_of(now);
            next.completed_at = Set(Some(now));
            next.completed_by_user_id = Set(Some(actor.user_id));
            next.income_year = Set(Some(year));
            if buyer_is_close(&txn, &current).await? {
                next.income_confirmation = Set(Some(IncomeConfirmation::Pending));
                audit::append(
                    &txn,
                    income_entry(
                        actor,
                        origin,
                        "household.ecommerce_income_held",
                        &current,
                        year,
                    ),
                )
                .await?;
            } else {
                next.income_confirmation = Set(Some(if parties.contains(&Buyer) {
                    IncomeConfirmation::Buyer
                } else {
                    IncomeConfirmation::Official
                }));
                credit(&txn, actor, origin, &current, year).await?;
            }
        }
        Confirm => {
            let year = current
                .income_year
                .unwrap_or_else(|| crate::domain::county_time::year_of(now));
            next.income_confirmation = Set(Some(IncomeConfirmation::SecondOfficial));
            next.confirmed_by_user_id = Set(Some(actor.user_id));
            next.confirmed_at = Set(Some(now));
            credit(&txn, actor, origin, &current, year).await?;
        }
        Cancel => {
            let reason = reason
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty());
            if reason.as_ref().is_some_and(|r| r.chars().count() > 200) {
                return Err(MarketError::Invalid(
                    crate::service::reasons::cancel_reason_length(200),
                ));
            }
            next.cancelled_at = Set(Some(now));
            next.cancel_reason = Set(reason);
            return_stock(&txn, current.listing_id, current.quantity).await?;
        }
    }
    let updated = next.update(&txn).await?;
    if idempotency::commit(db, txn, claim, &order_id.to_string())
        .await?
        .is_some()
    {
        return stepped(db, order_id).await;
    }
    Ok(updated)
}

/// Whether the buyer stands close to the producing household: bound to it, signed in with its
/// phone, or an official (or admin) whose area holds its village.
async fn buyer_is_close(conn: &impl ConnectionTrait, order: &Order) -> Result<bool, MarketError> {
    let Some(buyer) = user::Entity::find_by_id(order.buyer_user_id)
        .one(conn)
        .await?
    else {
        return Ok(false);
    };
    if buyer.household_id == Some(order.household_id) {
        return Ok(true);
    }
    let buyer_actor = crate::service::auth::actor_of(&buyer);
    if buyer.role != Role::Farmer
        && buyer.role != Role::Buyer
        && AreaCode::parse(&order.village_code).is_ok_and(|v| buyer_actor.governs(&v))
    {
        return Ok(true);
    }
    let Some(phone) = buyer.phone else {
        return Ok(false);
    };
    let household_phone = household::Entity::find_by_id(order.household_id)
        .one(conn)
        .await?
        .and_then(|h| h.phone);
    Ok(household_phone.as_deref() == Some(phone.as_str()))
}

fn income_entry(
    actor: &Actor,
    origin: &Origin,
    action: &'static str,
    order: &Order,
    year: i32,
) -> NewAuditEntry {
    NewAuditEntry {
        actor_user_id: Some(actor.user_id),
        actor_ip: origin.ip.clone(),
        action,
        entity: "household",
        entity_id: order.household_id.to_string(),
        area_code: Some(order.village_code.clone()),
        before: None,
        after: Some(json!({
            "order_id": order.id,
            "year": year,
            "amount_fen": order.amount_fen,
        })),
    }
}

/// Adds the order's amount to the household's e-commerce income for the year, audited.
async fn credit(
    conn: &DatabaseTransaction,
    actor: &Actor,
    origin: &Origin,
    order: &Order,
    year: i32,
) -> Result<(), MarketError> {
    incomes::add_ecommerce(conn, order.household_id, year, order.amount_fen).await?;
    audit::append(
        conn,
        income_entry(
            actor,
            origin,
            "household.ecommerce_income_added",
            order,
            year,
        ),
    )
    .await?;
    Ok(())
}

/// Puts a cancelled order's units back; a sold-out listing that has enough again is back on sale.
async fn return_stock(
    conn: &impl ConnectionTrait,
    listing_id: i64,
    quantity: i64,
) -> Result<(), MarketError> {
    let listing = listing::Entity::find_by_id(listing_id)
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or(MarketError::NotFound)?;
    let stock = listing.stock + quantity;
    let back_on_sale = listing.status == ListingStatus::SoldOut && stock >= listing.min_order;
    let mut active = listing.into_active_model();
    active.stock = Set(stock);
    if back_on_sale {
        active.status = Set(ListingStatus::OnSale);
    }
    active.updated_at = Set(Utc::now());
    active.update(conn).await?;
    Ok(())
}

/// One order, for its buyer, its seller and the officials of its village.
pub async fn get(db: &Database, actor: &Actor, id: i64) -> Result<Order, MarketError> {
    order::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .filter(|o| !parties(actor, o).is_empty())
        .ok_or(MarketError::NotFound)
}

/// Whose orders a list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderSide {
    /// What the actor bought.
    Bought,
    /// What the actor's household sold.
    Sold,
}

/// The actor's orders, newest first.
pub async fn list(
    db: &Database,
    actor: &Actor,
    side: OrderSide,
    status: Option<OrderStatus>,
    page: &PageRequest,
) -> Result<Page<Order>, MarketError> {
    let mut query = order::Entity::find();
    query = match side {
        OrderSide::Bought => query.filter(order::Column::BuyerUserId.eq(actor.user_id)),
        OrderSide::Sold => query.filter(sold_by(
            actor,
            order::Column::SellerUserId,
            order::Column::HouseholdId,
            order::Column::CooperativeId,
        )?),
    };
    if let Some(status) = status {
        query = query.filter(order::Column::Status.eq(status));
    }
    if let Some(after) = page.after.as_deref().and_then(|a| a.parse::<i64>().ok()) {
        query = query.filter(order::Column::Id.lt(after));
    }
    let rows = query
        .order_by_desc(order::Column::Id)
        .limit(page.fetch_limit())
        .all(db.conn())
        .await?;
    Ok(Page::from_rows(rows, page, |o| o.id.to_string()))
}
