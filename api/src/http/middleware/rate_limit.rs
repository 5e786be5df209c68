//! The general limit on requests without sign-in, per client address, and the mapping of every
//! rate-limit refusal to a 429 with `Retry-After`.

use std::{sync::Arc, time::Duration};

use poem::{Endpoint, Middleware, Request, Result, http::header};

use crate::http::error::ApiError;
use crate::{
    config::Settings,
    infra::cache::Cache,
    service::rate_limit::{self, LimitError, Rule},
};

pub struct AnonymousLimit {
    cache: Arc<dyn Cache>,
    settings: Arc<Settings>,
}

impl AnonymousLimit {
    pub fn new(cache: Arc<dyn Cache>, settings: Arc<Settings>) -> Self {
        Self { cache, settings }
    }
}

impl<E: Endpoint> Middleware<E> for AnonymousLimit {
    type Output = AnonymousLimitEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        AnonymousLimitEndpoint {
            inner,
            cache: self.cache.clone(),
            settings: self.settings.clone(),
        }
    }
}

pub struct AnonymousLimitEndpoint<E> {
    inner: E,
    cache: Arc<dyn Cache>,
    settings: Arc<Settings>,
}

/// Operators' probes are never limited.
const EXEMPT: &[&str] = &["/healthz", "/readyz", "/metrics"];

impl<E: Endpoint> Endpoint for AnonymousLimitEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let per_minute = self.settings.anonymous_requests_per_minute;
        let anonymous = !req.headers().contains_key(header::AUTHORIZATION);
        if per_minute > 0 && anonymous && !EXEMPT.contains(&req.uri().path()) {
            let rule = Rule {
                name: "anonymous-ip",
                limit: i64::from(per_minute),
                window: Duration::from_secs(60),
            };
            let ip = crate::http::caller::client_ip(&req, &self.settings);
            match rate_limit::hit(self.cache.as_ref(), rule, &ip).await {
                Ok(()) => {}
                Err(LimitError::Exceeded { retry_after }) => {
                    return Err(ApiError::from(LimitError::Exceeded { retry_after }).into());
                }
                // A limit that cannot be counted lets the request through: refusing everyone
                // while the cache is away would turn its absence into an outage.
                Err(e) => tracing::warn!(error = %e, "the anonymous rate limit could not count"),
            }
        }
        self.inner.call(req).await
    }
}
