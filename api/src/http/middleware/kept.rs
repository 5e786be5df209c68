//! Kept copies of the public reads: the buyer's market pages and the API's categories, regions,
//! areas (with their totals) and listings are rendered once and answered from this server's
//! memory until what they show may have changed.
//!
//! Every copy carries the shared change stamp ([`changes`]) that was current when it was made:
//! any write that succeeds (a request that is not a read and did not fail) moves it, and every
//! server's copies made before stop counting on their next read. Writes are rare beside reads,
//! so one stamp for all is enough; copies also expire after a few minutes, so pages with dates
//! in them never grow old.
//!
//! Each kept answer has an `ETag` (a hash of its body; the same on every server) and answers
//! `If-None-Match` with 304; API answers without their own rule get `Cache-Control: public,
//! no-cache`, so phones, WeChat's browser and a CDN keep them and ask whether they changed.

use std::{sync::Arc, time::Duration};

use poem::{
    Body, Endpoint, IntoResponse, Middleware, Request, Response, Result,
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
};

use poem_openapi::OperationId;

use crate::http::error::Lang;
use crate::infra::{cache::Cache, tokens::sha256_hex};
use crate::service::changes;

/// How long a copy may be answered at most, whatever the stamp says.
const COPY_TTL: Duration = Duration::from_secs(5 * 60);

/// How much memory the copies may take.
const COPIES_BYTES: u64 = 64 * 1024 * 1024;

/// The API's cache rule for a kept answer that set none: keep it, but ask before using it.
const API_CACHE_CONTROL: &str = "public, no-cache";

/// Whether a read of `path` is kept: the same for everyone who is not signed in.
fn is_kept(path: &str) -> bool {
    let api = path.strip_prefix(crate::http::api::API_PREFIX);
    match api {
        Some(path) => {
            matches!(path, "/categories" | "/regions" | "/areas" | "/listings")
                || one_segment_after(path, "/listings/")
                || path.strip_prefix("/areas/").is_some_and(|rest| {
                    let mut parts = rest.split('/');
                    let code = parts.next().unwrap_or_default();
                    !code.is_empty()
                        && code != "lookup"
                        && matches!(parts.next(), None | Some("children" | "tree"))
                        && parts.next().is_none()
                })
        }
        None => path == "/m" || one_segment_after(path, "/m/listings/"),
    }
}

/// `path` is `prefix` and one non-empty segment.
fn one_segment_after(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
}

/// A kept answer.
struct Copy {
    stamp: Arc<str>,
    /// The API operation that made it, for the figures by route.
    operation: Option<OperationId>,
    headers: HeaderMap,
    body: bytes::Bytes,
    etag: HeaderValue,
}

/// The copies of one server, and the shared stamp.
pub struct KeepPublic {
    cache: Arc<dyn Cache>,
    copies: moka::sync::Cache<String, Arc<Copy>>,
}

impl KeepPublic {
    pub fn new(cache: Arc<dyn Cache>) -> Self {
        let copies = moka::sync::Cache::builder()
            .max_capacity(COPIES_BYTES)
            .weigher(|key: &String, copy: &Arc<Copy>| {
                u32::try_from(key.len() + copy.body.len()).unwrap_or(u32::MAX)
            })
            .time_to_live(COPY_TTL)
            .build();
        Self { cache, copies }
    }
}

impl<E: Endpoint> Middleware<E> for KeepPublic {
    type Output = KeepPublicEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        KeepPublicEndpoint {
            inner,
            cache: self.cache.clone(),
            copies: self.copies.clone(),
        }
    }
}

pub struct KeepPublicEndpoint<E> {
    inner: E,
    cache: Arc<dyn Cache>,
    copies: moka::sync::Cache<String, Arc<Copy>>,
}

