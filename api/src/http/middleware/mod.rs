//! What wraps every request: the body limit, the error envelope, observation (request ids,
//! logs, metrics) and the anonymous rate limit.

pub mod body_limit;
pub mod envelope;
pub mod observe;
pub mod rate_limit;
