//! The farmer's plots (`/f/plots`): each plot with what it grows, a form to add one and a page
//! to change one. A batch from a plot is one of its crops, so the batch form can say so.

use std::collections::HashMap;

use askama::Template;
use entities::{plot::Model as Plot, product_category::Model as Category};
use poem::{
    Response, handler,
    web::{Data, Path},
};
use serde::Deserialize;

use crate::http::error::Lang;
use crate::http::pages::{
    error::{Missing, PageError},
    forms::{Problem, fresh_key},
    session::{Farmer, PageForm},
    shell::{Frame, private, private_with, see_other},
};
use crate::{
    app::AppState,
    service::trace::{
        TraceError,
        batch_pages::{self, Plots},
        production::{self, NewPlot},
    },
};

/// The fields of the plot form, that a refusal is said beside.
const PLOT_FIELDS: &[&str] = &["name", "area", "crops"];

/// `GET /f/plots`: the household's plots and a form to add one.
#[handler]
pub async fn my_plots(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
) -> Result<Response, PageError> {
    let plots = own_plots(&state, &farmer).await?;
    private(&PlotsPage::new(lang, &farmer, plots, None, Problem::none()))
}

/// What the plot form was filled in with.
#[derive(Debug, Default, Deserialize)]
pub struct PlotForm {
    name: Option<String>,
    /// In mu, as typed.
    area: Option<String>,
    /// The form's key: sent twice, it records one plot.
    key: Option<String>,
    /// `crop_{category id}` for each product ticked.
    #[serde(flatten)]
    rest: HashMap<String, String>,
}

impl PlotForm {
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }

    pub fn area(&self) -> &str {
        self.area.as_deref().unwrap_or("")
    }

    /// The products ticked.
    fn crops(&self) -> Vec<i64> {
        let mut crops: Vec<i64> = self
            .rest
            .keys()
            .filter_map(|k| k.strip_prefix("crop_")?.parse().ok())
            .collect();
        crops.sort_unstable();
        crops
    }

    pub fn grows(&self, category: &i64) -> bool {
        self.rest.contains_key(&format!("crop_{category}"))
    }

    /// The form as a plot shows it, to change it.
    fn of(plot: &Plot, crops: &[i64]) -> Self {
        let area = crate::http::pages::forms::yuan(plot.area_centimu);
        Self {
            name: Some(plot.name.clone()),
            area: Some(area),
            key: None,
            rest: crops
                .iter()
                .map(|c| (format!("crop_{c}"), "1".to_owned()))
                .collect(),
        }
    }

    /// The plot typed, or what to fix first.
    fn new_plot(&self, lang: Lang) -> Result<NewPlot, PageError> {
        let area = self.area().trim().replace(['亩', ' '], "");
        let area_mu = area
            .parse::<f64>()
            .ok()
            .filter(|a| a.is_finite())
            .ok_or_else(|| {
                let words = lang.t(
                    "面积请填数字，例如 1.5（亩）",
                    "Give the area as a number of mu, such as 1.5",
                );
                PageError::mistake_in("area", words)
            })?;
        let crop_ids = self.crops();
        if crop_ids.is_empty() {
            let words = lang.t(
                "请勾选这块地种的东西，可以选几样",
                "Tick what the plot grows; more than one is fine",
            );
            return Err(PageError::mistake_in("crops", words));
        }
        Ok(NewPlot {
            name: self.name().to_owned(),
            area_mu,
            crop_ids,
            ..Default::default()
        })
    }
}

/// `POST /f/plots`: records the plot, or shows the plots again with what was wrong.
#[handler]
pub async fn create_plot(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
    PageForm(form): PageForm<PlotForm>,
) -> Result<Response, PageError> {
    let refused = match form.new_plot(lang) {
        Err(mistake) => mistake,
        Ok(new) => {
            let key = form.key.as_deref();
            match production::create_plot_keyed(&state.db, &farmer.actor, new, key).await {
                Ok(_) => return Ok(see_other("/f/plots")),
                Err(e) => PageError::refused(lang, e),
            }
        }
    };
    let (problem, status) = Problem::of(refused, PLOT_FIELDS)?;
    let plots = own_plots(&state, &farmer).await?;
    let mut page = PlotsPage::new(lang, &farmer, plots, None, problem);
    page.typed = form;
    private_with(&page, status)
}

