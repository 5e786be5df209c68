//! The audit log: every change to registry, assessment, exit, trace and account data leaves an
//! entry, written in the same transaction as the change.
//!
//! Entries form a chain of HMAC-SHA256 links under a key kept outside the database: each link
//! covers the entry's content, its sequence number and the link before, so an entry edited,
//! added or removed by hand — even by someone who can write SQL — breaks the chain, and
//! `verify` names the first break. Signed checkpoints of the head (`checkpoints`) are
//! published, so a rewrite of the whole chain under a stolen key shows against saved copies.

pub mod checkpoints;
pub mod keys;
mod verify;

pub use verify::{ChainCheck, verify, verify_with};

use chrono::{DateTime, SubsecRound, Utc};
use entities::{audit_head, audit_log};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, sea_query::Expr,
};
use serde_json::Value;

use super::{
    pagination::{Page, PageRequest},
    policy::{self, Action, Actor, Resource},
};
use crate::{
    domain::AreaCode,
    infra::{db::Database, tokens::sha256_hex},
};
use entities::user::Role;
use keys::LinkKey;

/// The link before the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened, by whom, to which record.
#[derive(Clone, Debug, Default)]
pub struct NewAuditEntry {
    pub actor_user_id: Option<i64>,
    pub actor_ip: Option<String>,
    /// e.g. `user.invited`, `user.role_changed`.
    pub action: &'static str,
    /// e.g. `user`.
    pub entity: &'static str,
    pub entity_id: String,
    /// The area the record belongs to.
    pub area_code: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Appends an entry inside the caller's write transaction (from `Database::begin_write`) and
/// returns its id.
pub async fn append(conn: &DatabaseTransaction, entry: NewAuditEntry) -> Result<i64, DbErr> {
    append_many(conn, std::iter::once(entry))
        .await?
        .ok_or_else(|| DbErr::RecordNotInserted)
}

/// Appends entries in order inside the caller's write transaction, in as few statements as
/// the database allows; returns the last entry's id (`None` when there were none).
pub async fn append_many(
    conn: &DatabaseTransaction,
    entries: impl IntoIterator<Item = NewAuditEntry>,
) -> Result<Option<i64>, DbErr> {
    append_many_with(conn, keys::installed().link_key(), entries).await
}

/// `append_many` linking with the given key rather than the installed one.
pub async fn append_many_with(
    conn: &DatabaseTransaction,
    key: &LinkKey,
    entries: impl IntoIterator<Item = NewAuditEntry>,
) -> Result<Option<i64>, DbErr> {
    // Reading the head FOR UPDATE locks it and sees the latest committed link (a plain read
    // could see an older snapshot on MySQL), so concurrent appends queue here instead of both
    // chaining onto the same last hash. SQLite has no row locks; its write transaction already
    // holds the database's single write lock.
    let head = audit_head::Entity::find_by_id(1)
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("audit_head".into()))?;

