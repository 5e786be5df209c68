//! A buyer's order of one listing, delivered to a region of the country.

use sea_orm::entity::prelude::*;

use crate::listing::Unit;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub listing_id: i64,
    /// The producing household, whose e-commerce income a completed order becomes.
    pub household_id: i64,
    /// The village of origin, as the listing had it.
    pub village_code: String,
    pub category_id: i64,
    pub seller_user_id: i64,
    /// The co-operative that sold it, if one did.
    pub cooperative_id: Option<i64>,
    pub buyer_user_id: i64,
    pub quantity: i64,
    pub unit: Unit,
    /// The listing's price when ordered.
    pub unit_price_fen: i64,
    pub amount_fen: i64,
    /// National (GB/T 2260) codes of the destination province and prefecture-level city.
    pub province_code: String,
    pub city_code: String,
    pub address: String,
    pub recipient_name: String,
    pub recipient_phone: String,
    pub status: OrderStatus,
    pub placed_at: DateTimeUtc,
    pub paid_at: Option<DateTimeUtc>,
    pub shipped_at: Option<DateTimeUtc>,
    pub delivered_at: Option<DateTimeUtc>,
    pub completed_at: Option<DateTimeUtc>,
    pub cancelled_at: Option<DateTimeUtc>,
    pub cancel_reason: Option<String>,
    /// The year whose e-commerce income the amount was added to, once completed.
    pub income_year: Option<i32>,
    pub updated_at: DateTimeUtc,
    /// Who recorded the payment and the shipping: the seller's side of the order.
    pub paid_by_user_id: Option<i64>,
    pub shipped_by_user_id: Option<i64>,
    /// Who completed it: the buyer, or an official for the buyer.
    pub completed_by_user_id: Option<i64>,
    /// How a completed order's income was confirmed; `pending` counts as income only once a
    /// second official confirms it.
    pub income_confirmation: Option<IncomeConfirmation>,
    pub confirmed_by_user_id: Option<i64>,
    pub confirmed_at: Option<DateTimeUtc>,
    /// Once shipped: the carrier's code in the catalogue (`sf`, `zto`, ...) and its waybill
    /// number, as the seller entered them.
    pub carrier: Option<String>,
    pub waybill_number: Option<String>,
}

/// How a completed order came to count as the producing household's income.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum IncomeConfirmation {
    /// The buyer, a stranger to the household, completed it.
    #[sea_orm(string_value = "buyer")]
    Buyer,
    /// An official completed it on the buyer's behalf.
    #[sea_orm(string_value = "official")]
    Official,
    /// The buyer is close to the household (bound to it, its phone, or an official over its
    /// village): not income until a second official of the township confirms it.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// Such an order, confirmed by a second official.
    #[sea_orm(string_value = "second_official")]
    SecondOfficial,
    /// Completed before how orders were confirmed was recorded.
    #[sea_orm(string_value = "unrecorded")]
    Unrecorded,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum OrderStatus {
    #[sea_orm(string_value = "placed")]
    Placed,
    #[sea_orm(string_value = "paid")]
    Paid,
    #[sea_orm(string_value = "shipped")]
    Shipped,
    #[sea_orm(string_value = "delivered")]
    Delivered,
    #[sea_orm(string_value = "completed")]
    Completed,
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
