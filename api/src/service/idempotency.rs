//! Creations asked for with a key of the client's own — the `Idempotency-Key` header of the
//! API, the hidden `key` of a page's form — happen once: the key, what was asked and what it
//! made are written in the same transaction as the creation, so a double tap, a retry on a slow
//! network or a form sent again from the phone's queue finds what the first request made. The
//! same key with a different request is refused. Keys are kept for [`KEPT_FOR`]; after that a
//! key is new again.
//!
//! A service that creates takes the client's key, makes a [`Claim`] of it with everything the
//! request asks, answers [`Claim::earlier`]'s resource if there is one, and otherwise creates in
//! a transaction that ends with [`Claim::keep`]. Two requests with one key racing both pass the
//! first look; the second to write its key loses the race on the key's primary key, rolls back
//! everything it made, and answers the first one's resource ([`Kept::Raced`]).

use chrono::{Duration, Utc};
use entities::idempotency_key;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter, SqlErr,
};

use crate::{
    infra::{db::Database, tokens::sha256_hex},
    service::{policy::Actor, reasons},
};

/// How long a key answers the same request: long enough for a phone's queue to send its forms
/// after days out of signal.
pub const KEPT_FOR: Duration = Duration::days(30);

/// Whose keys the requests of people not signed in are kept as: no account has id 0.
pub const ANONYMOUS: i64 = 0;

/// A request asked with a key: who asked, the key, what it creates and a digest of everything
/// it asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    user_id: i64,
    key: String,
    operation: &'static str,
    digest: String,
}

/// What a key has to say about a request.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key is not 1 to 64 letters, digits, `-` or `_`.
    #[error("{0}")]
    Malformed(reasons::Reason),
    /// The key was sent before with another request.
    #[error("the key was used for another request")]
    Reused,
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// Whether `key`, spaces around it aside, is a key: empty (no key), or 1 to 64 letters, digits,
/// `-` or `_`.
pub fn well_formed(key: &str) -> bool {
    let key = key.trim_matches(' ');
    key.len() <= 64
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// How keeping a key in the creation's transaction went.
#[derive(Debug)]
pub enum Kept {
    /// Another request with the same key wrote first: roll back, and answer its resource.
    Raced,
    Failed(DbErr),
}

impl Claim {
    /// The claim of a request with `key` (none, or empty, when the client sent none) that
    /// creates `operation` from `request` — everything it asks, in a fixed order.
    pub fn new(
        actor: &Actor,
        key: Option<&str>,
        operation: &'static str,
        request: serde_json::Value,
    ) -> Result<Option<Self>, KeyError> {
        Self::of_user(actor.user_id, key, operation, request)
    }

    /// The claim of a request from someone not signed in (a buyer's report from the scan
    /// page): such keys are all kept under [`ANONYMOUS`]. A form's key is random and new on
    /// every showing, so two people's keys do not meet; one who copied another's key could only
    /// have that person's same request refused, never read what it made.
    pub fn anonymous(
        key: Option<&str>,
        operation: &'static str,
        request: serde_json::Value,
    ) -> Result<Option<Self>, KeyError> {
        Self::of_user(ANONYMOUS, key, operation, request)
    }

    fn of_user(
        user_id: i64,
        key: Option<&str>,
        operation: &'static str,
        request: serde_json::Value,
    ) -> Result<Option<Self>, KeyError> {
        let Some(key) = key.map(|k| k.trim_matches(' ')).filter(|k| !k.is_empty()) else {
            return Ok(None);
        };
        if !well_formed(key) {
            return Err(KeyError::Malformed(reasons::idempotency_key_format()));
        }
        let canonical = serde_json::json!([operation, request]).to_string();
        Ok(Some(Self {
            user_id,
            key: key.to_owned(),
            operation,
            digest: sha256_hex(canonical.as_bytes()),
        }))
    }

    /// What an earlier request with this key made, if one did (and not too long ago); the key
    /// sent with another request is refused. The account's keys past [`KEPT_FOR`] go first,
    /// on their own: inside the creation's transaction, two requests' range deletes would
    /// lock each other's inserts out (a deadlock on MySQL).
    pub async fn earlier(&self, conn: &impl ConnectionTrait) -> Result<Option<String>, KeyError> {
        idempotency_key::Entity::delete_many()
            .filter(idempotency_key::Column::UserId.eq(self.user_id))
            .filter(idempotency_key::Column::CreatedAt.lt(Utc::now() - KEPT_FOR))
            .exec(conn)
            .await?;
        let Some(found) = idempotency_key::Entity::find_by_id((self.user_id, self.key.clone()))
            .one(conn)
            .await?
        else {
            return Ok(None);
        };
        if found.created_at < Utc::now() - KEPT_FOR {
            return Ok(None);
        }
        if found.operation != self.operation || found.request_digest != self.digest {
            return Err(KeyError::Reused);
        }
        Ok(Some(found.resource))
    }

    /// Writes the key with what the request made, in the creation's transaction; the caller
    /// commits on `Ok`.
    pub async fn keep(&self, txn: &impl ConnectionTrait, resource: &str) -> Result<(), Kept> {
        let inserted = idempotency_key::Entity::insert(idempotency_key::ActiveModel {
            user_id: Set(self.user_id),
            key: Set(self.key.clone()),
            operation: Set(self.operation.to_owned()),
            request_digest: Set(self.digest.clone()),
            resource: Set(resource.to_owned()),
            created_at: Set(Utc::now()),
        })
        .exec(txn)
        .await;
        match inserted {
            Ok(_) => Ok(()),
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                Err(Kept::Raced)
            }
            Err(e) => Err(Kept::Failed(e)),
        }
    }
}

