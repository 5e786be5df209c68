//! The marketplace: the catalogue (public to read, county officials manage it) and listings
//! (public to browse, farmers manage their own).

use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
    types::MaybeUndefined,
};
use serde_json::json;

use super::{
    ApiTags,
    areas::parse_area_code,
    auth::BearerAuth,
    error::{ApiError, ErrorCode},
    json::JsonBody,
    mirror_enum,
    pagination::{encode_cursor, page_request},
};
use crate::{
    app::AppState,
    service::{
        market::{
            MarketError,
            catalogue::{self, CategoryFields},
            listings::{self, ListingFields, ListingFilter},
        },
        pagination::Page,
    },
};

mirror_enum! {
    /// What quantities are counted in: 斤 (half a kilogram), kg, piece or box.
    UnitView as "Unit" <=> entities::listing::Unit { Jin, Kg, Piece, Box }
}

mirror_enum! {
    /// Where a listing stands: `sold_out` follows the stock, the rest the farmer's choice.
    ListingStatusView as "ListingStatus" <=> entities::listing::ListingStatus {
        Draft, OnSale, SoldOut, OffShelf
    }
}

pub struct MarketApi;

#[OpenApi(tag = "ApiTags::Market")]
impl MarketApi {
    /// List product categories
    ///
    /// The county's goods in code order; inactive ones too with `include_inactive=true`.
    #[oai(path = "/categories", method = "get", operation_id = "list_categories")]
    async fn list_categories(
        &self,
        state: Data<&AppState>,
        include_inactive: Query<Option<bool>>,
    ) -> Result<ListCategoriesResponse, ApiError> {
        let found = catalogue::list(&state.db, include_inactive.0.unwrap_or(false)).await?;
        Ok(ListCategoriesResponse::Ok(Json(
            found.into_iter().map(Into::into).collect(),
        )))
    }

