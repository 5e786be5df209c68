//! A person another sector reported (部门筛查预警), as an official imported the sector's list:
//! matched to the registered household of the member with the same ID number, when there is
//! one. The ID number is kept sealed, masked and hashed, as a member's is.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sector_records")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub sector: Sector,
    pub name: String,
    pub id_key_id: String,
    #[sea_orm(column_type = "Text")]
    pub id_ciphertext: String,
    pub id_masked: String,
    /// Keyed hash of the ID number, the same as a registered member's.
    pub id_hash: String,
    /// What happened, in the sector's words (大额医疗支出, 房屋受灾).
    pub what: String,
    pub amount_fen: Option<i64>,
    pub happened_on: Date,
    /// The household of the registered member with the same ID number, if any.
    pub household_id: Option<i64>,
    pub village_code: Option<String>,
    pub imported_by: Option<i64>,
    pub imported_at: DateTimeUtc,
}

/// The sector that reported the person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum Sector {
    /// 医保: large medical expenses.
    #[sea_orm(string_value = "health_insurance")]
    HealthInsurance,
    /// 民政: social assistance.
    #[sea_orm(string_value = "civil_affairs")]
    CivilAffairs,
    /// 应急管理: disaster victims.
    #[sea_orm(string_value = "emergency")]
    Emergency,
    /// 教育: schooling.
    #[sea_orm(string_value = "education")]
    Education,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
