//! The farmer's batches (`/f/batches`): recording a harvest, the steps of its journey, issuing
//! item codes and downloading their label sheet — what the scan page later tells buyers.

use chrono::{NaiveDate, Utc};
use entities::trace_event::{EventKind, InspectionResult};
use poem::{
    Request, Response, handler,
    http::{StatusCode, header},
    web::{Data, Form, Path},
};
use serde::Deserialize;

use crate::http::error::Lang;
use crate::http::pages::{
    farmer::listings::{failed, farmer_page, is_farmer},
    forms::{parse_count, unit_of, unit_options},
    public::scan::{event_name, result_name},
    session::{PageUser, private_page, require, require_form},
    shell::see_other,
    shell::{alert, esc, lang_of, refusal, text, unit_name},
};
use crate::{
    app::AppState,
    service::{
        market::{
            catalogue,
            listings::{self, ListingFilter},
            orders::china_time,
        },
        pagination::PageRequest,
        trace::{
            TraceError, codes, events,
            labels::sheet_pdf,
            production::{self, NewBatch},
        },
    },
};

const RECENT_BATCHES: u64 = 50;
const KINDS: [(EventKind, &str); 8] = [
    (EventKind::Harvested, "harvested"),
    (EventKind::Processed, "processed"),
    (EventKind::Packed, "packed"),
    (EventKind::Inspected, "inspected"),
    (EventKind::Stored, "stored"),
    (EventKind::Shipped, "shipped"),
    (EventKind::Received, "received"),
    (EventKind::Sold, "sold"),
];

