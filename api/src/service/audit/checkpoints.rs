//! Signed checkpoints of the audit chain's head: the server signs one at least daily and on
//! demand, and publishes them, so copies kept by anyone show if the chain is later rewritten —
//! even by someone holding the link key and the database.

use chrono::{DateTime, SubsecRound, Utc};
use entities::{audit_checkpoint, audit_head, audit_log};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};

use super::{GENESIS_HASH, keys::AuditKeys, link_message};
use crate::{
    infra::db::Database,
    service::{
        idempotency::{self, Claim, KeyError},
        pagination::{Page, PageRequest},
        policy::Actor,
    },
};
use entities::user::Role;

/// A signed statement: "the chain's entry `seq` (id `entry_id`) had link `link` at `at`".
/// The JSON form is what the API publishes and what `audit verify --checkpoints` reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The chain sequence number of the last entry (0 when none was numbered yet).
    pub seq: i64,
    /// The last entry's id (0 for an empty log).
    pub entry_id: i64,
    /// The last entry's link, hex.
    pub link: String,
    pub at: DateTime<Utc>,
    /// Which public key verifies the signature.
    pub public_key_id: String,
    /// Ed25519 over `message()`, hex.
    pub signature: String,
}

impl From<audit_checkpoint::Model> for Checkpoint {
    fn from(row: audit_checkpoint::Model) -> Self {
        Self {
            seq: row.seq,
            entry_id: row.entry_id,
            link: row.link,
            at: row.at,
            public_key_id: row.public_key_id,
            signature: row.signature,
        }
    }
}

impl Checkpoint {
    /// The signed bytes: one line per field, whole seconds since 1970 for the time.
    pub fn message(&self) -> Vec<u8> {
        format!(
            "shanhuo audit checkpoint v1\n{}\n{}\n{}\n{}\n{}",
            self.seq,
            self.entry_id,
            self.link,
            self.at.timestamp(),
            self.public_key_id
        )
        .into_bytes()
    }

    /// Why the signature does not hold under the configured public keys, if it does not.
    pub fn signature_problem(&self, keys: &AuditKeys) -> Option<String> {
        match keys.public_key_by_id(&self.public_key_id) {
            None => Some(format!(
                "it is signed by public key {}, which is not configured \
                 (SHANHUO_AUDIT_SIGNING_KEY / SHANHUO_AUDIT_PREVIOUS_PUBLIC_KEYS)",
                self.public_key_id
            )),
            Some(key) if !key.verifies(&self.message(), &self.signature) => {
                Some("its signature does not verify (the checkpoint was altered or forged)".into())
            }
            Some(_) => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("only an admin may sign a checkpoint on demand")]
    Forbidden,
    /// The head does not hold, so signing it would vouch for a forgery.
    #[error("the audit chain's head does not hold ({0}); run `shanhuo audit verify`")]
    HeadBroken(String),
    /// The client's idempotency key is not one.
    #[error("{0}")]
    KeyMalformed(crate::service::reasons::Reason),
    /// The client's idempotency key was sent before with another request.
    #[error("the key was used for another request")]
    KeyReused,
    #[error(transparent)]
    Database(#[from] DbErr),
}

impl From<KeyError> for CheckpointError {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::Malformed(reason) => Self::KeyMalformed(reason),
            KeyError::Reused => Self::KeyReused,
            KeyError::Database(e) => Self::Database(e),
        }
    }
}

/// An admin's request to sign a checkpoint now, once for a client's key: the request sent
/// again answers the checkpoint the first one signed.
pub async fn sign_now_keyed(
    db: &Database,
    keys: &AuditKeys,
    actor: &Actor,
    key: Option<&str>,
) -> Result<Checkpoint, CheckpointError> {
    if actor.role != Role::Admin {
        return Err(CheckpointError::Forbidden);
    }
    let claim = Claim::new(actor, key, "audit_checkpoint", serde_json::json!([]))?;
    if let Some(earlier) = idempotency::earlier(db.conn(), claim.as_ref()).await? {
        return signed(db, idempotency::id_of(&earlier)?).await;
    }
    create_claimed(db, keys, claim.as_ref()).await
}

/// A checkpoint as stored.
async fn signed(db: &Database, id: i64) -> Result<Checkpoint, CheckpointError> {
    audit_checkpoint::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .map(Checkpoint::from)
        .ok_or_else(|| DbErr::RecordNotFound("audit_checkpoint".into()).into())
}

/// Signs the chain's head now and stores the checkpoint. The head's own entry is checked first
/// (its link under a configured key); `verify` checks the whole chain.
pub async fn create(db: &Database, keys: &AuditKeys) -> Result<Checkpoint, CheckpointError> {
    create_claimed(db, keys, None).await
}

