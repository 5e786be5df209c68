//! The steps of an order as page forms, shared by the buyer's and the farmer's order pages:
//! a button for each step the user may take, and taking the step a form names.

use entities::order::{Model as Order, OrderStatus};
use poem::{Request, http::StatusCode};
use serde::Deserialize;

use super::{
    session::PageUser,
    shell::{lang_of, refusal, text},
};
use crate::http::{caller::origin, error::Lang};
use crate::{
    app::AppState,
    service::market::orders::{self, OrderAction},
};

/// A form with a button for each step the user may take on the order, posting to
/// `{prefix}/{id}/{step}`; cancelling asks why.
pub fn step_forms(lang: Lang, user: &PageUser, order: &Order, prefix: &str) -> String {
    let t = |zh, en| text(lang, zh, en);
    let mut forms = String::new();
    for action in orders::next_actions(&user.actor, order) {
        let (label, plain) = match action {
            OrderAction::Pay => (t("已收款", "Payment received"), false),
            OrderAction::Ship => (t("标记已发货", "Mark as shipped"), false),
            OrderAction::Deliver => (t("确认收货", "Delivered"), true),
            OrderAction::Complete => (t("完成订单", "Complete"), false),
            OrderAction::Cancel => (t("取消订单", "Cancel the order"), true),
        };
        let reason = if action == OrderAction::Cancel {
            format!(
                "<label for=\"reason-{id}\">{}</label><input id=\"reason-{id}\" name=\"reason\" maxlength=\"200\">",
                t("取消原因（选填）", "Why (optional)"),
                id = order.id
            )
        } else {
            String::new()
        };
        forms.push_str(&format!(
            "<form class=\"stack\" style=\"padding:0;margin:8px 0 0\" method=\"post\" action=\"{prefix}/{id}/{action}\">{csrf}{reason}\
             <button type=\"submit\"{class}>{label}</button></form>",
            id = order.id,
            action = action.name(),
            csrf = user.csrf_field(),
            class = if plain { " class=\"plain\"" } else { "" },
        ));
    }
    forms
}

/// Takes the step named in a form's path on the order, as the signed-in user.
pub async fn apply_step(
    state: &AppState,
    req: &Request,
    user: &PageUser,
    id: i64,
    step: &str,
    reason: Option<String>,
) -> Result<(), (String, StatusCode)> {
    let lang = lang_of(req);
    let Some(action) = OrderAction::from_name(step) else {
        let problem = text(lang, "没有这个操作", "There is no such step");
        return Err((problem.to_owned(), StatusCode::NOT_FOUND));
    };
    orders::act(&state.db, &user.actor, id, action, reason, &origin(req))
        .await
        .map(|_| ())
        .map_err(|e| refusal(lang, e))
}

pub fn status_name(lang: Lang, status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Placed => text(lang, "待付款", "awaiting payment"),
        OrderStatus::Paid => text(lang, "待发货", "to ship"),
        OrderStatus::Shipped => text(lang, "已发货", "shipped"),
        OrderStatus::Delivered => text(lang, "已送达", "delivered"),
        OrderStatus::Completed => text(lang, "已完成", "completed"),
        OrderStatus::Cancelled => text(lang, "已取消", "cancelled"),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct StepForm {
    pub csrf: Option<String>,
    pub reason: Option<String>,
}
