//! A visit to a household (走访): the day, what the cadre found, and a photo if one was taken.
//! Append-only.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "household_visits")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub household_id: i64,
    /// The household's village when the visit was recorded, for reading by area.
    pub village_code: String,
    pub visited_on: Date,
    pub findings: String,
    /// A stored photo (the SHA-256 of its bytes), as listings keep theirs.
    pub photo_id: Option<String>,
    pub visited_by: i64,
    pub created_at: DateTimeUtc,
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