    /// Add a product category
    ///
    /// County officials and admins.
    #[oai(
        path = "/categories",
        method = "post",
        operation_id = "create_category"
    )]
    async fn create_category(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<CategoryInput>,
    ) -> Result<CreateCategoryResponse, ApiError> {
        let b = body.0;
        let fields = CategoryFields {
            code: Some(b.code),
            name_zh: Some(b.name_zh),
            name_en: Some(b.name_en),
            default_unit: Some(b.default_unit.into()),
            reference_price_fen: Some(b.reference_price_fen),
            active: b.active,
        };
        let category = catalogue::create(&state.db, &auth.0.actor, fields).await?;
        Ok(CreateCategoryResponse::Created(Json(category.into())))
    }

    /// Change a product category
    ///
    /// Names, default unit, guide price (`null` clears it) or whether new listings may use it.
    #[oai(
        path = "/categories/:id",
        method = "patch",
        operation_id = "update_category"
    )]
    async fn update_category(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        body: JsonBody<UpdateCategoryRequest>,
    ) -> Result<CategoryResponse, ApiError> {
        let b = body.0;
        let fields = CategoryFields {
            code: None,
            name_zh: b.name_zh,
            name_en: b.name_en,
            default_unit: b.default_unit.map(Into::into),
            reference_price_fen: match b.reference_price_fen {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(price) => Some(Some(price)),
            },
            active: b.active,
        };
        let category = catalogue::update(&state.db, &auth.0.actor, id.0, fields).await?;
        Ok(CategoryResponse::Ok(Json(category.into())))
    }

    /// List a product
    ///
    /// A farmer lists goods of their own household, as a draft or on sale; the village of
    /// origin is the household's.
    #[oai(path = "/listings", method = "post", operation_id = "create_listing")]
    async fn create_listing(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<ListingInput>,
    ) -> Result<CreateListingResponse, ApiError> {
        let b = body.0;
        let fields = ListingFields {
            category_id: Some(b.category_id),
            title: Some(b.title),
            description: b.description,
            price_fen: Some(b.price_fen),
            unit: b.unit.map(Into::into),
            stock: Some(b.stock),
            min_order: b.min_order,
            status: b.status.map(Into::into),
        };
        let listing = listings::create(&state.db, &auth.0.actor, fields).await?;
        Ok(CreateListingResponse::Created(Json(listing.into())))
    }

    /// Change a listing
    ///
    /// The farmer's own only: price, stock, text, or status (`on_sale`, `off_shelf`,
    /// `draft`). Emptied stock makes it `sold_out`; restocking puts it back on sale.
    #[oai(
        path = "/listings/:id",
        method = "patch",
        operation_id = "update_listing"
    )]
    async fn update_listing(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        body: JsonBody<UpdateListingRequest>,
    ) -> Result<ListingResponse, ApiError> {
        let b = body.0;
        let fields = ListingFields {
            category_id: b.category_id,
            title: b.title,
            description: b.description,
            price_fen: b.price_fen,
            unit: b.unit.map(Into::into),
            stock: b.stock,
            min_order: b.min_order,
            status: b.status.map(Into::into),
        };
        let listing = listings::update(&state.db, &auth.0.actor, id.0, fields).await?;
        Ok(ListingResponse::Ok(Json(listing.into())))
    }

    /// Browse listings
    ///
    /// What is on sale, newest first, by category, area (a village, a township or the county),
    /// price range and text, page by page. No sign-in needed.
    #[oai(path = "/listings", method = "get", operation_id = "list_listings")]
    #[allow(clippy::too_many_arguments)]
    async fn list_listings(
        &self,
        state: Data<&AppState>,
        category_id: Query<Option<i64>>,
        /// Area code: listings from villages in it.
        area_code: Query<Option<String>>,
        /// Lowest price per unit, in fen.
        min_price_fen: Query<Option<i64>>,
        /// Highest price per unit, in fen.
        max_price_fen: Query<Option<i64>>,
        /// Part of the title or description.
        q: Query<Option<String>>,
        cursor: Query<Option<String>>,
        /// Items per page, 1 to 100 (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u64>>,
    ) -> Result<ListListingsResponse, ApiError> {
        let filter = ListingFilter {
            category_id: category_id.0,
            area: area_code.0.as_deref().map(parse_area_code).transpose()?,
            min_price_fen: min_price_fen.0,
            max_price_fen: max_price_fen.0,
            text: q.0,
        };
        let page = page_request(cursor.0.as_deref(), limit.0, is_id)?;
        let found = listings::browse(&state.db, &filter, None, &page).await?;
        Ok(ListListingsResponse::Ok(Json(found.into())))
    }

    /// List my listings
    ///
    /// The signed-in farmer's own, in every status, newest first.
    #[oai(
        path = "/my/listings",
        method = "get",
        operation_id = "list_my_listings"
    )]
    async fn list_my_listings(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        cursor: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] limit: Query<Option<u64>>,
    ) -> Result<ListListingsResponse, ApiError> {
        let page = page_request(cursor.0.as_deref(), limit.0, is_id)?;
        let found = listings::browse(
            &state.db,
            &ListingFilter::default(),
            Some(&auth.0.actor),
            &page,
        )
        .await?;
        Ok(ListListingsResponse::Ok(Json(found.into())))
    }

    /// Get a listing
    ///
    /// Listings on sale or sold out, for anyone.
    #[oai(path = "/listings/:id", method = "get", operation_id = "get_listing")]
    async fn get_listing(
        &self,
        state: Data<&AppState>,
        id: Path<i64>,
    ) -> Result<ListingResponse, ApiError> {
        let listing = listings::get(&state.db, None, id.0).await?;
        Ok(ListingResponse::Ok(Json(listing.into())))
    }
}

fn is_id(key: &str) -> bool {
    key.parse::<i64>().is_ok()
}

/// A product category.
#[derive(Object)]
#[oai(rename = "Category")]
pub struct CategoryView {
    pub id: i64,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub default_unit: UnitView,
    /// A guide price per default unit, in fen.
    pub reference_price_fen: Option<i64>,
    pub active: bool,
}

impl From<entities::product_category::Model> for CategoryView {
    fn from(c: entities::product_category::Model) -> Self {
        Self {
            id: c.id,
            code: c.code,
            name_zh: c.name_zh,
            name_en: c.name_en,
            default_unit: c.default_unit.into(),
            reference_price_fen: c.reference_price_fen,
            active: c.active,
        }
    }
}

#[derive(Object)]
pub struct CategoryInput {
    /// Lower-case letters, digits and `_`.
    #[oai(validator(min_length = 1, max_length = 32))]
    pub code: String,
    #[oai(validator(min_length = 1, max_length = 32))]
    pub name_zh: String,
    #[oai(validator(min_length = 1, max_length = 32))]
    pub name_en: String,
    pub default_unit: UnitView,
    pub reference_price_fen: Option<i64>,
    pub active: Option<bool>,
}

