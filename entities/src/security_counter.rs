//! A sign-in limit's count for one subject in one window (a phone's logins this quarter hour, an
//! address's texted codes today). Kept here, not in the cache, so no flood or restart resets it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "security_counters")]
pub struct Model {
    /// The rule, the subject and the window, e.g. `login-phone:13800000000:1964321`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub count: i64,
    /// When the window ends; an expired row counts for nothing and is purged.
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
