//! `/audit`: the audit chain's recent signed checkpoints and the public keys, for anyone to
//! keep copies of, and how to save and check them.

use askama::Template;
use poem::{Response, handler, web::Data};

use crate::http::error::Lang;
use crate::http::pages::{
    error::PageError,
    shell::{Frame, public},
};
use crate::{
    app::AppState,
    domain::county_time,
    service::{
        audit::{
            checkpoints::{self, Checkpoint},
            keys::PublicKey,
        },
        pagination::PageRequest,
    },
};

/// Checkpoints the page shows; the API pages through all of them.
const SHOWN: u64 = 30;
/// How long phones and proxies may keep the page, in seconds.
const MAX_AGE: u32 = 300;

#[derive(Template)]
#[template(path = "public/audit.html")]
struct AuditPage {
    lang: Lang,
    checkpoints: Vec<Checkpoint>,
    public_keys: Vec<PublicKey>,
    /// The API address of the same list.
    api_url: String,
}

impl AuditPage {
    /// When a checkpoint was signed, in the county's time.
    fn signed_at(&self, checkpoint: &Checkpoint) -> String {
        county_time::minute(checkpoint.at)
    }
}

#[handler]
pub async fn audit_page(state: Data<&AppState>, lang: Lang) -> Result<Response, PageError> {
    let found = checkpoints::recent(&state.db, &PageRequest::new(None, Some(SHOWN)))
        .await
        .map_err(|e| PageError::Unavailable(e.into()))?;
    let page = AuditPage {
        lang,
        checkpoints: found.items.into_iter().map(Checkpoint::from).collect(),
        public_keys: state.audit_keys.public_keys().to_vec(),
        api_url: format!(
            "{}/api/v1/audit/checkpoints?limit=100",
            state.settings.public_base_url.trim_end_matches('/')
        ),
    };
    public(&page, MAX_AGE)
}
