//! A compliance certificate (承诺达标合格证) issued for one batch. Never changed and never
//! deleted while it must be kept; it can be withdrawn with a reason.

use sea_orm::entity::prelude::*;

use crate::listing::Unit;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "certificates")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub batch_id: i64,
    pub household_id: i64,
    pub village_code: String,
    pub product_name: String,
    pub quantity: i64,
    pub unit: Unit,
    /// The place of production, township and village.
    pub origin: String,
    pub issued_on: Date,
    /// The promising party: the household head, or the co-operative.
    pub issuer_name: String,
    pub issuer_phone: String,
    pub promise: String,
    pub basis: Basis,
    /// The attached test report, in the blob store.
    pub report_key: Option<String>,
    pub report_type: Option<String>,
    /// JSON array of the certificates of the batches a mixed batch was made from.
    #[sea_orm(column_type = "Text")]
    pub input_certificate_ids: String,
    pub issued_by: i64,
    pub issued_at: DateTimeUtc,
    /// Kept at least until this day.
    pub keep_until: Date,
    pub withdrawn_at: Option<DateTimeUtc>,
    pub withdrawn_by: Option<i64>,
    pub withdraw_reason: Option<String>,
}

/// What the promise rests on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum Basis {
    /// 委托检测合格
    #[sea_orm(string_value = "commissioned_test")]
    CommissionedTest,
    /// 自行检测合格
    #[sea_orm(string_value = "own_test")]
    OwnTest,
    /// 质量安全控制符合要求
    #[sea_orm(string_value = "quality_control")]
    QualityControl,
    /// 自我承诺
    #[sea_orm(string_value = "own_promise")]
    OwnPromise,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