#[derive(Object)]
pub struct UpdateCategoryRequest {
    #[oai(validator(min_length = 1, max_length = 32))]
    pub name_zh: Option<String>,
    #[oai(validator(min_length = 1, max_length = 32))]
    pub name_en: Option<String>,
    pub default_unit: Option<UnitView>,
    /// `null` clears it.
    pub reference_price_fen: MaybeUndefined<i64>,
    pub active: Option<bool>,
}

/// A listing to create.
#[derive(Object)]
pub struct ListingInput {
    pub category_id: i64,
    #[oai(validator(min_length = 1, max_length = 64))]
    pub title: String,
    #[oai(validator(max_length = 2000))]
    pub description: Option<String>,
    /// Per unit, in fen.
    pub price_fen: i64,
    /// Default: the category's unit.
    pub unit: Option<UnitView>,
    pub stock: i64,
    /// Default 1.
    pub min_order: Option<i64>,
    /// `draft` (default) or `on_sale`.
    pub status: Option<ListingStatusView>,
}

/// Listing fields to change; absent ones stay.
#[derive(Object)]
pub struct UpdateListingRequest {
    pub category_id: Option<i64>,
    #[oai(validator(min_length = 1, max_length = 64))]
    pub title: Option<String>,
    #[oai(validator(max_length = 2000))]
    pub description: Option<String>,
    pub price_fen: Option<i64>,
    pub unit: Option<UnitView>,
    pub stock: Option<i64>,
    pub min_order: Option<i64>,
    pub status: Option<ListingStatusView>,
}

/// Goods for sale.
#[derive(Object)]
#[oai(rename = "Listing")]
pub struct ListingView {
    pub id: i64,
    pub household_id: i64,
    /// The village of origin.
    pub village_code: String,
    pub category_id: i64,
    pub title: String,
    pub description: String,
    /// Per unit, in fen.
    pub price_fen: i64,
    pub unit: UnitView,
    pub stock: i64,
    pub min_order: i64,
    pub status: ListingStatusView,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<entities::listing::Model> for ListingView {
    fn from(l: entities::listing::Model) -> Self {
        Self {
            id: l.id,
            household_id: l.household_id,
            village_code: l.village_code,
            category_id: l.category_id,
            title: l.title,
            description: l.description,
            price_fen: l.price_fen,
            unit: l.unit.into(),
            stock: l.stock,
            min_order: l.min_order,
            status: l.status.into(),
            created_at: l.created_at,
            updated_at: l.updated_at,
        }
    }
}

#[derive(Object)]
#[oai(rename = "ListingPage")]
pub struct ListingPageView {
    pub items: Vec<ListingView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

impl From<Page<entities::listing::Model>> for ListingPageView {
    fn from(page: Page<entities::listing::Model>) -> Self {
        Self {
            next_cursor: page.next_after.as_deref().map(encode_cursor),
            items: page.items.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(ApiResponse)]
pub enum ListCategoriesResponse {
    /// The categories.
    #[oai(status = 200)]
    Ok(Json<Vec<CategoryView>>),
}

#[derive(ApiResponse)]
pub enum CreateCategoryResponse {
    /// The new category.
    #[oai(status = 201)]
    Created(Json<CategoryView>),
}

#[derive(ApiResponse)]
pub enum CategoryResponse {
    /// The category as it now stands.
    #[oai(status = 200)]
    Ok(Json<CategoryView>),
}

#[derive(ApiResponse)]
pub enum CreateListingResponse {
    /// The new listing.
    #[oai(status = 201)]
    Created(Json<ListingView>),
}

#[derive(ApiResponse)]
pub enum ListingResponse {
    /// The listing.
    #[oai(status = 200)]
    Ok(Json<ListingView>),
}

#[derive(ApiResponse)]
pub enum ListListingsResponse {
    /// One page of listings.
    #[oai(status = 200)]
    Ok(Json<ListingPageView>),
}

impl From<MarketError> for ApiError {
    fn from(err: MarketError) -> Self {
        match err {
            MarketError::NotFound => ErrorCode::MarketNotFound.into(),
            MarketError::Forbidden => ErrorCode::AuthForbidden.into(),
            MarketError::Invalid(reason) => {
                ApiError::new(ErrorCode::MarketInvalid).with_details(json!({ "reason": reason }))
            }
            MarketError::CategoryTaken(code) => {
                ApiError::new(ErrorCode::MarketCategoryTaken).with_details(json!({ "code": code }))
            }
            MarketError::Database(e) => ApiError::internal(e),
        }
    }
}
