//! A creation a client asked for with a key of its own, and what it made: a request sent again
//! with the same key answers the same thing.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    /// 1 to 64 letters, digits, `-` or `_`, chosen by the client.
    #[sea_orm(
        primary_key,
        auto_increment = false,
        column_type = "String(StringLen::N(64))"
    )]
    pub key: String,
    /// What was created (`batch`, `listing`, …).
    pub operation: String,
    /// SHA-256 of everything the request asked, so a key sent with another request is told apart.
    pub request_digest: String,
    /// What the creation made: its id, or the ids that name it.
    pub resource: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
