//! `/o/monitoring`: the warnings of the official's area (a village cadre's: their village) —
//! the households to visit, each with why in plain Chinese — and a button on each to start its
//! identification (监测对象识别) at `warning`, through the monitoring procedure itself.

use askama::Template;
use entities::monitored_household::MonitoringCategory;
use poem::{
    Request, Response, handler,
    http::StatusCode,
    web::{Data, Path, Query},
};
use serde::Deserialize;

use crate::http::pages::{
    error::PageError,
    forms::{ItemForm, Problem, fresh_key},
    session::{Official, PageForm, PageUser},
    shell::{Frame, private_with, see_other},
};
use crate::http::{caller::origin, error::Lang};
use crate::{
    app::AppState,
    service::{
        monitoring::{
            self, RiskType,
            cases::{self, NewMonitoring},
            warnings::{self, Warning, WarningReason},
        },
        pagination::PageRequest,
    },
};
use entities::{monitored_household::DiscoveryChannel, sector_record::Sector};

/// Warnings one page lists.
const SHOWN: u64 = 20;

#[derive(Debug, Default, Deserialize)]
pub struct WarningsQuery {
    year: Option<i32>,
    /// The last household of the page before.
    after: Option<i64>,
    /// The household whose identification was just started.
    started: Option<i64>,
}

/// `GET /o/monitoring`: the households to visit, and why.
#[handler]
pub async fn warnings_page(
    state: Data<&AppState>,
    official: Official,
    lang: Lang,
    Query(query): Query<WarningsQuery>,
) -> Result<Response, PageError> {
    page(
        &state,
        lang,
        &official,
        query,
        ItemForm::none(),
        StatusCode::OK,
    )
    .await
}

async fn page(
    state: &AppState,
    lang: Lang,
    official: &PageUser,
    query: WarningsQuery,
    form: ItemForm,
    status: StatusCode,
) -> Result<Response, PageError> {
    let request = PageRequest::new(query.after.map(|a| a.to_string()), Some(SHOWN));
    let found = warnings::list(
        &state.db,
        &*state.clock,
        &state.exit_rules,
        &official.actor,
        None,
        query.year,
        &request,
    )
    .await
    .map_err(|e| PageError::refused(lang, e))?;
    let villages = crate::service::areas::names_of(
        state.db.conn(),
        found.page.items.iter().map(|w| w.village_code.clone()),
    )
    .await
    .map_err(|e| PageError::Unavailable(e.into()))?;
    let items = found
        .page
        .items
        .into_iter()
        .map(|w| Item {
            note: note_of(&w),
            channel: if w.reasons.iter().all(|r| r.kind() == "sector") {
                "sector_data"
            } else {
                "warning"
            },
            village: villages.get(&w.village_code).cloned().unwrap_or_default(),
            category: monitoring::category_for(w.status),
            risk: default_risk(&w),
            warning: w,
        })
        .collect();
    let started = query.started.map(|id| {
        if lang == Lang::Zh {
            format!("已开始识别（第 {id} 号监测记录）。下一步：入户核实。")
        } else {
            format!("Identification started (monitoring record {id}). Next: the home check.")
        }
    });
    private_with(
        &WarningsPage {
            lang,
            csrf: official.csrf(),
            year: found.year,
            line_yuan: found.line_fen / 100,
            margin: state.exit_rules.monitoring_margin_percent,
            items,
            next: found.page.next_after,
            form,
            started,
        },
        status,
    )
}

/// The reasons in Chinese, as the monitoring record's note (at most 500 characters).
fn note_of(w: &Warning) -> String {
    let words: Vec<String> = w.reasons.iter().map(WarningReason::zh).collect();
    let note = words.join("；");
    if note.chars().count() > 500 {
        note.chars().take(499).collect::<String>() + "…"
    } else {
        note
    }
}

/// The risk the reasons point to first.
fn default_risk(w: &Warning) -> RiskType {
    w.reasons
        .iter()
        .find_map(|r| match r {
            WarningReason::Sector { sector, .. } => Some(match sector {
                Sector::HealthInsurance => RiskType::Illness,
                Sector::Emergency => RiskType::Disaster,
                Sector::Education => RiskType::Schooling,
                Sector::CivilAffairs => RiskType::Other,
            }),
            WarningReason::EcommerceFell { .. } => Some(RiskType::FailedBusiness),
            WarningReason::CheckNotMet { .. } => None,
            _ => None,
        })
        .unwrap_or(RiskType::Other)
}

#[derive(Debug, Default, Deserialize)]
pub struct StartForm {
    year: Option<i32>,
    risk: Option<String>,
    category: Option<String>,
    /// The reasons as the list said them, kept as the record's note.
    note: Option<String>,
    /// `warning` or `sector_data`.
    channel: Option<String>,
    key: Option<String>,
}

