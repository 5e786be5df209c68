//! A person who signs in: farmer, buyer or official.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Mainland mobile number, 11 digits; absent for a WeChat-only buyer.
    #[sea_orm(unique)]
    pub phone: Option<String>,
    pub display_name: String,
    pub role: Role,
    /// The area an official works in; none for farmers, buyers and admins.
    pub area_code: Option<String>,
    /// The household a farmer is bound to once verified.
    pub household_id: Option<i64>,
    #[sea_orm(unique)]
    pub wechat_openid: Option<String>,
    pub wechat_unionid: Option<String>,
    /// The openid in the county's Official Account (sign-in by web authorisation inside
    /// WeChat); the mini program's is `wechat_openid`.
    #[sea_orm(unique)]
    pub wechat_web_openid: Option<String>,
    /// Argon2id PHC string; none for accounts that only sign in by SMS or WeChat.
    pub password_hash: Option<String>,
    /// Raised to revoke every token issued before.
    pub token_version: i32,
    pub disabled: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum Role {
    #[sea_orm(string_value = "farmer")]
    Farmer,
    #[sea_orm(string_value = "buyer")]
    Buyer,
    #[sea_orm(string_value = "village_cadre")]
    VillageCadre,
    #[sea_orm(string_value = "township_official")]
    TownshipOfficial,
    #[sea_orm(string_value = "county_official")]
    CountyOfficial,
    #[sea_orm(string_value = "admin")]
    Admin,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
