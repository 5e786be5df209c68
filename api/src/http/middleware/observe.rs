//! What every request leaves behind: a request id (echoed in `x-request-id`), a log line and
//! Prometheus figures by route and status.

use std::time::Instant;

use poem::{
    Endpoint, IntoResponse, Middleware, Request, Response, Result,
    http::{HeaderValue, header::HeaderName},
};
use poem_openapi::OperationId;
use tracing::Instrument;

use super::envelope;
use crate::{http::error::Lang, telemetry::Metrics};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub struct Observe {
    metrics: Metrics,
}

impl Observe {
    pub fn new(metrics: Metrics) -> Self {
        Self { metrics }
    }
}

impl<E: Endpoint> Middleware<E> for Observe {
    type Output = ObserveEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        ObserveEndpoint {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

pub struct ObserveEndpoint<E> {
    inner: E,
    metrics: Metrics,
}

impl<E: Endpoint> Endpoint for ObserveEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Response> {
        let started = Instant::now();
        let request_id = req
            .headers()
            .get(&REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|id| is_acceptable_request_id(id))
            .map(str::to_owned)
            .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        let method = req.method().to_string();
        let path = req.uri().path().to_owned();
        let span = tracing::info_span!("request", id = %request_id, %method, %path);

        let result = self.inner.call(req).instrument(span.clone()).await;
        // Inner layers render errors already; this catches anything that escaped them.
        let mut response = match result {
            Ok(output) => output.into_response(),
            Err(err) => envelope::render(err, Lang::default()),
        };
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert(REQUEST_ID, value);
        }

        let status = response.status().as_u16();
        let elapsed = started.elapsed();
        let route = route_label(response.data::<OperationId>(), &path, status);
        self.metrics
            .record(&route, &method, status, elapsed.as_secs_f64());
        span.in_scope(|| {
            tracing::info!(status, route = %route, millis = elapsed.as_secs_f64() * 1000.0, "answered");
        });
        Ok(response)
    }
}

/// Clients may bring their own id for tracing across systems, within reason.
fn is_acceptable_request_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_graphic())
}

/// API routes are labelled by operation id; the few fixed routes by path. Anything else is one
/// label, so random paths cannot blow up the number of series.
fn route_label(operation: Option<&OperationId>, path: &str, status: u16) -> String {
    if let Some(operation) = operation {
        return operation.0.to_owned();
    }
    match path {
        "/healthz" | "/readyz" | "/metrics" | "/api/v1/openapi.json" | "/" => path.to_owned(),
        _ if path.starts_with("/docs") && status != 404 => "/docs".to_owned(),
        _ => "unmatched".to_owned(),
    }
}
