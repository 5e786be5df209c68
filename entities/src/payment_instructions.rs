//! A seller's own instructions to buyers for paying, shown with each of their orders until
//! payments are verified by a payment provider.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_instructions")]
pub struct Model {
    /// The seller: the farmer (or co-operative manager) whose listings they are.
    #[sea_orm(primary_key, auto_increment = false)]
    pub seller_user_id: i64,
    /// In the seller's words, e.g. "微信转账给 138 0000 0000，备注订单号".
    pub instructions: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
