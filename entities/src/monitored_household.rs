//! A household under return-to-poverty monitoring (防返贫监测对象): one record per time it is
//! monitored, from the first warning until its risk is eliminated or it is not identified.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "monitored_households")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub household_id: i64,
    pub village_code: String,
    pub category: MonitoringCategory,
    /// Risk type names, comma-separated, as `RiskType` in the service spells them.
    pub risk_types: String,
    pub channel: DiscoveryChannel,
    /// The year the risk was found.
    pub year: i32,
    pub status: MonitoringStatus,
    /// Until the risk is eliminated or the household is not identified.
    pub open: bool,
    /// What happened, in the words of whoever raised it.
    pub note: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// The three kinds of monitored households.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum MonitoringCategory {
    /// 脱贫不稳定户
    #[sea_orm(string_value = "unstable_exited")]
    UnstableExited,
    /// 边缘易致贫户
    #[sea_orm(string_value = "edge")]
    Edge,
    /// 突发严重困难户
    #[sea_orm(string_value = "sudden_hardship")]
    SuddenHardship,
}

/// How the risk came to light.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum DiscoveryChannel {
    /// 农户自主申报
    #[sea_orm(string_value = "application")]
    Application,
    /// 干部走访排查
    #[sea_orm(string_value = "cadre_visit")]
    CadreVisit,
    /// 部门筛查预警
    #[sea_orm(string_value = "sector_data")]
    SectorData,
    /// The platform's own warnings from its records.
    #[sea_orm(string_value = "warning")]
    Warning,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum MonitoringStatus {
    /// The identification procedure runs.
    #[sea_orm(string_value = "identifying")]
    Identifying,
    /// Identified by the county: monitored and helped.
    #[sea_orm(string_value = "monitored")]
    Monitored,
    /// 风险消除
    #[sea_orm(string_value = "eliminated")]
    Eliminated,
    /// The identification ended without the household being taken in.
    #[sea_orm(string_value = "not_identified")]
    NotIdentified,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::monitoring_case::Entity")]
    Cases,
}

impl Related<super::monitoring_case::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Cases.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
