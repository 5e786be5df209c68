//! A buyer's orders from the pages: ordering a listing (signed in by texted code), and the
//! orders they placed with the steps left to them (received, completed, cancelled).

use askama::Template;
use entities::listing::{ListingStatus, Model as Listing};
use poem::{
    Request, Response, handler,
    http::StatusCode,
    web::{Data, Path},
};
use serde::Deserialize;

use crate::http::error::Lang;
use crate::http::pages::{
    error::{Missing, PageError},
    forms::{Problem, fresh_key, parse_count},
    order_steps::{self, OrderList, SellerForms, StepForm},
    session::{Buyer, PageForm, PageUser},
    shell::{Frame, price, private, private_with, see_other, unit_name},
};
use crate::{
    app::AppState,
    domain::{
        Phone,
        region::{self, City, Destination, Province},
    },
    service::market::{
        MarketError, listings,
        order_book::OrderCard,
        orders::{self, NewOrder, OrderSide},
    },
};

/// `GET /m/listings/{id}/order`: how many, and where to.
#[handler]
pub async fn order_form_page(
    state: Data<&AppState>,
    buyer: Buyer,
    lang: Lang,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let listing = orderable(&state, lang, id).await?;
    private(&OrderFormPage::new(
        lang,
        &buyer,
        listing,
        OrderDraft::default(),
        Problem::none(),
    ))
}

/// `POST /m/listings/{id}/order`: places the order and opens the buyer's orders; a refused
/// order shows the form again as it was filled in, with what was wrong.
#[handler]
pub async fn place_order(
    state: Data<&AppState>,
    buyer: Buyer,
    lang: Lang,
    Path(id): Path<i64>,
    PageForm(draft): PageForm<OrderDraft>,
) -> Result<Response, PageError> {
    let placed = match draft.order(id) {
        Ok(new) => orders::place(&state.db, &buyer.actor, new)
            .await
            .map_err(|e| PageError::refused(lang, e)),
        Err(mistake) => Err(PageError::mistake_in(mistake.field(), mistake.text(lang))),
    };
    match placed {
        Ok(placed) => Ok(see_other(&format!("/m/orders#order-{}", placed.order.id))),
        Err(refused) => {
            let (problem, status) = Problem::of(refused, ORDER_FIELDS)?;
            let listing = orderable(&state, lang, id).await?;
            let page = OrderFormPage::new(lang, &buyer, listing, draft, problem);
            private_with(&page, status)
        }
    }
}

/// `GET /m/orders`: what the buyer ordered, newest first.
#[handler]
pub async fn my_orders(
    state: Data<&AppState>,
    buyer: Buyer,
    lang: Lang,
) -> Result<Response, PageError> {
    order_steps::show::<MyOrdersPage>(&state, lang, &buyer, StatusCode::OK, SellerForms::default())
        .await
}

/// `POST /m/orders/{id}/{action}`: received, completed or cancelled by the buyer.
#[handler]
pub async fn take_step(
    state: Data<&AppState>,
    req: &Request,
    buyer: Buyer,
    lang: Lang,
    Path(step): Path<(i64, String)>,
    PageForm(form): PageForm<StepForm>,
) -> Result<Response, PageError> {
    order_steps::take_then_show::<MyOrdersPage>(&state, req, &buyer, lang, step, form).await
}

/// The listing, if it can be ordered now.
async fn orderable(state: &AppState, lang: Lang, id: i64) -> Result<Listing, PageError> {
    match listings::get(&state.db, None, id).await {
        Ok(listing) if listing.status == ListingStatus::OnSale => Ok(listing),
        Ok(_) | Err(MarketError::NotFound) => Err(PageError::Missing(Missing::Orderable)),
        Err(e) => Err(PageError::refused(lang, e)),
    }
}

/// The order form as it was filled in.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OrderDraft {
    /// The form's own key: the same form sent twice orders once.
    key: String,
    quantity: String,
    name: String,
    phone: String,
    city: String,
    address: String,
}

