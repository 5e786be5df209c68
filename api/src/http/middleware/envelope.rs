//! Turns every error — ours, poem's, poem-openapi's — into the envelope, in the client's
//! language. Nothing leaves the server as a bare status or an HTML page.

use poem::{
    Endpoint, IntoResponse, Middleware, Request, Response, Result,
    error::{CorsError, MethodNotAllowedError, NotFoundError, ReadBodyError},
    http::header,
};
use poem_openapi::{
    OperationId,
    error::{
        AuthorizationError, ContentTypeError, ParseParamError, ParsePathError,
        ParseRequestPayloadError,
    },
};
use serde_json::json;

use super::body_limit::BodyLimitExceeded;
use crate::http::{
    error::{ApiError, ErrorCode, Lang},
    methods::{self, Allowed},
};

pub struct Envelope;

impl<E: Endpoint> Middleware<E> for Envelope {
    type Output = EnvelopeEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        EnvelopeEndpoint { inner }
    }
}

pub struct EnvelopeEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for EnvelopeEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Response> {
        let lang = Lang::from_accept_language(
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        );
        let path = req.uri().path().to_owned();
        match self.inner.call(req).await {
            Ok(output) => Ok(output.into_response()),
            Err(err) => {
                // A 405 names the methods the address takes.
                let allowed = err.is::<MethodNotAllowedError>().then(|| {
                    err.data::<Allowed>()
                        .cloned()
                        .or_else(|| methods::api_allow(&path))
                });
                let mut response = render_for(err, lang, &path);
                if let Some(Some(Allowed(allow))) = allowed
                    && let Ok(value) = header::HeaderValue::from_str(&allow)
                {
                    response.headers_mut().insert(header::ALLOW, value);
                }
                Ok(response)
            }
        }
    }
}

/// Renders any error as the envelope; server failures are logged with their whole chain.
pub fn render(err: poem::Error, lang: Lang) -> Response {
    render_for(err, lang, "")
}

/// As [`render`], for a request to `path`, so a path parameter is named as the document names it.
fn render_for(err: poem::Error, lang: Lang, path: &str) -> Response {
    let operation = err.data::<OperationId>().copied();
    let api_error = classify(err, path);
    if api_error.code.status().is_server_error() {
        tracing::error!(code = api_error.code.as_str(), cause = %api_error.cause_chain(), "request failed");
    }
    let mut response = api_error.to_response(lang);
    if let Some(operation) = operation {
        response.set_data(operation);
    }
    response
}

fn classify(err: poem::Error, path: &str) -> ApiError {
    let err = match err.downcast::<ApiError>() {
        Ok(api_error) => return api_error,
        Err(err) => err,
    };
    if let Some(e) = err.downcast_ref::<ParseParamError>() {
        return invalid_parameter(e.name, &e.reason);
    }
    if let Some(e) = err.downcast_ref::<ParsePathError>() {
        // The router numbers path parameters (`param2`); the document names them.
        let name = e
            .name
            .strip_prefix("param")
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|index| methods::api_path_parameter(path, index))
            .unwrap_or(e.name);
        return invalid_parameter(name, &e.reason);
    }
    if let Some(e) = err.downcast_ref::<ParseRequestPayloadError>() {
        return ApiError::new(ErrorCode::RequestInvalidBody)
            .with_details(json!({ "reason": e.reason }));
    }
    if let Some(e) = err.downcast_ref::<ContentTypeError>() {
        return ApiError::new(ErrorCode::RequestUnsupportedMediaType)
            .with_details(json!({ "reason": e.to_string() }));
    }
    if err.is::<AuthorizationError>() {
        return ErrorCode::AuthUnauthenticated.into();
    }
    if err.is::<NotFoundError>() {
        return ErrorCode::RouteNotFound.into();
    }
    if err.is::<MethodNotAllowedError>() {
        return ErrorCode::RouteMethodNotAllowed.into();
    }
    if err.is::<CorsError>() {
        return ErrorCode::RequestOriginNotAllowed.into();
    }
    if is_body_too_large(&err) {
        return ErrorCode::RequestBodyTooLarge.into();
    }
    let status = err.status();
    if status.is_server_error() {
        return ApiError::internal(PoemError(err.to_string()));
    }
    match status.as_u16() {
        401 => ErrorCode::AuthUnauthenticated.into(),
        404 => ErrorCode::RouteNotFound.into(),
        405 => ErrorCode::RouteMethodNotAllowed.into(),
        413 => ErrorCode::RequestBodyTooLarge.into(),
        415 => ErrorCode::RequestUnsupportedMediaType.into(),
        _ => ApiError::new(ErrorCode::RequestInvalid)
            .with_details(json!({ "reason": err.to_string() })),
    }
}

fn invalid_parameter(name: &str, reason: &str) -> ApiError {
    ApiError::new(ErrorCode::RequestInvalidParameter)
        .with_details(json!({ "parameter": name, "reason": reason }))
}

fn is_body_too_large(err: &poem::Error) -> bool {
    match err.downcast_ref::<ReadBodyError>() {
        Some(ReadBodyError::PayloadTooLarge) => true,
        Some(ReadBodyError::Io(io)) => {
            // The body stream may wrap our error in further I/O errors on its way here.
            let mut inner = io.get_ref();
            while let Some(err) = inner {
                if err.is::<BodyLimitExceeded>() {
                    return true;
                }
                inner = err
                    .downcast_ref::<std::io::Error>()
                    .and_then(|io| io.get_ref());
            }
            false
        }
        _ => false,
    }
}

/// A failure poem reported only as text, kept for the log.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct PoemError(String);
