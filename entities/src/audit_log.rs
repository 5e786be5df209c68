//! One entry of the append-only audit log. Each entry's hash covers its content and the hash of
//! the entry before, so editing or deleting any row breaks the chain.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    pub actor_user_id: Option<i64>,
    pub actor_ip: Option<String>,
    /// What was done, e.g. `user.role_changed`.
    pub action: String,
    /// Kind of record, e.g. `user`.
    pub entity: String,
    pub entity_id: String,
    /// The area the record belongs to, so officials can read their area's log.
    pub area_code: Option<String>,
    /// JSON of the record before and after, where there is one.
    #[sea_orm(column_type = "Text", nullable)]
    pub before: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub after: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
