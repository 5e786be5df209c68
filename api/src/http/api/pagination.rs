//! Cursors as clients see them: opaque strings. Inside they carry the sort key the service
//! continues after; clients must not build or read them.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::json;

use crate::http::error::{ApiError, ErrorCode};
use crate::service::pagination::PageRequest;

const VERSION: &str = "v1:";

pub fn encode_cursor(after: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{VERSION}{after}"))
}

/// Reads a cursor back; `validate` checks the key still has the shape the list sorts by.
pub fn page_request(
    cursor: Option<&str>,
    limit: Option<u64>,
    validate: impl Fn(&str) -> bool,
) -> Result<PageRequest, ApiError> {
    let after = match cursor.filter(|c| !c.is_empty()) {
        None => None,
        Some(cursor) => Some(decode_cursor(cursor, validate).ok_or_else(|| {
            ApiError::new(ErrorCode::RequestInvalidCursor).with_details(json!({ "cursor": cursor }))
        })?),
    };
    Ok(PageRequest::new(after, limit))
}

fn decode_cursor(cursor: &str, validate: impl Fn(&str) -> bool) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let key = text.strip_prefix(VERSION)?;
    validate(key).then(|| key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_a_forged_one_is_refused() {
        let cursor = encode_cursor("500235101000");
        let page = page_request(Some(&cursor), Some(5), |k| k.len() == 12).unwrap();
        assert_eq!(page.after.as_deref(), Some("500235101000"));
        assert_eq!(page.limit, 5);
        assert!(page_request(Some("not-base64!"), None, |_| true).is_err());
        let other = URL_SAFE_NO_PAD.encode("500235101000");
        assert!(page_request(Some(&other), None, |_| true).is_err());
        let bad_key = encode_cursor("x");
        assert!(page_request(Some(&bad_key), None, |k| k.len() == 12).is_err());
    }
}
