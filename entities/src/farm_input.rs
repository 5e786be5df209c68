//! A farm input (投入品) used on a plot or a flock: a pesticide sprayed, a veterinary drug
//! given, fertiliser spread, feed fed. Never changed: a correction is a new record.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "farm_inputs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub household_id: i64,
    /// The plot it was used on, for crops …
    pub plot_id: Option<i64>,
    /// … or the flock or herd, in the farmer's words, for eggs and livestock.
    pub flock: Option<String>,
    /// The plot's village, or the household's.
    pub village_code: String,
    pub kind: InputKind,
    pub product_name: String,
    /// 农药登记证号 (`PD20080001`) or 兽药批准文号 (`兽药字(2020)150012345`).
    pub registration_no: Option<String>,
    pub active_ingredient: Option<String>,
    /// How much, in the farmer's words (`30 毫升兑水 15 公斤`).
    pub dose: String,
    /// How it was used (`喷雾`, `拌料`, …).
    pub method: String,
    pub applied_on: Date,
    /// The pre-harvest interval (安全间隔期) or withdrawal period (休药期), in days; 0 for
    /// fertiliser and feed.
    pub interval_days: i32,
    pub recorded_by: i64,
    pub recorded_at: DateTimeUtc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum InputKind {
    /// 农药
    #[sea_orm(string_value = "pesticide")]
    Pesticide,
    /// 兽药
    #[sea_orm(string_value = "vet_drug")]
    VetDrug,
    /// 肥料
    #[sea_orm(string_value = "fertiliser")]
    Fertiliser,
    /// 饲料
    #[sea_orm(string_value = "feed")]
    Feed,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
