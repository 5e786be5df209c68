//! HTTP glue: parse, authorise, call one service function, map the result. Rules live in
//! `service`; this layer only translates.

pub mod areas;
pub mod audit;
pub mod auth;
pub mod body_limit;
pub mod buyer_pages;
pub mod charts;
pub mod cooperatives;
pub mod enums;
pub mod envelope;
pub mod error;
pub mod exit;
pub mod farmer_batch_pages;
pub mod farmer_pages;
pub mod farmer_sales_pages;
pub mod forms;
pub mod households;
pub mod json;
pub mod labels;
pub mod market;
pub mod market_pages;
pub mod observe;
pub mod official_pages;
pub mod official_work_pages;
pub mod ops;
pub mod order_steps;
pub mod orders;
pub mod page_auth;
pub mod pages;
pub mod pagination;
pub mod production;
pub mod rate_limit;
pub mod trace;
pub mod trace_page;
pub mod users;

use poem::{
    Endpoint, EndpointExt, Route, get,
    middleware::{Cors, SetHeader},
    post,
};
use poem_openapi::{OpenApiService, Tags};

use crate::app::AppState;
pub(crate) use crate::mirror_enum;

/// Groups of operations in the OpenAPI document.
#[derive(Tags)]
pub enum ApiTags {
    /// The area tree: county, townships and villages.
    Areas,
    /// Signing in, refreshing tokens, signing out.
    Auth,
    /// Accounts of officials and other users.
    Users,
    /// The tamper-evident record of every change.
    Audit,
    /// The registry of poor households and their members.
    Households,
    /// De-listing: assessments, exit cases and progress toward the county's goals.
    Exit,
    /// The marketplace: the county's goods and farmers' listings.
    Market,
    /// Buying: orders, delivery regions and where the county's goods sell.
    Orders,
    /// Traceability: plots, batches, trace codes and what a scan finds.
    Trace,
}

pub const API_PREFIX: &str = "/api/v1";

/// Every operation under `/api/v1`.
pub type Api = (
    areas::AreasApi,
    auth::AuthApi,
    users::UsersApi,
    households::HouseholdsApi,
    households::HouseholdChangesApi,
    exit::ExitApi,
    market::MarketApi,
    cooperatives::CooperativesApi,
    orders::OrdersApi,
    trace::TraceApi,
    labels::LabelsApi,
    production::ProductionApi,
    audit::AuditApi,
);

pub fn openapi_service() -> OpenApiService<Api, ()> {
    OpenApiService::new(
        (
            areas::AreasApi,
            auth::AuthApi,
            users::UsersApi,
            households::HouseholdsApi,
            households::HouseholdChangesApi,
            exit::ExitApi,
            market::MarketApi,
            cooperatives::CooperativesApi,
            orders::OrdersApi,
            trace::TraceApi,
            labels::LabelsApi,
            production::ProductionApi,
            audit::AuditApi,
        ),
        "shanhuo",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "山货 shanhuo: traceable mountain goods and the county's poverty-exit records. \
             Errors use one envelope, `{\"code\", \"message\", \"details\"}`; messages are \
             Chinese unless `Accept-Language` prefers English.",
    )
    .server(API_PREFIX)
}

/// The OpenAPI document as served at `/api/v1/openapi.json` and committed in
/// `mobile-contract/openapi.json`.
pub fn openapi_json() -> String {
    openapi_service().spec()
}

