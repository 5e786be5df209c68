//! The farmer's pages (`/f`): their goods — listing them with a photo from the phone's camera,
//! changing price and stock, taking them off the shelf — through the same services as the API.

use askama::Template;
use entities::{
    listing::{ListingStatus, Model as Listing},
    product_category::Model as Category,
};
use poem::{
    Response, handler,
    web::{Data, Path},
};
use serde::Deserialize;

use crate::http::error::Lang;
use crate::http::pages::{
    error::{Missing, PageError},
    forms::{PageUpload, Problem, Submitted, fresh_key, parse_count, parse_yuan, unit_of, yuan},
    session::{Farmer, PageForm},
    shell::{Frame, private, private_with, see_other},
};
use crate::{
    app::AppState,
    service::market::{
        MarketError, catalogue,
        goods_pages::{self, Goods, OwnListing},
        listings::{self, ListingFields},
    },
};

/// A farmer has at most this many listings on their list page.
const MY_LISTINGS: u64 = 100;

/// `GET /f`: the farmer's goods in every state, newest first.
#[handler]
pub async fn my_listings(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
) -> Result<Response, PageError> {
    let goods = goods_pages::own_goods(&state.db, &farmer.actor, MY_LISTINGS)
        .await
        .map_err(unavailable)?;
    private(&GoodsPage {
        lang,
        csrf: farmer.csrf(),
        goods,
    })
}

/// `GET /f/listings/new`: the new-listing form.
#[handler]
pub async fn new_listing_page(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
) -> Result<Response, PageError> {
    let draft = Draft {
        on_sale: true,
        ..Default::default()
    };
    let categories = catalogue::list(&state.db, false)
        .await
        .map_err(unavailable)?;
    private(&NewListingPage::new(
        lang,
        &farmer,
        categories,
        draft,
        Problem::none(),
    ))
}

/// `POST /f/listings/new`: lists the goods with their photo, or shows the form again with what
/// was wrong, as it was filled in, and nothing saved.
#[handler]
pub async fn create_listing(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
    PageUpload(mut form): PageUpload,
) -> Result<Response, PageError> {
    let photo = form.file.take().map(|file| (file.bytes, file.declared));
    let mut draft = Draft::typed(&form);
    draft.photo_chosen = photo.is_some();
    let refused = match draft.fields() {
        Err(typo) => typo.refusal(lang),
        Ok(fields) => {
            let (photos, key) = (&state.photos, form.get("key"));
            let listed =
                goods_pages::list_with_photo(&state.db, photos, &farmer.actor, fields, photo, key);
            match listed.await {
                Ok(listing) => return Ok(see_other(&format!("/f/listings/{}", listing.id))),
                Err(e) => PageError::refused(lang, e),
            }
        }
    };
    new_listing_again(&state, &farmer, lang, draft, refused).await
}

/// The fields of the new-listing form, that a refusal is said beside.
const NEW_LISTING_FIELDS: &[&str] = &[
    "photo",
    "category",
    "title",
    "price",
    "stock",
    "description",
];

/// The new-listing form again as it was filled in, saying why it was refused.
async fn new_listing_again(
    state: &AppState,
    farmer: &Farmer,
    lang: Lang,
    draft: Draft,
    refused: PageError,
) -> Result<Response, PageError> {
    let (problem, status) = Problem::of(refused, NEW_LISTING_FIELDS)?;
    let categories = catalogue::list(&state.db, false)
        .await
        .map_err(unavailable)?;
    let page = NewListingPage::new(lang, farmer, categories, draft, problem);
    private_with(&page, status)
}

/// `GET /f/listings/{id}`: one of the farmer's listings: price, stock, shelf, photos.
#[handler]
pub async fn listing_page(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let own = own_listing(&state, &farmer, id).await?;
    private(&ListingPage::new(lang, &farmer, own, Problem::none()))
}

#[derive(Debug, Default, Deserialize)]
pub struct ListingForm {
    price: Option<String>,
    stock: Option<String>,
    status: Option<String>,
    title: Option<String>,
    description: Option<String>,
}

impl ListingForm {
    /// The price typed, or the saved one on a fresh form.
    pub fn price(&self, saved: &i64) -> String {
        self.price.clone().unwrap_or_else(|| yuan(*saved))
    }

    pub fn stock(&self, saved: &i64) -> String {
        self.stock.clone().unwrap_or_else(|| saved.to_string())
    }

    pub fn title<'a>(&'a self, saved: &'a str) -> &'a str {
        self.title.as_deref().unwrap_or(saved)
    }

    pub fn description<'a>(&'a self, saved: &'a str) -> &'a str {
        self.description.as_deref().unwrap_or(saved)
    }
}

