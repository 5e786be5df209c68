//! One thing that happened to a batch. Never changed: a correction is a new event.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "trace_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub batch_id: i64,
    pub kind: EventKind,
    pub occurred_at: DateTimeUtc,
    /// Where, as an area code …
    pub place_area_code: Option<String>,
    /// … or in words.
    pub place_text: Option<String>,
    /// For inspections: `pass` or `fail`.
    pub result: Option<InspectionResult>,
    /// JSON array of the batches a processing step consumed.
    #[sea_orm(column_type = "Text")]
    pub input_batch_ids: String,
    /// JSON object of small structured details.
    #[sea_orm(column_type = "Text")]
    pub details: String,
    pub recorded_by: i64,
    pub recorded_at: DateTimeUtc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum EventKind {
    #[sea_orm(string_value = "harvested")]
    Harvested,
    #[sea_orm(string_value = "processed")]
    Processed,
    #[sea_orm(string_value = "packed")]
    Packed,
    #[sea_orm(string_value = "inspected")]
    Inspected,
    #[sea_orm(string_value = "stored")]
    Stored,
    #[sea_orm(string_value = "shipped")]
    Shipped,
    #[sea_orm(string_value = "received")]
    Received,
    #[sea_orm(string_value = "sold")]
    Sold,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
pub enum InspectionResult {
    #[sea_orm(string_value = "pass")]
    Pass,
    #[sea_orm(string_value = "fail")]
    Fail,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
