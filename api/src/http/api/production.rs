//! Production statistics over HTTP: what the area's batches say it produces.

use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Query, payload::Json};

use super::{ApiTags, areas::parse_area_code, auth::BearerAuth, market::UnitView};
use crate::http::error::ApiError;
use crate::{
    app::AppState,
    service::trace::stats::{self, ProductionLine, ProductionStats},
};

pub struct ProductionApi;

#[OpenApi(tag = "ApiTags::Trace")]
impl ProductionApi {
    /// Get production statistics
    ///
    /// The recorded batches of an area the caller governs (default: their own): which
    /// township, village and plot produces what and how much, by month of harvest or making,
    /// and the totals by product; every year, or one. Each line is one product in one unit.
    #[oai(
        path = "/production/stats",
        method = "get",
        operation_id = "get_production_stats"
    )]
    async fn get_production_stats(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The county, a township or a village.
        area_code: Query<Option<String>>,
        #[oai(validator(minimum(value = "2000"), maximum(value = "2100")))] year: Query<
            Option<i32>,
        >,
    ) -> Result<ProductionStatsResponse, ApiError> {
        let area = area_code.0.as_deref().map(parse_area_code).transpose()?;
        let stats = stats::stats(&state.db, &auth.0.actor, area, year.0).await?;
        Ok(ProductionStatsResponse::Ok(Json(stats.into())))
    }
}

/// One product, in one unit, of one group.
#[derive(Object)]
#[oai(rename = "ProductionLine", skip_serializing_if_is_none)]
pub struct ProductionLineView {
    /// Area code, month (`2026-10`), plot id, or category id for the totals.
    pub key: String,
    /// The area's, plot's or product's name, or the month.
    pub name: String,
    pub category_id: i64,
    pub product: String,
    pub unit: UnitView,
    pub quantity: i64,
    pub batches: u64,
}

impl From<ProductionLine> for ProductionLineView {
    fn from(l: ProductionLine) -> Self {
        Self {
            key: l.key,
            name: l.name,
            category_id: l.category_id,
            product: l.product,
            unit: l.unit.into(),
            quantity: l.quantity,
            batches: l.batches,
        }
    }
}

/// What an area produces.
#[derive(Object)]
#[oai(rename = "ProductionStats", skip_serializing_if_is_none)]
pub struct ProductionStatsView {
    pub area_code: String,
    /// The year counted (by harvest or making date); every year when absent.
    pub year: Option<i32>,
    pub batches: u64,
    /// Households with at least one batch.
    pub households: u64,
    /// Plots with at least one batch.
    pub plots: u64,
    /// Totals by product, largest quantity first.
    pub by_category: Vec<ProductionLineView>,
    /// By area code, then largest quantity first.
    pub by_township: Vec<ProductionLineView>,
    pub by_village: Vec<ProductionLineView>,
    /// In month order.
    pub by_month: Vec<ProductionLineView>,
    /// The 100 plots with the most batches.
    pub by_plot: Vec<ProductionLineView>,
}

impl From<ProductionStats> for ProductionStatsView {
    fn from(s: ProductionStats) -> Self {
        let lines = |lines: Vec<ProductionLine>| lines.into_iter().map(Into::into).collect();
        Self {
            area_code: s.area_code,
            year: s.year,
            batches: s.batches,
            households: s.households,
            plots: s.plots,
            by_category: lines(s.by_category),
            by_township: lines(s.by_township),
            by_village: lines(s.by_village),
            by_month: lines(s.by_month),
            by_plot: lines(s.by_plot),
        }
    }
}

#[derive(ApiResponse)]
pub enum ProductionStatsResponse {
    /// The statistics.
    #[oai(status = 200)]
    Ok(Json<ProductionStatsView>),
}
