//! A signed statement of the audit chain's head at one moment: published, so copies kept
//! outside the database prove what the chain held.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_checkpoints")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The chain sequence number of the last entry (0 before the first numbered one).
    pub seq: i64,
    /// The last entry's id (0 for an empty log).
    pub entry_id: i64,
    /// The last entry's link.
    pub link: String,
    pub at: DateTimeUtc,
    /// Which signing key signed: the first hex digits of the SHA-256 of its public key.
    pub public_key_id: String,
    /// Ed25519 signature, hex.
    pub signature: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
