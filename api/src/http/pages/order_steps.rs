//! The steps of an order on the pages, shared by the buyer's and the farmer's order pages: the
//! names of an order's states and steps for the order card (`partials/order_card.html`, one
//! form a step), taking the step a form names, and the order list each side reads it on.

use askama::Template;
use entities::order::{Model as Order, OrderStatus};
use poem::{Request, Response, http::StatusCode};
use serde::Deserialize;

use super::{
    error::PageError,
    forms::{ItemForm, Problem, yuan},
    session::PageUser,
    shell::{private_with, see_other, unit_name},
};
use crate::http::{caller::origin, error::Lang};
use crate::{
    app::AppState,
    service::market::{
        order_book::{self, OrderCard},
        orders::{self, OrderAction, OrderSide},
        payment,
        shipping::{CARRIERS, Carrier},
    },
};

/// The most recent orders an order list shows.
const RECENT_ORDERS: u64 = 50;

/// A side's list of orders: the buyer's at `/m/orders`, the farmer's at `/f/orders`.
pub trait OrderList: Template + Sized {
    /// Whose orders: those bought or those sold.
    const SIDE: OrderSide;
    /// Where the list is, for going back to an order's card on it.
    const PATH: &'static str;

    fn new(lang: Lang, csrf: String, cards: Vec<OrderCard>, forms: SellerForms) -> Self;
}

/// What the order forms show: how the seller asks buyers to pay (and why that was refused),
/// and a refused step as it was typed, its reason beside the field of its own order's form, so
/// nothing is typed twice on a phone.
#[derive(Clone, Debug, Default)]
pub struct SellerForms {
    /// As saved, or as typed into a refused form.
    pub instructions: Option<String>,
    /// Why the payment instructions were refused.
    pub instructions_refused: Option<String>,
    /// A refused step: its order, what was typed (carrier, waybill, reason) and why.
    pub step: ItemForm,
}

impl SellerForms {
    /// The instructions as the form shows them.
    pub fn instructions(&self) -> &str {
        self.instructions.as_deref().unwrap_or_default()
    }

    /// Whether the carrier was chosen for the order's refused shipping.
    pub fn is_carrier(&self, order_id: &i64, carrier: &Carrier) -> bool {
        self.step.typed(order_id, "carrier") == carrier.code
    }

    /// The waybill number typed for the order's refused shipping.
    pub fn waybill(&self, order_id: &i64) -> &str {
        self.step.typed(order_id, "waybill")
    }

    /// The cancelling reason typed for the order's refused step.
    pub fn reason(&self, order_id: &i64) -> &str {
        self.step.typed(order_id, "reason")
    }

    /// A refused step's reason when its order is not on the list.
    pub fn stray(&self, cards: &[OrderCard]) -> Option<&str> {
        self.step.stray(cards.iter().map(|c| c.order.id))
    }
}

/// The fields of an order's step forms, that a refusal is said beside.
const STEP_FIELDS: &[&str] = &["carrier", "waybill", "reason"];

/// The signed-in user's list of orders, with what was wrong with the step just asked for.
pub async fn show<L: OrderList>(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    status: StatusCode,
    mut forms: SellerForms,
) -> Result<Response, PageError> {
    let cards = order_book::recent(&state.db, &user.actor, L::SIDE, RECENT_ORDERS)
        .await
        .map_err(|e| PageError::refused(lang, e))?;
    if L::SIDE == OrderSide::Sold && forms.instructions.is_none() {
        forms.instructions = payment::own(&state.db, &user.actor)
            .await
            .map_err(|e| PageError::refused(lang, e))?;
    }
    private_with(&L::new(lang, user.csrf(), cards, forms), status)
}

/// Takes the step a form names on order `id`, then back to its card on the list; a refused step
/// shows the list again saying why.
pub async fn take_then_show<L: OrderList>(
    state: &AppState,
    req: &Request,
    user: &PageUser,
    lang: Lang,
    (id, step): (i64, String),
    form: StepForm,
) -> Result<Response, PageError> {
    let typed = vec![
        ("carrier", form.carrier.clone().unwrap_or_default()),
        ("waybill", form.waybill.clone().unwrap_or_default()),
        ("reason", form.reason.clone().unwrap_or_default()),
    ];
    match take(state, lang, user, L::SIDE, (id, &step), form, req).await {
        Ok(()) => Ok(see_other(&format!("{}#order-{id}", L::PATH))),
        Err(refused) => {
            let (problem, status) = Problem::of(refused, STEP_FIELDS)?;
            let forms = SellerForms {
                step: ItemForm::refused(id, problem, typed),
                ..SellerForms::default()
            };
            show::<L>(state, lang, user, status, forms).await
        }
    }
}

