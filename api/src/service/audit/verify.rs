//! Walks the audit chain: every link under the key that made it, every sequence number in turn,
//! every checkpoint's signature and that its entry still has the signed link.

use std::{collections::BTreeMap, fmt};

use chrono::{DateTime, Utc};
use entities::{audit_head, audit_log};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{
    GENESIS_HASH,
    checkpoints::{self, Checkpoint},
    keys::{self, AuditKeys},
    legacy_hash, link_message,
};
use crate::{domain::county_time, infra::db::Database};

/// The outcome of walking the chain: intact, or the first thing that does not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainCheck {
    /// Every link and every checkpoint holds.
    Intact { entries: u64 },
    /// The entry with this sequence number is gone.
    Missing { seq: i64 },
    /// The first entry whose link does not hold, and why. `seq` is none for entries from
    /// before numbering.
    Broken {
        entry_id: i64,
        seq: Option<i64>,
        reason: String,
    },
    /// A checkpoint that does not hold: a bad signature, or its entry no longer has the
    /// signed link.
    BadCheckpoint {
        seq: i64,
        entry_id: i64,
        at: DateTime<Utc>,
        reason: String,
    },
}

impl ChainCheck {
    pub fn is_intact(&self) -> bool {
        matches!(self, ChainCheck::Intact { .. })
    }
}

impl fmt::Display for ChainCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainCheck::Intact { entries } => write!(f, "audit chain intact: {entries} entries"),
            ChainCheck::Missing { seq } => write!(f, "audit chain broken: entry {seq} is missing"),
            ChainCheck::Broken {
                entry_id,
                seq: Some(seq),
                reason,
            } => write!(
                f,
                "audit chain broken at entry {seq} (id {entry_id}): {reason}"
            ),
            ChainCheck::Broken {
                entry_id,
                seq: None,
                reason,
            } => write!(f, "audit chain broken at entry id {entry_id}: {reason}"),
            ChainCheck::BadCheckpoint {
                seq,
                entry_id,
                at,
                reason,
            } => write!(
                f,
                "audit checkpoint of entry {seq} (id {entry_id}) signed {} ({}) fails: {reason}",
                county_time::second(*at),
                county_time::zone()
            ),
        }
    }
}

/// `verify_with` under the installed keys and the stored checkpoints only.
pub async fn verify(db: &Database) -> Result<ChainCheck, DbErr> {
    verify_with(db, &keys::installed(), &[]).await
}

