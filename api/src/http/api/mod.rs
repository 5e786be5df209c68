//! The JSON API under `/api/v1`: one module per resource area. Each `#[OpenApi]` impl is a thin
//! layer over one service function per operation; the document it describes is the mobile
//! contract.

pub mod areas;
pub mod audit;
pub mod auth;
pub mod cooperatives;
pub mod enums;
pub mod exit;
pub mod households;
pub mod json;
pub mod labels;
pub mod market;
pub mod orders;
pub mod pagination;
pub mod production;
pub mod trace;
pub mod users;

use poem_openapi::{OpenApiService, Tags};

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
