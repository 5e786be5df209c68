//! How often one trace code has been scanned, and when first and last.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "code_scans")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub batch_id: i64,
    /// 0 for the batch's own code.
    #[sea_orm(primary_key, auto_increment = false)]
    pub item: i64,
    pub scans: i64,
    pub first_scan_at: DateTimeUtc,
    pub last_scan_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
