//! A case of one of the two monitoring procedures: identification (识别) or risk elimination
//! (风险消除).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "monitoring_cases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub monitored_id: i64,
    pub household_id: i64,
    pub village_code: String,
    pub procedure: MonitoringProcedure,
    /// The year whose records the case is judged on.
    pub year: i32,
    pub state: MonitoringState,
    /// Until decided or rejected.
    pub open: bool,
    /// When the village notice ends (set when it starts).
    pub notice_ends_at: Option<DateTimeUtc>,
    pub started_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum MonitoringProcedure {
    /// 监测对象识别
    #[sea_orm(string_value = "identification")]
    Identification,
    /// 风险消除
    #[sea_orm(string_value = "elimination")]
    Elimination,
}

/// The states of both procedures; each procedure's transition table uses its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum MonitoringState {
    /// Identification: a risk has been raised (预警 or the household's application).
    #[sea_orm(string_value = "warning")]
    Warning,
    /// Elimination: the village proposes to mark the risk eliminated.
    #[sea_orm(string_value = "proposed")]
    Proposed,
    /// 入户核实
    #[sea_orm(string_value = "checked")]
    Checked,
    /// 农户授权承诺 (identification only)
    #[sea_orm(string_value = "authorized")]
    Authorized,
    /// 民主评议
    #[sea_orm(string_value = "appraised")]
    Appraised,
    /// 村内公示
    #[sea_orm(string_value = "public_notice")]
    PublicNotice,
    /// 乡镇审核
    #[sea_orm(string_value = "reviewed")]
    Reviewed,
    /// 县级确定: identified as a monitored household.
    #[sea_orm(string_value = "confirmed")]
    Confirmed,
    /// 风险消除: the county marked the risk eliminated.
    #[sea_orm(string_value = "eliminated")]
    Eliminated,
    #[sea_orm(string_value = "rejected")]
    Rejected,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::monitored_household::Entity",
        from = "Column::MonitoredId",
        to = "super::monitored_household::Column::Id"
    )]
    Monitored,
    #[sea_orm(has_many = "super::monitoring_case_step::Entity")]
    Steps,
}

impl Related<super::monitored_household::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Monitored.def()
    }
}

impl Related<super::monitoring_case_step::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Steps.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