/// `POST /f/listings/{id}`: a new price and stock.
#[handler]
pub async fn update_listing(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
    Path(id): Path<i64>,
    PageForm(form): PageForm<ListingForm>,
) -> Result<Response, PageError> {
    let typed = |field: &Option<String>| field.as_deref().unwrap_or("").to_owned();
    let price = parse_yuan(&typed(&form.price)).ok_or(Typo::Price);
    let stock = parse_count(&typed(&form.stock)).ok_or(Typo::Stock);
    let fields = price.and_then(|price_fen| {
        stock.map(|stock| ListingFields {
            price_fen: Some(price_fen),
            stock: Some(stock),
            ..Default::default()
        })
    });
    change_listing(&state, &farmer, lang, id, fields, form).await
}

/// `POST /f/listings/{id}/details`: a corrected title and description.
#[handler]
pub async fn update_details(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
    Path(id): Path<i64>,
    PageForm(form): PageForm<ListingForm>,
) -> Result<Response, PageError> {
    let fields = ListingFields {
        title: Some(form.title.clone().unwrap_or_default()),
        description: Some(form.description.clone().unwrap_or_default()),
        ..Default::default()
    };
    change_listing(&state, &farmer, lang, id, Ok(fields), form).await
}

/// `POST /f/listings/{id}/status`: on or off the shelf.
#[handler]
pub async fn set_listing_status(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
    Path(id): Path<i64>,
    PageForm(form): PageForm<ListingForm>,
) -> Result<Response, PageError> {
    let status = match form.status.as_deref() {
        Some("on_sale") => Ok(ListingStatus::OnSale),
        Some("off_shelf") => Ok(ListingStatus::OffShelf),
        _ => Err(Typo::Shelf),
    };
    let fields = status.map(|status| ListingFields {
        status: Some(status),
        ..Default::default()
    });
    change_listing(&state, &farmer, lang, id, fields, ListingForm::default()).await
}

/// `POST /f/listings/{id}/photos`: one more photo.
#[handler]
pub async fn add_photo(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
    Path(id): Path<i64>,
    PageUpload(form): PageUpload,
) -> Result<Response, PageError> {
    let typed = ListingForm::default();
    let key = form.get("key").map(str::to_owned);
    let Some(file) = form.file else {
        let refused = Typo::Photo.refusal(lang);
        return listing_again(&state, &farmer, lang, id, refused, typed).await;
    };
    let (photos, key) = (&state.photos, key.as_deref());
    match photos
        .add_to_listing_keyed(&state.db, &farmer.actor, id, file.bytes, file.declared, key)
        .await
    {
        Ok(_) => Ok(see_other(&format!("/f/listings/{id}"))),
        Err(e) => {
            let refused = PageError::refused(lang, e);
            listing_again(&state, &farmer, lang, id, refused, typed).await
        }
    }
}

/// Applies a change to the farmer's own listing and goes back to it, or shows it with what was
/// wrong and nothing changed.
async fn change_listing(
    state: &AppState,
    farmer: &Farmer,
    lang: Lang,
    id: i64,
    fields: Result<ListingFields, Typo>,
    typed: ListingForm,
) -> Result<Response, PageError> {
    let refused = match fields {
        Err(typo) => typo.refusal(lang),
        Ok(fields) => match listings::update(&state.db, &farmer.actor, id, fields).await {
            Ok(_) => return Ok(see_other(&format!("/f/listings/{id}"))),
            Err(e) => PageError::refused(lang, e),
        },
    };
    listing_again(state, farmer, lang, id, refused, typed).await
}

/// The fields of the listing's forms, that a refusal is said beside.
const LISTING_FIELDS: &[&str] = &["price", "stock", "photo", "title", "description"];

/// The listing's page again, saying why a change to it was refused (a listing that is not the
/// farmer's is not found, whatever was wrong with the form).
async fn listing_again(
    state: &AppState,
    farmer: &Farmer,
    lang: Lang,
    id: i64,
    refused: PageError,
    typed: ListingForm,
) -> Result<Response, PageError> {
    let (problem, status) = Problem::of(refused, LISTING_FIELDS)?;
    let own = own_listing(state, farmer, id).await?;
    let mut page = ListingPage::new(lang, farmer, own, problem);
    page.typed = typed;
    private_with(&page, status)
}

/// The farmer's own listing; another's, or none, is not found.
async fn own_listing(state: &AppState, farmer: &Farmer, id: i64) -> Result<OwnListing, PageError> {
    match goods_pages::own_listing(&state.db, &farmer.actor, id).await {
        Ok(own) => Ok(own),
        Err(MarketError::NotFound) => Err(PageError::Missing(Missing::OwnListing)),
        Err(e) => Err(unavailable(e)),
    }
}

/// A page that could not be put together: the reader is asked to try again.
fn unavailable(e: impl Into<anyhow::Error>) -> PageError {
    PageError::Unavailable(e.into())
}

/// What a farmer typed that a listing's form cannot take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Typo {
    Category,
    Price,
    Stock,
    Shelf,
    Photo,
}

