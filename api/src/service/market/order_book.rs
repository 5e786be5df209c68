//! Orders as their readers see them, for their buyer or for the household that sells: each with
//! its listing's title, the seller and how to reach them, how to pay while it waits for payment,
//! the shipment once shipped, and the steps the reader may take on it now, gathered in one call
//! for a page or the API.

use std::collections::HashMap;

use entities::{
    order::{Model as Order, OrderStatus},
    user,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{
    MarketError, listings,
    orders::{self, OrderAction, OrderSide},
    payment,
    shipping::Shipment,
};
use crate::{
    domain::region,
    infra::db::Database,
    service::{pagination::PageRequest, policy::Actor},
};

/// An order as its card shows it.
#[derive(Clone, Debug)]
pub struct OrderCard {
    pub order: Order,
    /// The listing's title.
    pub title: String,
    /// The steps the reader may take on it now. A buyer's receiving finishes the order, so a
    /// shipped order offers them receiving only.
    pub steps: Vec<OrderAction>,
    /// Who sells it and how to reach them, for the buyer.
    pub seller_name: String,
    pub seller_phone: Option<String>,
    /// The destination's province and city, by name.
    pub province: String,
    pub city: String,
    /// While the order waits for payment: the seller's instructions for paying, if they wrote
    /// any.
    pub payment_instructions: Option<String>,
    /// Once shipped: the carrier and waybill number the seller entered.
    pub shipment: Option<Shipment>,
}

/// The actor's most recent `limit` orders on `side`, newest first.
pub async fn recent(
    db: &Database,
    actor: &Actor,
    side: OrderSide,
    limit: u64,
) -> Result<Vec<OrderCard>, MarketError> {
    let page = orders::list(db, actor, side, None, &PageRequest::new(None, Some(limit))).await?;
    cards(db, actor, page.items).await
}

/// The orders as `actor` reads them, in the same order.
pub async fn cards(
    db: &Database,
    actor: &Actor,
    orders: Vec<Order>,
) -> Result<Vec<OrderCard>, MarketError> {
    let ids: Vec<i64> = orders.iter().map(|o| o.listing_id).collect();
    let titles = listings::titles(db, &ids).await?;
    let seller_ids: Vec<i64> = orders.iter().map(|o| o.seller_user_id).collect();
    let sellers: HashMap<i64, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(seller_ids.iter().copied()))
        .all(db.conn())
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let waiting: Vec<i64> = orders
        .iter()
        .filter(|o| o.status == OrderStatus::Placed)
        .map(|o| o.seller_user_id)
        .collect();
    let instructions = if waiting.is_empty() {
        HashMap::new()
    } else {
        payment::of_sellers(db.conn(), waiting).await?
    };
    let region = |code: &str| region::name_of(code).unwrap_or_default().to_owned();
    Ok(orders
        .into_iter()
        .map(|order| {
            let seller = sellers.get(&order.seller_user_id);
            OrderCard {
                steps: orders::next_actions(actor, &order),
                title: titles.get(&order.listing_id).cloned().unwrap_or_default(),
                seller_name: seller.map(|u| u.display_name.clone()).unwrap_or_default(),
                seller_phone: seller.and_then(|u| u.phone.clone()),
                province: region(&order.province_code),
                city: region(&order.city_code),
                payment_instructions: (order.status == OrderStatus::Placed)
                    .then(|| instructions.get(&order.seller_user_id).cloned())
                    .flatten(),
                shipment: Shipment::of_order(&order),
                order,
            }
        })
        .collect())
}

/// One order as its card shows it, for whoever may read it; the steps are the reader's.
pub async fn one(db: &Database, actor: &Actor, id: i64) -> Result<OrderCard, MarketError> {
    let order = orders::get(db, actor, id).await?;
    cards(db, actor, vec![order])
        .await?
        .pop()
        .ok_or(MarketError::NotFound)
}