/// [`Claim::earlier`] for a claim that may be absent.
pub async fn earlier(
    conn: &impl ConnectionTrait,
    claim: Option<&Claim>,
) -> Result<Option<String>, KeyError> {
    match claim {
        Some(claim) => claim.earlier(conn).await,
        None => Ok(None),
    }
}

/// [`Claim::keep`] for a claim that may be absent.
pub async fn keep(
    txn: &impl ConnectionTrait,
    claim: Option<&Claim>,
    resource: &str,
) -> Result<(), Kept> {
    match claim {
        Some(claim) => claim.keep(txn, resource).await,
        None => Ok(()),
    }
}

/// The resource a race's winner made: the loser has rolled back and reads it now.
pub async fn winner(
    conn: &impl ConnectionTrait,
    claim: Option<&Claim>,
) -> Result<String, KeyError> {
    match earlier(conn, claim).await? {
        Some(resource) => Ok(resource),
        // Only a claim can lose a race, and its winner committed before the loser's write
        // failed; a key that vanished since is a database's failure to say so.
        None => Err(KeyError::Database(DbErr::RecordNotFound(
            "the key that won the race".into(),
        ))),
    }
}

/// Ends a creation: keeps the claim's key with `resource` in `txn` and commits it. When another
/// request with the same key wrote its key first, `txn` is rolled back and the winner's
/// resource is answered instead (`Some`); `None` means this request's creation stands.
pub async fn commit(
    db: &Database,
    txn: DatabaseTransaction,
    claim: Option<&Claim>,
    resource: &str,
) -> Result<Option<String>, KeyError> {
    match keep(&txn, claim, resource).await {
        Ok(()) => {
            txn.commit().await?;
            Ok(None)
        }
        Err(Kept::Raced) => {
            txn.rollback().await?;
            winner(db.conn(), claim).await.map(Some)
        }
        Err(Kept::Failed(e)) => Err(e.into()),
    }
}

/// A resource named by one id.
pub fn id_of(resource: &str) -> Result<i64, KeyError> {
    resource
        .parse()
        .map_err(|_| KeyError::Database(DbErr::Custom(format!("a key's resource {resource}"))))
}
