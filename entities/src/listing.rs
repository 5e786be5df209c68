//! A farmer household's goods for sale.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "listings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The farmer who listed it.
    pub seller_user_id: i64,
    /// The producing household, whose income its sales become.
    pub household_id: i64,
    /// The co-operative that sells it for the household; its manager is the seller.
    pub cooperative_id: Option<i64>,
    /// The village of origin, from the household.
    pub village_code: String,
    pub category_id: i64,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    /// Per unit, in fen.
    pub price_fen: i64,
    pub unit: Unit,
    /// Units available.
    pub stock: i64,
    /// The fewest units one order may take.
    pub min_order: i64,
    pub status: ListingStatus,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// What quantities are counted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
pub enum Unit {
    /// 斤, half a kilogram.
    #[sea_orm(string_value = "jin")]
    Jin,
    #[sea_orm(string_value = "kg")]
    Kg,
    /// 个/件
    #[sea_orm(string_value = "piece")]
    Piece,
    /// 盒/箱
    #[sea_orm(string_value = "box")]
    Box,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ListingStatus {
    #[sea_orm(string_value = "draft")]
    Draft,
    #[sea_orm(string_value = "on_sale")]
    OnSale,
    #[sea_orm(string_value = "sold_out")]
    SoldOut,
    #[sea_orm(string_value = "off_shelf")]
    OffShelf,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::product_category::Entity",
        from = "Column::CategoryId",
        to = "super::product_category::Column::Id"
    )]
    Category,
}

impl Related<super::product_category::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Category.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
