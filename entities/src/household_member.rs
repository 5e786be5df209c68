//! A member of a registered household. The ID number is kept sealed, masked and hashed, never
//! in plain text.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "household_members")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub household_id: i64,
    pub name: String,
    /// Id of the key that sealed the ID number.
    pub id_key_id: String,
    /// The sealed ID number (nonce and AES-256-GCM ciphertext).
    #[sea_orm(column_type = "Text")]
    pub id_ciphertext: String,
    /// `500235********123X`, for lists.
    pub id_masked: String,
    /// Keyed hash of the ID number, unique: one person, one household.
    #[sea_orm(unique)]
    pub id_hash: String,
    pub relation: MemberRelation,
    pub sex: Sex,
    pub birth_date: Date,
    pub labour_capacity: LabourCapacity,
    pub health: Health,
    pub schooling: Schooling,
    pub medical_insurance: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relation to the head of the household.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum MemberRelation {
    #[sea_orm(string_value = "head")]
    Head,
    #[sea_orm(string_value = "spouse")]
    Spouse,
    #[sea_orm(string_value = "child")]
    Child,
    #[sea_orm(string_value = "parent")]
    Parent,
    #[sea_orm(string_value = "grandchild")]
    Grandchild,
    #[sea_orm(string_value = "sibling")]
    Sibling,
    #[sea_orm(string_value = "other")]
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
pub enum Sex {
    #[sea_orm(string_value = "male")]
    Male,
    #[sea_orm(string_value = "female")]
    Female,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum LabourCapacity {
    /// 普通或技能劳动力
    #[sea_orm(string_value = "full")]
    Full,
    /// 弱劳动力或半劳动力
    #[sea_orm(string_value = "partial")]
    Partial,
    /// 丧失劳动力或无劳动力
    #[sea_orm(string_value = "none")]
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Health {
    #[sea_orm(string_value = "healthy")]
    Healthy,
    /// 长期慢性病
    #[sea_orm(string_value = "chronic")]
    Chronic,
    /// 患有大病
    #[sea_orm(string_value = "serious")]
    Serious,
    /// 残疾
    #[sea_orm(string_value = "disabled")]
    Disabled,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Schooling {
    #[sea_orm(string_value = "none")]
    None,
    #[sea_orm(string_value = "preschool")]
    Preschool,
    #[sea_orm(string_value = "primary")]
    Primary,
    #[sea_orm(string_value = "junior_secondary")]
    JuniorSecondary,
    #[sea_orm(string_value = "senior_secondary")]
    SeniorSecondary,
    #[sea_orm(string_value = "vocational")]
    Vocational,
    #[sea_orm(string_value = "college")]
    College,
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