/// Walks the whole chain in order against `keys`, the stored checkpoints and `saved` ones
/// (copies kept outside the database), and reports the first thing that does not hold.
///
/// Entries from before keyed links (no sequence number, no key id) are checked as the plain
/// SHA-256 chain they were written as; they are accepted only before the first keyed entry and
/// before the first checkpoint, whose link covers them.
pub async fn verify_with(
    db: &Database,
    keys: &AuditKeys,
    saved: &[Checkpoint],
) -> Result<ChainCheck, DbErr> {
    const BATCH: u64 = 1_000;
    let conn = db.conn();

    let mut all = checkpoints::all(db).await?;
    all.extend(saved.iter().cloned());
    all.sort_by_key(|c| (c.seq, c.entry_id, c.at));
    all.dedup();
    for checkpoint in &all {
        if let Some(reason) = checkpoint.signature_problem(keys) {
            return Ok(bad(checkpoint, reason));
        }
    }
    // Checkpoints by the entry they name: numbered entries by number, older ones by id.
    let mut pending: BTreeMap<Place, Vec<&Checkpoint>> = BTreeMap::new();
    // A checkpoint of the empty log: every entry after it must be keyed.
    let mut passed_checkpoint = false;
    for checkpoint in &all {
        if checkpoint.entry_id == 0 {
            if checkpoint.link != GENESIS_HASH {
                return Ok(bad(checkpoint, "it names no entry but a link".into()));
            }
            passed_checkpoint = true;
            continue;
        }
        pending
            .entry(Place::of_checkpoint(checkpoint))
            .or_default()
            .push(checkpoint);
    }

    let mut expected_prev = GENESIS_HASH.to_owned();
    let mut expected_seq = 1i64;
    let mut seen_keyed = false;
    let mut last_id = 0i64;
    let mut entries = 0u64;
    loop {
        let rows = audit_log::Entity::find()
            .filter(audit_log::Column::Id.gt(last_id))
            .order_by_asc(audit_log::Column::Id)
            .limit(BATCH)
            .all(conn)
            .await?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            let broken = |reason: &str| ChainCheck::Broken {
                entry_id: row.id,
                seq: row.seq,
                reason: reason.to_owned(),
            };
            match (row.seq, row.key_id.as_deref()) {
                (None, None) => {
                    if seen_keyed || passed_checkpoint {
                        return Ok(broken(
                            "it has no key id and no sequence number, yet comes after keyed \
                             entries or a checkpoint: the server did not write it",
                        ));
                    }
                    if row.prev_hash != expected_prev {
                        return Ok(broken(
                            "its previous link does not match the entry before it \
                             (an entry before it was removed or altered)",
                        ));
                    }
                    if legacy_hash(&row) != row.hash {
                        return Ok(broken(
                            "its content does not match its hash (the entry was edited)",
                        ));
                    }
                }
                (Some(seq), Some(key_id)) => {
                    if seq > expected_seq {
                        return Ok(ChainCheck::Missing { seq: expected_seq });
                    }
                    if seq < expected_seq {
                        return Ok(broken(&format!(
                            "its sequence number {seq} comes again or out of order \
                             (entry {expected_seq} was expected)"
                        )));
                    }
                    let Some(key) = keys.link_key_by_id(key_id) else {
                        return Ok(broken(&format!(
                            "it is linked under key {key_id}, which is not configured \
                             (SHANHUO_AUDIT_KEY / SHANHUO_AUDIT_PREVIOUS_KEYS)"
                        )));
                    };
                    if row.prev_hash != expected_prev {
                        return Ok(broken(
                            "its previous link does not match the entry before it \
                             (the entry before it was altered)",
                        ));
                    }
                    if key.link(&link_message(&row)) != row.hash {
                        return Ok(broken(&format!(
                            "its link does not verify under key {key_id} \
                             (the entry was edited or forged)"
                        )));
                    }
                    seen_keyed = true;
                    expected_seq += 1;
                }
                _ => {
                    return Ok(broken(
                        "it has a sequence number without a key id or a key id without one",
                    ));
                }
            }
            if let Some(signed) = pending.remove(&Place::of_entry(&row)) {
                for checkpoint in signed {
                    if checkpoint.entry_id != row.id || checkpoint.link != row.hash {
                        return Ok(bad(
                            checkpoint,
                            format!(
                                "it signed link {} for entry id {}; the chain now has link {} \
                                 for entry id {} there (the chain was rewritten after the checkpoint)",
                                checkpoint.link, checkpoint.entry_id, row.hash, row.id
                            ),
                        ));
                    }
                }
                passed_checkpoint = true;
            }
            expected_prev = row.hash;
            last_id = row.id;
            entries += 1;
        }
    }
    let last_seq = expected_seq - 1;
    // A checkpoint beyond the end: entries were removed from the end.
    if let Some(checkpoint) = pending.values().flatten().next() {
        return Ok(if checkpoint.seq > last_seq {
            ChainCheck::Missing { seq: last_seq + 1 }
        } else {
            bad(
                checkpoint,
                format!("the entry it signed (id {}) is gone", checkpoint.entry_id),
            )
        });
    }
    // The head remembers the last link, so removing entries from the end shows too.
    let head = audit_head::Entity::find_by_id(1)
        .one(conn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("audit_head".into()))?;
    if head.last_seq > last_seq {
        return Ok(ChainCheck::Missing { seq: last_seq + 1 });
    }
    if head.last_hash != expected_prev || head.last_id != last_id || head.last_seq != last_seq {
        return Ok(ChainCheck::Broken {
            entry_id: last_id,
            seq: (last_seq > 0).then_some(last_seq),
            reason: format!(
                "the chain's recorded head (entry {}, id {}) is not its last entry \
                 (an entry was added or removed by hand)",
                head.last_seq, head.last_id
            ),
        });
    }
    Ok(ChainCheck::Intact { entries })
}

/// Where in the chain a checkpoint points: a numbered entry, or one from before numbering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    Seq(i64),
    Unnumbered(i64),
}

impl Place {
    fn of_checkpoint(checkpoint: &Checkpoint) -> Self {
        if checkpoint.seq > 0 {
            Place::Seq(checkpoint.seq)
        } else {
            Place::Unnumbered(checkpoint.entry_id)
        }
    }

    fn of_entry(row: &audit_log::Model) -> Self {
        match row.seq {
            Some(seq) => Place::Seq(seq),
            None => Place::Unnumbered(row.id),
        }
    }
}

fn bad(checkpoint: &Checkpoint, reason: String) -> ChainCheck {
    ChainCheck::BadCheckpoint {
        seq: checkpoint.seq,
        entry_id: checkpoint.entry_id,
        at: checkpoint.at,
        reason,
    }
}
