//! The farmer's pages (`/f`): their goods — listing them with a photo from the phone's camera,
//! changing price and stock, taking them off the shelf — through the same services as the API.

use entities::{
    listing::{ListingStatus, Model as Listing},
    user::Role,
};
use poem::{
    Request, Response, handler,
    http::StatusCode,
    web::{Data, Form, Multipart, Path},
};
use serde::Deserialize;

use crate::http::error::Lang;
use crate::http::pages::{
    forms::{Submitted, parse_count, parse_yuan, unit_of, unit_options, yuan},
    session::{PageUser, forged, private_page, require, require_form},
    shell::see_other,
    shell::{
        TabLink, alert, esc, lang_of, price, refusal, tabbed_page, text, try_again, unit_name,
    },
};
use crate::{
    app::AppState,
    service::{
        market::{
            MarketError, catalogue,
            listings::{self, ListingFields, ListingFilter},
            photos,
        },
        pagination::PageRequest,
    },
};

const FARMER_TABS: &[TabLink] = &[
    ("/f", "商品", "Goods"),
    ("/f/batches", "批次", "Batches"),
    ("/f/orders", "订单", "Orders"),
    ("/f/income", "收入", "Income"),
];

pub(super) fn is_farmer(role: Role) -> bool {
    role == Role::Farmer
}

pub(super) fn farmer_page(lang: Lang, title: &str, body: &str, current: &str) -> String {
    let body = format!("<h1>{}</h1>{body}", esc(title));
    tabbed_page(
        lang,
        text(lang, "山货 · 农户", "Shanhuo · farmer"),
        title,
        &body,
        FARMER_TABS,
        current,
    )
}

/// A farmer has at most this many listings on their list page.
const MY_LISTINGS: u64 = 100;

/// `GET /f`: the farmer's goods in every state, newest first.
#[handler]
pub async fn my_listings(state: Data<&AppState>, req: &Request) -> Response {
    let user = match require(&state, req, is_farmer).await {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    let lang = lang_of(req);
    let t = |zh, en| text(lang, zh, en);
    let found = async {
        let page = listings::browse(
            &state.db,
            &ListingFilter::default(),
            Some(&user.actor),
            &PageRequest::new(None, Some(MY_LISTINGS)),
        )
        .await?;
        let ids: Vec<i64> = page.items.iter().map(|l| l.id).collect();
        let photos = photos::of_listings(&state.db, &ids).await?;
        Ok::<_, MarketError>((page.items, photos))
    };
    let (items, photos) = match found.await {
        Ok(found) => found,
        Err(e) => return failed(lang, e),
    };
    let mut body = format!(
        "<a class=\"button\" href=\"/f/listings/new\">{}</a>",
        t("＋ 发布新商品", "+ List new goods")
    );
    if items.is_empty() {
        body.push_str(&format!(
            "<p class=\"note\">{}</p>",
            t(
                "还没有商品。拍张照片，填上价格和库存，就能上架。",
                "No goods yet. Take a photo, give a price and the stock, and they are on sale."
            )
        ));
    } else {
        body.push_str("<div class=\"cells\">");
        for listing in &items {
            let cover = photos
                .get(&listing.id)
                .and_then(|p| p.first())
                .map(|p| {
                    format!(
                        "<img src=\"/api/v1/photos/{}/240\" alt=\"\" width=\"88\" height=\"88\">",
                        esc(&p.id)
                    )
                })
                .unwrap_or_else(|| "<img alt=\"\" width=\"88\" height=\"88\">".into());
            body.push_str(&format!(
                "<a class=\"cell\" href=\"/f/listings/{id}\">{cover}<span class=\"what\"><b>{title}</b>\
                 <span class=\"price\">{price}</span><small class=\"note\">{stock_label} {stock} {unit} {badge}</small></span></a>",
                id = listing.id,
                title = esc(&listing.title),
                price = price(lang, listing.price_fen, listing.unit),
                stock_label = t("库存", "Stock"),
                stock = listing.stock,
                unit = unit_name(lang, listing.unit),
                badge = status_badge(lang, listing.status),
            ));
        }
        body.push_str("</div>");
    }
    body.push_str(&format!(
        "<form method=\"post\" action=\"/logout\" style=\"margin-top:24px\">{}\
         <button type=\"submit\" class=\"plain\" style=\"width:100%\">{}</button></form>",
        user.csrf_field(),
        t("退出登录", "Sign out")
    ));
    private_page(
        farmer_page(lang, t("我的商品", "My goods"), &body, "/f"),
        StatusCode::OK,
    )
}

fn status_badge(lang: Lang, status: ListingStatus) -> String {
    let (class, zh, en) = match status {
        ListingStatus::OnSale => ("badge", "在售", "on sale"),
        ListingStatus::SoldOut => ("badge off", "售罄", "sold out"),
        ListingStatus::Draft => ("badge off", "草稿", "draft"),
        ListingStatus::OffShelf => ("badge off", "已下架", "off the shelf"),
    };
    format!("<span class=\"{class}\">{}</span>", text(lang, zh, en))
}

/// What the new-listing form was filled in with, to show it again when something was wrong.
#[derive(Debug, Default)]
struct Draft<'a> {
    category: &'a str,
    title: &'a str,
    price: &'a str,
    unit: &'a str,
    stock: &'a str,
    description: &'a str,
    on_sale: bool,
}

