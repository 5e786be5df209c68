//! A buyer's orders from the pages: ordering a listing (signed in by texted code), and the
//! orders they placed with the steps left to them (received, completed, cancelled).

use entities::listing::ListingStatus;
use poem::{
    Request, Response, handler,
    http::StatusCode,
    web::{Data, Form, Path},
};
use rand::RngCore;
use serde::Deserialize;

use crate::http::error::Lang;
use crate::http::pages::{
    forms::{parse_count, yuan},
    order_steps::{StepForm, apply_step, status_name, step_forms},
    session::{PageUser, private_page, require, require_form},
    shell::see_other,
    shell::{alert, esc, lang_of, market_page, price, refusal, text, try_again, unit_name},
};
use crate::{
    app::AppState,
    domain::{Phone, region},
    service::{
        market::{
            MarketError, listings,
            orders::{self, NewOrder, OrderSide, china_time},
        },
        pagination::PageRequest,
    },
};

/// Anyone signed in may buy.
fn anyone(_: entities::user::Role) -> bool {
    true
}

/// What the order form was filled in with.
#[derive(Debug, Default)]
struct OrderDraft<'a> {
    quantity: &'a str,
    name: &'a str,
    phone: &'a str,
    city: &'a str,
    address: &'a str,
}

/// `GET /m/listings/{id}/order`: how many, and where to.
#[handler]
pub async fn order_form_page(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<i64>,
) -> Response {
    let user = match require(&state, req, anyone).await {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    let lang = lang_of(req);
    order_form(
        &state,
        lang,
        &user,
        id,
        &OrderDraft::default(),
        None,
        StatusCode::OK,
    )
    .await
}

async fn order_form(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    id: i64,
    draft: &OrderDraft<'_>,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    let t = |zh, en| text(lang, zh, en);
    let listing = match listings::get(&state.db, None, id).await {
        Ok(listing) if listing.status == ListingStatus::OnSale => listing,
        Ok(_) | Err(MarketError::NotFound) => {
            let body = format!(
                "<p class=\"note\">{}</p><a class=\"more\" href=\"/m\">{}</a>",
                t(
                    "这件商品现在不能下单。",
                    "This listing cannot be ordered now."
                ),
                t("去看看别的", "See what else is on sale")
            );
            return private_page(
                market_page(lang, t("不能下单", "Not on sale"), &body, "/m"),
                StatusCode::NOT_FOUND,
            );
        }
        Err(e) => return failed(lang, e),
    };
    // A new key for each form shown: pressing "order" twice on a slow network orders once.
    let mut key = [0u8; 12];
    rand::rng().fill_bytes(&mut key);
    let key: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let quantity = if draft.quantity.is_empty() {
        listing.min_order.to_string()
    } else {
        draft.quantity.to_owned()
    };
    let mut body = alert(problem);
    body.push_str(&format!(
        "<h1>{title}</h1><p class=\"price\" style=\"margin:0 4px 12px\">{price} · {stock} {in_stock}</p>\
         <form class=\"stack\" method=\"post\" action=\"/m/listings/{id}/order\">{csrf}\
         <input type=\"hidden\" name=\"key\" value=\"{key}\">\
         <label for=\"quantity\">{quantity_label}</label>\
         <input id=\"quantity\" name=\"quantity\" inputmode=\"numeric\" required value=\"{quantity}\">\
         <label for=\"name\">{name_label}</label><input id=\"name\" name=\"name\" autocomplete=\"name\" maxlength=\"32\" required value=\"{name}\">\
         <label for=\"phone\">{phone_label}</label><input id=\"phone\" name=\"phone\" type=\"tel\" autocomplete=\"tel\" inputmode=\"numeric\" required value=\"{phone}\">\
         <label for=\"city\">{city_label}</label><select id=\"city\" name=\"city\" required><option value=\"\">{choose}</option>",
        title = esc(&listing.title),
        price = price(lang, listing.price_fen, listing.unit),
        stock = listing.stock,
        in_stock = format_args!("{}{}", unit_name(lang, listing.unit), t("有货", " in stock")),
        csrf = user.csrf_field(),
        quantity_label = format_args!(
            "{}（{}，{} {}{}）",
            t("数量", "Quantity"),
            unit_name(lang, listing.unit),
            t("起订", "at least"),
            listing.min_order,
            unit_name(lang, listing.unit)
        ),
        quantity = esc(&quantity),
        name_label = t("收货人", "Recipient"),
        name = esc(draft.name),
        phone_label = t("收货人手机", "Recipient's mobile"),
        phone = esc(draft.phone),
        city_label = t("送到哪个城市", "Deliver to city"),
        choose = t("请选择", "Choose"),
    ));
    for province in region::provinces() {
        body.push_str(&format!("<optgroup label=\"{}\">", esc(province.name)));
        for city in &province.cities {
            let selected = if draft.city == city.code {
                " selected"
            } else {
                ""
            };
            body.push_str(&format!(
                "<option value=\"{}\"{selected}>{}</option>",
                city.code,
                esc(region::name_of(city.code).unwrap_or(city.name))
            ));
        }
        body.push_str("</optgroup>");
    }
    body.push_str(&format!(
        "</select><label for=\"address\">{}</label>\
         <textarea id=\"address\" name=\"address\" maxlength=\"200\" required>{}</textarea>\
         <button type=\"submit\">{}</button></form><p class=\"note\">{}</p>",
        t("详细地址", "Street address"),
        esc(draft.address),
        t("提交订单", "Place the order"),
        t(
            "下单后库存为您保留；付款方式由卖家联系您确认。",
            "The stock is kept for you once you order; the seller gets in touch about payment."
        ),
    ));
    private_page(market_page(lang, t("下单", "Order"), &body, "/m"), status)
}

#[derive(Debug, Default, Deserialize)]
pub struct OrderForm {
    csrf: Option<String>,
    key: Option<String>,
    quantity: Option<String>,
    name: Option<String>,
    phone: Option<String>,
    city: Option<String>,
    address: Option<String>,
}

/// `POST /m/listings/{id}/order`: places the order and opens the buyer's orders.
#[handler]
pub async fn place_order(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<i64>,
    Form(form): Form<OrderForm>,
) -> Response {
    let user = match require_form(&state, req, anyone, form.csrf.as_deref()).await {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    let lang = lang_of(req);
    let t = |zh: &str, en: &str| text(lang, zh, en).to_owned();
    let draft = OrderDraft {
        quantity: form.quantity.as_deref().unwrap_or(""),
        name: form.name.as_deref().unwrap_or(""),
        phone: form.phone.as_deref().unwrap_or(""),
        city: form.city.as_deref().unwrap_or(""),
        address: form.address.as_deref().unwrap_or(""),
    };
    let new = (|| {
        let digits: String = draft.phone.chars().filter(char::is_ascii_digit).collect();
        Ok::<_, String>(NewOrder {
            listing_id: id,
            quantity: parse_count(draft.quantity)
                .ok_or_else(|| t("数量请填整数", "Give the quantity as a whole number"))?,
            destination: region::Destination::of_city(draft.city)
                .map_err(|_| t("请选择送到哪个城市", "Choose the city to deliver to"))?,
            address: draft.address.to_owned(),
            recipient_name: draft.name.to_owned(),
            recipient_phone: Phone::parse(&digits).map_err(|_| {
                t(
                    "手机号是 11 位数字，以 13 到 19 开头",
                    "A mobile number has 11 digits and starts with 13 to 19",
                )
            })?,
            idempotency_key: form.key.clone().filter(|k| !k.is_empty()),
        })
    })();
    let outcome = match new {
        Ok(new) => orders::place(&state.db, &user.actor, new)
            .await
            .map_err(|e| refusal(lang, e)),
        Err(problem) => Err((problem, StatusCode::UNPROCESSABLE_ENTITY)),
    };
    match outcome {
        Ok(placed) => see_other(&format!("/m/orders#order-{}", placed.order.id)),
        Err((problem, status)) => {
            order_form(&state, lang, &user, id, &draft, Some(&problem), status).await
        }
    }
}

/// `GET /m/orders`: what the buyer ordered, newest first.
#[handler]
pub async fn my_orders(state: Data<&AppState>, req: &Request) -> Response {
    let user = match require(&state, req, anyone).await {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    orders_page(&state, lang_of(req), &user, None, StatusCode::OK).await
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
            OrderSide::Bought,
            None,
            &PageRequest::new(None, Some(50)),
        )
        .await?;
        let ids: Vec<i64> = page.items.iter().map(|o| o.listing_id).collect();
        let titles = listings::titles(&state.db, &ids).await?;
        Ok::<_, MarketError>((page.items, titles))
    };
    let (items, titles) = match found.await {
        Ok(found) => found,
        Err(e) => return failed(lang, e),
    };
    let mut body = alert(problem);
    body.push_str(&format!("<h1>{}</h1>", t("我的订单", "My orders")));
    if items.is_empty() {
        body.push_str(&format!(
            "<p class=\"note\">{}</p><a class=\"more\" href=\"/m\">{}</a>",
            t("还没有订单。", "No orders yet."),
            t("去逛逛", "See what is on sale")
        ));
    }
    for order in &items {
        body.push_str(&format!(
            "<section class=\"card\" id=\"order-{id}\"><h2><a href=\"/m/listings/{listing}\">{title}</a> × {quantity} {unit} \
             <span class=\"badge\">{status}</span></h2><p class=\"price\" style=\"margin:0\">¥{amount}</p>\
             <p class=\"note\" style=\"margin:4px 0\">{placed} {at}</p>",
            id = order.id,
            listing = order.listing_id,
            title = esc(titles.get(&order.listing_id).map_or("", String::as_str)),
            quantity = order.quantity,
            unit = unit_name(lang, order.unit),
            status = status_name(lang, order.status),
            amount = yuan(order.amount_fen),
            placed = t("下单于", "Placed"),
            at = china_time(order.placed_at).format("%Y-%m-%d %H:%M"),
        ));
        body.push_str(&step_forms(lang, user, order, "/m/orders"));
        body.push_str("</section>");
    }
    private_page(
        market_page(lang, t("我的订单", "My orders"), &body, "/m/orders"),
        status,
    )
}

/// `POST /m/orders/{id}/{action}`: received, completed or cancelled by the buyer.
#[handler]
pub async fn take_step(
    state: Data<&AppState>,
    req: &Request,
    Path((id, action)): Path<(i64, String)>,
    Form(form): Form<StepForm>,
) -> Response {
    let user = match require_form(&state, req, anyone, form.csrf.as_deref()).await {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    let lang = lang_of(req);
    match apply_step(&state, req, &user, id, &action, form.reason).await {
        Ok(()) => see_other(&format!("/m/orders#order-{id}")),
        Err((problem, status)) => orders_page(&state, lang, &user, Some(&problem), status).await,
    }
}

fn failed(lang: Lang, e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "rendering a buyer's page failed");
    private_page(
        market_page(
            lang,
            text(lang, "暂时打不开", "Not available"),
            &try_again(lang),
            "/m",
        ),
        StatusCode::SERVICE_UNAVAILABLE,
    )
}