/// What was filled in so that the order cannot be asked for.
#[derive(Clone, Copy, Debug)]
enum Mistake {
    Quantity,
    City,
    Phone,
}

/// The fields of the order form, that a refusal is said beside.
const ORDER_FIELDS: &[&str] = &["quantity", "name", "phone", "city", "address"];

impl Mistake {
    /// The field the mistake is in.
    fn field(self) -> &'static str {
        match self {
            Self::Quantity => "quantity",
            Self::City => "city",
            Self::Phone => "phone",
        }
    }

    fn text(self, lang: Lang) -> &'static str {
        match self {
            Self::Quantity => lang.t("数量请填整数", "Give the quantity as a whole number"),
            Self::City => lang.t("请选择送到哪个城市", "Choose the city to deliver to"),
            Self::Phone => lang.t(
                "手机号是 11 位数字，以 13 到 19 开头",
                "A mobile number has 11 digits and starts with 13 to 19",
            ),
        }
    }
}

impl OrderDraft {
    /// The order this draft asks for, of listing `listing_id`.
    fn order(&self, listing_id: i64) -> Result<NewOrder, Mistake> {
        let digits: String = self.phone.chars().filter(char::is_ascii_digit).collect();
        Ok(NewOrder {
            listing_id,
            quantity: parse_count(&self.quantity).ok_or(Mistake::Quantity)?,
            destination: Destination::of_city(&self.city).map_err(|_| Mistake::City)?,
            address: self.address.clone(),
            recipient_name: self.name.clone(),
            recipient_phone: Phone::parse(&digits).map_err(|_| Mistake::Phone)?,
            idempotency_key: Some(self.key.clone()).filter(|k| !k.is_empty()),
        })
    }
}

/// `GET /m/listings/{id}/order`, and a refused order: how many, who to, and where.
#[derive(Template)]
#[template(path = "buyer/order_form.html")]
struct OrderFormPage {
    lang: Lang,
    csrf: String,
    /// A new key for each form shown: pressing "order" twice on a slow network orders once.
    key: String,
    listing: Listing,
    draft: OrderDraft,
    problem: Problem,
}

impl OrderFormPage {
    fn new(
        lang: Lang,
        buyer: &PageUser,
        listing: Listing,
        draft: OrderDraft,
        problem: Problem,
    ) -> Self {
        Self {
            lang,
            csrf: buyer.csrf(),
            key: fresh_key(),
            listing,
            draft,
            problem,
        }
    }

    fn price(&self) -> String {
        price(self.lang, self.listing.price_fen, self.listing.unit)
    }

    fn unit(&self) -> &'static str {
        unit_name(self.lang, self.listing.unit)
    }

    /// The quantity as typed, or at first the least one may order.
    fn quantity(&self) -> String {
        if self.draft.quantity.is_empty() {
            self.listing.min_order.to_string()
        } else {
            self.draft.quantity.clone()
        }
    }

    fn provinces(&self) -> Vec<&'static Province> {
        region::provinces().collect()
    }

    fn city_name(&self, city: &City) -> &'static str {
        region::name_of(city.code).unwrap_or(city.name)
    }

    fn is_chosen(&self, city: &City) -> bool {
        self.draft.city == city.code
    }
}

/// `GET /m/orders`: the buyer's orders, newest first, each with the steps left to them.
#[derive(Template)]
#[template(path = "buyer/orders.html")]
struct MyOrdersPage {
    lang: Lang,
    csrf: String,
    cards: Vec<OrderCard>,
    /// A refused step as it was typed (no seller's forms).
    forms: SellerForms,
}

impl MyOrdersPage {
    /// A refused step's reason when its order is not on the list.
    fn stray(&self) -> Option<&str> {
        self.forms.stray(&self.cards)
    }
}

impl OrderList for MyOrdersPage {
    const SIDE: OrderSide = OrderSide::Bought;
    const PATH: &'static str = "/m/orders";

    fn new(lang: Lang, csrf: String, cards: Vec<OrderCard>, forms: SellerForms) -> Self {
        Self {
            lang,
            csrf,
            cards,
            forms,
        }
    }
}
