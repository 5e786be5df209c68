//! How a buyer pays a seller: until payments are verified by a payment provider, each seller
//! writes in their own words how they take money ("微信转账给 138 0000 0000，备注订单号"), and
//! the buyer reads it on every order of theirs that waits for payment. The seller then records
//! the payment they received.

use std::collections::HashMap;

use chrono::Utc;
use entities::{payment_instructions, user::Role};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::OnConflict,
};

use super::MarketError;
use crate::{
    infra::db::Database,
    service::{policy::Actor, reasons},
};

/// The most characters the instructions hold.
pub const MAX_CHARS: usize = 300;

/// The signed-in seller's instructions, if they wrote any.
pub async fn own(db: &Database, actor: &Actor) -> Result<Option<String>, MarketError> {
    Ok(of_sellers(db.conn(), [actor.user_id])
        .await?
        .remove(&actor.user_id))
}

/// Writes the seller's instructions; blank removes them. Only a farmer writes them: farmers
/// and co-operative managers are the ones who sell.
pub async fn set(
    db: &Database,
    actor: &Actor,
    instructions: &str,
) -> Result<Option<String>, MarketError> {
    if actor.role != Role::Farmer {
        return Err(MarketError::Invalid(reasons::payment_instructions_seller()));
    }
    let text = instructions.trim();
    if text.chars().count() > MAX_CHARS {
        return Err(MarketError::Invalid(reasons::payment_instructions_length(
            MAX_CHARS,
        )));
    }
    if text.is_empty() {
        payment_instructions::Entity::delete_by_id(actor.user_id)
            .exec(db.conn())
            .await?;
        return Ok(None);
    }
    payment_instructions::Entity::insert(payment_instructions::ActiveModel {
        seller_user_id: Set(actor.user_id),
        instructions: Set(text.to_owned()),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(payment_instructions::Column::SellerUserId)
            .update_columns([
                payment_instructions::Column::Instructions,
                payment_instructions::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db.conn())
    .await?;
    Ok(Some(text.to_owned()))
}

/// The instructions of these sellers, by seller; a seller who wrote none is absent.
pub async fn of_sellers(
    conn: &impl ConnectionTrait,
    sellers: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, String>, MarketError> {
    Ok(payment_instructions::Entity::find()
        .filter(payment_instructions::Column::SellerUserId.is_in(sellers))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.seller_user_id, p.instructions))
        .collect())
}
