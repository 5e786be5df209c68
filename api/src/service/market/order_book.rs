//! The orders a page lists, for their buyer or for the household that sells: each with its
//! listing's title and the steps the reader may take on it now, gathered in one call.

use std::collections::HashMap;

use entities::{order::Model as Order, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{
    MarketError, listings,
    orders::{self, OrderAction, OrderSide},
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
}

/// The actor's most recent `limit` orders on `side`, newest first.
pub async fn recent(
    db: &Database,
    actor: &Actor,
    side: OrderSide,
    limit: u64,
) -> Result<Vec<OrderCard>, MarketError> {
    let page = orders::list(db, actor, side, None, &PageRequest::new(None, Some(limit))).await?;
    let ids: Vec<i64> = page.items.iter().map(|o| o.listing_id).collect();
    let titles = listings::titles(db, &ids).await?;
    let sellers: HashMap<i64, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(page.items.iter().map(|o| o.seller_user_id)))
        .all(db.conn())
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let region = |code: &str| region::name_of(code).unwrap_or_default().to_owned();
    Ok(page
        .items
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
                order,
            }
        })
        .collect())
}

/// One order as its card shows it, for whoever may read it; the steps are the reader's.
pub async fn one(db: &Database, actor: &Actor, id: i64) -> Result<OrderCard, MarketError> {
    let order = orders::get(db, actor, id).await?;
    let titles = listings::titles(db, &[order.listing_id]).await?;
    let seller = user::Entity::find_by_id(order.seller_user_id)
        .one(db.conn())
        .await?;
    let region = |code: &str| region::name_of(code).unwrap_or_default().to_owned();
    Ok(OrderCard {
        steps: orders::next_actions(actor, &order),
        title: titles.get(&order.listing_id).cloned().unwrap_or_default(),
        seller_name: seller
            .as_ref()
            .map(|u| u.display_name.clone())
            .unwrap_or_default(),
        seller_phone: seller.and_then(|u| u.phone),
        province: region(&order.province_code),
        city: region(&order.city_code),
        order,
    })
}
