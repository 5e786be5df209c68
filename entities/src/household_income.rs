//! A household's income from one source in one year, in fen.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "household_incomes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub household_id: i64,
    pub year: i32,
    pub source: IncomeSource,
    /// Yuan × 100.
    pub amount_fen: i64,
    /// Who set it last (`None` when completed orders wrote it).
    pub updated_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum IncomeSource {
    /// 工资性收入
    #[sea_orm(string_value = "wages")]
    Wages,
    /// 生产经营性收入（种养殖）
    #[sea_orm(string_value = "farming")]
    Farming,
    /// 电商销售收入, written by completed orders.
    #[sea_orm(string_value = "ecommerce")]
    Ecommerce,
    /// 转移性收入（补贴、养老金等）
    #[sea_orm(string_value = "transfers")]
    Transfers,
    /// 财产性及其他收入
    #[sea_orm(string_value = "other")]
    Other,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::household::Entity",
        from = "Column::HouseholdId",
        to = "super::household::Column::Id"
    )]
    Household,
}

impl Related<super::household::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Household.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
