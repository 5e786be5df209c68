//! An `Idempotency-Key` that is no key is refused before anything reads the request, the same
//! way on every operation: a 400 `request.invalid`. An operation that would not have used the
//! key (a dry run, an upload) refuses it too, so a client learns of its mistake at once and
//! not on the first request that keeps keys.

use poem::{Endpoint, Middleware, Request, Result};

use crate::{
    http::error::{ApiError, ErrorCode},
    service::{idempotency, reasons},
};

const HEADER: &str = "idempotency-key";

pub struct IdempotencyKeyFormat;

impl<E: Endpoint> Middleware<E> for IdempotencyKeyFormat {
    type Output = IdempotencyKeyFormatEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        IdempotencyKeyFormatEndpoint { inner }
    }
}

pub struct IdempotencyKeyFormatEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for IdempotencyKeyFormatEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let mut keys = req.headers().get_all(HEADER).iter();
        let malformed = match (keys.next(), keys.next()) {
            (None, _) => false,
            (Some(key), None) => !key.to_str().is_ok_and(idempotency::well_formed),
            // Two keys name no one request.
            (Some(_), Some(_)) => true,
        };
        if malformed {
            return Err(ApiError::new(ErrorCode::RequestInvalid)
                .with_reason(reasons::idempotency_key_format())
                .into());
        }
        self.inner.call(req).await
    }
}
