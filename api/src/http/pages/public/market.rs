//! The buyer's pages: browse the county's goods by category and township, open a listing, and
//! look up a code typed from a label. Server-rendered through the same services as the API.

use entities::{area::AreaLevel, listing::ListingStatus};
use poem::{
    IntoResponse, Request, Response, handler,
    http::{StatusCode, header},
    web::{Data, Path, Query, Redirect},
};
use serde::Deserialize;

use crate::http::error::Lang;
use crate::http::pages::shell::{esc, lang_of, market_page, price, text, try_again, unit_name};
use crate::{
    app::AppState,
    domain::AreaCode,
    service::{
        areas,
        market::{
            MarketError, catalogue,
            listings::{self, ListingFilter},
            photos,
        },
        pagination::PageRequest,
    },
};

/// Listings a browse page shows.
const PAGE_SIZE: u64 = 20;

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
    req: &Request,
    Query(query): Query<BrowseQuery>,
) -> Response {
    let lang = lang_of(req);
    match browse(&state, lang, &query).await {
        Ok(body) => html(
            market_page(lang, text(lang, "好物", "Market"), &body, "/m"),
            60,
        ),
        Err(e) => unavailable(lang, e),
    }
}

async fn browse(state: &AppState, lang: Lang, query: &BrowseQuery) -> Result<String, MarketError> {
    let t = |zh, en| text(lang, zh, en);
    let db = &state.db;
    let categories = catalogue::list(db, false).await?;
    let county = areas::county_code(db.conn()).await?;
    let townships = match &county {
        Some(county) => areas::children(db, county, &PageRequest::new(None, Some(100)))
            .await
            .map(|page| page.items)
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let area = query.area.as_deref().and_then(|a| AreaCode::parse(a).ok());
    // The township asked for, or the one of the village asked for: its villages are offered.
    let township = area
        .as_ref()
        .and_then(|a| match a.level() {
            AreaLevel::Village => a.parent(),
            _ => Some(a.clone()),
        })
        .filter(|t| t.level() == AreaLevel::Township);
    let villages = match &township {
        Some(township) => areas::children(db, township, &PageRequest::new(None, Some(100)))
            .await
            .map(|page| page.items)
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let filter = ListingFilter {
        category_id: query.category,
        area: area.clone(),
        ..Default::default()
    };
    let page = listings::browse(
        db,
        &filter,
        None,
        &PageRequest::new(query.cursor.clone(), Some(PAGE_SIZE)),
    )
    .await?;
    let ids: Vec<i64> = page.items.iter().map(|l| l.id).collect();
    let photos = photos::of_listings(db, &ids).await?;
    let places =
        areas::names_of(db.conn(), page.items.iter().map(|l| l.village_code.clone())).await?;

    let mut body = String::with_capacity(8 * 1024);
    let link = |category: Option<i64>, area: Option<&str>| {
        let mut params = Vec::new();
        if let Some(c) = category {
            params.push(format!("category={c}"));
        }
        if let Some(a) = area {
            params.push(format!("area={}", esc(a)));
        }
        if params.is_empty() {
            "/m".to_owned()
        } else {
            format!("/m?{}", params.join("&amp;"))
        }
    };
    let area_str = area.as_ref().map(AreaCode::as_str);
    let township_str = township.as_ref().map(AreaCode::as_str);
    body.push_str("<nav class=\"chips\" aria-label=\"");
    body.push_str(t("分类", "Categories"));
    body.push_str("\">");
    let current = |here: bool| if here { " aria-current=\"true\"" } else { "" };
    body.push_str(&format!(
        "<a href=\"{}\"{}>{}</a>",
        link(None, area_str),
        current(query.category.is_none()),
        t("全部", "All")
    ));
    for c in &categories {
        let name = match lang {
            Lang::Zh => &c.name_zh,
            Lang::En => &c.name_en,
        };
        body.push_str(&format!(
            "<a href=\"{}\"{}>{}</a>",
            link(Some(c.id), area_str),
            current(query.category == Some(c.id)),
            esc(name)
        ));
    }
    body.push_str("</nav>");

    body.push_str("<form class=\"filter\" method=\"get\" action=\"/m\">");
    if let Some(c) = query.category {
        body.push_str(&format!(
            "<input type=\"hidden\" name=\"category\" value=\"{c}\">"
        ));
    }
    body.push_str(&format!(
        "<label for=\"area\" class=\"note\" style=\"align-self:center\">{}</label>\
         <select id=\"area\" name=\"area\"><option value=\"\">{}</option>",
        t("产地", "From"),
        t("全县", "Whole county")
    ));
    for township in &townships {
        let selected = if township_str == Some(township.code.as_str()) {
            " selected"
        } else {
            ""
        };
        body.push_str(&format!(
            "<option value=\"{}\"{selected}>{}</option>",
            esc(&township.code),
            esc(&township.name)
        ));
    }
    body.push_str(&format!(
        "</select><button type=\"submit\">{}</button></form>",
        t("筛选", "Filter")
    ));
    if !villages.is_empty() {
        body.push_str(&format!(
            "<nav class=\"chips\" aria-label=\"{}\"><a href=\"{}\"{}>{}</a>",
            t("村", "Villages"),
            link(query.category, township_str),
            current(area_str == township_str),
            t("全镇", "Whole township")
        ));
        for village in &villages {
            body.push_str(&format!(
                "<a href=\"{}\"{}>{}</a>",
                link(query.category, Some(&village.code)),
                current(area_str == Some(village.code.as_str())),
                esc(&village.name)
            ));
        }
        body.push_str("</nav>");
    }

    if page.items.is_empty() {
        body.push_str(&format!(
            "<p class=\"note\">{}</p>",
            t("暂时没有在售的商品", "Nothing on sale here yet")
        ));
    } else {
        body.push_str("<div class=\"cells\">");
        for listing in &page.items {
            let cover = photos
                .get(&listing.id)
                .and_then(|p| p.first())
                .map(|p| {
                    format!(
                        "<img src=\"/api/v1/photos/{}/240\" alt=\"\" loading=\"lazy\" width=\"88\" height=\"88\">",
                        esc(&p.id)
                    )
                })
                .unwrap_or_else(|| "<img alt=\"\" width=\"88\" height=\"88\">".into());
            body.push_str(&format!(
                "<a class=\"cell\" href=\"/m/listings/{id}\">{cover}<span class=\"what\"><b>{title}</b>\
                 <span class=\"price\">{price}</span><small class=\"note\">{place}</small></span></a>",
                id = listing.id,
                title = esc(&listing.title),
                price = price(lang, listing.price_fen, listing.unit),
                place = esc(places.get(&listing.village_code).map_or("", String::as_str)),
            ));
        }
        body.push_str("</div>");
    }
    if let Some(next) = &page.next_after {
        let mut href = link(query.category, area_str);
        href.push_str(if href.contains('?') { "&amp;" } else { "?" });
        href.push_str(&format!("cursor={}", esc(next)));
        body.push_str(&format!(
            "<a class=\"more\" href=\"{href}\">{}</a>",
            t("下一页", "Next page")
        ));
    }
    Ok(body)
}

/// `/m/listings/{id}`: one listing with its photos, price, stock and origin.
#[handler]
pub async fn listing_page(state: Data<&AppState>, req: &Request, Path(id): Path<i64>) -> Response {
    let lang = lang_of(req);
    let t = |zh, en| text(lang, zh, en);
    let listing = match listings::get(&state.db, None, id).await {
        Ok(listing) => listing,
        Err(MarketError::NotFound) => {
            let body = format!(
                "<p class=\"note\">{}</p><a class=\"more\" href=\"/m\">{}</a>",
                t(
                    "没有这件商品，或已下架",
                    "This listing does not exist or was taken down"
                ),
                t("去看看别的", "See what else is on sale")
            );
            return html(
                market_page(lang, t("找不到商品", "Not found"), &body, "/m"),
                60,
            )
            .with_status(StatusCode::NOT_FOUND)
            .into_response();
        }
        Err(e) => return unavailable(lang, e),
    };
    let details = async {
        let photos = photos::of_listings(&state.db, &[listing.id]).await?;
        let village = AreaCode::parse(&listing.village_code).ok();
        let mut codes = vec![listing.village_code.clone()];
        if let Some(township) = village.as_ref().and_then(AreaCode::parent) {
            codes.push(township.as_str().to_owned());
        }
        let names = areas::names_of(state.db.conn(), codes).await?;
        Ok::<_, MarketError>((photos, village, names))
    };
    let (photos, village, names) = match details.await {
        Ok(found) => found,
        Err(e) => return unavailable(lang, e),
    };
    let place = {
        let township = village
            .as_ref()
            .and_then(AreaCode::parent)
            .and_then(|t| names.get(t.as_str()).cloned())
            .unwrap_or_default();
        format!(
            "{township}{}",
            names
                .get(&listing.village_code)
                .cloned()
                .unwrap_or_default()
        )
    };

    let mut body = String::with_capacity(4096);
    let pictures = photos.get(&listing.id).map(Vec::as_slice).unwrap_or(&[]);
    if let Some(cover) = pictures.first() {
        body.push_str(&format!(
            "<img class=\"hero\" src=\"/api/v1/photos/{}/720\" alt=\"{}\" width=\"720\" height=\"720\">",
            esc(&cover.id),
            esc(&listing.title)
        ));
    }
    body.push_str(&format!(
        "<h1>{}</h1><p class=\"price\" style=\"margin:0 4px 12px;font-size:22px\">{}</p>",
        esc(&listing.title),
        price(lang, listing.price_fen, listing.unit)
    ));
    let status = match listing.status {
        ListingStatus::SoldOut => t("已售罄", "Sold out"),
        _ => t("在售", "On sale"),
    };
    let cells = [
        (t("产地", "From"), esc(&place)),
        (t("状态", "Status"), status.to_owned()),
        (
            t("库存", "In stock"),
            format!("{} {}", listing.stock, unit_name(lang, listing.unit)),
        ),
        (
            t("起订", "Minimum order"),
            format!("{} {}", listing.min_order, unit_name(lang, listing.unit)),
        ),
    ];
    body.push_str("<div class=\"cells\">");
    for (label, value) in cells {
        body.push_str(&format!(
            "<div class=\"cell\"><span>{label}</span><span>{value}</span></div>"
        ));
    }
    body.push_str("</div>");
    if !listing.description.trim().is_empty() {
        body.push_str(&format!(
            "<h2>{}</h2><p style=\"margin:0 4px\">{}</p>",
            t("介绍", "About"),
            esc(&listing.description)
        ));
    }
    if pictures.len() > 1 {
        body.push_str(&format!(
            "<h2>{}</h2><div class=\"chips\">",
            t("更多照片", "More photos")
        ));
        for photo in &pictures[1..] {
            body.push_str(&format!(
                "<a href=\"/api/v1/photos/{id}/720\"><img src=\"/api/v1/photos/{id}/240\" alt=\"\" loading=\"lazy\" width=\"88\" height=\"88\" style=\"border-radius:4px\"></a>",
                id = esc(&photo.id)
            ));
        }
        body.push_str("</div>");
    }
    if listing.status == ListingStatus::OnSale {
        body.push_str(&format!(
            "<a class=\"button\" style=\"margin-top:16px\" href=\"/m/listings/{}/order\">{}</a>",
            listing.id,
            t("立即下单", "Order now")
        ));
    }
    body.push_str(&format!(
        "<p class=\"note\" style=\"margin:16px 4px\">{}</p>",
        t(
            "收到货后扫包装上的二维码，可查看产地和全程记录。",
            "When the goods arrive, scan the QR code on the package to see where they come from."
        )
    ));
    html(market_page(lang, &listing.title, &body, "/m"), 60)
}

#[derive(Debug, Default, Deserialize)]
pub struct CodeQuery {
    code: Option<String>,
}

/// `/m/trace`: a form for a code typed from a label; a well-formed one goes to its scan page.
#[handler]
pub async fn trace_form_page(
    state: Data<&AppState>,
    req: &Request,
    Query(query): Query<CodeQuery>,
) -> Response {
    let lang = lang_of(req);
    let t = |zh, en| text(lang, zh, en);
    let typed = query
        .code
        .as_deref()
        .map(|c| c.trim().replace([' ', '-'], "").to_ascii_uppercase())
        .filter(|c| !c.is_empty());
    if let Some(code) = &typed
        && state.trace_keys.verify(code).is_ok()
    {
        return Redirect::see_other(format!("/t/{code}")).into_response();
    }
    let mut body = String::new();
    if typed.is_some() {
        body.push_str(&format!(
            "<div class=\"alert\" role=\"alert\">{}</div>",
            t(
                "这个码不对：请核对标签上的 21 位码，或直接扫二维码。",
                "That code is not right: check the 21 characters on the label, or scan the QR code."
            )
        ));
    }
    body.push_str(&format!(
        "<p class=\"note\">{}</p><form class=\"filter\" method=\"get\" action=\"/m/trace\">\
         <label for=\"code\" class=\"note\" style=\"position:absolute;left:-9999px\">{}</label>\
         <input id=\"code\" name=\"code\" autocomplete=\"off\" autocapitalize=\"characters\" \
         maxlength=\"40\" style=\"flex:1;min-width:0\" value=\"{}\"><button type=\"submit\">{}</button></form>",
        t(
            "手机扫不了码时，输入标签上二维码旁的码：",
            "If your phone cannot scan it, type the code printed beside the QR code:"
        ),
        t("溯源码", "Trace code"),
        esc(typed.as_deref().unwrap_or("")),
        t("查询", "Look up")
    ));
    html(
        market_page(lang, t("扫码溯源", "Verify a code"), &body, "/m/trace"),
        300,
    )
}

fn html(body: String, max_age: u32) -> Response {
    Response::builder()
        .content_type("text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, format!("public, max-age={max_age}"))
        .header(header::VARY, "Accept-Language")
        .body(body)
}

fn unavailable(lang: Lang, e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "rendering a market page failed");
    let body = try_again(lang);
    Response::builder()
        .status(StatusCode::SERVICE_UNAVAILABLE)
        .content_type("text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .body(market_page(
            lang,
            text(lang, "山货", "Shanhuo"),
            &body,
            "/m",
        ))
}
