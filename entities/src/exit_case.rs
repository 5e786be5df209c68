//! An exit case: a household or a village on its way through the de-listing procedure.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "exit_cases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub subject: ExitSubject,
    /// Household cases only.
    pub household_id: Option<i64>,
    /// The village of the household, or the village itself.
    pub village_code: String,
    /// The assessment year the case is judged on.
    pub year: i32,
    pub state: ExitState,
    /// Until announced or rejected.
    pub open: bool,
    /// When the public notice ends (set when it starts).
    pub notice_ends_at: Option<DateTimeUtc>,
    pub proposed_by: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ExitSubject {
    #[sea_orm(string_value = "household")]
    Household,
    #[sea_orm(string_value = "village")]
    Village,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ExitState {
    #[sea_orm(string_value = "proposed")]
    Proposed,
    /// 民主评议
    #[sea_orm(string_value = "appraised")]
    Appraised,
    /// 村两委和驻村工作队核实
    #[sea_orm(string_value = "verified")]
    Verified,
    /// 公示
    #[sea_orm(string_value = "public_notice")]
    PublicNotice,
    /// 乡镇审核
    #[sea_orm(string_value = "reviewed")]
    Reviewed,
    /// 县审定
    #[sea_orm(string_value = "approved")]
    Approved,
    /// 公告退出
    #[sea_orm(string_value = "announced")]
    Announced,
    #[sea_orm(string_value = "rejected")]
    Rejected,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::exit_case_step::Entity")]
    Steps,
}

impl Related<super::exit_case_step::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Steps.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
