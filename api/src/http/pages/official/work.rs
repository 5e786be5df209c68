//! The officials' working pages: the exit cases waiting for their step (with the buttons for
//! it), a household's page with its assessment, and what the area produces and where it sells.

use chrono::{Datelike, Utc};
use entities::{
    exit_case::{ExitState, ExitSubject},
    household_check::CheckKind,
};
use poem::{
    Request, Response, handler,
    http::StatusCode,
    web::{Data, Form, Path, Query},
};
use serde::Deserialize;

use crate::http::pages::{
    forms::yuan,
    official::progress::{is_official, official_page, unavailable},
    session::{PageUser, private_page, require, require_form},
    shell::see_other,
    shell::{alert, esc, lang_of, refusal, text, unit_name},
};
use crate::http::{caller::origin, error::Lang};
use crate::{
    app::AppState,
    domain::AreaCode,
    service::{
        areas,
        exit::{
            assessment::{self, Failing},
            cases::{self, ExitAction},
        },
        households::{self, incomes, sheet::SheetLabel},
        market::{orders::china_time, sales},
        trace::stats as production,
        users::Origin,
    },
};

/// Cases one page lists.
const CASES_SHOWN: usize = 20;

fn state_name(lang: Lang, state: ExitState) -> &'static str {
    let t = |zh, en| text(lang, zh, en);
    match state {
        ExitState::Proposed => t("拟退出", "proposed"),
        ExitState::Appraised => t("已民主评议", "appraised"),
        ExitState::Verified => t("已核实", "verified"),
        ExitState::PublicNotice => t("公示中", "in public notice"),
        ExitState::Reviewed => t("乡镇已审核", "reviewed by the township"),
        ExitState::Approved => t("县已审定", "approved by the county"),
        ExitState::Announced => t("已公告退出", "announced"),
        ExitState::Rejected => t("未通过", "rejected"),
    }
}

fn action_name(lang: Lang, action: ExitAction) -> &'static str {
    let t = |zh, en| text(lang, zh, en);
    match action {
        ExitAction::Appraise => t("民主评议通过", "Appraisal agreed"),
        ExitAction::Verify => t("核实通过", "Verified"),
        ExitAction::StartNotice => t("开始公示", "Start the public notice"),
        ExitAction::Object => t("公示有异议", "An objection was raised"),
        ExitAction::Review => t("乡镇审核通过", "Township review passed"),
        ExitAction::Approve => t("县审定通过", "County approval"),
        ExitAction::Announce => t("公告退出", "Announce the exit"),
        ExitAction::Reject => t("不予退出", "Reject"),
    }
}

