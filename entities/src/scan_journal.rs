//! How far one server's scan journal is written into `code_scans`: its segments up to
//! `flushed_through` are in the database, later ones are replayed at start.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "scan_journals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub journal_id: String,
    pub flushed_through: i64,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
