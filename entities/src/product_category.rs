//! A kind of goods the county sells (红苕粉, 土鸡蛋, …).

use sea_orm::entity::prelude::*;

use super::listing::Unit;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "product_categories")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Stable code, e.g. `sweet_potato_vermicelli`.
    #[sea_orm(unique)]
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub default_unit: Unit,
    /// A guide price per default unit, in fen.
    pub reference_price_fen: Option<i64>,
    /// Inactive categories take no new listings.
    pub active: bool,
    /// Which class of the certificate rules (承诺达标合格证) covers it (`vegetables`, `fruit`,
    /// `eggs`, …), set from the settings at start; none: not in scope.
    pub certificate_class: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
