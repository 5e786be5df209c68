//! A registered household (建档立卡户).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "households")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The registry's household number, unique in the county.
    #[sea_orm(unique)]
    pub household_number: String,
    pub village_code: String,
    pub phone: Option<String>,
    pub poverty_cause: PovertyCause,
    pub responsible_cadre_id: Option<i64>,
    pub registered_year: i32,
    pub status: HouseholdStatus,
    /// The year it exited: its announced case's assessment year, or as a sheet brought it.
    pub exit_year: Option<i32>,
    /// How it came to have exited; `None` for a household that never did.
    pub exit_source: Option<ExitSource>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// The official categories of why a household is poor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum PovertyCause {
    /// 因病
    #[sea_orm(string_value = "illness")]
    Illness,
    /// 因残
    #[sea_orm(string_value = "disability")]
    Disability,
    /// 因学
    #[sea_orm(string_value = "education")]
    Education,
    /// 缺劳力
    #[sea_orm(string_value = "labour")]
    Labour,
    /// 缺土地
    #[sea_orm(string_value = "land")]
    Land,
    /// 缺水
    #[sea_orm(string_value = "water")]
    Water,
    /// 缺资金
    #[sea_orm(string_value = "capital")]
    Capital,
    /// 缺技术
    #[sea_orm(string_value = "skills")]
    Skills,
    /// 交通条件落后
    #[sea_orm(string_value = "transport")]
    Transport,
    /// 因灾
    #[sea_orm(string_value = "disaster")]
    Disaster,
    /// 自身发展动力不足
    #[sea_orm(string_value = "insufficient_drive")]
    InsufficientDrive,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum HouseholdStatus {
    #[sea_orm(string_value = "poor")]
    Poor,
    #[sea_orm(string_value = "exit_pending")]
    ExitPending,
    #[sea_orm(string_value = "exited")]
    Exited,
    /// 返贫: exited, then poor again.
    #[sea_orm(string_value = "returned")]
    Returned,
}

/// Where a household's exit is on record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ExitSource {
    /// Through the exit procedure here, step by step.
    #[sea_orm(string_value = "procedure")]
    Procedure,
    /// Brought by an imported registry sheet as already exited: the procedure ran elsewhere.
    #[sea_orm(string_value = "imported")]
    Imported,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::household_member::Entity")]
    Members,
}

impl Related<super::household_member::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Members.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
