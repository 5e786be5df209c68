//! `/api/v1/audit`: officials read the audit log of their own area; anyone reads the signed
//! checkpoints of its chain, and an admin signs one on demand.

use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Header, Query},
    payload::Json,
};

use super::{
    ApiTags,
    areas::parse_area_code,
    auth::BearerAuth,
    pagination::{encode_cursor, page_request},
};
use crate::http::error::ApiError;
use crate::{
    app::AppState,
    service::{
        audit::{
            self,
            checkpoints::{self, Checkpoint},
            keys::PublicKey,
        },
        pagination::Page,
    },
};

pub struct AuditApi;

#[OpenApi(tag = "ApiTags::Audit")]
impl AuditApi {
    /// Read an area's audit log
    ///
    /// Who changed what, when and from where, newest first, for records inside the area
    /// (default: the caller's own area; admins may leave it out to read everything).
    #[oai(path = "/audit", method = "get", operation_id = "list_audit_entries")]
    async fn list_audit_entries(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// Area code; records in it and below it are listed.
        area_code: Query<Option<String>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
        /// Items per page, 1 to 100 (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u64>>,
    ) -> Result<ListAuditEntriesResponse, ApiError> {
        let actor = &auth.0.actor;
        let area = match area_code.0.as_deref() {
            Some(raw) => Some(parse_area_code(raw)?),
            None => actor.area.clone(),
        };
        let page = page_request(cursor.0.as_deref(), limit.0, is_id)?;
        let entries = audit::list(&state.db, actor, area.as_ref(), &page).await?;
        Ok(ListAuditEntriesResponse::Ok(Json(entries.into())))
    }

    /// List the audit chain's signed checkpoints
    ///
    /// Public, no sign-in: the server's signed statements of the audit chain's head, newest
    /// first, and the public keys that verify them. Keep copies: `shanhuo audit verify
    /// --checkpoints FILE` checks the chain against this very JSON, so a later rewrite of the
    /// log shows even to whoever holds the database.
    #[oai(
        path = "/audit/checkpoints",
        method = "get",
        operation_id = "list_audit_checkpoints"
    )]
    async fn list_audit_checkpoints(
        &self,
        state: Data<&AppState>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
        /// Items per page, 1 to 100 (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u64>>,
    ) -> Result<ListAuditCheckpointsResponse, ApiError> {
        let page = page_request(cursor.0.as_deref(), limit.0, is_id)?;
        let found = checkpoints::recent(&state.db, &page)
            .await
            .map_err(ApiError::internal)?;
        Ok(ListAuditCheckpointsResponse::Ok(Json(
            AuditCheckpointPageView::new(found, state.audit_keys.public_keys()),
        )))
    }

    /// Sign an audit checkpoint now
    ///
    /// Admins only. Signs the chain's head at once (the server signs one every day anyway)
    /// after checking the head's own link; a broken head is refused.
    #[oai(
        path = "/audit/checkpoints",
        method = "post",
        operation_id = "create_audit_checkpoint"
    )]
    async fn create_audit_checkpoint(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// 1 to 64 letters, digits, `-` or `_`, new for each checkpoint the client means to
        /// sign: the request sent again with the same key answers the checkpoint the first one
        /// signed and signs nothing new.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
    ) -> Result<CreateAuditCheckpointResponse, ApiError> {
        let signed = checkpoints::sign_now_keyed(
            &state.db,
            &state.audit_keys,
            &auth.0.actor,
            idempotency_key.0.as_deref(),
        )
        .await?;
        Ok(CreateAuditCheckpointResponse::Created(Json(signed.into())))
    }
}

/// A signed statement of the audit chain's head.
#[derive(Object)]
#[oai(rename = "AuditCheckpoint")]
pub struct AuditCheckpointView {
    /// The chain sequence number of the last entry (0 before the first numbered entry).
    pub seq: i64,
    /// The last entry's id (0 for an empty log).
    pub entry_id: i64,
    /// The last entry's link, hex.
    pub link: String,
    /// When it was signed (UTC).
    pub at: chrono::DateTime<chrono::Utc>,
    /// Which of `public_keys` verifies the signature.
    pub public_key_id: String,
    /// Ed25519, hex, over the lines `shanhuo audit checkpoint v1`, `seq`, `entry_id`, `link`,
    /// `at` in whole seconds since 1970 and `public_key_id`, joined by `\n`.
    pub signature: String,
}

