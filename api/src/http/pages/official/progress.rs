//! The officials' pages (`/o`): how far the area has come toward its goals, and its poor
//! villages ranked by incidence — the same numbers as `GET /api/v1/exit/progress`.

use chrono::NaiveDate;
use entities::user::Role;
use poem::{
    Request, Response, handler,
    http::StatusCode,
    web::{Data, Query},
};
use serde::Deserialize;

use crate::http::error::Lang;
use crate::http::pages::{
    charts::{self, BarRow},
    session::{PageUser, private_page, require},
    shell::{TabLink, esc, lang_of, tabbed_page, text, try_again},
};
use crate::{
    app::AppState,
    domain::AreaCode,
    service::{
        exit::{
            ExitError,
            progress::{self, Progress, VillageStage},
        },
        policy::is_official_role,
    },
};

const OFFICIAL_TABS: &[TabLink] = &[
    ("/o", "进度", "Progress"),
    ("/o/cases", "待办", "To do"),
    ("/o/villages", "村排名", "Villages"),
    ("/o/stats", "产销", "Goods"),
];

pub(super) fn is_official(role: Role) -> bool {
    role == Role::Admin || is_official_role(role)
}

pub(super) fn official_page(lang: Lang, title: &str, body: &str, current: &str) -> String {
    let body = format!("<h1>{}</h1>{body}", esc(title));
    tabbed_page(
        lang,
        text(lang, "山货 · 脱贫攻坚", "Shanhuo · poverty exit"),
        title,
        &body,
        OFFICIAL_TABS,
        current,
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct AreaQuery {
    /// A part of the official's area to look at; their whole area by default.
    area: Option<String>,
}

/// The progress of the asked area (or the official's own), or the page to show instead.
async fn progress_of(
    state: &AppState,
    lang: Lang,
    user: &PageUser,
    query: &AreaQuery,
    current: &str,
) -> Result<Progress, Response> {
    let area = match query.area.as_deref().filter(|a| !a.is_empty()) {
        Some(code) => match AreaCode::parse(code) {
            Ok(area) => Some(area),
            Err(_) => return Err(not_yours(lang, current)),
        },
        None => None,
    };
    match progress::progress(
        &state.db,
        &state.cache,
        &state.exit_rules,
        &user.actor,
        area,
    )
    .await
    {
        Ok(progress) => Ok(progress),
        Err(ExitError::NotFound) => Err(not_yours(lang, current)),
        Err(e) => Err(unavailable(lang, e)),
    }
}

/// The page of an official's that could not be put together this time.
pub(super) fn unavailable(lang: Lang, e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "rendering an official's page failed");
    private_page(
        official_page(
            lang,
            text(lang, "暂时打不开", "Not available"),
            &try_again(lang),
            "/o",
        ),
        StatusCode::SERVICE_UNAVAILABLE,
    )
}

fn not_yours(lang: Lang, current: &str) -> Response {
    private_page(
        official_page(
            lang,
            text(lang, "找不到这个地区", "No such area"),
            &format!(
                "<p class=\"note\">{}</p><a class=\"more\" href=\"{current}\">{}</a>",
                text(
                    lang,
                    "没有这个地区，或它不在您的管辖范围内。",
                    "There is no such area, or it is not one you govern."
                ),
                text(lang, "回到我的地区", "Back to my area")
            ),
            current,
        ),
        StatusCode::NOT_FOUND,
    )
}

/// `GET /o`: the dashboard — villages de-listed and people lifted out against the goals, each
/// part of the area, the way here over time, and the villages furthest from exit.
#[handler]
pub async fn dashboard(
    state: Data<&AppState>,
    req: &Request,
    Query(query): Query<AreaQuery>,
) -> Response {
    let user = match require(&state, req, is_official).await {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    let lang = lang_of(req);
    let t = |zh, en| text(lang, zh, en);
    let p = match progress_of(&state, lang, &user, &query, "/o").await {
        Ok(progress) => progress,
        Err(answer) => return answer,
    };
    let mut body = String::with_capacity(8 * 1024);

    let villages_label = format!(
        "{} {} / {} {}",
        t("已出列", "De-listed"),
        p.villages.delisted,
        p.goal_villages,
        t("个村", "villages")
    );
    let people_label = format!(
        "{} {} / {} {}",
        t("已脱贫", "Lifted out"),
        group(p.people.lifted_out),
        group(p.goal_people),
        t("人", "people")
    );
    body.push_str(&format!(
        "<section class=\"card\"><h2>{villages_title}</h2><div class=\"big\">{delisted}<small class=\"note\"> / {goal_villages}</small></div>\
         {villages_bar}<p class=\"note\">{in_progress} {ip} · {not_started} {ns}</p></section>\
         <section class=\"card\"><h2>{people_title}</h2><div class=\"big\">{lifted}<small class=\"note\"> / {goal_people}</small></div>\
         {people_bar}<p class=\"note\">{still} {still_poor} · {households} {exited}/{all}</p></section>",
        villages_title = t("贫困村出列", "Poor villages de-listed"),
        delisted = p.villages.delisted,
        goal_villages = p.goal_villages,
        villages_bar = charts::progress_bar(p.villages.delisted as u64, p.goal_villages as u64, &villages_label),
        in_progress = t("推进中", "in progress"),
        ip = p.villages.in_progress,
        not_started = t("未启动", "not started"),
        ns = p.villages.not_started,
        people_title = t("贫困人口脱贫", "People lifted out of poverty"),
        lifted = group(p.people.lifted_out),
        goal_people = group(p.goal_people),
        people_bar = charts::progress_bar(p.people.lifted_out, p.goal_people, &people_label),
        still = t("尚未脱贫", "still poor"),
        still_poor = group(p.people.still_poor),
        households = t("户数", "households"),
        exited = group(p.people.households_exited),
        all = group(p.people.households),
    ));

    body.push_str(&format!(
        "<section class=\"card\"><h2>{}</h2>",
        t("预计达成", "When the goals are reached")
    ));
    let pace = match (
        p.projection.people_goal_date,
        p.projection.villages_goal_date,
    ) {
        (None, None) => t(
            "每日快照还不够，暂时算不出进度速度。",
            "There are not enough daily snapshots yet to measure the pace.",
        )
        .to_owned(),
        (people, villages) => {
            let date = |d: Option<NaiveDate>| d.map_or_else(|| "—".to_owned(), |d| d.to_string());
            format!(
                "{} {} {}：{} {}；{} {}",
                t("按最近", "At the pace of the last"),
                p.projection.basis_days,
                t("天的速度", "days"),
                t("人口目标", "people goal"),
                date(people),
                t("出列目标", "villages goal"),
                date(villages)
            )
        }
    };
    body.push_str(&format!("<p class=\"note\">{}</p></section>", esc(&pace)));

    if !p.parts.is_empty() {
        let villages: Vec<BarRow<'_>> = p
            .parts
            .iter()
            .map(|part| BarRow {
                name: &part.name,
                done: part.villages.delisted as u64,
                total: part.villages.poor as u64,
                href: Some(format!("/o?area={}", part.code)),
            })
            .collect();
        let people: Vec<BarRow<'_>> = p
            .parts
            .iter()
            .map(|part| BarRow {
                name: &part.name,
                done: part.people.lifted_out,
                total: part.people.registered,
                href: None,
            })
            .collect();
        let (villages_title, people_title) = match p.level.as_str() {
            "county" => (
                t(
                    "各乡镇：已出列村 / 贫困村",
                    "Each township: villages de-listed / poor villages",
                ),
                t(
                    "各乡镇：已脱贫 / 建档立卡人口",
                    "Each township: people lifted out / registered",
                ),
            ),
            _ => (
                t("各村：是否出列", "Each village: de-listed or not"),
                t(
                    "各村：已脱贫 / 建档立卡人口",
                    "Each village: people lifted out / registered",
                ),
            ),
        };
        body.push_str(&format!(
            "<section class=\"card\"><h2>{villages_title}</h2>{}</section>\
             <section class=\"card\"><h2>{people_title}</h2>{}</section>",
            charts::bars(&villages, villages_title),
            charts::bars(&people, people_title),
        ));
    }

    let points: Vec<(NaiveDate, u64)> = p
        .history
        .iter()
        .map(|s| (s.day, s.people_lifted_out))
        .collect();
    let targets: Vec<(NaiveDate, u64)> = p
        .yearly_goals
        .iter()
        .filter_map(|g| Some((NaiveDate::from_ymd_opt(g.year, 12, 31)?, g.people? as u64)))
        .collect();
    let title = t(
        "脱贫人口：实际（绿线）与年度目标（虚线）",
        "People lifted out: actual (green) and yearly targets (dashed)",
    );
    if points.len() >= 2 || !targets.is_empty() {
        body.push_str(&format!(
            "<section class=\"card\"><h2>{title}</h2>{}</section>",
            charts::growth(&points, &targets, p.goal_people, title)
        ));
    } else {
        // One day is a dot, not a line: say when the line begins instead.
        let since = points
            .first()
            .map_or_else(|| "—".to_owned(), |(day, _)| day.to_string());
        body.push_str(&format!(
            "<section class=\"card\"><h2>{title}</h2><p class=\"note\">{} {since}{}</p></section>",
            t("每日快照自", "Daily snapshots are kept from"),
            t(
                "起记录，满两天后画出趋势线。",
                "; the line is drawn from the second day on."
            ),
        ));
    }

    if !p.villages_by_incidence.is_empty() {
        body.push_str(&format!(
            "<section class=\"card\"><h2>{}</h2>",
            t(
                "贫困发生率最高的村",
                "Villages with the highest poverty incidence"
            )
        ));
        body.push_str(&village_cells(lang, &p, 5));
        body.push_str(&format!(
            "<a class=\"more\" href=\"/o/villages?area={}\">{}</a></section>",
            esc(&p.area_code),
            t("全部村排名", "All villages ranked")
        ));
    }
    body.push_str(&format!(
        "<p class=\"note\">{} {}</p><form method=\"post\" action=\"/logout\">{}\
         <button type=\"submit\" class=\"plain\" style=\"width:100%\">{}</button></form>",
        t("数据更新于", "Figures as of"),
        p.computed_at.format("%Y-%m-%d %H:%M UTC"),
        user.csrf_field(),
        t("退出登录", "Sign out")
    ));
    let title = format!("{} · {}", p.area_name, t("脱贫进度", "progress"));
    private_page(official_page(lang, &title, &body, "/o"), StatusCode::OK)
}

/// `GET /o/villages`: the area's poor villages not yet de-listed, highest incidence first.
#[handler]
pub async fn village_ranking(
    state: Data<&AppState>,
    req: &Request,
    Query(query): Query<AreaQuery>,
) -> Response {
    let user = match require(&state, req, is_official).await {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    let lang = lang_of(req);
    let t = |zh, en| text(lang, zh, en);
    let p = match progress_of(&state, lang, &user, &query, "/o/villages").await {
        Ok(progress) => progress,
        Err(answer) => return answer,
    };
    let body = if p.villages_by_incidence.is_empty() {
        format!(
            "<p class=\"note\">{}</p>",
            t(
                "没有待出列的贫困村。",
                "No poor village is waiting to be de-listed."
            )
        )
    } else {
        format!(
            "<p class=\"note\">{}</p>{}",
            t(
                "尚未出列的贫困村，按贫困发生率（贫困人口 / 农村人口）从高到低。",
                "Poor villages not yet de-listed, by poverty incidence (poor people / rural population), highest first."
            ),
            village_cells(lang, &p, usize::MAX)
        )
    };
    let title = format!("{} · {}", p.area_name, t("村排名", "villages"));
    private_page(
        official_page(lang, &title, &body, "/o/villages"),
        StatusCode::OK,
    )
}

fn village_cells(lang: Lang, p: &Progress, limit: usize) -> String {
    let t = |zh, en| text(lang, zh, en);
    let mut cells =
        String::from("<ol class=\"cells\" style=\"margin:0;padding:0;list-style:none\">");
    for (rank, village) in p.villages_by_incidence.iter().take(limit).enumerate() {
        let stage = match village.stage {
            VillageStage::InProgress => ("badge", t("推进中", "in progress")),
            VillageStage::NotStarted => ("badge off", t("未启动", "not started")),
            VillageStage::Delisted => ("badge", t("已出列", "de-listed")),
        };
        cells.push_str(&format!(
            "<li class=\"cell\"><span>{rank}. {name} <span class=\"{class}\">{stage}</span></span>\
             <span><b>{incidence}%</b><small class=\"note\" style=\"display:block\">{poor}/{rural} {people}</small></span></li>",
            rank = rank + 1,
            name = esc(&village.name),
            class = stage.0,
            stage = stage.1,
            incidence = format_args!("{}.{:02}", village.incidence_bp / 100, village.incidence_bp % 100),
            poor = village.poor_people,
            rural = village.rural_population,
            people = t("人", "people"),
        ));
    }
    cells.push_str("</ol>");
    cells
}

/// `135000` as `135,000`.
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_are_grouped() {
        assert_eq!(super::group(135_000), "135,000");
        assert_eq!(super::group(999), "999");
        assert_eq!(super::group(1_000), "1,000");
        assert_eq!(super::group(0), "0");
    }
}
