//! What wraps every request: the body limit, the error envelope, closing a connection left
//! with an unread body, compression, observation (request ids, logs, metrics), the anonymous
//! rate limit, the kept copies of public reads and the `Idempotency-Key`'s form.

pub mod body_limit;
pub mod compress;
pub mod connection;
pub mod envelope;
pub mod kept;
pub mod key_format;
pub mod observe;
pub mod rate_limit;
