//! Progress of an area as it stood on one day.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "progress_snapshots")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub day: Date,
    pub area_code: String,
    pub villages_delisted: i32,
    pub villages_in_progress: i32,
    pub people_lifted_out: i64,
    pub people_still_poor: i64,
    pub households_exited: i64,
    /// When the day's numbers were last taken.
    pub taken_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