impl<E: Endpoint> Endpoint for KeepPublicEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Response> {
        let method = req.method().clone();
        if method != Method::GET {
            let read_only = matches!(method, Method::HEAD | Method::OPTIONS);
            let result = self.inner.call(req).await.map(IntoResponse::into_response);
            let status = match &result {
                Ok(response) => response.status(),
                Err(e) => e.status(),
            };
            // Only a refusal surely changed nothing: a write that failed half-way may have.
            if !read_only && !status.is_client_error() {
                changes::changed(self.cache.as_ref()).await;
            }
            return result;
        }
        if !is_kept(req.uri().path()) || req.headers().contains_key(header::AUTHORIZATION) {
            return Ok(self.inner.call(req).await?.into_response());
        }
        let lang = Lang::from_accept_language(
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        );
        let key = format!(
            "{lang:?} {}",
            req.uri()
                .path_and_query()
                .map_or(req.uri().path(), |pq| pq.as_str())
        );
        let asked = req.headers().get(header::IF_NONE_MATCH).cloned();
        let stamp = changes::stamp(self.cache.as_ref()).await;
        if let Some(stamp) = &stamp
            && let Some(copy) = self.copies.get(&key)
            && copy.stamp == *stamp
        {
            return Ok(answer(&copy, asked.as_ref()));
        }
        let mut response = self.inner.call(req).await?.into_response();
        if response.status() != StatusCode::OK
            || response.headers().contains_key(header::SET_COOKIE)
        {
            return Ok(response);
        }
        let body = response.take_body().into_bytes().await?;
        let mut headers = response.headers().clone();
        if !headers.contains_key(header::CACHE_CONTROL) {
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static(API_CACHE_CONTROL),
            );
        }
        let etag = HeaderValue::from_str(&format!("W/\"{}\"", &sha256_hex(&body)[..32]))
            .expect("a hex digest is a header value");
        let copy = Arc::new(Copy {
            stamp: stamp.clone().unwrap_or_else(|| Arc::from("")),
            operation: response.data::<OperationId>().copied(),
            headers,
            body,
            etag,
        });
        if stamp.is_some() {
            self.copies.insert(key, copy.clone());
        }
        Ok(answer(&copy, asked.as_ref()))
    }
}

/// The copy as an answer: 304 when the asker holds it already.
fn answer(copy: &Copy, asked: Option<&HeaderValue>) -> Response {
    let held = asked
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| matches_etag(t.trim(), &copy.etag)));
    let mut response = if held {
        let mut response = Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .finish();
        for name in [header::CACHE_CONTROL, header::VARY] {
            if let Some(value) = copy.headers.get(&name) {
                response.headers_mut().insert(name, value.clone());
            }
        }
        response
    } else {
        let mut response = Response::builder()
            .status(StatusCode::OK)
            .body(Body::from_bytes(copy.body.clone()));
        *response.headers_mut() = copy.headers.clone();
        response
    };
    response
        .headers_mut()
        .insert(header::ETAG, copy.etag.clone());
    if let Some(operation) = copy.operation {
        response.set_data(operation);
    }
    response
}

/// Weak comparison, as `If-None-Match` asks: `W/"x"` and `"x"` name the same body.
fn matches_etag(asked: &str, etag: &HeaderValue) -> bool {
    let etag = etag.to_str().unwrap_or_default();
    asked == "*" || asked.trim_start_matches("W/") == etag.trim_start_matches("W/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_public_reads_are_kept() {
        for path in [
            "/m",
            "/m/listings/12",
            "/api/v1/categories",
            "/api/v1/regions",
            "/api/v1/areas",
            "/api/v1/areas/500235000000",
            "/api/v1/areas/500235000000/children",
            "/api/v1/areas/500235000000/tree",
            "/api/v1/listings",
            "/api/v1/listings/7",
        ] {
            assert!(is_kept(path), "{path}");
        }
        for path in [
            "/m/orders",
            "/m/listings/12/order",
            "/m/trace",
            "/api/v1/areas/lookup",
            "/api/v1/areas/500235000000/households",
            "/api/v1/listings/7/photos",
            "/api/v1/my/listings",
            "/api/v1/trace/ABC",
            "/t/ABC",
            "/f",
            "/o",
        ] {
            assert!(!is_kept(path), "{path}");
        }
    }

    #[test]
    fn a_weak_tag_matches_its_strong_form_and_the_star() {
        let etag = HeaderValue::from_static("W/\"abc\"");
        assert!(matches_etag("W/\"abc\"", &etag));
        assert!(matches_etag("\"abc\"", &etag));
        assert!(matches_etag("*", &etag));
        assert!(!matches_etag("\"abd\"", &etag));
    }
}
