//! HTTP glue, in three rooms: `api` (the JSON API under `/api/v1`), `pages` (the
//! server-rendered pages, by who uses them) and `middleware` (what wraps every request). Rules
//! live in `service`; this layer only translates. `pages` never reaches into `api`: what both
//! need (the caller, the scan, the error catalogue) lives here beside them.

pub mod api;
pub mod caller;
pub mod error;
pub mod methods;
pub mod middleware;
pub mod ops;
pub mod pages;

use crate::app::AppState;
use api::{API_PREFIX, openapi_service};
use methods::get;
use middleware::{
    body_limit, compress, connection, envelope, kept, key_format, observe, rate_limit,
};
use poem::{
    Endpoint, EndpointExt, IntoEndpoint, Route,
    middleware::{CookieJarManager, Cors, SetHeader},
};

/// `GET /api/v1/openapi.json`: the document, made once.
#[poem::handler]
fn openapi_document() -> poem::Response {
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    poem::Response::builder()
        .content_type("application/json; charset=utf-8")
        .body(DOCUMENT.get_or_init(api::openapi_json).clone())
}

/// All routes with their middleware, ready to serve.
pub fn routes(state: AppState) -> impl Endpoint {
    let api = openapi_service();
    let spec = get(openapi_document);
    let docs = api.swagger_ui();
    let settings = state.settings.clone();
    let metrics = state.metrics.clone();

    let cors_enabled = !settings.cors_origins.is_empty();
    let cors = cors(&settings.cors_origins);

    pages::routes(Route::new())
        .nest(
            API_PREFIX,
            api.into_endpoint().before(key_format::refuse_malformed_key),
        )
        .at(format!("{API_PREFIX}/openapi.json"), spec)
        .nest("/docs", docs)
        .at("/", get(ops::index))
        .at("/healthz", get(ops::healthz))
        .at("/readyz", get(ops::readyz))
        .at("/metrics", get(ops::metrics))
        // Inside the limit, so kept answers are counted like any other.
        .with(kept::KeepPublic::new(state.cache.clone()))
        .with(rate_limit::AnonymousLimit::new(
            state.cache.clone(),
            settings.clone(),
        ))
        .data(state)
        // Pages' refusals become pages before anything else sees them.
        .with(pages::error::PageErrors)
        .with(CookieJarManager::new())
        .with(
            body_limit::BodyLimit::new(settings.body_limit_bytes)
                .with_path(
                    format!("{API_PREFIX}{}", api::households::IMPORT_PATH),
                    settings.import_limit_bytes,
                )
                .with_path(
                    format!("{API_PREFIX}{}", api::exit::VILLAGE_IMPORT_PATH),
                    settings.import_limit_bytes,
                )
                .with_path(
                    format!("{API_PREFIX}{}", api::warnings::SECTOR_IMPORT_PATH),
                    settings.import_limit_bytes,
                )
                .with_path(
                    format!("{API_PREFIX}{}", api::market::PHOTO_UPLOAD_PATH),
                    settings.photo_limit_bytes,
                )
                .with_path(
                    format!("{API_PREFIX}{}", api::trace::DECODE_PATH),
                    settings.photo_limit_bytes,
                )
                .with_path(
                    format!("{API_PREFIX}{}", api::certificates::ISSUE_PATH),
                    settings.photo_limit_bytes,
                )
                .with_path("/f/batches/:id/certificate", settings.photo_limit_bytes)
                .with_path("/f/listings/new", settings.photo_limit_bytes)
                .with_path("/f/listings/:id/photos", settings.photo_limit_bytes)
                .with_path("/f/scan", settings.photo_limit_bytes)
                .with_path("/m/trace", settings.photo_limit_bytes),
        )
        // Errors become envelopes before CORS adds its headers, so browsers can read them;
        // the outer layer catches CORS's own refusals.
        .with(envelope::Envelope)
        .with_if(cors_enabled, cors)
        .with(envelope::Envelope)
        .with(connection::CloseUnread)
        .with(compress::Compression)
        .with(SetHeader::new().overriding("x-content-type-options", "nosniff"))
        .with(observe::Observe::new(metrics))
}

/// CORS for the configured origins; `*` allows any origin.
fn cors(origins: &[String]) -> Cors {
    let cors = Cors::new().expose_header(observe::REQUEST_ID);
    if origins.iter().any(|o| o == "*") {
        cors
    } else {
        cors.allow_origins(origins.iter().map(String::as_str))
    }
}