/// `GET /f/batches`: the household's batches, and a form to record a new one.
#[handler]
pub async fn my_batches(state: Data<&AppState>, req: &Request) -> Response {
    let user = match require(&state, req, is_farmer).await {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    batches_page(&state, lang_of(req), &user, None, StatusCode::OK).await
}

async fn batches_page(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    let t = |zh, en| text(lang, zh, en);
    let Some(household) = user.actor.household_id else {
        let body = format!(
            "<p class=\"note\">{}</p>",
            t(
                "批次由农户登记；您的账号还没有绑定农户，请联系村干部。",
                "Batches are recorded by a household; your account is not linked to one yet, so ask your village cadre."
            )
        );
        return private_page(
            farmer_page(lang, t("我的批次", "My batches"), &body, "/f/batches"),
            StatusCode::OK,
        );
    };
    let found = async {
        let batches = production::own_batches(&state.db, &user.actor, RECENT_BATCHES).await?;
        let plots = production::plots_of(&state.db, &user.actor, household).await?;
        let categories = catalogue::list(&state.db, false).await?;
        let goods = listings::browse(
            &state.db,
            &ListingFilter::default(),
            Some(&user.actor),
            &PageRequest::new(None, Some(100)),
        )
        .await?;
        Ok::<_, anyhow::Error>((batches, plots, categories, goods.items))
    };
    let (batches, plots, categories, goods) = match found.await {
        Ok(found) => found,
        Err(e) => return failed(lang, e),
    };
    let category_name = |id: i64| {
        categories
            .iter()
            .find(|c| c.id == id)
            .map(|c| match lang {
                Lang::Zh => c.name_zh.as_str(),
                Lang::En => c.name_en.as_str(),
            })
            .unwrap_or("")
    };
    let mut body = alert(problem);
    if batches.is_empty() {
        body.push_str(&format!(
            "<p class=\"note\">{}</p>",
            t(
                "还没有批次。每次采收或加工登记一个批次，就能给它生成溯源码。",
                "No batches yet. Record each harvest or making as a batch, then print its trace codes."
            )
        ));
    } else {
        body.push_str("<div class=\"cells\">");
        for batch in &batches {
            let recalled = if batch.recalled_at.is_some() {
                format!(
                    " <span class=\"badge off\">{}</span>",
                    t("已召回", "recalled")
                )
            } else {
                String::new()
            };
            body.push_str(&format!(
                "<a class=\"cell\" href=\"/f/batches/{id}\"><span class=\"what\"><b>{name} · {quantity} {unit}{recalled}</b>\
                 <small class=\"note\">{made} {day}</small></span></a>",
                id = batch.id,
                name = esc(category_name(batch.category_id)),
                quantity = batch.quantity,
                unit = unit_name(lang, batch.unit),
                made = t("采收/制作于", "Harvested or made on"),
                day = batch.produced_on,
            ));
        }
        body.push_str("</div>");
    }

    body.push_str(&format!(
        "<h2>{}</h2><form class=\"stack\" method=\"post\" action=\"/f/batches\">{}\
         <label for=\"category\">{}</label><select id=\"category\" name=\"category\" required><option value=\"\">{}</option>",
        t("登记新批次", "Record a new batch"),
        user.csrf_field(),
        t("产品", "Product"),
        t("请选择", "Choose"),
    ));
    for c in &categories {
        body.push_str(&format!(
            "<option value=\"{}\">{}</option>",
            c.id,
            esc(category_name(c.id))
        ));
    }
    body.push_str(&format!(
        "</select><label for=\"plot\">{}</label><select id=\"plot\" name=\"plot\"><option value=\"\">{}</option>",
        t("地块", "Plot"),
        t("自家加工（不来自地块）", "Made at home (no plot)")
    ));
    for plot in &plots {
        body.push_str(&format!(
            "<option value=\"{}\">{}</option>",
            plot.id,
            esc(&plot.name)
        ));
    }
    body.push_str(&format!(
        "</select><div class=\"row\"><span><label for=\"quantity\">{}</label>\
         <input id=\"quantity\" name=\"quantity\" inputmode=\"numeric\" required style=\"width:100%;box-sizing:border-box\"></span>\
         <span><label for=\"unit\">{}</label><select id=\"unit\" name=\"unit\" style=\"width:100%\">\
         {}</select></span></div>\
         <label for=\"produced_on\">{}</label><input id=\"produced_on\" name=\"produced_on\" type=\"date\" required value=\"{}\">\
         <label for=\"listing\">{}</label><select id=\"listing\" name=\"listing\"><option value=\"\">{}</option>",
        t("数量", "Quantity"),
        t("单位", "Unit"),
        unit_options(lang, t("按产品默认", "The product's usual"), ""),
        t("采收/制作日期", "Harvested or made on"),
        china_time(Utc::now()).date_naive(),
        t("在卖的商品（选填）", "Sold as (optional)"),
        t("暂不关联", "None yet"),
    ));
    for listing in &goods {
        body.push_str(&format!(
            "<option value=\"{}\">{}</option>",
            listing.id,
            esc(&listing.title)
        ));
    }
    body.push_str(&format!(
        "</select><button type=\"submit\">{}</button></form>",
        t("登记批次", "Record the batch")
    ));
    private_page(
        farmer_page(lang, t("我的批次", "My batches"), &body, "/f/batches"),
        status,
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct BatchForm {
    csrf: Option<String>,
    category: Option<String>,
    plot: Option<String>,
    quantity: Option<String>,
    unit: Option<String>,
    produced_on: Option<String>,
    listing: Option<String>,
}

/// `POST /f/batches`: records the batch and opens it.
#[handler]
pub async fn create_batch(
    state: Data<&AppState>,
    req: &Request,
    Form(form): Form<BatchForm>,
) -> Response {
    let user = match require_form(&state, req, is_farmer, form.csrf.as_deref()).await {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    let lang = lang_of(req);
    let t = |zh: &str, en: &str| text(lang, zh, en).to_owned();
    let id = |field: &Option<String>| field.as_deref().and_then(|v| v.parse::<i64>().ok());
    let new = (|| {
        Ok::<_, String>(NewBatch {
            category_id: id(&form.category).ok_or_else(|| t("请选择产品", "Choose the product"))?,
            plot_id: id(&form.plot),
            quantity: parse_count(form.quantity.as_deref().unwrap_or("")).ok_or_else(|| {
                t(
                    "数量请填整数，例如 200",
                    "Give the quantity as a whole number, such as 200",
                )
            })?,
            unit: unit_of(form.unit.as_deref().unwrap_or("")),
            produced_on: form
                .produced_on
                .as_deref()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .ok_or_else(|| t("请选择日期", "Choose the day"))?,
            note: String::new(),
            listing_ids: id(&form.listing).into_iter().collect(),
        })
    })();
    let outcome = match new {
        Ok(new) => production::create_batch(&state.db, &user.actor, new)
            .await
            .map_err(|e| refusal(lang, e)),
        Err(problem) => Err((problem, StatusCode::UNPROCESSABLE_ENTITY)),
    };
    match outcome {
        Ok(batch) => see_other(&format!("/f/batches/{}", batch.id)),
        Err((problem, status)) => batches_page(&state, lang, &user, Some(&problem), status).await,
    }
}

/// `GET /f/batches/{id}`: one batch: its journey, a step to add, its codes and label sheets.
#[handler]
pub async fn batch_page(state: Data<&AppState>, req: &Request, Path(id): Path<i64>) -> Response {
    let user = match require(&state, req, is_farmer).await {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    one_batch(&state, lang_of(req), &user, id, None, StatusCode::OK).await
}

async fn one_batch(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    id: i64,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    let t = |zh, en| text(lang, zh, en);
    let found = async {
        let batch = production::get_batch(&state.db, &user.actor, id).await?;
        if user.actor.household_id != Some(batch.household_id) {
            return Err(TraceError::NotFound);
        }
        let journey = events::of_batch(state.db.conn(), id).await?;
        let runs = codes::runs_of(&state.db, &user.actor, id).await?;
        Ok((batch, journey, runs))
    };
    let (batch, journey, runs) = match found.await {
        Ok(found) => found,
        Err(TraceError::NotFound) => {
            let body = format!(
                "<p class=\"note\">{}</p><a class=\"more\" href=\"/f/batches\">{}</a>",
                t("没有这个批次。", "There is no such batch of yours."),
                t("回到我的批次", "Back to my batches")
            );
            return private_page(
                farmer_page(lang, t("找不到批次", "Not found"), &body, "/f/batches"),
                StatusCode::NOT_FOUND,
            );
        }
        Err(e) => return failed(lang, e),
    };
    let mut body = alert(problem);
    body.push_str(&format!(
        "<div class=\"cells\"><div class=\"cell\"><span>{}</span><span>{} {}</span></div>\
         <div class=\"cell\"><span>{}</span><span>{}</span></div>\
         <div class=\"cell\"><span>{}</span><span style=\"font-family:monospace;font-size:14px;word-break:break-all\">{}</span></div></div>",
        t("数量", "Quantity"),
        batch.quantity,
        unit_name(lang, batch.unit),
        t("采收/制作日期", "Harvested or made on"),
        batch.produced_on,
        t("批次码", "Batch code"),
        esc(&codes::batch_code(&state.trace_keys, batch.id))
    ));
    if let Some(reason) = &batch.recall_reason {
        body.push_str(&format!(
            "<div class=\"alert\">{} {}</div>",
            t("此批次已召回：", "This batch is recalled:"),
            esc(reason)
        ));
    }

    body.push_str(&format!("<h2>{}</h2>", t("溯源记录", "Journey")));
    if journey.is_empty() {
        body.push_str(&format!(
            "<p class=\"note\">{}</p>",
            t("还没有记录。", "Nothing recorded yet.")
        ));
    } else {
        body.push_str("<ol class=\"timeline\">");
        for event in &journey {
            body.push_str(&format!(
                "<li><b>{}{}</b><small>{} {}</small></li>",
                event_name(lang, event.kind),
                result_name(lang, event.result),
                china_time(event.occurred_at).format("%Y-%m-%d %H:%M"),
                esc(event.place_text.as_deref().unwrap_or(""))
            ));
        }
        body.push_str("</ol>");
    }
    body.push_str(&format!(
        "<form class=\"stack\" method=\"post\" action=\"/f/batches/{id}/events\" style=\"margin-top:12px\">{csrf}\
         <label for=\"kind\">{step}</label><select id=\"kind\" name=\"kind\">",
        csrf = user.csrf_field(),
        step = t("添加一步（现在发生的）", "Add a step (happening now)"),
    ));
    for (kind, value) in KINDS {
        body.push_str(&format!(
            "<option value=\"{value}\">{}</option>",
            event_name(lang, kind)
        ));
    }
    body.push_str(&format!(
        "</select><label for=\"result\">{}</label><select id=\"result\" name=\"result\">\
         <option value=\"\">{}</option><option value=\"pass\">{}</option><option value=\"fail\">{}</option></select>\
         <label for=\"place\">{}</label><input id=\"place\" name=\"place\" maxlength=\"100\">\
         <button type=\"submit\">{}</button></form>",
        t("检测结果（仅检测）", "Inspection result (inspections only)"),
        t("—", "—"),
        t("合格", "Passed"),
        t("不合格", "Failed"),
        t("地点（选填）", "Where (optional)"),
        t("记录这一步", "Record the step"),
    ));

    body.push_str(&format!(
        "<h2>{}</h2>",
        t("溯源码与标签", "Codes and labels")
    ));
    if !runs.is_empty() {
        body.push_str("<div class=\"cells\">");
        for run in &runs {
            body.push_str(&format!(
                "<a class=\"cell\" href=\"/f/batches/{id}/runs/{run_id}/labels.pdf\"><span>{items} {first}–{last}</span><span>{download}</span></a>",
                run_id = run.id,
                items = t("第", "Items"),
                first = run.first_item,
                last = run.last_item,
                download = t("下载标签 PDF", "Label sheet PDF"),
            ));
        }
        body.push_str("</div>");
    }
    if batch.recalled_at.is_none() {
        body.push_str(&format!(
            "<form class=\"stack\" method=\"post\" action=\"/f/batches/{id}/codes\" style=\"margin-top:12px\">{csrf}\
             <label for=\"count\">{label}</label><input id=\"count\" name=\"count\" inputmode=\"numeric\" required value=\"24\">\
             <button type=\"submit\">{issue}</button></form>",
            csrf = user.csrf_field(),
            label = t(
                "生成溯源码（每张 A4 标签纸 24 个）",
                "Issue trace codes (24 labels fill an A4 sheet)"
            ),
            issue = t("生成", "Issue"),
        ));
    }
    let product = catalogue::list(&state.db, true)
        .await
        .ok()
        .and_then(|all| all.into_iter().find(|c| c.id == batch.category_id))
        .map(|c| match lang {
            Lang::Zh => c.name_zh,
            Lang::En => c.name_en,
        })
        .unwrap_or_default();
    let title = format!("{product} · {}", batch.produced_on);
    private_page(farmer_page(lang, &title, &body, "/f/batches"), status)
}

/// The batch's page again, saying why a change to it was refused.
async fn refused(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    id: i64,
    e: TraceError,
) -> Response {
    let (problem, status) = refusal(lang, e);
    one_batch(state, lang, user, id, Some(&problem), status).await
}

#[derive(Debug, Default, Deserialize)]
pub struct EventForm {
    csrf: Option<String>,
    kind: Option<String>,
    result: Option<String>,
    place: Option<String>,
    count: Option<String>,
}

/// `POST /f/batches/{id}/events`: a step of the journey, happening now.
#[handler]
pub async fn add_event(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<i64>,
    Form(form): Form<EventForm>,
) -> Response {
    let user = match require_form(&state, req, is_farmer, form.csrf.as_deref()).await {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    let lang = lang_of(req);
    let Some(kind) = KINDS
        .iter()
        .find(|(_, v)| Some(*v) == form.kind.as_deref())
        .map(|(k, _)| *k)
    else {
        let problem = text(lang, "请选择是哪一步", "Choose the step");
        return one_batch(
            &state,
            lang,
            &user,
            id,
            Some(problem),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let result = match form.result.as_deref() {
        Some("pass") => Some(InspectionResult::Pass),
        Some("fail") => Some(InspectionResult::Fail),
        _ => None,
    };
    let new = events::NewEvent {
        kind,
        occurred_at: Utc::now(),
        place_area: None,
        place_text: form.place.filter(|p| !p.trim().is_empty()),
        result,
        input_batch_ids: Vec::new(),
        details: Default::default(),
    };
    match events::record(&state.db, &state.cache, &user.actor, id, new).await {
        Ok(_) => see_other(&format!("/f/batches/{id}")),
        Err(e) => refused(&state, lang, &user, id, e).await,
    }
}

/// `POST /f/batches/{id}/codes`: a run of item codes, numbered on from the last.
#[handler]
pub async fn issue_codes(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<i64>,
    Form(form): Form<EventForm>,
) -> Response {
    let user = match require_form(&state, req, is_farmer, form.csrf.as_deref()).await {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    let lang = lang_of(req);
    let Some(count) =
        parse_count(form.count.as_deref().unwrap_or("")).and_then(|c| u32::try_from(c).ok())
    else {
        let problem = text(
            lang,
            "数量请填整数，例如 24",
            "Give a whole number, such as 24",
        );
        return one_batch(
            &state,
            lang,
            &user,
            id,
            Some(problem),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    match codes::issue(&state.db, &state.cache, &user.actor, id, count).await {
        Ok(_) => see_other(&format!("/f/batches/{id}")),
        Err(e) => refused(&state, lang, &user, id, e).await,
    }
}

/// `GET /f/batches/{id}/runs/{run_id}/labels.pdf`: the run's label sheet, to print.
#[handler]
pub async fn label_sheet(
    state: Data<&AppState>,
    req: &Request,
    Path((id, run_id)): Path<(i64, i64)>,
) -> Response {
    let user = match require(&state, req, is_farmer).await {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    let lang = lang_of(req);
    match sheet_pdf(
        &state.db,
        &user.actor,
        state.trace_keys.clone(),
        &state.settings.public_base_url,
        id,
        run_id,
        None,
        None,
    )
    .await
    {
        Ok(sheet) => Response::builder()
            .content_type("application/pdf")
            .header(
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", sheet.file_name),
            )
            .header(header::CACHE_CONTROL, "no-store")
            .header("x-total-pages", sheet.total_pages)
            .body(sheet.bytes),
        Err(e) => refused(&state, lang, &user, id, e).await,
    }
}
