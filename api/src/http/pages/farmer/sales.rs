//! The farmer's sales pages: the orders for their goods, with the next step each one waits for
//! (recording payment, shipping), and their household's income this year.

use askama::Template;
use entities::household_income::IncomeSource;
use poem::{
    Request, Response, handler,
    http::StatusCode,
    web::{Data, Path},
};
use serde::Deserialize;

use crate::http::pages::{
    error::PageError,
    forms::{Problem, yuan},
    order_steps::{self, OrderList, SellerForms, StepForm},
    session::{Farmer, PageForm},
    shell::{Frame, private, private_with, see_other},
};
use crate::http::{caller::origin, error::Lang};
use crate::{
    app::AppState,
    service::{
        households::incomes::{self, IncomeYear},
        market::{
            order_book::{self, OrderCard},
            orders::{self, OrderAction, OrderSide},
            payment,
        },
    },
};

/// `GET /f/orders`: orders for the farmer's goods, newest first, each with its next steps.
#[handler]
pub async fn my_orders(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
) -> Result<Response, PageError> {
    order_steps::show::<SalesPage>(
        &state,
        lang,
        &farmer,
        StatusCode::OK,
        SellerForms::default(),
    )
    .await
}

/// `POST /f/orders/{id}/{action}`: takes the step, then back to the orders.
#[handler]
pub async fn take_step(
    state: Data<&AppState>,
    req: &Request,
    farmer: Farmer,
    lang: Lang,
    Path(step): Path<(i64, String)>,
    PageForm(form): PageForm<StepForm>,
) -> Result<Response, PageError> {
    order_steps::take_then_show::<SalesPage>(&state, req, &farmer, lang, step, form).await
}

/// `GET /f/orders/{id}/cancel`: before a buyer's order is cancelled, the farmer says why (the
/// buyer reads it) and ticks that they mean it.
#[handler]
pub async fn cancel_page(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let card = order_card(&state, &farmer, lang, id).await?;
    private(&CancelPage::new(lang, &farmer, card, Problem::none()))
}

/// The cancel form.
#[derive(Debug, Default, Deserialize)]
pub struct CancelForm {
    reason: Option<String>,
    confirm: Option<String>,
}

impl CancelForm {
    pub fn reason(&self) -> &str {
        self.reason.as_deref().unwrap_or("")
    }
}

/// `POST /f/orders/{id}/cancel`: cancels the order with the reason, once the box is ticked;
/// otherwise the form again with the reason typed.
#[handler]
pub async fn cancel(
    state: Data<&AppState>,
    req: &Request,
    farmer: Farmer,
    lang: Lang,
    Path(id): Path<i64>,
    PageForm(form): PageForm<CancelForm>,
) -> Result<Response, PageError> {
    let refused = if form.confirm.is_none() {
        let words = lang.t(
            "请勾选“我确认取消这笔订单”，再点取消",
            "Tick the box to confirm, then press Cancel the order",
        );
        PageError::mistake_in("confirm", words)
    } else {
        let reason = form.reason();
        match orders::cancel_for_buyer(&state.db, &farmer.actor, id, reason, &origin(req)).await {
            Ok(_) => return Ok(see_other(&format!("/f/orders#order-{id}"))),
            Err(e) => PageError::refused(lang, e),
        }
    };
    let (problem, status) = Problem::of(refused, &["reason", "confirm"])?;
    let card = order_card(&state, &farmer, lang, id).await?;
    let mut page = CancelPage::new(lang, &farmer, card, problem);
    page.typed = form;
    private_with(&page, status)
}

/// One order of the farmer's sales; another's, or none, is not found.
async fn order_card(
    state: &AppState,
    farmer: &Farmer,
    lang: Lang,
    id: i64,
) -> Result<OrderCard, PageError> {
    order_book::one(&state.db, &farmer.actor, id)
        .await
        .map_err(|e| PageError::refused(lang, e))
}

/// `GET /f/orders/{id}/cancel`, and a refused cancelling with the reason typed.
#[derive(Template)]
#[template(path = "farmer/cancel_order.html")]
struct CancelPage {
    lang: Lang,
    csrf: String,
    card: OrderCard,
    problem: Problem,
    typed: CancelForm,
}

impl CancelPage {
    fn new(lang: Lang, farmer: &Farmer, card: OrderCard, problem: Problem) -> Self {
        Self {
            lang,
            csrf: farmer.csrf(),
            card,
            problem,
            typed: CancelForm::default(),
        }
    }

