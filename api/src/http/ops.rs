//! Routes for operators and load balancers, outside the versioned API.

use poem::{
    IntoResponse, Request, Response, handler,
    http::{StatusCode, header},
    web::{Data, Json},
};
use serde_json::json;

use crate::http::{
    error::{ApiError, ErrorCode, Lang},
    pages::{public::home, shell::Frame},
};
use crate::{app::AppState, service::health};

/// What this server is and where to look next: to a browser, the front door page; to any
/// other client, the same in JSON.
#[handler]
pub fn index(req: &Request, lang: Lang) -> Response {
    if home::wants_html(req) {
        return match home::home_page(lang) {
            Ok(page) => page,
            Err(e) => e.answer(lang, Frame::market("/")),
        };
    }
    let mut resp = Json(json!({
        "name": "shanhuo",
        "version": env!("CARGO_PKG_VERSION"),
        "api": "/api/v1",
        "openapi": "/api/v1/openapi.json",
        "docs": "/docs",
    }))
    .into_response();
    resp.headers_mut()
        .insert(header::VARY, header::HeaderValue::from_static("Accept"));
    resp
}

/// The process is up. Says nothing about the database or cache, so a slow database does not
/// get healthy servers restarted.
#[handler]
pub fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// The server can answer requests: the database and the cache answer, and the file store takes
/// writes. While Redis is away the server still answers (from the database) and says it is
/// `degraded`.
#[handler]
pub async fn readyz(state: Data<&AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let readiness = health::readiness(&state.db, state.cache.as_ref(), &state.photos).await;
    let cache = match (&readiness.cache, readiness.cache_degraded) {
        (Some(e), _) => e.as_str(),
        (None, true) => "degraded",
        (None, false) => "ok",
    };
    let checks = json!({
        "database": readiness.database.as_deref().unwrap_or("ok"),
        "cache": cache,
        "storage": readiness.storage.as_deref().unwrap_or("ok"),
    });
    if readiness.is_ready() {
        let status = if readiness.cache_degraded {
            "degraded"
        } else {
            "ready"
        };
        Ok(Json(json!({ "status": status, "checks": checks })))
    } else {
        tracing::warn!(%checks, "not ready");
        Err(ApiError::new(ErrorCode::ServerNotReady).with_details(checks))
    }
}

/// Prometheus text exposition.
#[handler]
pub fn metrics(state: Data<&AppState>) -> Response {
    state
        .metrics
        .render()
        .with_status(StatusCode::OK)
        .with_header(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )
        .into_response()
}
