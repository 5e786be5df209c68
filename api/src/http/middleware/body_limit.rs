//! Refuses request bodies above the configured size, whether the client declares the length
//! or streams the body in chunks. (poem's own `SizeLimit` demands a `Content-Length` on every
//! request, even a GET, which mobile clients do not send.)

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use futures_util::StreamExt;
use poem::{Body, Endpoint, Middleware, Request, Result, http::header};

use crate::http::error::{ApiError, ErrorCode};

#[derive(Debug, thiserror::Error)]
#[error("the request body is larger than {0} bytes")]
pub struct BodyLimitExceeded(pub usize);

pub struct BodyLimit {
    max_bytes: usize,
    /// Paths that take larger bodies (file uploads), with their own limit.
    larger: Vec<(String, usize)>,
}

impl BodyLimit {
    pub fn new(max_bytes: usize) -> Self {
        Self {
            max_bytes,
            larger: Vec::new(),
        }
    }

    /// A different limit for requests to `path`, where a `:name` segment matches any one segment.
    pub fn with_path(mut self, path: impl Into<String>, max_bytes: usize) -> Self {
        self.larger.push((path.into(), max_bytes));
        self
    }
}

impl<E: Endpoint> Middleware<E> for BodyLimit {
    type Output = BodyLimitEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        BodyLimitEndpoint {
            inner,
            max_bytes: self.max_bytes,
            larger: self.larger.clone(),
        }
    }
}

pub struct BodyLimitEndpoint<E> {
    inner: E,
    max_bytes: usize,
    larger: Vec<(String, usize)>,
}

impl<E: Endpoint> Endpoint for BodyLimitEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let path = req.uri().path();
        let max = self
            .larger
            .iter()
            .find(|(pattern, _)| path_matches(pattern, path))
            .map_or(self.max_bytes, |(_, max)| *max);
        match declared {
            Some(length) if length > max as u64 => {
                return Err(ApiError::new(ErrorCode::RequestBodyTooLarge).into());
            }
            Some(_) => {}
            None => {
                // No declared length: count the bytes as they arrive and fail the read once
                // the limit is passed. Whatever the reader makes of that failure (a JSON
                // error, a multipart error), the answer is 413.
                let exceeded = Arc::new(AtomicBool::new(false));
                let flag = exceeded.clone();
                let mut seen = 0usize;
                let stream = req.take_body().into_bytes_stream().map(move |chunk| {
                    let chunk = chunk?;
                    seen = seen.saturating_add(chunk.len());
                    if seen > max {
                        flag.store(true, Ordering::Relaxed);
                        Err(std::io::Error::other(BodyLimitExceeded(max)))
                    } else {
                        Ok(chunk)
                    }
                });
                req.set_body(Body::from_bytes_stream(stream));
                let result = self.inner.call(req).await;
                if exceeded.load(Ordering::Relaxed) {
                    return Err(ApiError::new(ErrorCode::RequestBodyTooLarge).into());
                }
                return result;
            }
        }
        self.inner.call(req).await
    }
}

fn path_matches(pattern: &str, path: &str) -> bool {
    let mut pattern = pattern.split('/');
    let mut path = path.split('/');
    loop {
        match (pattern.next(), path.next()) {
            (None, None) => return true,
            (Some(p), Some(s)) if p == s || (p.starts_with(':') && !s.is_empty()) => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::path_matches;

    #[test]
    fn a_named_segment_matches_any_one_segment() {
        assert!(path_matches(
            "/api/v1/listings/:id/photos",
            "/api/v1/listings/42/photos"
        ));
        assert!(!path_matches(
            "/api/v1/listings/:id/photos",
            "/api/v1/listings//photos"
        ));
        assert!(!path_matches(
            "/api/v1/listings/:id/photos",
            "/api/v1/listings/4/2/photos"
        ));
        assert!(path_matches(
            "/api/v1/households/import",
            "/api/v1/households/import"
        ));
        assert!(!path_matches(
            "/api/v1/households/import",
            "/api/v1/households/import/x"
        ));
    }
}
