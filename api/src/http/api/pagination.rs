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

/// Reads a cursor back; `validate` checks the key still has the shape the list sorts by. A
/// string that is not a cursor at all is 400 `request.invalid_cursor`; one of the document's
/// shape (`v1:` and a key, in unpadded URL-safe base64) whose key this list does not give out
/// is 422 `request.unknown_cursor`.
pub fn page_request(
    cursor: Option<&str>,
    limit: Option<u64>,
    validate: impl Fn(&str) -> bool,
) -> Result<PageRequest, ApiError> {
    let after = match cursor.filter(|c| !c.is_empty()) {
        None => None,
        Some(cursor) => Some(decode_cursor(cursor, validate)?),
    };
    Ok(PageRequest::new(after, limit))
}

fn decode_cursor(cursor: &str, validate: impl Fn(&str) -> bool) -> Result<String, ApiError> {
    let refused = |code: ErrorCode| ApiError::new(code).with_details(json!({ "cursor": cursor }));
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| refused(ErrorCode::RequestInvalidCursor))?;
    let key = bytes
        .strip_prefix(VERSION.as_bytes())
        .ok_or_else(|| refused(ErrorCode::RequestInvalidCursor))?;
    let key =
        String::from_utf8(key.to_vec()).map_err(|_| refused(ErrorCode::RequestUnknownCursor))?;
    if validate(&key) {
        Ok(key)
    } else {
        Err(refused(ErrorCode::RequestUnknownCursor))
    }
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
        let refused = page_request(Some(&bad_key), None, |k| k.len() == 12).unwrap_err();
        assert_eq!(refused.code, ErrorCode::RequestUnknownCursor);
        let refused = page_request(Some("not-base64!"), None, |_| true).unwrap_err();
        assert_eq!(refused.code, ErrorCode::RequestInvalidCursor);
    }
}
