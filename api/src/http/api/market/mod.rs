//! The marketplace: the catalogue (public to read, county officials manage it) and listings
//! (public to browse, farmers manage their own).

use poem::web::Data;
use poem_openapi::{
    ApiResponse, Multipart, Object, OpenApi,
    param::{Header, Path, Query},
    payload::{Binary, Json},
    types::{MaybeUndefined, multipart::Upload},
};

use super::{
    ApiTags,
    areas::parse_area_code,
    auth::BearerAuth,
    json::JsonBody,
    mirror_enum,
    pagination::{encode_cursor, page_request},
};
use crate::http::error::{ApiError, ErrorCode};
use crate::{
    app::AppState,
    infra::imaging::{self, Variant},
    service::{
        market::{
            MarketError,
            catalogue::{self, CategoryFields},
            listings::{self, ListingFields, ListingFilter},
            photos,
        },
        pagination::Page,
    },
};

mod views;

pub use views::*;

/// Where photos are uploaded, with a body limit of its own.
pub const PHOTO_UPLOAD_PATH: &str = "/listings/:id/photos";

/// Stored photos never change (their name is their content's hash).
const PHOTO_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

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
        /// 1 to 64 letters, digits, `-` or `_`, new for each category the client means to add:
        /// the request sent again with the same key answers what the first one made and makes
        /// nothing new; the key with another request is refused (`request.idempotency_key_reused`).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
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
        let key = idempotency_key.0.as_deref();
        let category = catalogue::create_keyed(&state.db, &auth.0.actor, fields, key).await?;
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
        /// 1 to 64 letters, digits, `-` or `_`, new for each listing the client means to make:
        /// the request sent again with the same key answers what the first one made and makes
        /// nothing new; the key with another request is refused (`request.idempotency_key_reused`).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<ListingInput>,
    ) -> Result<CreateListingResponse, ApiError> {
        let b = body.0;
        let fields = ListingFields {
            household_id: b.household_id,
            category_id: Some(b.category_id),
            title: Some(b.title),
            description: b.description,
            price_fen: Some(b.price_fen),
            unit: b.unit.map(Into::into),
            stock: Some(b.stock),
            min_order: b.min_order,
            status: b.status.map(Into::into),
        };
        let key = idempotency_key.0.as_deref();
        let listing = listings::create_keyed(&state.db, &auth.0.actor, fields, key).await?;
        Ok(CreateListingResponse::Created(Json(ListingView::new(
            listing,
            Vec::new(),
        ))))
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
            household_id: None,
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
        Ok(ListingResponse::Ok(Json(
            with_photos(&state, listing).await?,
        )))
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
        Ok(ListListingsResponse::Ok(Json(
            ListingPageView::new(&state, found).await?,
        )))
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
        Ok(ListListingsResponse::Ok(Json(
            ListingPageView::new(&state, found).await?,
        )))
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
        Ok(ListingResponse::Ok(Json(
            with_photos(&state, listing).await?,
        )))
    }

    /// Add a photo to a listing
    ///
    /// The farmer's own listing only; the multipart field `file` holds a JPEG, PNG or WebP
    /// photo (its kind is read from its bytes and must agree with its name and type). The
    /// photo is turned the way the camera held it, stripped of all metadata (GPS included)
    /// and kept as a bounded original with 720 and 240 pixel thumbnails. A listing shows up
    /// to 9; the same photo twice is kept once.
    #[oai(
        path = "/listings/:id/photos",
        method = "post",
        operation_id = "create_listing_photo"
    )]
    async fn create_listing_photo(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        /// 1 to 64 letters, digits, `-` or `_`, new for each photo the client means to make:
        /// the request sent again with the same key answers what the first one made and makes
        /// nothing new; the key with another request is refused (`request.idempotency_key_reused`).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        upload: PhotoUpload,
    ) -> Result<ListingPhotosResponse, ApiError> {
        let (bytes, declared) = upload.read().await?;
        let key = idempotency_key.0.as_deref();
        let photos = state
            .photos
            .add_to_listing_keyed(&state.db, &auth.0.actor, id.0, bytes, declared, key)
            .await?;
        Ok(ListingPhotosResponse::Created(Json(
            photos.into_iter().map(Into::into).collect(),
        )))
    }

    /// Take a photo off a listing
    ///
    /// The farmer's own listing only; answers the photos it still shows.
    #[oai(
        path = "/listings/:id/photos/:photo_id",
        method = "delete",
        operation_id = "delete_listing_photo"
    )]
    async fn delete_listing_photo(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        photo_id: Path<String>,
    ) -> Result<RemainingPhotosResponse, ApiError> {
        let photos = state
            .photos
            .remove_from_listing(&state.db, &auth.0.actor, id.0, &photo_id.0)
            .await?;
        Ok(RemainingPhotosResponse::Ok(Json(
            photos.into_iter().map(Into::into).collect(),
        )))
    }

    /// Get a photo
    ///
    /// One stored size (`original`, `720` or `240` pixels on the long side) as JPEG. A photo's
    /// id is the hash of its content, so it never changes: cache it for a year; `ETag` and
    /// `If-None-Match` spare the download.
    #[oai(path = "/photos/:id/:size", method = "get", operation_id = "get_photo")]
    async fn get_photo(
        &self,
        state: Data<&AppState>,
        id: Path<String>,
        /// `original`, `720` or `240`.
        size: Path<String>,
        #[oai(name = "If-None-Match")] if_none_match: Header<Option<String>>,
    ) -> Result<PhotoFileResponse, ApiError> {
        let variant = Variant::from_name(&size.0).ok_or(MarketError::NotFound)?;
        let etag = format!("\"{}-{}\"", id.0, variant.name());
        let cache = PHOTO_CACHE_CONTROL.to_owned();
        if if_none_match
            .0
            .as_deref()
            .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
        {
            // Only what the store holds gets an ETag, so a match means it is there.
            return Ok(PhotoFileResponse::NotModified(etag, cache));
        }
        let bytes = state.photos.read(&id.0, variant).await?;
        Ok(PhotoFileResponse::Ok(Binary(bytes.to_vec()), etag, cache))
    }
}

/// A listing as shown, with its photos.
async fn with_photos(
    state: &AppState,
    listing: entities::listing::Model,
) -> Result<ListingView, ApiError> {
    let mut photos = photos::of_listings(&state.db, &[listing.id]).await?;
    let shown = photos.remove(&listing.id).unwrap_or_default();
    Ok(ListingView::new(listing, shown))
}

fn is_id(key: &str) -> bool {
    key.parse::<i64>().is_ok()
}
