//! The farmer's sales pages: the orders for their goods, with the next step each one waits for
//! (recording payment, shipping), and their household's income this year.

use crate::http::error::Lang;
use crate::http::pages::{
    farmer::listings::{failed, farmer_page, is_farmer},
    forms::yuan,
    order_steps::{StepForm, apply_step, status_name, step_forms},
    session::{PageUser, private_page, require, require_form},
    shell::see_other,
    shell::{alert, esc, lang_of, text, unit_name},
};
use crate::{
    app::AppState,
    service::{
        households::incomes,
        market::{
            listings,
            orders::{self, OrderSide, china_time},
        },
        pagination::PageRequest,
    },
};
use chrono::{Datelike, Utc};
use entities::{household_income::IncomeSource, order::OrderStatus};
use poem::{
    Request, Response, handler,
    http::StatusCode,
    web::{Data, Form, Path},
};

/// The most recent orders a farmer's page shows.
const RECENT_ORDERS: u64 = 50;

/// `GET /f/orders`: orders for the farmer's goods, newest first, each with its next steps.
#[handler]
pub async fn my_orders(state: Data<&AppState>, req: &Request) -> Response {
    let user = match require(&state, req, is_farmer).await {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    let lang = lang_of(req);
    orders_page(&state, lang, &user, None, StatusCode::OK).await
}

async fn orders_page(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    let t = |zh, en| text(lang, zh, en);
    let found = async {
        let page = orders::list(
            &state.db,
            &user.actor,
            OrderSide::Sold,
            None,
            &PageRequest::new(None, Some(RECENT_ORDERS)),
        )
        .await?;
        let ids: Vec<i64> = page.items.iter().map(|o| o.listing_id).collect();
        let titles = listings::titles(&state.db, &ids).await?;
        Ok::<_, crate::service::market::MarketError>((page.items, titles))
    };
    let (items, titles) = match found.await {
        Ok(found) => found,
        Err(e) => return failed(lang, e),
    };
    let mut body = String::with_capacity(8 * 1024);
    body.push_str(&alert(problem));
    if items.is_empty() {
        body.push_str(&format!(
            "<p class=\"note\">{}</p>",
            t("还没有订单。", "No orders yet.")
        ));
    }
    for order in &items {
        body.push_str(&format!(
            "<section class=\"card\" id=\"order-{id}\"><h2>{title} × {quantity} {unit} \
             <span class=\"{badge_class}\">{status}</span></h2>\
             <p class=\"price\" style=\"margin:0\">¥{amount}</p>\
             <p class=\"note\" style=\"margin:4px 0\">{to} {name} {phone}<br>{address}</p>\
             <p class=\"note\" style=\"margin:4px 0\">{placed} {at}</p>",
            id = order.id,
            title = esc(titles.get(&order.listing_id).map_or("", String::as_str)),
            quantity = order.quantity,
            unit = unit_name(lang, order.unit),
            badge_class = if matches!(
                order.status,
                OrderStatus::Completed | OrderStatus::Cancelled
            ) {
                "badge off"
            } else {
                "badge"
            },
            status = status_name(lang, order.status),
            amount = yuan(order.amount_fen),
            to = t("收货人", "To"),
            name = esc(&order.recipient_name),
            phone = esc(&order.recipient_phone),
            address = esc(&order.address),
            placed = t("下单于", "Placed"),
            at = china_time(order.placed_at).format("%Y-%m-%d %H:%M"),
        ));
        body.push_str(&step_forms(lang, user, order, "/f/orders"));
        body.push_str("</section>");
    }
    private_page(
        farmer_page(lang, t("我的订单", "My orders"), &body, "/f/orders"),
        status,
    )
}

/// `POST /f/orders/{id}/{action}`: takes the step, then back to the orders.
#[handler]
pub async fn take_step(
    state: Data<&AppState>,
    req: &Request,
    Path((id, action)): Path<(i64, String)>,
    Form(form): Form<StepForm>,
) -> Response {
    let user = match require_form(&state, req, is_farmer, form.csrf.as_deref()).await {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    let lang = lang_of(req);
    match apply_step(&state, req, &user, id, &action, form.reason).await {
        Ok(()) => see_other(&format!("/f/orders#order-{id}")),
        Err((problem, status)) => orders_page(&state, lang, &user, Some(&problem), status).await,
    }
}

/// `GET /f/income`: the household's income this year, by source.
#[handler]
pub async fn my_income(state: Data<&AppState>, req: &Request) -> Response {
    let user = match require(&state, req, is_farmer).await {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    let lang = lang_of(req);
    let t = |zh, en| text(lang, zh, en);
    let year = china_time(Utc::now()).year();
    let title = format!("{year} {}", t("年家庭收入", "household income"));
    let Some(household_id) = user.actor.household_id else {
        let body = format!(
            "<p class=\"note\">{}</p>",
            t(
                "您的账号还没有绑定农户，请联系村干部。",
                "Your account is not linked to a household yet; ask your village cadre."
            )
        );
        return private_page(
            farmer_page(lang, &title, &body, "/f/income"),
            StatusCode::OK,
        );
    };
    let years = match incomes::list(&state.db, &user.actor, household_id).await {
        Ok(years) => years,
        Err(e) => return failed(lang, e),
    };
    let mut body = String::new();
    match years.iter().find(|y| y.year == year) {
        None => body.push_str(&format!(
            "<p class=\"note\">{}</p>",
            t(
                "今年还没有登记收入。订单完成后，电商收入会自动记入。",
                "No income is recorded for this year yet. Completed orders add to the e-commerce income by themselves."
            )
        )),
        Some(income) => {
            body.push_str(&format!(
                "<section class=\"card\"><h2>{}</h2><div class=\"big\">¥{}</div></section><div class=\"cells\">",
                t("合计", "Total"),
                yuan(income.total_fen)
            ));
            for (source, zh, en) in [
                (IncomeSource::Wages, "工资性收入", "Wages"),
                (IncomeSource::Farming, "种养殖收入", "Farming"),
                (IncomeSource::Ecommerce, "电商销售收入", "Online sales"),
                (IncomeSource::Transfers, "转移性收入", "Transfers"),
                (IncomeSource::Other, "其他收入", "Other"),
            ] {
                body.push_str(&format!(
                    "<div class=\"cell\"><span>{}</span><span>¥{}</span></div>",
                    t(zh, en),
                    yuan(income.amount(source))
                ));
            }
            body.push_str("</div>");
            body.push_str(&format!(
                "<p class=\"note\">{}</p>",
                t(
                    "电商销售收入来自已完成的订单；其他收入由村干部登记。",
                    "Online sales come from completed orders; the rest is recorded by the village cadre."
                )
            ));
        }
    }
    private_page(
        farmer_page(lang, &title, &body, "/f/income"),
        StatusCode::OK,
    )
}