/// `POST /o/monitoring/{household}/start`: the household's identification starts at
/// `warning`, found by the platform's warnings (or a sector's list), with its reasons as the
/// note; then back to the list.
#[handler]
pub async fn start(
    state: Data<&AppState>,
    req: &Request,
    official: Official,
    lang: Lang,
    Path(household_id): Path<i64>,
    PageForm(form): PageForm<StartForm>,
) -> Result<Response, PageError> {
    let year = form.year.unwrap_or_else(|| state.clock.this_year());
    let risk = form
        .risk
        .as_deref()
        .and_then(RiskType::parse)
        .unwrap_or(RiskType::Other);
    let category = match form.category.as_deref() {
        Some("edge") => MonitoringCategory::Edge,
        Some("sudden_hardship") => MonitoringCategory::SuddenHardship,
        _ => MonitoringCategory::UnstableExited,
    };
    // Found by a sector's list alone, or by the platform's warnings.
    let channel = match form.channel.as_deref() {
        Some("sector_data") => DiscoveryChannel::SectorData,
        _ => DiscoveryChannel::Warning,
    };
    let note = form.note.clone().filter(|n| !n.trim().is_empty());
    let new = NewMonitoring {
        household_id,
        category,
        risk_types: vec![risk],
        channel,
        year,
        note,
    };
    let refused = match cases::open(
        &state.db,
        &*state.clock,
        &state.exit_rules,
        &official.actor,
        new,
        form.key.as_deref(),
        &origin(req),
    )
    .await
    {
        Ok(record) => {
            return Ok(see_other(&format!(
                "/o/monitoring?year={year}&started={}",
                record.monitored.id
            )));
        }
        Err(e) => PageError::refused(lang, e),
    };
    let (problem, status) = Problem::of(refused, &[])?;
    let typed = vec![
        ("risk", risk.name().to_owned()),
        ("category", form.category.clone().unwrap_or_default()),
    ];
    let query = WarningsQuery {
        year: Some(year),
        ..WarningsQuery::default()
    };
    let form = ItemForm::refused(household_id, problem, typed);
    page(&state, lang, &official, query, form, status).await
}

struct Item {
    warning: Warning,
    note: String,
    channel: &'static str,
    village: String,
    category: MonitoringCategory,
    risk: RiskType,
}

#[derive(Template)]
#[template(path = "official/monitoring.html")]
struct WarningsPage {
    lang: Lang,
    csrf: String,
    year: i32,
    line_yuan: i64,
    margin: u32,
    items: Vec<Item>,
    /// The last household shown, when more follow.
    next: Option<String>,
    /// A refused start: its household and why.
    form: ItemForm,
    started: Option<String>,
}

impl WarningsPage {
    fn key(&self) -> String {
        fresh_key()
    }

    fn reason(&self, reason: &WarningReason) -> String {
        match self.lang {
            Lang::Zh => reason.zh(),
            Lang::En => reason.en(),
        }
    }

    fn risks(&self) -> [RiskType; 8] {
        RiskType::ALL
    }

    fn risk_name(&self, risk: &RiskType) -> &'static str {
        match self.lang {
            Lang::Zh => risk.zh(),
            Lang::En => risk.name(),
        }
    }

    /// The risk the form shows chosen: the one typed when refused, else the reasons' own.
    fn chosen(&self, item: &Item, risk: &RiskType) -> bool {
        let typed = self.form.typed(&item.warning.household_id, "risk");
        if typed.is_empty() {
            item.risk == *risk
        } else {
            typed == risk.name()
        }
    }

    fn categories(&self) -> [(&'static str, &'static str, MonitoringCategory); 3] {
        [
            (
                "unstable_exited",
                self.lang.t("脱贫不稳定户", "Unstable exited"),
                MonitoringCategory::UnstableExited,
            ),
            (
                "edge",
                self.lang.t("边缘易致贫户", "Near the line"),
                MonitoringCategory::Edge,
            ),
            (
                "sudden_hardship",
                self.lang.t("突发严重困难户", "Sudden severe hardship"),
                MonitoringCategory::SuddenHardship,
            ),
        ]
    }

    fn category_chosen(&self, item: &Item, name: &str, category: &MonitoringCategory) -> bool {
        let typed = self.form.typed(&item.warning.household_id, "category");
        if typed.is_empty() {
            item.category == *category
        } else {
            typed == name
        }
    }

    fn stray(&self) -> Option<&str> {
        self.form
            .stray(self.items.iter().map(|i| i.warning.household_id))
    }
}
