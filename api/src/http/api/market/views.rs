//! What the market operations take and answer: request and response objects, their conversions
//! from and to the service's types, and each operation's responses.

use super::*;

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

/// A product category.
#[derive(Object)]
#[oai(rename = "Category", skip_serializing_if_is_none)]
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
#[oai(skip_serializing_if_is_none)]
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
#[oai(skip_serializing_if_is_none)]
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
#[oai(skip_serializing_if_is_none)]
pub struct ListingInput {
    /// For a co-operative's manager: the member household whose goods these are. A farmer
    /// lists their own household's and leaves it out.
    pub household_id: Option<i64>,
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
    /// Default 1; at most 10,000, and at most the stock.
    #[oai(validator(minimum(value = "1"), maximum(value = "10000")))]
    pub min_order: Option<i64>,
    /// `draft` (default) or `on_sale`.
    pub status: Option<ListingStatusView>,
}

/// Listing fields to change; absent ones stay.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct UpdateListingRequest {
    pub category_id: Option<i64>,
    #[oai(validator(min_length = 1, max_length = 64))]
    pub title: Option<String>,
    #[oai(validator(max_length = 2000))]
    pub description: Option<String>,
    pub price_fen: Option<i64>,
    pub unit: Option<UnitView>,
    pub stock: Option<i64>,
    /// At most 10,000, and at most the stock.
    #[oai(validator(minimum(value = "1"), maximum(value = "10000")))]
    pub min_order: Option<i64>,
    pub status: Option<ListingStatusView>,
}

/// Goods for sale.
#[derive(Object)]
#[oai(rename = "Listing", skip_serializing_if_is_none)]
pub struct ListingView {
    pub id: i64,
    /// The producing household.
    pub household_id: i64,
    /// The co-operative that sells it for the household, if one does.
    pub cooperative_id: Option<i64>,
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
    /// Cover first.
    pub photos: Vec<PhotoView>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl ListingView {
    pub(super) fn new(l: entities::listing::Model, photos: Vec<entities::photo::Model>) -> Self {
        Self {
            id: l.id,
            household_id: l.household_id,
            cooperative_id: l.cooperative_id,
            village_code: l.village_code,
            category_id: l.category_id,
            title: l.title,
            description: l.description,
            price_fen: l.price_fen,
            unit: l.unit.into(),
            stock: l.stock,
            min_order: l.min_order,
            status: l.status.into(),
            photos: photos.into_iter().map(Into::into).collect(),
            created_at: l.created_at,
            updated_at: l.updated_at,
        }
    }
}

#[derive(Object)]
#[oai(rename = "ListingPage", skip_serializing_if_is_none)]
pub struct ListingPageView {
    pub items: Vec<ListingView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

impl ListingPageView {
    pub(super) async fn new(
        state: &AppState,
        page: Page<entities::listing::Model>,
    ) -> Result<Self, ApiError> {
        let ids: Vec<i64> = page.items.iter().map(|l| l.id).collect();
        let mut photos = photos::of_listings(&state.db, &ids).await?;
        Ok(Self {
            next_cursor: page.next_after.as_deref().map(encode_cursor),
            items: page
                .items
                .into_iter()
                .map(|l| {
                    let shown = photos.remove(&l.id).unwrap_or_default();
                    ListingView::new(l, shown)
                })
                .collect(),
        })
    }
}

/// A listing's photo, in three sizes.
#[derive(Object)]
#[oai(rename = "Photo", skip_serializing_if_is_none)]
pub struct PhotoView {
    /// SHA-256 of the uploaded file.
    pub id: String,
    /// Of the stored original.
    pub width: i32,
    pub height: i32,
    /// Paths of the stored sizes, relative to the server.
    pub original_url: String,
    pub large_url: String,
    pub small_url: String,
}

impl From<entities::photo::Model> for PhotoView {
    fn from(p: entities::photo::Model) -> Self {
        let url = |variant: Variant| {
            format!(
                "{}/photos/{}/{}",
                crate::http::api::API_PREFIX,
                p.id,
                variant.name()
            )
        };
        Self {
            original_url: url(Variant::Original),
            large_url: url(Variant::Large),
            small_url: url(Variant::Small),
            id: p.id,
            width: p.width,
            height: p.height,
        }
    }
}

/// A photo upload.
#[derive(Multipart)]
#[oai(deny_unknown_fields)]
pub struct PhotoUpload {
    /// JPEG, PNG or WebP, up to the configured size (15 MB by default).
    pub file: Upload,
}

impl PhotoUpload {
    /// The bytes and the format the client claims for them.
    pub async fn read(self) -> Result<(Vec<u8>, imaging::Declared), ApiError> {
        let declared = imaging::declared_format(self.file.content_type(), self.file.file_name());
        let bytes = self
            .file
            .into_vec()
            .await
            .map_err(|_| ApiError::new(ErrorCode::RequestBodyTooLarge))?;
        Ok((bytes, declared))
    }
}

#[derive(ApiResponse)]
pub enum ListingPhotosResponse {
    /// The listing's photos, cover first, the new one among them.
    #[oai(status = 201)]
    Created(Json<Vec<PhotoView>>),
}

#[derive(ApiResponse)]
pub enum RemainingPhotosResponse {
    /// The photos the listing still shows.
    #[oai(status = 200)]
    Ok(Json<Vec<PhotoView>>),
}

#[derive(ApiResponse)]
pub enum PhotoFileResponse {
    /// The photo.
    #[oai(status = 200, content_type = "image/jpeg")]
    Ok(
        Binary<Vec<u8>>,
        #[oai(header = "ETag")] String,
        #[oai(header = "Cache-Control")] String,
    ),
    /// The copy the client holds is current.
    #[oai(status = 304)]
    NotModified(
        #[oai(header = "ETag")] String,
        #[oai(header = "Cache-Control")] String,
    ),
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
