//! A problem a buyer reported from a scan page, for the officials of the goods' village.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "trace_reports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub batch_id: i64,
    /// 0 for the batch's own code.
    pub item: i64,
    /// The batch's village, whose officials read the report.
    pub village_code: String,
    /// What is wrong, in the buyer's words.
    pub what: String,
    /// The buyer's phone, if they left one to be called back.
    pub phone: Option<String>,
    pub status: ReportStatus,
    pub created_at: DateTimeUtc,
    /// What the official found and did.
    pub answer: Option<String>,
    pub closed_by: Option<i64>,
    pub closed_at: Option<DateTimeUtc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ReportStatus {
    #[sea_orm(string_value = "open")]
    Open,
    #[sea_orm(string_value = "closed")]
    Closed,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