/// `GET /f/listings/new`: the new-listing form.
#[handler]
pub async fn new_listing_page(state: Data<&AppState>, req: &Request) -> Response {
    let user = match require(&state, req, is_farmer).await {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    let lang = lang_of(req);
    let draft = Draft {
        on_sale: true,
        ..Default::default()
    };
    new_listing_form(&state, lang, &user, &draft, None, StatusCode::OK).await
}

/// `POST /f/listings/new`: lists the goods with their photo, or shows the form again with what
/// was wrong and nothing saved.
#[handler]
pub async fn create_listing(
    state: Data<&AppState>,
    req: &Request,
    multipart: Multipart,
) -> Response {
    let user = match require(&state, req, is_farmer).await {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    let lang = lang_of(req);
    let Ok(mut form) = Submitted::read(multipart, "photo").await else {
        return bad_form(lang);
    };
    if !user.accepts(req, form.get("csrf")) {
        return forged(lang);
    }
    let photo = form.file.take();
    let draft = Draft {
        category: form.text("category"),
        title: form.text("title"),
        price: form.text("price"),
        unit: form.text("unit"),
        stock: form.text("stock"),
        description: form.text("description"),
        on_sale: form.get("on_sale").is_some(),
    };
    let fields = match listing_fields(lang, &draft) {
        Ok(fields) => fields,
        Err(problem) => {
            return new_listing_form(
                &state,
                lang,
                &user,
                &draft,
                Some(&problem),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let created = async {
        let mut stored = Vec::new();
        if let Some(file) = photo {
            stored.push(
                state
                    .photos
                    .store(&state.db, &user.actor, file.bytes, file.declared)
                    .await?,
            );
        }
        listings::create_with_photos(&state.db, &user.actor, fields, &stored).await
    };
    match created.await {
        Ok(listing) => see_other(&format!("/f/listings/{}", listing.id)),
        Err(e) => {
            let (problem, status) = refusal(lang, e);
            new_listing_form(&state, lang, &user, &draft, Some(&problem), status).await
        }
    }
}

/// The form's typed values as listing fields, or what to fix first.
fn listing_fields(lang: Lang, draft: &Draft<'_>) -> Result<ListingFields, String> {
    let t = |zh: &str, en: &str| text(lang, zh, en).to_owned();
    let category_id = draft
        .category
        .parse::<i64>()
        .map_err(|_| t("请选择品类", "Choose what kind of goods these are"))?;
    let price_fen = parse_yuan(draft.price).ok_or_else(|| {
        t(
            "价格请填数字，例如 12.5",
            "Give the price as a number, such as 12.5",
        )
    })?;
    let stock = parse_count(draft.stock).ok_or_else(|| {
        t(
            "库存请填整数，例如 100",
            "Give the stock as a whole number, such as 100",
        )
    })?;
    Ok(ListingFields {
        category_id: Some(category_id),
        title: Some(draft.title.to_owned()),
        description: Some(draft.description.to_owned()),
        price_fen: Some(price_fen),
        unit: unit_of(draft.unit),
        stock: Some(stock),
        status: Some(if draft.on_sale {
            ListingStatus::OnSale
        } else {
            ListingStatus::Draft
        }),
        ..Default::default()
    })
}

async fn new_listing_form(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    draft: &Draft<'_>,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    let t = |zh, en| text(lang, zh, en);
    let categories = match catalogue::list(&state.db, false).await {
        Ok(categories) => categories,
        Err(e) => return failed(lang, e),
    };
    let mut body = String::with_capacity(4096);
    body.push_str(&alert(problem));
    body.push_str(&format!(
        "<form class=\"stack\" method=\"post\" action=\"/f/listings/new\" enctype=\"multipart/form-data\">{csrf}\
         <label for=\"photo\">{photo}</label>\
         <input id=\"photo\" name=\"photo\" type=\"file\" accept=\"image/*\" capture=\"environment\" style=\"padding:8px 10px\">\
         <label for=\"category\">{kind}</label><select id=\"category\" name=\"category\" required>\
         <option value=\"\">{choose}</option>",
        csrf = user.csrf_field(),
        photo = t("照片（用手机拍一张）", "Photo (take one with your phone)"),
        kind = t("品类", "Kind of goods"),
        choose = t("请选择", "Choose"),
    ));
    for c in &categories {
        let selected = if draft.category == c.id.to_string() {
            " selected"
        } else {
            ""
        };
        let name = match lang {
            Lang::Zh => &c.name_zh,
            Lang::En => &c.name_en,
        };
        body.push_str(&format!(
            "<option value=\"{}\"{selected}>{}</option>",
            c.id,
            esc(name)
        ));
    }
    body.push_str(&format!(
        "</select><label for=\"title\">{title_label}</label>\
         <input id=\"title\" name=\"title\" maxlength=\"64\" required placeholder=\"{title_hint}\" value=\"{title}\">\
         <div class=\"row\"><span><label for=\"price\">{price_label}</label>\
         <input id=\"price\" name=\"price\" inputmode=\"decimal\" required style=\"width:100%;box-sizing:border-box\" value=\"{price}\"></span>\
         <span><label for=\"unit\">{unit_label}</label><select id=\"unit\" name=\"unit\" style=\"width:100%\">",
        title_label = t("名称", "Title"),
        title_hint = t("例如：高山红薯粉条 5斤装", "e.g. Highland sweet-potato vermicelli, 5 jin"),
        title = esc(draft.title),
        price_label = t("价格（元）", "Price (yuan)"),
        price = esc(draft.price),
        unit_label = t("每", "Per"),
    ));
    // Left alone, the unit is the one the kind of goods is usually sold by.
    body.push_str(&unit_options(lang, t("按品类", "Usual unit"), draft.unit));
    body.push_str(&format!(
        "</select></span></div>\
         <label for=\"stock\">{stock_label}</label>\
         <input id=\"stock\" name=\"stock\" inputmode=\"numeric\" required value=\"{stock}\">\
         <label for=\"description\">{about_label}</label>\
         <textarea id=\"description\" name=\"description\" maxlength=\"2000\">{about}</textarea>\
         <label style=\"display:flex;gap:8px;align-items:center\"><input type=\"checkbox\" name=\"on_sale\" value=\"1\"{checked} style=\"min-height:24px;width:24px\">{on_sale}</label>\
         <button type=\"submit\">{save}</button></form>",
        stock_label = t("库存", "In stock"),
        stock = esc(draft.stock),
        about_label = t("介绍（选填）", "About (optional)"),
        about = esc(draft.description),
        checked = if draft.on_sale { " checked" } else { "" },
        on_sale = t("马上上架", "Put on sale now"),
        save = t("发布", "List"),
    ));
    private_page(
        farmer_page(lang, t("发布新商品", "List new goods"), &body, "/f"),
        status,
    )
}

/// The farmer's own listing, or the answer to send instead.
async fn own_listing(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    id: i64,
) -> Result<Listing, Response> {
    match listings::get(&state.db, Some(&user.actor), id).await {
        Ok(listing) if listings::owns(&user.actor, &listing) => Ok(listing),
        Ok(_) | Err(MarketError::NotFound) => Err(private_page(
            farmer_page(
                lang,
                text(lang, "找不到商品", "Not found"),
                &format!(
                    "<p class=\"note\">{}</p><a class=\"more\" href=\"/f\">{}</a>",
                    text(lang, "没有这件商品。", "There is no such listing of yours."),
                    text(lang, "回到我的商品", "Back to my goods")
                ),
                "/f",
            ),
            StatusCode::NOT_FOUND,
        )),
        Err(e) => Err(failed(lang, e)),
    }
}

/// `GET /f/listings/{id}`: one of the farmer's listings: price, stock, shelf, photos.
#[handler]
pub async fn listing_page(state: Data<&AppState>, req: &Request, Path(id): Path<i64>) -> Response {
    let user = match require(&state, req, is_farmer).await {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    let lang = lang_of(req);
    match own_listing(&state, lang, &user, id).await {
        Ok(listing) => listing_form(&state, lang, &user, &listing, None, StatusCode::OK).await,
        Err(answer) => answer,
    }
}

async fn listing_form(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    listing: &Listing,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    let t = |zh, en| text(lang, zh, en);
    let pictures = match photos::of_listings(&state.db, &[listing.id]).await {
        Ok(mut found) => found.remove(&listing.id).unwrap_or_default(),
        Err(e) => return failed(lang, e),
    };
    let mut body = String::with_capacity(4096);
    body.push_str(&alert(problem));
    body.push_str(&format!(
        "<p style=\"margin:0 4px 12px\">{} <a href=\"/m/listings/{}\">{}</a></p>",
        status_badge(lang, listing.status),
        listing.id,
        t("买家看到的样子", "As buyers see it")
    ));
    if !pictures.is_empty() {
        body.push_str("<div class=\"chips\">");
        for photo in &pictures {
            body.push_str(&format!(
                "<img src=\"/api/v1/photos/{}/240\" alt=\"\" width=\"88\" height=\"88\" style=\"border-radius:4px\">",
                esc(&photo.id)
            ));
        }
        body.push_str("</div>");
    }
    let unit = unit_name(lang, listing.unit);
    let price_label = format!("{}（{}/{unit}）", t("价格", "Price"), t("元", "yuan"));
    let stock_label = format!("{}（{unit}）", t("库存", "In stock"));
    body.push_str(&format!(
        "<form class=\"stack\" method=\"post\" action=\"/f/listings/{id}\">{csrf}\
         <div class=\"row\"><span><label for=\"price\">{price_label}</label>\
         <input id=\"price\" name=\"price\" inputmode=\"decimal\" required style=\"width:100%;box-sizing:border-box\" value=\"{price}\"></span>\
         <span><label for=\"stock\">{stock_label}</label>\
         <input id=\"stock\" name=\"stock\" inputmode=\"numeric\" required style=\"width:100%;box-sizing:border-box\" value=\"{stock}\"></span></div>\
         <button type=\"submit\">{save}</button></form>",
        id = listing.id,
        csrf = user.csrf_field(),
        price = yuan(listing.price_fen),
        stock = listing.stock,
        save = t("保存价格和库存", "Save price and stock"),
    ));
    let (next_status, shelf_label) = match listing.status {
        ListingStatus::OnSale | ListingStatus::SoldOut => {
            ("off_shelf", t("下架", "Take off the shelf"))
        }
        ListingStatus::Draft | ListingStatus::OffShelf => ("on_sale", t("上架", "Put on sale")),
    };
    body.push_str(&format!(
        "<form class=\"stack\" method=\"post\" action=\"/f/listings/{id}/status\">{csrf}\
         <input type=\"hidden\" name=\"status\" value=\"{next_status}\">\
         <button type=\"submit\" class=\"plain\">{shelf_label}</button></form>\
         <form class=\"stack\" method=\"post\" action=\"/f/listings/{id}/photos\" enctype=\"multipart/form-data\">{csrf}\
         <label for=\"photo\">{add_label}</label>\
         <input id=\"photo\" name=\"photo\" type=\"file\" accept=\"image/*\" capture=\"environment\" required style=\"padding:8px 10px\">\
         <button type=\"submit\" class=\"plain\">{add}</button></form>",
        id = listing.id,
        csrf = user.csrf_field(),
        add_label = t("再加一张照片", "Add a photo"),
        add = t("上传照片", "Upload the photo"),
    ));
    body.push_str(&format!(
        "<form class=\"stack\" method=\"post\" action=\"/f/listings/{id}/details\">{csrf}\
         <label for=\"title\">{title_label}</label>\
         <input id=\"title\" name=\"title\" maxlength=\"64\" required value=\"{title}\">\
         <label for=\"description\">{about_label}</label>\
         <textarea id=\"description\" name=\"description\" maxlength=\"2000\">{about}</textarea>\
         <button type=\"submit\" class=\"plain\">{save}</button></form>",
        id = listing.id,
        csrf = user.csrf_field(),
        title_label = t("名称", "Title"),
        title = esc(&listing.title),
        about_label = t("介绍", "About"),
        about = esc(&listing.description),
        save = t("保存名称和介绍", "Save title and description"),
    ));
    private_page(farmer_page(lang, &listing.title, &body, "/f"), status)
}

#[derive(Debug, Default, Deserialize)]
pub struct ListingForm {
    csrf: Option<String>,
    price: Option<String>,
    stock: Option<String>,
    status: Option<String>,
    title: Option<String>,
    description: Option<String>,
}

/// `POST /f/listings/{id}`: a new price and stock.
#[handler]
pub async fn update_listing(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<i64>,
    Form(form): Form<ListingForm>,
) -> Response {
    let lang = lang_of(req);
    let t = |zh: &str, en: &str| text(lang, zh, en).to_owned();
    let price = parse_yuan(form.price.as_deref().unwrap_or("")).ok_or_else(|| {
        t(
            "价格请填数字，例如 12.5",
            "Give the price as a number, such as 12.5",
        )
    });
    let stock = parse_count(form.stock.as_deref().unwrap_or("")).ok_or_else(|| {
        t(
            "库存请填整数，例如 100",
            "Give the stock as a whole number, such as 100",
        )
    });
    let fields = price.and_then(|price_fen| {
        stock.map(|stock| ListingFields {
            price_fen: Some(price_fen),
            stock: Some(stock),
            ..Default::default()
        })
    });
    change_listing(&state, req, id, form.csrf.as_deref(), fields).await
}

/// `POST /f/listings/{id}/details`: a corrected title and description.
#[handler]
pub async fn update_details(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<i64>,
    Form(form): Form<ListingForm>,
) -> Response {
    let fields = ListingFields {
        title: Some(form.title.unwrap_or_default()),
        description: Some(form.description.unwrap_or_default()),
        ..Default::default()
    };
    change_listing(&state, req, id, form.csrf.as_deref(), Ok(fields)).await
}

/// `POST /f/listings/{id}/status`: on or off the shelf.
#[handler]
pub async fn set_listing_status(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<i64>,
    Form(form): Form<ListingForm>,
) -> Response {
    let lang = lang_of(req);
    let status = match form.status.as_deref() {
        Some("on_sale") => Ok(ListingStatus::OnSale),
        Some("off_shelf") => Ok(ListingStatus::OffShelf),
        _ => Err(text(lang, "请选择上架或下架", "Choose on or off the shelf").to_owned()),
    };
    let fields = status.map(|status| ListingFields {
        status: Some(status),
        ..Default::default()
    });
    change_listing(&state, req, id, form.csrf.as_deref(), fields).await
}

/// Applies a change to the farmer's own listing and goes back to it, or shows it with what was
/// wrong and nothing changed.
async fn change_listing(
    state: &AppState,
    req: &Request,
    id: i64,
    csrf: Option<&str>,
    fields: Result<ListingFields, String>,
) -> Response {
    let user = match require_form(state, req, is_farmer, csrf).await {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    let lang = lang_of(req);
    let listing = match own_listing(state, lang, &user, id).await {
        Ok(listing) => listing,
        Err(answer) => return answer,
    };
    let outcome = match fields {
        Ok(fields) => listings::update(&state.db, &user.actor, id, fields)
            .await
            .map_err(|e| refusal(lang, e)),
        Err(problem) => Err((problem, StatusCode::UNPROCESSABLE_ENTITY)),
    };
    match outcome {
        Ok(_) => see_other(&format!("/f/listings/{id}")),
        Err((problem, status)) => {
            listing_form(state, lang, &user, &listing, Some(&problem), status).await
        }
    }
}

/// `POST /f/listings/{id}/photos`: one more photo.
#[handler]
pub async fn add_photo(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Response {
    let user = match require(&state, req, is_farmer).await {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    let lang = lang_of(req);
    let Ok(form) = Submitted::read(multipart, "photo").await else {
        return bad_form(lang);
    };
    if !user.accepts(req, form.get("csrf")) {
        return forged(lang);
    }
    let listing = match own_listing(&state, lang, &user, id).await {
        Ok(listing) => listing,
        Err(answer) => return answer,
    };
    let Some(file) = form.file else {
        let problem = text(lang, "请先选一张照片", "Choose a photo first");
        return listing_form(
            &state,
            lang,
            &user,
            &listing,
            Some(problem),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    match state
        .photos
        .add_to_listing(&state.db, &user.actor, id, file.bytes, file.declared)
        .await
    {
        Ok(_) => see_other(&format!("/f/listings/{id}")),
        Err(e) => {
            let (problem, status) = refusal(lang, e);
            listing_form(&state, lang, &user, &listing, Some(&problem), status).await
        }
    }
}

fn bad_form(lang: Lang) -> Response {
    private_page(
        farmer_page(
            lang,
            text(lang, "表单没有收到", "The form did not arrive"),
            &format!(
                "<p class=\"note\">{}</p><a class=\"more\" href=\"/f\">{}</a>",
                text(
                    lang,
                    "网络不好或照片太大，什么都没有保存。请再试一次。",
                    "The connection dropped or the photo was too large; nothing was saved. Please try again."
                ),
                text(lang, "回到我的商品", "Back to my goods")
            ),
            "/f",
        ),
        StatusCode::BAD_REQUEST,
    )
}

pub(super) fn failed(lang: Lang, e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "rendering a farmer's page failed");
    private_page(
        farmer_page(
            lang,
            text(lang, "暂时打不开", "Not available"),
            &try_again(lang),
            "/f",
        ),
        StatusCode::SERVICE_UNAVAILABLE,
    )
}