/// `GET /f/plots/{id}`: one plot's form, to change its name, area or crops.
#[handler]
pub async fn plot_page(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let (plot, crops) = own_plot(&state, &farmer, id).await?;
    let plots = own_plots(&state, &farmer).await?;
    let mut page = PlotsPage::new(lang, &farmer, plots, Some(plot.clone()), Problem::none());
    page.typed = PlotForm::of(&plot, &crops);
    private(&page)
}

/// `POST /f/plots/{id}`: the plot changed, or its form again with what was wrong.
#[handler]
pub async fn update_plot(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
    Path(id): Path<i64>,
    PageForm(form): PageForm<PlotForm>,
) -> Result<Response, PageError> {
    let refused = match form.new_plot(lang) {
        Err(mistake) => mistake,
        Ok(new) => match production::update_plot(&state.db, &farmer.actor, id, new).await {
            Ok(_) => return Ok(see_other("/f/plots")),
            Err(TraceError::NotFound) => return Err(PageError::Missing(Missing::OwnPlot)),
            Err(e) => PageError::refused(lang, e),
        },
    };
    let (problem, status) = Problem::of(refused, PLOT_FIELDS)?;
    let (plot, _) = own_plot(&state, &farmer, id).await?;
    let plots = own_plots(&state, &farmer).await?;
    let mut page = PlotsPage::new(lang, &farmer, plots, Some(plot), problem);
    page.typed = form;
    private_with(&page, status)
}

async fn own_plots(state: &AppState, farmer: &Farmer) -> Result<Option<Plots>, PageError> {
    batch_pages::own_plots(&state.db, &farmer.actor)
        .await
        .map_err(PageError::Unavailable)
}

/// The household's own plot; another's, or none, is not found.
async fn own_plot(
    state: &AppState,
    farmer: &Farmer,
    id: i64,
) -> Result<(Plot, Vec<i64>), PageError> {
    match production::own_plot(&state.db, &farmer.actor, id).await {
        Ok(found) => Ok(found),
        Err(TraceError::NotFound | TraceError::Forbidden) => {
            Err(PageError::Missing(Missing::OwnPlot))
        }
        Err(e) => Err(PageError::Unavailable(e.into())),
    }
}

/// `GET /f/plots` and `GET /f/plots/{id}`, and a refused plot as it was filled in.
#[derive(Template)]
#[template(path = "farmer/plots.html")]
struct PlotsPage {
    lang: Lang,
    csrf: String,
    /// None for an account bound to no household.
    plots: Option<Plots>,
    /// The plot being changed; none to add one.
    editing: Option<Plot>,
    problem: Problem,
    typed: PlotForm,
    /// The new-plot form's key, new on every showing.
    key: String,
}

impl PlotsPage {
    fn new(
        lang: Lang,
        farmer: &Farmer,
        plots: Option<Plots>,
        editing: Option<Plot>,
        problem: Problem,
    ) -> Self {
        Self {
            lang,
            csrf: farmer.csrf(),
            plots,
            editing,
            problem,
            typed: PlotForm::default(),
            key: fresh_key(),
        }
    }

    /// What a plot grows, as the page names it: `红橘、核桃`, or its own words.
    fn grows(&self, plot: &Plot, crops: &[i64]) -> String {
        let names: Vec<&str> = self
            .plots
            .iter()
            .flat_map(|p| p.crop_names(crops))
            .map(|c: &Category| self.lang.t(&c.name_zh, &c.name_en))
            .collect();
        if names.is_empty() {
            plot.crop.clone()
        } else {
            names.join(self.lang.t("、", ", "))
        }
    }

    /// A plot's area in mu: `1.25`.
    fn area(&self, plot: &Plot) -> String {
        crate::http::pages::forms::yuan(plot.area_centimu)
    }

    fn title(&self) -> &'static str {
        match self.editing {
            Some(_) => self.lang.t("修改地块", "Change a plot"),
            None => self.lang.t("我的地块", "My plots"),
        }
    }

    /// Where the form posts.
    fn action(&self) -> String {
        match &self.editing {
            Some(plot) => format!("/f/plots/{}", plot.id),
            None => "/f/plots".to_owned(),
        }
    }
}
