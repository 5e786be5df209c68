//! The orders a page lists, for their buyer or for the household that sells: each with its
//! listing's title and the steps the reader may take on it now, gathered in one call.

use entities::order::Model as Order;

use super::{
    MarketError, listings,
    orders::{self, OrderAction, OrderSide},
};
use crate::{
    infra::db::Database,
    service::{pagination::PageRequest, policy::Actor},
};

/// An order as its card shows it.
#[derive(Clone, Debug)]
pub struct OrderCard {
    pub order: Order,
    /// The listing's title.
    pub title: String,
    /// The steps the reader may take on it now.
    pub steps: Vec<OrderAction>,
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
    Ok(page
        .items
        .into_iter()
        .map(|order| OrderCard {
            steps: orders::next_actions(actor, &order),
            title: titles.get(&order.listing_id).cloned().unwrap_or_default(),
            order,
        })
        .collect())
}