    /// Whether the order can still be cancelled by the seller's side.
    fn cancellable(&self) -> bool {
        self.card.steps.contains(&OrderAction::Cancel)
    }
}

/// `POST /f/payment`: how buyers pay the farmer, shown on their orders awaiting payment; then
/// back to the orders. A refused text comes back as it was typed.
#[handler]
pub async fn set_payment_instructions(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
    PageForm(form): PageForm<PaymentForm>,
) -> Result<Response, PageError> {
    match payment::set(&state.db, &farmer.actor, &form.instructions).await {
        Ok(_) => Ok(see_other("/f/orders#payment")),
        Err(refused) => match PageError::refused(lang, refused) {
            PageError::Refused {
                message, status, ..
            } => {
                let forms = SellerForms {
                    instructions: Some(form.instructions),
                    instructions_refused: Some(message),
                    ..SellerForms::default()
                };
                order_steps::show::<SalesPage>(&state, lang, &farmer, status, forms).await
            }
            failure => Err(failure),
        },
    }
}

/// The payment instructions' form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PaymentForm {
    instructions: String,
}

/// `GET /f/income`: the household's income this year, by source.
#[handler]
pub async fn my_income(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
) -> Result<Response, PageError> {
    let year = state.clock.this_year();
    let income = match farmer.actor.household_id {
        None => Income::Unlinked,
        Some(household_id) => incomes::list(&state.db, &farmer.actor, household_id)
            .await
            .map_err(|e| PageError::refused(lang, e))?
            .into_iter()
            .find(|y| y.year == year)
            .map_or(Income::Unrecorded, Income::Recorded),
    };
    let csrf = farmer.csrf();
    private(&IncomePage {
        lang,
        csrf,
        year,
        income,
    })
}

/// `GET /f/orders`: the orders for the farmer's goods, each with the steps left to them.
#[derive(Template)]
#[template(path = "farmer/orders.html")]
struct SalesPage {
    lang: Lang,
    csrf: String,
    cards: Vec<OrderCard>,
    /// How the farmer asks buyers to pay, and a refused step as it was typed.
    forms: SellerForms,
}

impl SalesPage {
    /// A refused step's reason when its order is not on the list.
    fn stray(&self) -> Option<&str> {
        self.forms.stray(&self.cards)
    }
}

impl OrderList for SalesPage {
    const SIDE: OrderSide = OrderSide::Sold;
    const PATH: &'static str = "/f/orders";

    fn new(lang: Lang, csrf: String, cards: Vec<OrderCard>, forms: SellerForms) -> Self {
        Self {
            lang,
            csrf,
            cards,
            forms,
        }
    }
}

/// What the income page has to say.
enum Income {
    /// The farmer's account is not linked to a household.
    Unlinked,
    /// Nothing recorded this year yet.
    Unrecorded,
    Recorded(IncomeYear),
}

/// `GET /f/income`: this year's income, in total and by source.
#[derive(Template)]
#[template(path = "farmer/income.html")]
struct IncomePage {
    lang: Lang,
    /// For signing out, and for the phone to know whose page this is.
    csrf: String,
    year: i32,
    income: Income,
}

/// The sources in the order the page lists them.
const SOURCES: [IncomeSource; 5] = [
    IncomeSource::Wages,
    IncomeSource::Farming,
    IncomeSource::Ecommerce,
    IncomeSource::Transfers,
    IncomeSource::Other,
];

impl IncomePage {
    fn sources(&self) -> &'static [IncomeSource] {
        &SOURCES
    }

    fn total(&self, income: &IncomeYear) -> String {
        yuan(income.total_fen)
    }

    fn amount(&self, income: &IncomeYear, source: &IncomeSource) -> String {
        yuan(income.amount(*source))
    }
}

/// What an income source is called.
fn source_name(lang: Lang, source: &IncomeSource) -> &'static str {
    match source {
        IncomeSource::Wages => lang.t("工资性收入", "Wages"),
        IncomeSource::Farming => lang.t("种养殖收入", "Farming"),
        IncomeSource::Ecommerce => lang.t("电商销售收入", "Online sales"),
        IncomeSource::Transfers => lang.t("转移性收入", "Transfers"),
        IncomeSource::Other => lang.t("其他收入", "Other"),
    }
}