impl Typo {
    /// What to fix, as the form says it.
    fn words(self, lang: Lang) -> &'static str {
        let t = |zh, en| lang.t(zh, en);
        match self {
            Self::Category => t("请选择品类", "Choose what kind of goods these are"),
            Self::Price => t(
                "价格请填数字，例如 12.5",
                "Give the price as a number, such as 12.5",
            ),
            Self::Stock => t(
                "库存请填整数，例如 100",
                "Give the stock as a whole number, such as 100",
            ),
            Self::Shelf => t("请选择上架或下架", "Choose on or off the shelf"),
            Self::Photo => t("请先选一张照片", "Choose a photo first"),
        }
    }

    /// The field the mistake is in.
    fn field(self) -> &'static str {
        match self {
            Self::Category => "category",
            Self::Price => "price",
            Self::Stock => "stock",
            Self::Shelf => "",
            Self::Photo => "photo",
        }
    }

    fn refusal(self, lang: Lang) -> PageError {
        PageError::mistake_in(self.field(), self.words(lang))
    }
}

/// A listing's state as its badge shows it.
pub struct Badge {
    pub class: &'static str,
    pub text: &'static str,
}

/// The badge of each state: lit while buyers can see the listing.
pub fn status_badge(lang: Lang, status: ListingStatus) -> Badge {
    let (class, zh, en) = match status {
        ListingStatus::OnSale => ("badge", "在售", "on sale"),
        ListingStatus::SoldOut => ("badge off", "售罄", "sold out"),
        ListingStatus::Draft => ("badge off", "草稿", "draft"),
        ListingStatus::OffShelf => ("badge off", "已下架", "off the shelf"),
    };
    Badge {
        class,
        text: lang.t(zh, en),
    }
}

/// `GET /f`: the farmer's goods.
#[derive(Template)]
#[template(path = "farmer/goods.html")]
struct GoodsPage {
    lang: Lang,
    csrf: String,
    goods: Vec<Goods>,
}

/// What the new-listing form was filled in with, to show it again when something was wrong.
#[derive(Debug, Default)]
struct Draft {
    category: String,
    title: String,
    price: String,
    unit: String,
    stock: String,
    description: String,
    on_sale: bool,
    /// A photo was chosen: a refused form cannot keep it, and says to choose it again.
    photo_chosen: bool,
}

impl Draft {
    fn typed(form: &Submitted) -> Self {
        let text = |name| form.text(name).to_owned();
        Self {
            category: text("category"),
            title: text("title"),
            price: text("price"),
            unit: text("unit"),
            stock: text("stock"),
            description: text("description"),
            on_sale: form.get("on_sale").is_some(),
            photo_chosen: false,
        }
    }

    /// The typed values as listing fields, or what to fix first.
    fn fields(&self) -> Result<ListingFields, Typo> {
        let category_id = self.category.parse::<i64>().map_err(|_| Typo::Category)?;
        let price_fen = parse_yuan(&self.price).ok_or(Typo::Price)?;
        let stock = parse_count(&self.stock).ok_or(Typo::Stock)?;
        Ok(ListingFields {
            category_id: Some(category_id),
            title: Some(self.title.clone()),
            description: Some(self.description.clone()),
            price_fen: Some(price_fen),
            unit: unit_of(&self.unit),
            stock: Some(stock),
            status: Some(if self.on_sale {
                ListingStatus::OnSale
            } else {
                ListingStatus::Draft
            }),
            ..Default::default()
        })
    }
}

/// `GET /f/listings/new`, and a refused one as it was filled in.
#[derive(Template)]
#[template(path = "farmer/new_listing.html")]
struct NewListingPage {
    lang: Lang,
    csrf: String,
    categories: Vec<Category>,
    draft: Draft,
    problem: Problem,
    /// The form's key, new on every showing.
    key: String,
}

impl NewListingPage {
    fn new(
        lang: Lang,
        farmer: &Farmer,
        categories: Vec<Category>,
        draft: Draft,
        problem: Problem,
    ) -> Self {
        Self {
            lang,
            csrf: farmer.csrf(),
            categories,
            draft,
            problem,
            key: fresh_key(),
        }
    }

    /// Whether to ask for the photo again: one was chosen, and the browser cannot keep a file
    /// across a refused form.
    fn photo_again(&self) -> bool {
        self.draft.photo_chosen && self.problem.is_some()
    }
}

/// `GET /f/listings/{id}`, and a refused change to it.
#[derive(Template)]
#[template(path = "farmer/listing.html")]
struct ListingPage {
    lang: Lang,
    csrf: String,
    listing: Listing,
    photos: Vec<String>,
    problem: Problem,
    /// What a refused form had typed; empty on a fresh one.
    typed: ListingForm,
    /// The photo form's key, new on every showing.
    photo_key: String,
}

impl ListingPage {
    fn new(lang: Lang, farmer: &Farmer, own: OwnListing, problem: Problem) -> Self {
        Self {
            lang,
            csrf: farmer.csrf(),
            listing: own.listing,
            photos: own.photos,
            problem,
            typed: ListingForm::default(),
            photo_key: fresh_key(),
        }
    }

    /// Whether buyers can find it, so the shelf button takes it off.
    fn on_shelf(&self) -> bool {
        matches!(
            self.listing.status,
            ListingStatus::OnSale | ListingStatus::SoldOut
        )
    }
}
