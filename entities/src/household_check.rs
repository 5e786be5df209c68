//! One check of a household's assessment for a year (两不愁三保障 and safe water): whether it
//! passed, who checked it, when, and the evidence.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "household_checks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub household_id: i64,
    pub year: i32,
    pub check: CheckKind,
    pub passed: bool,
    pub note: Option<String>,
    /// A photo or document that shows it.
    pub evidence_url: Option<String>,
    pub checked_by: i64,
    pub checked_at: DateTimeUtc,
}

/// 两不愁三保障, and safe drinking water.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum CheckKind {
    /// 不愁吃
    #[sea_orm(string_value = "food")]
    Food,
    /// 不愁穿
    #[sea_orm(string_value = "clothing")]
    Clothing,
    /// 义务教育有保障
    #[sea_orm(string_value = "education")]
    Education,
    /// 基本医疗有保障
    #[sea_orm(string_value = "medical")]
    Medical,
    /// 住房安全有保障
    #[sea_orm(string_value = "housing")]
    Housing,
    /// 饮水安全有保障
    #[sea_orm(string_value = "water")]
    Water,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
