//! A production batch (批次): a quantity of one product from one plot, or from a household for
//! processed goods, harvested or made on a date.

use sea_orm::entity::prelude::*;

use crate::listing::Unit;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "batches")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub household_id: i64,
    pub plot_id: Option<i64>,
    /// Where it was produced: the plot's village, or the household's.
    pub village_code: String,
    pub category_id: i64,
    pub quantity: i64,
    pub unit: Unit,
    /// Harvested or made on.
    pub produced_on: Date,
    pub note: String,
    /// Set when the whole batch is recalled; every code of it warns from then on.
    pub recalled_at: Option<DateTimeUtc>,
    pub recall_reason: Option<String>,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    /// Moves with every change to what a scan of the batch's codes tells (codes issued or
    /// revoked, a recall, a new event), so cached answers know they are stale.
    pub records_version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
