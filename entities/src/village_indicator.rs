//! A village's exit indicators for a year.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "village_indicators")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub village_code: String,
    pub year: i32,
    /// 通硬化路
    pub hardened_road: bool,
    /// 安全饮水
    pub safe_water: bool,
    /// 通动力电
    pub power: bool,
    /// 通宽带
    pub broadband: bool,
    /// 有卫生室和合格村医
    pub clinic: bool,
    /// 有综合性文化服务中心
    pub cultural_room: bool,
    /// 村集体经济收入, fen per year.
    pub collective_income_fen: i64,
    pub recorded_by: i64,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