async fn create_claimed(
    db: &Database,
    keys: &AuditKeys,
    claim: Option<&Claim>,
) -> Result<Checkpoint, CheckpointError> {
    let txn = db.begin_write().await?;
    // Locked, so no append moves the head between reading it and signing it.
    let head = audit_head::Entity::find_by_id(1)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("audit_head".into()))?;
    if let Some(problem) = head_problem(&txn, keys, &head).await? {
        return Err(CheckpointError::HeadBroken(problem));
    }
    let mut checkpoint = Checkpoint {
        seq: head.last_seq,
        entry_id: head.last_id,
        link: head.last_hash,
        at: Utc::now().trunc_subsecs(0),
        public_key_id: keys.signing_key_id().to_owned(),
        signature: String::new(),
    };
    checkpoint.signature = keys.sign(&checkpoint.message());
    let inserted = audit_checkpoint::Entity::insert(audit_checkpoint::ActiveModel {
        seq: Set(checkpoint.seq),
        entry_id: Set(checkpoint.entry_id),
        link: Set(checkpoint.link.clone()),
        at: Set(checkpoint.at),
        public_key_id: Set(checkpoint.public_key_id.clone()),
        signature: Set(checkpoint.signature.clone()),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    let resource = inserted.last_insert_id.to_string();
    if let Some(winner) = idempotency::commit(db, txn, claim, &resource).await? {
        return signed(db, idempotency::id_of(&winner)?).await;
    }
    Ok(checkpoint)
}

/// What is wrong with the head's own entry, if anything.
async fn head_problem(
    conn: &impl sea_orm::ConnectionTrait,
    keys: &AuditKeys,
    head: &audit_head::Model,
) -> Result<Option<String>, DbErr> {
    if head.last_id == 0 {
        return Ok((head.last_hash != GENESIS_HASH || head.last_seq != 0)
            .then(|| "the head names no entry but is not the start of a chain".into()));
    }
    let Some(entry) = audit_log::Entity::find_by_id(head.last_id)
        .one(conn)
        .await?
    else {
        return Ok(Some(format!("its entry id {} is gone", head.last_id)));
    };
    if entry.hash != head.last_hash {
        return Ok(Some(format!(
            "entry id {} does not have the head's link",
            entry.id
        )));
    }
    Ok(match (&entry.key_id, entry.seq) {
        (Some(key_id), Some(seq)) if seq == head.last_seq => match keys.link_key_by_id(key_id) {
            Some(key) if key.link(&link_message(&entry)) == entry.hash => None,
            Some(_) => Some(format!("entry {seq}'s link does not verify")),
            None => Some(format!("entry {seq} is linked under unknown key {key_id}")),
        },
        // Entries from before keyed links, as long as no keyed one or checkpoint came before
        // (then it was added by hand); `verify` checks their plain chain.
        (None, None) if head.last_seq == 0 => {
            let keyed = audit_log::Entity::find()
                .filter(audit_log::Column::Seq.is_not_null())
                .one(conn)
                .await?
                .is_some();
            let checkpointed = audit_checkpoint::Entity::find()
                .filter(audit_checkpoint::Column::EntryId.lt(entry.id))
                .one(conn)
                .await?
                .is_some();
            (keyed || checkpointed).then(|| {
                format!(
                    "entry id {} has no key id, yet keyed entries or a checkpoint came before it",
                    entry.id
                )
            })
        }
        _ => Some(format!(
            "entry id {} does not have the head's place in the chain",
            entry.id
        )),
    })
}

/// One page of checkpoints, newest first.
pub async fn recent(
    db: &Database,
    page: &PageRequest,
) -> Result<Page<audit_checkpoint::Model>, DbErr> {
    let mut query = audit_checkpoint::Entity::find();
    if let Some(before) = page.after.as_deref().and_then(|id| id.parse::<i64>().ok()) {
        query = query.filter(audit_checkpoint::Column::Id.lt(before));
    }
    let rows = query
        .order_by_desc(audit_checkpoint::Column::Id)
        .limit(page.fetch_limit())
        .all(db.conn())
        .await?;
    Ok(Page::from_rows(rows, page, |c| c.id.to_string()))
}

/// When the newest stored checkpoint was signed.
pub async fn latest_at(db: &Database) -> Result<Option<DateTime<Utc>>, DbErr> {
    Ok(audit_checkpoint::Entity::find()
        .order_by_desc(audit_checkpoint::Column::Id)
        .one(db.conn())
        .await?
        .map(|row| row.at))
}

/// Every stored checkpoint, oldest first.
pub async fn all(db: &Database) -> Result<Vec<Checkpoint>, DbErr> {
    Ok(audit_checkpoint::Entity::find()
        .order_by_asc(audit_checkpoint::Column::Id)
        .all(db.conn())
        .await?
        .into_iter()
        .map(Checkpoint::from)
        .collect())
}

/// Reads saved checkpoints: a page the API published (`{"checkpoints": [...], ...}`), a list
/// of such pages, or a bare list of checkpoints.
pub fn parse_saved(json: &str) -> Result<Vec<Checkpoint>, serde_json::Error> {
    #[derive(Deserialize)]
    struct Published {
        checkpoints: Vec<Checkpoint>,
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Item {
        Page(Published),
        Checkpoint(Checkpoint),
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Saved {
        Page(Published),
        List(Vec<Item>),
    }
    Ok(match serde_json::from_str::<Saved>(json)? {
        Saved::Page(page) => page.checkpoints,
        Saved::List(items) => items
            .into_iter()
            .flat_map(|item| match item {
                Item::Page(page) => page.checkpoints,
                Item::Checkpoint(checkpoint) => vec![checkpoint],
            })
            .collect(),
    })
}
