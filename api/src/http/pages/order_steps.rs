//! The steps of an order on the pages, shared by the buyer's and the farmer's order pages: the
//! names of an order's states and steps for the order card (`partials/order_card.html`, one
//! form a step), and taking the step a form names.

use entities::order::{Model as Order, OrderStatus};
use poem::http::StatusCode;
use serde::Deserialize;

use super::{error::PageError, forms::yuan, shell::unit_name};
use crate::http::error::Lang;
use crate::{
    app::AppState,
    service::{
        market::orders::{self, OrderAction, china_time},
        policy::Actor,
        users::Origin,
    },
};

/// A step's form: cancelling may say why.
#[derive(Debug, Default, Deserialize)]
pub struct StepForm {
    pub reason: Option<String>,
}

/// Takes the step named in a form's path on the order, as `actor`; a refusal says why.
pub async fn take(
    state: &AppState,
    lang: Lang,
    actor: &Actor,
    id: i64,
    step: &str,
    reason: Option<String>,
    origin: &Origin,
) -> Result<(), PageError> {
    let Some(action) = OrderAction::from_name(step) else {
        return Err(PageError::Refused {
            message: lang.t("没有这个操作", "There is no such step").to_owned(),
            status: StatusCode::NOT_FOUND,
        });
    };
    orders::act(&state.db, actor, id, action, reason, origin)
        .await
        .map(|_| ())
        .map_err(|e| PageError::refused(lang, e))
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

/// A step's button.
pub fn step_name(lang: Lang, action: &OrderAction) -> &'static str {
    match action {
        OrderAction::Pay => lang.t("已收款", "Payment received"),
        OrderAction::Ship => lang.t("标记已发货", "Mark as shipped"),
        OrderAction::Deliver => lang.t("确认收货", "Delivered"),
        OrderAction::Complete => lang.t("完成订单", "Complete"),
        OrderAction::Cancel => lang.t("取消订单", "Cancel the order"),
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

/// When the order was placed, in Beijing time.
pub fn placed_at(order: &Order) -> String {
    china_time(order.placed_at)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}