impl From<Checkpoint> for AuditCheckpointView {
    fn from(c: Checkpoint) -> Self {
        Self {
            seq: c.seq,
            entry_id: c.entry_id,
            link: c.link,
            at: c.at,
            public_key_id: c.public_key_id,
            signature: c.signature,
        }
    }
}

/// A key that verifies checkpoints.
#[derive(Object)]
#[oai(rename = "AuditPublicKey")]
pub struct AuditPublicKeyView {
    /// The first hex digits of the SHA-256 of the key's 32 bytes.
    pub id: String,
    /// The Ed25519 public key's 32 bytes, base64.
    pub public_key: String,
    /// The server signs with it now; the others are from before a rotation.
    pub current: bool,
}

/// One page of checkpoints and the keys that verify them.
#[derive(Object)]
#[oai(rename = "AuditCheckpointPage", skip_serializing_if_is_none)]
pub struct AuditCheckpointPageView {
    /// Newest first.
    pub checkpoints: Vec<AuditCheckpointView>,
    pub public_keys: Vec<AuditPublicKeyView>,
    /// Pass as `cursor` to get the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl AuditCheckpointPageView {
    fn new(page: Page<entities::audit_checkpoint::Model>, keys: &[PublicKey]) -> Self {
        Self {
            checkpoints: page
                .items
                .into_iter()
                .map(|row| Checkpoint::from(row).into())
                .collect(),
            public_keys: keys
                .iter()
                .map(|k| AuditPublicKeyView {
                    id: k.id.clone(),
                    public_key: k.base64.clone(),
                    current: k.current,
                })
                .collect(),
            next_cursor: page.next_after.as_deref().map(encode_cursor),
        }
    }
}

#[derive(ApiResponse)]
pub enum ListAuditCheckpointsResponse {
    /// One page of checkpoints with the public keys.
    #[oai(status = 200)]
    Ok(Json<AuditCheckpointPageView>),
}

#[derive(ApiResponse)]
pub enum CreateAuditCheckpointResponse {
    /// The checkpoint just signed.
    #[oai(status = 201)]
    Created(Json<AuditCheckpointView>),
}

/// One audited change.
#[derive(Object)]
#[oai(rename = "AuditEntry", skip_serializing_if_is_none)]
pub struct AuditEntryView {
    pub id: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    /// The user who made the change; none for the command line.
    pub actor_user_id: Option<i64>,
    /// The address the change came from.
    pub actor_ip: Option<String>,
    /// What was done, e.g. `user.invited`.
    pub action: String,
    /// Kind of record, e.g. `user`.
    pub entity: String,
    pub entity_id: String,
    pub area_code: Option<String>,
    /// The record before the change.
    pub before: Option<serde_json::Value>,
    /// The record after the change.
    pub after: Option<serde_json::Value>,
    /// The entry's link: HMAC-SHA256 over its content, its place and the link before, under a
    /// key outside the database; `shanhuo audit verify` checks the chain.
    pub hash: String,
}

/// One page of audit entries.
#[derive(Object)]
#[oai(rename = "AuditPage", skip_serializing_if_is_none)]
pub struct AuditPageView {
    pub items: Vec<AuditEntryView>,
    /// Pass as `cursor` to get the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum ListAuditEntriesResponse {
    /// One page of the area's audit log.
    #[oai(status = 200)]
    Ok(Json<AuditPageView>),
}

impl From<Page<entities::audit_log::Model>> for AuditPageView {
    fn from(page: Page<entities::audit_log::Model>) -> Self {
        let parse = |text: Option<String>| text.and_then(|t| serde_json::from_str(&t).ok());
        Self {
            items: page
                .items
                .into_iter()
                .map(|e| AuditEntryView {
                    id: e.id,
                    at: e.at,
                    actor_user_id: e.actor_user_id,
                    actor_ip: e.actor_ip,
                    action: e.action,
                    entity: e.entity,
                    entity_id: e.entity_id,
                    area_code: e.area_code,
                    before: parse(e.before),
                    after: parse(e.after),
                    hash: e.hash,
                })
                .collect(),
            next_cursor: page.next_after.as_deref().map(encode_cursor),
        }
    }
}

/// Cursors of id-ordered lists carry an id.
pub fn is_id(key: &str) -> bool {
    !key.is_empty() && key.len() <= 19 && key.bytes().all(|b| b.is_ascii_digit())
}