/// All routes with their middleware, ready to serve.
pub fn routes(state: AppState) -> impl Endpoint {
    let api = openapi_service();
    let spec = api.spec_endpoint();
    let docs = api.swagger_ui();
    let settings = state.settings.clone();
    let metrics = state.metrics.clone();

    let cors_enabled = !settings.cors_origins.is_empty();
    let cors = cors(&settings.cors_origins);

    Route::new()
        .nest(API_PREFIX, api)
        .at(format!("{API_PREFIX}/openapi.json"), spec)
        .nest("/docs", docs)
        .at("/", get(ops::index))
        .at("/t/:code", get(trace_page::trace_page))
        .at("/T/:code", get(trace_page::trace_page))
        .at("/m", get(market_pages::browse_page))
        .at("/m/listings/:id", get(market_pages::listing_page))
        .at("/m/trace", get(market_pages::trace_form_page))
        .at(
            "/m/listings/:id/order",
            get(buyer_pages::order_form_page).post(buyer_pages::place_order),
        )
        .at("/m/orders", get(buyer_pages::my_orders))
        .at("/m/orders/:id/:action", post(buyer_pages::take_step))
        .at("/login", get(page_auth::login_page).post(page_auth::login))
        .at("/login/code", post(page_auth::send_code))
        .at("/logout", post(page_auth::logout))
        .at("/f", get(farmer_pages::my_listings))
        .at(
            "/f/listings/new",
            get(farmer_pages::new_listing_page).post(farmer_pages::create_listing),
        )
        .at(
            "/f/listings/:id",
            get(farmer_pages::listing_page).post(farmer_pages::update_listing),
        )
        .at(
            "/f/listings/:id/status",
            post(farmer_pages::set_listing_status),
        )
        .at(
            "/f/listings/:id/details",
            post(farmer_pages::update_details),
        )
        .at("/f/listings/:id/photos", post(farmer_pages::add_photo))
        .at(
            "/f/batches",
            get(farmer_batch_pages::my_batches).post(farmer_batch_pages::create_batch),
        )
        .at("/f/batches/:id", get(farmer_batch_pages::batch_page))
        .at("/f/batches/:id/events", post(farmer_batch_pages::add_event))
        .at(
            "/f/batches/:id/codes",
            post(farmer_batch_pages::issue_codes),
        )
        .at(
            "/f/batches/:id/runs/:run_id/labels.pdf",
            get(farmer_batch_pages::label_sheet),
        )
        .at("/f/orders", get(farmer_sales_pages::my_orders))
        .at("/f/orders/:id/:action", post(farmer_sales_pages::take_step))
        .at("/f/income", get(farmer_sales_pages::my_income))
        .at("/o", get(official_pages::dashboard))
        .at("/o/villages", get(official_pages::village_ranking))
        .at("/o/cases", get(official_work_pages::waiting_cases))
        .at("/o/cases/:id/:action", post(official_work_pages::take_step))
        .at(
            "/o/households/:id",
            get(official_work_pages::household_page),
        )
        .at("/o/stats", get(official_work_pages::stats_page))
        .at("/healthz", get(ops::healthz))
        .at("/readyz", get(ops::readyz))
        .at("/metrics", get(ops::metrics))
        .with(rate_limit::AnonymousLimit::new(
            state.cache.clone(),
            settings.clone(),
        ))
        .data(state)
        .with(
            body_limit::BodyLimit::new(settings.body_limit_bytes)
                .with_path(
                    format!("{API_PREFIX}{}", households::IMPORT_PATH),
                    settings.import_limit_bytes,
                )
                .with_path(
                    format!("{API_PREFIX}{}", market::PHOTO_UPLOAD_PATH),
                    settings.photo_limit_bytes,
                )
                .with_path("/f/listings/new", settings.photo_limit_bytes)
                .with_path("/f/listings/:id/photos", settings.photo_limit_bytes),
        )
        // Errors become envelopes before CORS adds its headers, so browsers can read them;
        // the outer layer catches CORS's own refusals.
        .with(envelope::Envelope)
        .with_if(cors_enabled, cors)
        .with(envelope::Envelope)
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

/// The client's address: the peer's, or behind a trusted proxy the first hop it reports.
pub fn client_ip(req: &poem::Request, settings: &crate::config::Settings) -> String {
    if settings.trust_forwarded_for
        && let Some(forwarded) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| v.parse::<std::net::IpAddr>().is_ok())
    {
        return forwarded.to_owned();
    }
    req.remote_addr()
        .as_socket_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}
