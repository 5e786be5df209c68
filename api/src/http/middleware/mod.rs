//! What wraps every request: the body limit, the error envelope, closing a connection left
//! with an unread body, compression, observation (request ids, logs, metrics) and the anonymous
//! rate limit.

pub mod body_limit;
pub mod compress;
pub mod connection;
pub mod envelope;
pub mod observe;
pub mod rate_limit;
