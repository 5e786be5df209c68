//! A trace code taken out of use (a lost label roll, a damaged print).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "revoked_codes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub batch_id: i64,
    /// 0 for the batch's own code.
    #[sea_orm(primary_key, auto_increment = false)]
    pub item: i64,
    pub reason: String,
    pub revoked_by: i64,
    pub revoked_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
