//! An `Idempotency-Key` that is no key is refused before anything reads the request, the same
//! way on every operation: a 400 `request.invalid`. An operation that would not have used the
//! key (a dry run, an upload) refuses it too, so a client learns of its mistake at once and
//! not on the first request that keeps keys.

use poem::{Request, Result};

use crate::{
    http::error::{ApiError, ErrorCode},
    service::{idempotency, reasons},
};

/// Passes the request on, unless it carries a malformed key (or two keys, which name no one
/// request). For `EndpointExt::before`.
pub async fn refuse_malformed_key(req: Request) -> Result<Request> {
    let mut keys = req.headers().get_all("idempotency-key").iter();
    let malformed = match (keys.next(), keys.next()) {
        (None, _) => false,
        (Some(key), None) => !key.to_str().is_ok_and(idempotency::well_formed),
        (Some(_), Some(_)) => true,
    };
    if malformed {
        return Err(ApiError::new(ErrorCode::RequestInvalid)
            .with_reason(reasons::idempotency_key_format())
            .into());
    }
    Ok(req)
}
