//! The buyer's pages: browse the county's goods by category and township, open a listing, and
//! look up a code typed from a label. Server-rendered through the same services as the API.

use askama::Template;

use crate::service::trace::certificates::BasisNames;
use entities::{
    listing::{ListingStatus, Model as Listing},
    product_category::Model as Category,
};
use poem::{
    IntoResponse, Response, handler,
    http::{HeaderValue, header},
    web::{Data, Path, Query, Redirect},
};
use serde::Deserialize;

use crate::http::error::Lang;
use crate::http::pages::{
    error::{Missing, PageError},
    shell::{Frame, ShareCard, price, public, unit_name},
};
use crate::{
    app::AppState,
    domain::AreaCode,
    service::{
        areas::Area,
        market::{
            MarketError,
            storefront::{self, Browse, BrowseFilter, ListingView},
        },
    },
};

/// Listings a browse page shows.
const PAGE_SIZE: u64 = 20;

/// How long phones and proxies may keep a market page, in seconds (a listing that is not on
/// sale too).
const MARKET_MAX_AGE: u32 = 60;

/// How long they may keep the form for a typed code.
const TRACE_FORM_MAX_AGE: u32 = 300;

#[derive(Debug, Default, Deserialize)]
pub struct BrowseQuery {
    category: Option<i64>,
    /// A township's (or village's) code.
    area: Option<String>,
    cursor: Option<String>,
}

/// `/m`: what is on sale, newest first, by category and township.
#[handler]
pub async fn browse_page(
    state: Data<&AppState>,
    lang: Lang,
    Query(query): Query<BrowseQuery>,
) -> Result<Response, PageError> {
    let filter = BrowseFilter {
        category_id: query.category,
        area: query.area.as_deref().and_then(|a| AreaCode::parse(a).ok()),
        after: query.cursor,
        limit: PAGE_SIZE,
    };
    let browse = storefront::browse(&state.db, &filter)
        .await
        .map_err(|e| PageError::refused(lang, e))?;
    let page = BrowsePage {
        lang,
        category: filter.category_id,
        area: filter.area,
        browse,
    };
    public(&page, MARKET_MAX_AGE)
}

/// `/m/listings/{id}`: one listing with its photos, price, stock and origin.
#[handler]
pub async fn listing_page(
    state: Data<&AppState>,
    lang: Lang,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    match storefront::listing(&state.db, id).await {
        Ok(view) => {
            let base = state.settings.public_base_url.trim_end_matches('/');
            let share = ShareCard {
                title: view.listing.title.clone(),
                description: format!(
                    "{} · {}",
                    price(lang, view.listing.price_fen, view.listing.unit),
                    view.place
                ),
                url: format!("{base}/m/listings/{id}"),
                image: view
                    .photos
                    .first()
                    .map(|photo| format!("{base}/api/v1/photos/{photo}/240")),
            };
            public(&ListingPage { lang, view, share }, MARKET_MAX_AGE)
        }
        Err(MarketError::NotFound) => Ok(not_on_sale(lang)),
        Err(e) => Err(PageError::refused(lang, e)),
    }
}

/// A listing that is not on sale: the refusal page, which phones keep as long as a listing's.
fn not_on_sale(lang: Lang) -> Response {
    let mut page = PageError::Missing(Missing::Listing).answer(lang, Frame::market("/m"));
    page.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    page
}

#[derive(Debug, Default, Deserialize)]
pub struct CodeQuery {
    code: Option<String>,
}

/// `/m/trace`: a form for a code typed from a label; a well-formed one goes to its scan page.
#[handler]
pub async fn trace_form_page(
    state: Data<&AppState>,
    lang: Lang,
    Query(query): Query<CodeQuery>,
) -> Result<Response, PageError> {
    let typed = query
        .code
        .as_deref()
        .map(crate::http::pages::wechat::code_in_scan)
        .filter(|c| !c.is_empty());
    if let Some(code) = &typed
        && state.trace_keys.verify(code).is_ok()
    {
        return Ok(Redirect::see_other(format!("/t/{code}")).into_response());
    }
    public(&TraceFormPage { lang, typed }, TRACE_FORM_MAX_AGE)
}

/// `/m`: the category chips, the township select, the chosen township's village chips, the
/// goods and the way to the next page.
#[derive(Template)]
#[template(path = "public/browse.html")]
struct BrowsePage {
    lang: Lang,
    category: Option<i64>,
    area: Option<AreaCode>,
    browse: Browse,
}

impl BrowsePage {
    /// The area asked for.
    fn area(&self) -> Option<&str> {
        self.area.as_ref().map(AreaCode::as_str)
    }

    /// The township whose villages are offered.
    fn township(&self) -> Option<&str> {
        self.browse.township.as_ref().map(AreaCode::as_str)
    }

    /// This page of the market for a category and an area.
    fn link(&self, category: Option<i64>, area: Option<&str>) -> String {
        let mut params = Vec::new();
        if let Some(category) = category {
            params.push(format!("category={category}"));
        }
        if let Some(area) = area {
            params.push(format!("area={area}"));
        }
        if params.is_empty() {
            "/m".to_owned()
        } else {
            format!("/m?{}", params.join("&"))
        }
    }

    /// Every category, in the area asked for.
    fn all_categories(&self) -> String {
        self.link(None, self.area())
    }

    fn category_link(&self, category: &Category) -> String {
        self.link(Some(category.id), self.area())
    }

    fn is_category(&self, category: &Category) -> bool {
        self.category == Some(category.id)
    }

    fn is_township(&self, township: &Area) -> bool {
        self.township() == Some(township.code.as_str())
    }

    /// Every village of the township, in the category asked for.
    fn whole_township(&self) -> String {
        self.link(self.category, self.township())
    }

    fn is_whole_township(&self) -> bool {
        self.area() == self.township()
    }

    fn village_link(&self, village: &Area) -> String {
        self.link(self.category, Some(&village.code))
    }

    fn is_village(&self, village: &Area) -> bool {
        self.area() == Some(village.code.as_str())
    }

    fn price(&self, listing: &Listing) -> String {
        price(self.lang, listing.price_fen, listing.unit)
    }

    /// The page after this one.
    fn next_page(&self, after: &str) -> String {
        let here = self.link(self.category, self.area());
        let join = if here.contains('?') { '&' } else { '?' };
        format!("{here}{join}cursor={after}")
    }
}

/// `/m/listings/{id}`: the listing's photos, price, facts and the way to order it.
#[derive(Template)]
#[template(path = "public/listing.html")]
struct ListingPage {
    lang: Lang,
    view: ListingView,
    share: ShareCard,
}

impl ListingPage {
    fn price(&self) -> String {
        price(
            self.lang,
            self.view.listing.price_fen,
            self.view.listing.unit,
        )
    }

    fn unit(&self) -> &'static str {
        unit_name(self.lang, self.view.listing.unit)
    }

    fn on_sale(&self) -> bool {
        self.view.listing.status == ListingStatus::OnSale
    }

    fn has_description(&self) -> bool {
        !self.view.listing.description.trim().is_empty()
    }

    /// The photos after the cover.
    fn more_photos(&self) -> &[String] {
        self.view.photos.get(1..).unwrap_or_default()
    }
}

/// `/m/trace`: the code typed from a label, and what was wrong with it.
#[derive(Template)]
#[template(path = "public/trace_form.html")]
struct TraceFormPage {
    lang: Lang,
    /// What was typed, tidied, if anything.
    typed: Option<String>,
}
