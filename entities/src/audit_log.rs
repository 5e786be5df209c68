//! One entry of the append-only audit log. Each entry's link is an HMAC, under a key kept outside
//! the database, of its content, its place in the chain and the link before, so editing,
//! inserting or deleting any row breaks the chain.

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
    /// The link of the entry before.
    pub prev_hash: String,
    /// This entry's link: HMAC-SHA256 under the key `key_id` names (plain SHA-256 for entries
    /// written before keyed links, which have no `key_id`).
    pub hash: String,
    /// Place in the chain, 1, 2, 3, … without gaps; none for entries before numbering.
    pub seq: Option<i64>,
    /// Which audit key linked the entry: the first hex digits of its SHA-256.
    pub key_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
