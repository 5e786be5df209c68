//! A request whose body was not read to its end leaves bytes on the connection that the next
//! request would be read from. The server then closes the connection; this says so in the
//! answer (`Connection: close`), so a keep-alive client opens a new one for its next request
//! instead of finding this one closed under it. Early refusals — a malformed path id, a body
//! over its limit, an unsupported type, a missing sign-in — are the usual cases.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use futures_util::StreamExt;
use poem::{
    Body, Endpoint, IntoResponse, Middleware, Request, Response, Result,
    http::{HeaderValue, header},
};

pub struct CloseUnread;

impl<E: Endpoint> Middleware<E> for CloseUnread {
    type Output = CloseUnreadEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        CloseUnreadEndpoint { inner }
    }
}

pub struct CloseUnreadEndpoint<E> {
    inner: E,
}

/// How much body a request says it carries.
enum Declared {
    Nothing,
    Length(u64),
    Chunked,
}

fn declared_body(req: &Request) -> Declared {
    let headers = req.headers();
    if headers.contains_key(header::TRANSFER_ENCODING) {
        return Declared::Chunked;
    }
    match headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        Some(0) | None => Declared::Nothing,
        Some(length) => Declared::Length(length),
    }
}

impl<E: Endpoint> Endpoint for CloseUnreadEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Response> {
        let expected = match declared_body(&req) {
            Declared::Nothing => {
                return self.inner.call(req).await.map(IntoResponse::into_response);
            }
            Declared::Length(length) => Some(length),
            Declared::Chunked => None,
        };
        let read_whole = Arc::new(AtomicBool::new(false));
        let flag = read_whole.clone();
        let mut seen = 0u64;
        let mut stream = Box::pin(req.take_body().into_bytes_stream());
        let counted = futures_util::stream::poll_fn(move |cx| {
            let next = stream.poll_next_unpin(cx);
            match &next {
                std::task::Poll::Ready(Some(Ok(chunk))) => {
                    seen = seen.saturating_add(chunk.len() as u64);
                    if expected.is_some_and(|length| seen >= length) {
                        flag.store(true, Ordering::Relaxed);
                    }
                }
                std::task::Poll::Ready(None) => flag.store(true, Ordering::Relaxed),
                _ => {}
            }
            next
        });
        req.set_body(Body::from_bytes_stream(counted));
        let mut response = match self.inner.call(req).await {
            Ok(output) => output.into_response(),
            Err(err) => err.into_response(),
        };
        if !read_whole.load(Ordering::Relaxed) {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        Ok(response)
    }
}