/// A step's form: cancelling may say why; shipping names the carrier and the waybill number.
#[derive(Debug, Default, Deserialize)]
pub struct StepForm {
    pub reason: Option<String>,
    pub carrier: Option<String>,
    pub waybill: Option<String>,
}

/// Takes the step named in a form's path on the order, as `user`; a refusal says why.
async fn take(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    side: OrderSide,
    (id, step): (i64, &str),
    form: StepForm,
    req: &Request,
) -> Result<(), PageError> {
    let Some(action) = OrderAction::from_name(step) else {
        return Err(PageError::Refused {
            message: lang.t("没有这个操作", "There is no such step").to_owned(),
            status: StatusCode::NOT_FOUND,
            code: "",
        });
    };
    let taken = match (side, action) {
        // The buyer's receiving finishes the order in one press.
        (OrderSide::Bought, OrderAction::Deliver) => {
            orders::receive(&state.db, &user.actor, id, &origin(req)).await
        }
        (_, OrderAction::Ship) => {
            orders::ship(
                &state.db,
                &user.actor,
                id,
                form.carrier.as_deref().unwrap_or_default(),
                form.waybill.as_deref().unwrap_or_default(),
                &origin(req),
            )
            .await
        }
        _ => {
            orders::act(
                &state.db,
                &user.actor,
                id,
                action,
                form.reason,
                &origin(req),
            )
            .await
        }
    };
    taken.map(|_| ()).map_err(|e| PageError::refused(lang, e))
}

/// An order's state, on its card's badge.
pub fn status_name(lang: Lang, status: &OrderStatus) -> &'static str {
    match status {
        OrderStatus::Placed => lang.t("待付款", "awaiting payment"),
        OrderStatus::Paid => lang.t("待发货", "to ship"),
        OrderStatus::Shipped => lang.t("已发货", "shipped"),
        OrderStatus::Delivered => lang.t("已送达", "delivered"),
        OrderStatus::Completed => lang.t("已完成", "completed"),
        OrderStatus::Cancelled => lang.t("已取消", "cancelled"),
    }
}

/// A step's button, in the words of its reader: the seller confirms the payment and says the
/// goods are shipped or delivered; the buyer confirms receiving them.
pub fn step_name(lang: Lang, action: &OrderAction, seller: bool) -> &'static str {
    match action {
        OrderAction::Pay => lang.t("确认收款", "Payment received"),
        OrderAction::Ship => lang.t("已发货", "Shipped"),
        OrderAction::Deliver if seller => lang.t("已送达", "Delivered"),
        OrderAction::Deliver => lang.t("确认收货", "Received"),
        OrderAction::Complete => lang.t("完成订单", "Complete"),
        OrderAction::Cancel => lang.t("取消订单", "Cancel the order"),
        OrderAction::Confirm => lang.t("确认收入", "Confirm the income"),
    }
}

/// Whether a step's button is the quieter kind.
pub fn is_plain(action: &OrderAction) -> bool {
    matches!(action, OrderAction::Deliver | OrderAction::Cancel)
}

/// Whether a step's form asks why: cancelling does.
pub fn asks_why(action: &OrderAction) -> bool {
    *action == OrderAction::Cancel
}

/// Whether a step's form asks how the goods were sent: shipping does.
pub fn asks_shipment(action: &OrderAction) -> bool {
    *action == OrderAction::Ship
}

/// The carriers a seller chooses from when shipping.
pub fn carriers() -> &'static [Carrier] {
    CARRIERS
}

/// A carrier's name on the page.
pub fn carrier_name(lang: Lang, carrier: &Carrier) -> &'static str {
    lang.t(carrier.name_zh, carrier.name_en)
}

/// Whether the order has ended, done or not.
pub fn is_over(order: &Order) -> bool {
    matches!(
        order.status,
        OrderStatus::Completed | OrderStatus::Cancelled
    )
}

/// What the order comes to, in yuan: `60` or `12.50`.
pub fn amount(order: &Order) -> String {
    yuan(order.amount_fen)
}

/// The unit the order is counted in.
pub fn unit(lang: Lang, order: &Order) -> &'static str {
    unit_name(lang, order.unit)
}

/// When the order was placed, in the county's time.
pub fn placed_at(order: &Order) -> String {
    crate::domain::county_time::minute(order.placed_at)
}