/// `GET /o/cases`: the open cases of the official's area that wait for a step they may take.
#[handler]
pub async fn waiting_cases(state: Data<&AppState>, req: &Request) -> Response {
    let user = match require(&state, req, is_official).await {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    cases_page(&state, lang_of(req), &user, None, StatusCode::OK).await
}

async fn cases_page(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    let t = |zh, en| text(lang, zh, en);
    let found = async {
        let waiting = cases::awaiting(&state.db, &user.actor, CASES_SHOWN).await?;
        let names = areas::names_of(
            state.db.conn(),
            waiting.iter().map(|w| w.case.village_code.clone()),
        )
        .await?;
        Ok::<_, anyhow::Error>((waiting, names))
    };
    let (waiting, names) = match found.await {
        Ok(found) => found,
        Err(e) => return unavailable(lang, e),
    };
    let mut body = alert(problem);
    if waiting.is_empty() {
        body.push_str(&format!(
            "<p class=\"note\">{}</p>",
            t(
                "没有等您处理的退出申请。",
                "No exit case is waiting for your step."
            )
        ));
    }
    for item in &waiting {
        let case = &item.case;
        let village = names.get(&case.village_code).map_or("", String::as_str);
        let subject = match (case.subject, case.household_id) {
            (ExitSubject::Household, Some(id)) => format!(
                "<a href=\"/o/households/{id}\">{} #{id}</a> · {}",
                t("农户", "Household"),
                esc(village)
            ),
            _ => format!("{} {}", esc(village), t("（整村）", "(the village)")),
        };
        let notice = case
            .notice_ends_at
            .filter(|_| case.state == ExitState::PublicNotice)
            .map(|end| {
                format!(
                    " · {} {}",
                    t("公示至", "notice until"),
                    china_time(end).format("%Y-%m-%d %H:%M")
                )
            })
            .unwrap_or_default();
        body.push_str(&format!(
            "<section class=\"card\" id=\"case-{id}\"><h2>{subject}</h2>\
             <p class=\"note\" style=\"margin:0 0 8px\">{year} · <span class=\"badge\">{state}</span>{notice}</p>",
            id = case.id,
            year = case.year,
            state = state_name(lang, case.state),
        ));
        for action in &item.actions {
            let backwards = !cases::moves_forward(*action);
            let reason = if backwards {
                format!(
                    "<label for=\"reason-{id}-{name}\">{}</label>\
                     <input id=\"reason-{id}-{name}\" name=\"reason\" required maxlength=\"500\">",
                    t("原因（必填）", "Why (required)"),
                    id = case.id,
                    name = action.name()
                )
            } else {
                String::new()
            };
            body.push_str(&format!(
                "<form class=\"stack\" style=\"padding:0;margin:8px 0 0\" method=\"post\" action=\"/o/cases/{id}/{name}\">{csrf}{reason}\
                 <button type=\"submit\"{class}>{label}</button></form>",
                id = case.id,
                name = action.name(),
                csrf = user.csrf_field(),
                class = if backwards { " class=\"plain\"" } else { "" },
                label = action_name(lang, *action),
            ));
        }
        body.push_str("</section>");
    }
    private_page(
        official_page(lang, t("待我处理", "Waiting for me"), &body, "/o/cases"),
        status,
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct StepForm {
    csrf: Option<String>,
    reason: Option<String>,
}

/// `POST /o/cases/{id}/{action}`: takes the step, then back to the list.
#[handler]
pub async fn take_step(
    state: Data<&AppState>,
    req: &Request,
    Path((id, action)): Path<(i64, String)>,
    Form(form): Form<StepForm>,
) -> Response {
    let user = match require_form(&state, req, is_official, form.csrf.as_deref()).await {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    let lang = lang_of(req);
    let Some(action) = ExitAction::from_name(&action) else {
        let problem = text(lang, "没有这个步骤", "There is no such step");
        return cases_page(&state, lang, &user, Some(problem), StatusCode::NOT_FOUND).await;
    };
    let origin: Origin = origin(req);
    match cases::transition(
        &state.db,
        &state.exit_rules,
        &user.actor,
        id,
        action,
        form.reason,
        &origin,
    )
    .await
    {
        Ok(_) => see_other("/o/cases"),
        Err(e) => {
            let (problem, status) = refusal(lang, e);
            cases_page(&state, lang, &user, Some(&problem), status).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct YearQuery {
    year: Option<i32>,
}

/// `GET /o/households/{id}`: a household of the official's area, its members (ID numbers
/// masked) and its assessment for a year (default: the latest with income recorded).
#[handler]
pub async fn household_page(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<i64>,
    Query(query): Query<YearQuery>,
) -> Response {
    let user = match require(&state, req, is_official).await {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    let lang = lang_of(req);
    let t = |zh, en| text(lang, zh, en);
    let found = async {
        let record =
            households::get(&state.db, &state.pii, &user.actor, id, false, &origin(req)).await?;
        let years = incomes::list(&state.db, &user.actor, id).await?;
        let year = query
            .year
            .or_else(|| years.first().map(|y| y.year))
            .unwrap_or_else(|| china_time(Utc::now()).year());
        let assessed =
            assessment::household_assessment(&state.db, &state.exit_rules, &user.actor, id, year)
                .await?;
        let names =
            areas::names_of(state.db.conn(), [record.household.village_code.clone()]).await?;
        Ok::<_, anyhow::Error>((record, assessed, names))
    };
    let (record, assessed, names) = match found.await {
        Ok(found) => found,
        Err(e) => {
            if let Some(households::HouseholdError::NotFound) = e.downcast_ref() {
                let body = format!(
                    "<p class=\"note\">{}</p>",
                    t(
                        "没有这户，或它不在您的管辖范围内。",
                        "There is no such household in your area."
                    )
                );
                return private_page(
                    official_page(lang, t("找不到农户", "Not found"), &body, "/o/cases"),
                    StatusCode::NOT_FOUND,
                );
            }
            return unavailable(lang, e);
        }
    };
    let household = &record.household;
    let mut body = format!(
        "<div class=\"cells\">\
         <div class=\"cell\"><span>{}</span><span>{}</span></div>\
         <div class=\"cell\"><span>{}</span><span>{}</span></div>\
         <div class=\"cell\"><span>{}</span><span>{}</span></div>\
         <div class=\"cell\"><span>{}</span><span>{}</span></div></div>",
        t("户编号", "Household number"),
        esc(&household.household_number),
        t("所在村", "Village"),
        esc(names
            .get(&household.village_code)
            .map_or("", String::as_str)),
        t("状态", "Status"),
        household.status.label(),
        t("致贫原因", "Cause of poverty"),
        household.poverty_cause.label(),
    );
    body.push_str(&format!(
        "<h2>{}</h2><div class=\"cells\">",
        t("家庭成员", "Members")
    ));
    for member in &record.members {
        body.push_str(&format!(
            "<div class=\"cell\"><span>{}</span><span style=\"font-family:monospace\">{}</span></div>",
            esc(&member.member.name),
            esc(&member.id_number)
        ));
    }
    body.push_str("</div>");

    let verdict = if assessed.qualifies() {
        ("ok", t("达到退出标准", "Meets the exit standard"))
    } else {
        (
            "warn",
            t("尚未达到退出标准", "Does not meet the exit standard yet"),
        )
    };
    body.push_str(&format!(
        "<h2>{year} {title}</h2><div class=\"verdict {class}\"><b>{verdict}</b></div><div class=\"cells\">\
         <div class=\"cell\"><span>{per_capita}</span><span>¥{value}</span></div>\
         <div class=\"cell\"><span>{line}</span><span>{line_value}</span></div>",
        year = assessed.year,
        title = t("年度评估", "assessment"),
        class = verdict.0,
        verdict = verdict.1,
        per_capita = t("人均纯收入", "Income per person"),
        value = yuan(assessed.per_capita_fen),
        line = t("当年贫困线", "Poverty line that year"),
        line_value = assessed
            .line_fen
            .map_or_else(|| "—".to_owned(), |l| format!("¥{}", yuan(l))),
    ));
    for recorded in &assessed.checks {
        let (zh, en) = match recorded.check {
            CheckKind::Food => ("不愁吃", "Food"),
            CheckKind::Clothing => ("不愁穿", "Clothing"),
            CheckKind::Education => ("义务教育有保障", "Schooling"),
            CheckKind::Medical => ("基本医疗有保障", "Medical care"),
            CheckKind::Housing => ("住房安全有保障", "Safe housing"),
            CheckKind::Water => ("饮水安全有保障", "Safe water"),
        };
        let result = match &recorded.record {
            Some(r) if r.passed => t("✓ 达标", "✓ met"),
            Some(_) => t("✗ 未达标", "✗ not met"),
            None => t("未核查", "not checked"),
        };
        body.push_str(&format!(
            "<div class=\"cell\"><span>{}</span><span>{result}</span></div>",
            t(zh, en)
        ));
    }
    body.push_str("</div>");
    if assessed
        .failing
        .iter()
        .any(|f| matches!(f, Failing::IncomeAtOrBelowLine { .. }))
    {
        body.push_str(&format!(
            "<p class=\"note\">{}</p>",
            t(
                "人均纯收入未超过贫困线。",
                "Income per person is not above the poverty line."
            )
        ));
    }
    body.push_str(&format!(
        "<p class=\"note\"><a href=\"/o/households/{id}?year={prev}\">{earlier}</a></p>",
        prev = assessed.year - 1,
        earlier = t("看上一年", "The year before"),
    ));
    let title = format!("{} {}", t("农户", "Household"), household.household_number);
    private_page(
        official_page(lang, &title, &body, "/o/cases"),
        StatusCode::OK,
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct StatsQuery {
    area: Option<String>,
    year: Option<i32>,
}

/// `GET /o/stats`: which village produces what and how much, and where it sells.
#[handler]
pub async fn stats_page(
    state: Data<&AppState>,
    req: &Request,
    Query(query): Query<StatsQuery>,
) -> Response {
    let user = match require(&state, req, is_official).await {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    let lang = lang_of(req);
    let t = |zh, en| text(lang, zh, en);
    let area = query
        .area
        .as_deref()
        .filter(|a| !a.is_empty())
        .and_then(|a| AreaCode::parse(a).ok());
    let found = async {
        let made = production::stats(&state.db, &user.actor, area.clone(), query.year).await?;
        let sold = sales::stats(&state.db, &state.cache, &user.actor, area, query.year).await?;
        Ok::<_, anyhow::Error>((made, sold))
    };
    let (made, sold) = match found.await {
        Ok(found) => found,
        Err(e) => {
            let refused = e
                .downcast_ref::<crate::service::trace::TraceError>()
                .is_some_and(|e| {
                    matches!(
                        e,
                        crate::service::trace::TraceError::Forbidden
                            | crate::service::trace::TraceError::NotFound
                    )
                });
            if refused {
                let body = format!(
                    "<p class=\"note\">{}</p>",
                    t(
                        "这个地区不在您的管辖范围内。",
                        "This area is not one you govern."
                    )
                );
                return private_page(
                    official_page(
                        lang,
                        t("产销统计", "Production and sales"),
                        &body,
                        "/o/stats",
                    ),
                    StatusCode::NOT_FOUND,
                );
            }
            return unavailable(lang, e);
        }
    };
    let this_year = china_time(Utc::now()).year();
    let year_link = |year: Option<i32>, label: String| {
        let here = if year == query.year {
            " aria-current=\"true\""
        } else {
            ""
        };
        let mut href = format!("/o/stats?area={}", made.area_code);
        if let Some(year) = year {
            href.push_str(&format!("&amp;year={year}"));
        }
        format!("<a href=\"{href}\"{here}>{label}</a>")
    };
    let mut body = format!(
        "<nav class=\"chips\">{}{}{}</nav>",
        year_link(None, t("全部年份", "Every year").to_owned()),
        year_link(Some(this_year), this_year.to_string()),
        year_link(Some(this_year - 1), (this_year - 1).to_string()),
    );
    body.push_str(&format!(
        "<section class=\"card\"><h2>{}</h2><p style=\"margin:0\">{} {} · {} {} · {} {}</p></section>",
        t("生产", "Production"),
        made.batches,
        t("个批次", "batches"),
        made.households,
        t("户", "households"),
        made.plots,
        t("块地", "plots"),
    ));
    let production_cells = |title: &str, lines: &[production::ProductionLine], limit: usize| {
        let mut cells = format!("<h2>{}</h2><div class=\"cells\">", esc(title));
        if lines.is_empty() {
            cells.push_str(&format!(
                "<div class=\"cell\"><span>{}</span></div>",
                t("没有记录", "Nothing recorded")
            ));
        }
        for line in lines.iter().take(limit) {
            let name = if line.name == line.product {
                esc(&line.name)
            } else {
                format!("{} · {}", esc(&line.name), esc(&line.product))
            };
            cells.push_str(&format!(
                "<div class=\"cell\"><span>{name}</span><span>{} {}</span></div>",
                line.quantity,
                unit_name(lang, line.unit)
            ));
        }
        cells.push_str("</div>");
        cells
    };
    body.push_str(&production_cells(
        t("各产品产量", "By product"),
        &made.by_category,
        20,
    ));
    body.push_str(&production_cells(
        t("各村产什么（前 20）", "What each village produces (top 20)"),
        &made.by_village,
        20,
    ));

    body.push_str(&format!(
        "<section class=\"card\" style=\"margin-top:12px\"><h2>{}</h2><p style=\"margin:0\">{} {} · ¥{} · {} {}</p></section>",
        t("销售（已完成订单）", "Sales (completed orders)"),
        sold.orders,
        t("单", "orders"),
        yuan(sold.amount_fen),
        sold.households,
        t("户受益", "households earning"),
    ));
    let sales_cells = |title: &str, lines: &[sales::SalesLine], limit: usize| {
        let mut cells = format!("<h2>{}</h2><div class=\"cells\">", esc(title));
        if lines.is_empty() {
            cells.push_str(&format!(
                "<div class=\"cell\"><span>{}</span></div>",
                t("没有记录", "Nothing recorded")
            ));
        }
        for line in lines.iter().take(limit) {
            cells.push_str(&format!(
                "<div class=\"cell\"><span>{}</span><span>¥{} · {} {}</span></div>",
                esc(&line.name),
                yuan(line.amount_fen),
                line.orders,
                t("单", "orders")
            ));
        }
        cells.push_str("</div>");
        cells
    };
    body.push_str(&sales_cells(
        t("卖到哪里（省）", "Sold where (province)"),
        &sold.by_province,
        10,
    ));
    body.push_str(&sales_cells(
        t("卖到哪里（市）", "Sold where (city)"),
        &sold.by_city,
        10,
    ));
    body.push_str(&sales_cells(
        t("哪些村卖得多", "Villages selling most"),
        &sold.by_village,
        10,
    ));
    body.push_str(&sales_cells(
        t("热销商品", "Best-selling goods"),
        &sold.top_products,
        10,
    ));
    private_page(
        official_page(
            lang,
            t("产销统计", "Production and sales"),
            &body,
            "/o/stats",
        ),
        StatusCode::OK,
    )
}
