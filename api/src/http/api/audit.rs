//! `/api/v1/audit`: officials read the audit log of their own area.

use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Query, payload::Json};

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
        audit::{self},
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
    /// SHA-256 link to the entry before; `shanhuo audit verify` checks the chain.
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
