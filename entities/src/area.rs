//! An administrative area: the county, a township or a village.

use sea_orm::entity::prelude::*;

use super::household::ExitSource;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "areas")]
pub struct Model {
    /// The 12-digit national administrative code.
    #[sea_orm(
        primary_key,
        auto_increment = false,
        column_type = "String(StringLen::N(12))"
    )]
    pub code: String,
    #[sea_orm(column_type = "String(StringLen::N(12))", nullable)]
    pub parent_code: Option<String>,
    pub level: AreaLevel,
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub name: String,
    /// Registered rural population; kept on villages, zero on the levels above.
    pub rural_population: i64,
    /// Whether a village is on the register of poor villages; false on the levels above.
    pub is_poor_village: bool,
    /// The year a poor village was de-listed (出列), if it has been.
    pub delisted_year: Option<i32>,
    /// How the de-listing is on record: through the procedure here, or imported.
    pub delist_source: Option<ExitSource>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// The three levels of the tree, stored as text so the database stays readable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum AreaLevel {
    #[sea_orm(string_value = "county")]
    County,
    #[sea_orm(string_value = "township")]
    Township,
    #[sea_orm(string_value = "village")]
    Village,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "Entity",
        from = "Column::ParentCode",
        to = "Column::Code"
    )]
    Parent,
}

impl ActiveModelBehavior for ActiveModel {}