    // Whole seconds: MySQL's TIMESTAMP keeps no fraction, and the hash must survive the trip.
    let at = Utc::now().trunc_subsecs(0);
    let mut last_hash = head.last_hash;
    let mut last_seq = head.last_seq;
    let mut rows = Vec::new();
    for entry in entries {
        last_seq += 1;
        let mut row = audit_log::Model {
            id: 0,
            at,
            actor_user_id: entry.actor_user_id,
            actor_ip: entry.actor_ip,
            action: entry.action.to_owned(),
            entity: entry.entity.to_owned(),
            entity_id: entry.entity_id,
            area_code: entry.area_code,
            before: entry.before.map(|v| v.to_string()),
            after: entry.after.map(|v| v.to_string()),
            prev_hash: last_hash,
            hash: String::new(),
            seq: Some(last_seq),
            key_id: Some(key.id().to_owned()),
        };
        row.hash = key.link(&link_message(&row));
        last_hash = row.hash.clone();
        rows.push(row);
    }
    if rows.is_empty() {
        return Ok(None);
    }
    // Ids follow insertion order, which is chain order.
    for chunk in rows.chunks(200) {
        audit_log::Entity::insert_many(chunk.iter().map(|row| audit_log::ActiveModel {
            at: Set(row.at),
            actor_user_id: Set(row.actor_user_id),
            actor_ip: Set(row.actor_ip.clone()),
            action: Set(row.action.clone()),
            entity: Set(row.entity.clone()),
            entity_id: Set(row.entity_id.clone()),
            area_code: Set(row.area_code.clone()),
            before: Set(row.before.clone()),
            after: Set(row.after.clone()),
            prev_hash: Set(row.prev_hash.clone()),
            hash: Set(row.hash.clone()),
            seq: Set(row.seq),
            key_id: Set(row.key_id.clone()),
            ..Default::default()
        }))
        .exec_without_returning(conn)
        .await?;
    }
    // The head's lock keeps every other appender out until we commit, so the newest id is ours.
    let last_id: Option<i64> = audit_log::Entity::find()
        .select_only()
        .column_as(audit_log::Column::Id.max(), "id")
        .into_tuple()
        .one(conn)
        .await?
        .flatten();
    let last_id = last_id.ok_or(DbErr::RecordNotInserted)?;
    audit_head::Entity::update_many()
        .col_expr(audit_head::Column::LastId, Expr::value(last_id))
        .col_expr(audit_head::Column::LastHash, Expr::value(last_hash))
        .col_expr(audit_head::Column::LastSeq, Expr::value(last_seq))
        .filter(audit_head::Column::Id.eq(1))
        .exec(conn)
        .await?;
    Ok(Some(last_id))
}

/// What an entry's link covers: its place in the chain, the key that links it, the link before
/// and its content, as a JSON array.
fn link_message(row: &audit_log::Model) -> Vec<u8> {
    serde_json::json!([
        "shanhuo-audit-v2",
        row.seq,
        row.key_id,
        row.prev_hash,
        timestamp(row.at),
        row.actor_user_id,
        row.actor_ip,
        row.action,
        row.entity,
        row.entity_id,
        row.area_code,
        row.before,
        row.after,
    ])
    .to_string()
    .into_bytes()
}

/// The link an entry has under `key`: what `verify` recomputes.
pub fn link_of(key: &LinkKey, row: &audit_log::Model) -> String {
    key.link(&link_message(row))
}

/// The plain SHA-256 link of entries written before keyed links.
fn legacy_hash(row: &audit_log::Model) -> String {
    let canonical = serde_json::json!([
        row.prev_hash,
        timestamp(row.at),
        row.actor_user_id,
        row.actor_ip,
        row.action,
        row.entity,
        row.entity_id,
        row.area_code,
        row.before,
        row.after,
    ]);
    sha256_hex(canonical.to_string().as_bytes())
}

fn timestamp(at: DateTime<Utc>) -> i64 {
    at.timestamp()
}

/// One page of an area's audit log, newest first: entries about records inside `area` (or, for
/// an admin asking for no area, every entry).
pub async fn list(
    db: &Database,
    actor: &Actor,
    area: Option<&AreaCode>,
    page: &PageRequest,
) -> Result<Page<audit_log::Model>, AuditError> {
    let mut query = audit_log::Entity::find();
    match area {
        Some(area) => {
            if !policy::can(actor, Action::Read, &Resource::AuditLog { area }) {
                return Err(AuditError::Forbidden);
            }
            query = query.filter(audit_log::Column::AreaCode.starts_with(area.descendant_prefix()));
        }
        None if actor.role == Role::Admin => {}
        None => return Err(AuditError::Forbidden),
    }
    if let Some(before) = page.after.as_deref().and_then(|id| id.parse::<i64>().ok()) {
        query = query.filter(audit_log::Column::Id.lt(before));
    }
    let rows = query
        .order_by_desc(audit_log::Column::Id)
        .limit(page.fetch_limit())
        .all(db.conn())
        .await?;
    Ok(Page::from_rows(rows, page, |e| e.id.to_string()))
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("not allowed to read this area's audit log")]
    Forbidden,
    #[error(transparent)]
    Database(#[from] DbErr),
}
