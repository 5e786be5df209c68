//! A product a plot grows: a batch from the plot is one of its crops.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plot_crops")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub plot_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub category_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
