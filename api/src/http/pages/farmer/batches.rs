//! The farmer's batches (`/f/batches`): recording a harvest, the steps of its journey, issuing
//! item codes and downloading their label sheet — what the scan page later tells buyers.

use askama::Template;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use entities::{
    batch::Model as Batch,
    product_category::Model as Category,
    revoked_code::Model as Revoked,
    trace_code_run::Model as Run,
    trace_event::{EventKind, InspectionResult, Model as TraceEvent},
};
use poem::{
    Response, handler,
    http::header,
    web::{Data, Path, Query},
};
use serde::Deserialize;

use crate::http::error::Lang;
use crate::http::pages::{
    error::{Missing, PageError},
    forms::{Kept, Problem, fresh_key, parse_count, unit_of},
    session::{Farmer, PageForm},
    shell::{Frame, private, private_with, see_other},
};
use crate::{
    app::AppState,
    domain::county_time,
    service::trace::{
        TraceError,
        batch_pages::{self, Batches, OwnBatch},
        codes, events,
        labels::{self, SheetPdf, sheet_pdf},
        production::{self, NewBatch},
    },
};

/// A farmer's batches page lists at most this many, the most recent.
const RECENT_BATCHES: u64 = 50;

/// The steps of a journey as the step form spells them, in the order it offers them.
pub const KINDS: [(EventKind, &str); 8] = [
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
pub async fn my_batches(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
) -> Result<Response, PageError> {
    let batches = own_batches(&state, &farmer).await?;
    private(&BatchesPage::new(
        lang,
        &farmer,
        state.clock.today(),
        batches,
        Kept::fresh(),
    ))
}

#[derive(Debug, Default, Deserialize)]
pub struct BatchForm {
    category: Option<String>,
    plot: Option<String>,
    quantity: Option<String>,
    unit: Option<String>,
    produced_on: Option<String>,
    listing: Option<String>,
    /// The form's key: sent twice, it records one batch.
    key: Option<String>,
}

/// `POST /f/batches`: records the batch and opens it, or shows the batches again with what was
/// wrong and nothing recorded.
#[handler]
pub async fn create_batch(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
    PageForm(form): PageForm<BatchForm>,
) -> Result<Response, PageError> {
    let refused = match form.new_batch() {
        Err(typo) => typo.refusal(lang),
        Ok(new) => {
            let (clock, key) = (&*state.clock, form.key.as_deref());
            match production::create_batch_keyed(&state.db, clock, &farmer.actor, new, key).await {
                Ok(batch) => return Ok(see_other(&format!("/f/batches/{}", batch.id))),
                Err(e) => PageError::refused(lang, e),
            }
        }
    };
    let (problem, status) = Problem::of(refused, BATCH_FIELDS)?;
    let batches = own_batches(&state, &farmer).await?;
    let form = Kept::refused(problem, form);
    let page = BatchesPage::new(lang, &farmer, state.clock.today(), batches, form);
    private_with(&page, status)
}

/// The fields of the new-batch form, that a refusal is said beside.
const BATCH_FIELDS: &[&str] = &["category", "plot", "quantity", "produced_on"];

/// `GET /f/batches/{id}`: one batch: its journey, a step to add, its codes and label sheets.
#[handler]
pub async fn batch_page(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
    Path(id): Path<i64>,
    Query(opened): Query<ScannedItem>,
) -> Result<Response, PageError> {
    let batch = own_batch(&state, &farmer, id).await?;
    let mut page = BatchPage::new(lang, &farmer, batch, state.clock.now(), Kept::fresh());
    if let Some(item) = opened.item {
        page.scanned_at(item);
    }
    private(&page)
}

/// A batch opened from one of its scanned labels: `?item=` (0 for the batch's own code).
#[derive(Debug, Default, Deserialize)]
pub struct ScannedItem {
    item: Option<i64>,
}

/// The journey's usual order after a label is stuck on: packed, shipped, sold.
const NEXT_STEPS: [(EventKind, &str); 3] = [
    (EventKind::Packed, "packed"),
    (EventKind::Shipped, "shipped"),
    (EventKind::Sold, "sold"),
];

#[derive(Debug, Default, Deserialize)]
pub struct EventForm {
    kind: Option<String>,
    result: Option<String>,
    place: Option<String>,
    /// The county's day and time the step happened (`2026-12-02`, `07:30`); now when empty.
    day: Option<String>,
    time: Option<String>,
    count: Option<String>,
    /// Recalling: why, and the box that confirms it.
    recall_reason: Option<String>,
    recall_confirm: Option<String>,
    /// Revoking: the label's number (or the code), why, and the box that confirms it.
    item: Option<String>,
    revoke_reason: Option<String>,
    revoke_confirm: Option<String>,
    /// The form's key: sent twice, it records once.
    key: Option<String>,
}

/// `POST /f/batches/{id}/events`: a step of the journey, on the day and at the time typed.
#[handler]
pub async fn add_event(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
    Path(id): Path<i64>,
    PageForm(form): PageForm<EventForm>,
) -> Result<Response, PageError> {
    let new = match form.new_event(state.clock.now()) {
        Ok(new) => new,
        Err(typo) => return batch_again(&state, &farmer, lang, id, typo.refusal(lang), form).await,
    };
    let (clock, key) = (&*state.clock, form.key.as_deref());
    let actor = &farmer.actor;
    match events::record_keyed(&state.db, &state.cache, clock, actor, id, new, key).await {
        Ok(_) => Ok(see_other(&format!("/f/batches/{id}"))),
        Err(e) => batch_again(&state, &farmer, lang, id, PageError::refused(lang, e), form).await,
    }
}

/// `POST /f/batches/{id}/codes`: a run of item codes, numbered on from the last.
#[handler]
pub async fn issue_codes(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
    Path(id): Path<i64>,
    PageForm(form): PageForm<EventForm>,
) -> Result<Response, PageError> {
    let count = form.count.as_deref().and_then(parse_count);
    let Some(count) = count.and_then(|c| u32::try_from(c).ok()) else {
        return batch_again(&state, &farmer, lang, id, Typo::Count.refusal(lang), form).await;
    };
    let key = form.key.as_deref();
    match codes::issue_keyed(&state.db, &state.cache, &farmer.actor, id, count, key).await {
        Ok(_) => Ok(see_other(&format!("/f/batches/{id}"))),
        Err(e) => batch_again(&state, &farmer, lang, id, PageError::refused(lang, e), form).await,
    }
}

/// `POST /f/batches/{id}/recall`: the whole batch recalled, with a reason and the box that
/// confirms it ticked; every code of it warns buyers from then on.
#[handler]
pub async fn recall_batch(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
    Path(id): Path<i64>,
    PageForm(form): PageForm<EventForm>,
) -> Result<Response, PageError> {
    if form.recall_confirm.is_none() {
        let unconfirmed = Typo::RecallConfirm.refusal(lang);
        return batch_again(&state, &farmer, lang, id, unconfirmed, form).await;
    }
    let reason = form.recall_reason.as_deref().unwrap_or("");
    let (actor, key) = (&farmer.actor, form.key.as_deref());
    match codes::recall_keyed(&state.db, &state.cache, actor, id, reason, key).await {
        Ok(_) => Ok(see_other(&format!("/f/batches/{id}"))),
        Err(e) => batch_again(&state, &farmer, lang, id, PageError::refused(lang, e), form).await,
    }
}

/// `POST /f/batches/{id}/revocations`: one code of the batch taken out of use (a lost or
/// spoilt label), by its number on the label, with a reason and the box that confirms it.
#[handler]
pub async fn revoke_code(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
    Path(id): Path<i64>,
    PageForm(form): PageForm<EventForm>,
) -> Result<Response, PageError> {
    let typed = form.item.as_deref().map(str::trim).unwrap_or("");
    let unready = if typed.is_empty() {
        Some(Typo::Item)
    } else if form.revoke_confirm.is_none() {
        Some(Typo::RevokeConfirm)
    } else {
        None
    };
    if let Some(typo) = unready {
        return batch_again(&state, &farmer, lang, id, typo.refusal(lang), form).await;
    }
    let reason = form.revoke_reason.as_deref().unwrap_or("");
    let revoked = codes::revoke_typed(
        &state.db,
        &state.cache,
        &farmer.actor,
        &state.trace_keys,
        id,
        typed,
        reason,
        form.key.as_deref(),
    );
    match revoked.await {
        Ok(()) => Ok(see_other(&format!("/f/batches/{id}#revoked"))),
        Err(e) => batch_again(&state, &farmer, lang, id, PageError::refused(lang, e), form).await,
    }
}

/// `GET /f/batches/{id}/runs/{run_id}/labels.pdf`: the run's label sheet, to print.
#[handler]
pub async fn label_sheet(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
    Path((id, run_id)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let keys = state.trace_keys.clone();
    let base_url = &state.settings.public_base_url;
    let sheet = sheet_pdf(
        &state.db,
        &farmer.actor,
        keys,
        base_url,
        id,
        run_id,
        None,
        None,
    );
    match sheet.await {
        Ok(sheet) => Ok(download(sheet)),
        Err(e) => {
            let refused = PageError::refused(lang, e);
            batch_again(&state, &farmer, lang, id, refused, EventForm::default()).await
        }
    }
}

/// `GET /f/batches/{id}/runs/{run_id}/labels/{page}`: one page of the run's label sheet as a
/// PNG, for printing from a phone or at a photo shop.
#[handler]
pub async fn label_page(
    state: Data<&AppState>,
    farmer: Farmer,
    Path((id, run_id, page)): Path<(i64, i64, usize)>,
) -> Result<Response, PageError> {
    let png = labels::page_png(
        &state.db,
        &farmer.actor,
        state.trace_keys.clone(),
        state.settings.public_base_url.clone(),
        state.label_fonts.clone(),
        id,
        run_id,
        page,
    );
    match png.await {
        Ok((png, total)) => Ok(Response::builder()
            .content_type("image/png")
            .header(
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"batch-{id}-run-{run_id}-page-{page}.png\""),
            )
            .header(header::CACHE_CONTROL, "no-store")
            .header("x-total-pages", total)
            .body(png)),
        Err(TraceError::NotFound) => Err(PageError::Missing(Missing::OwnBatch)),
        Err(e) => Err(PageError::Unavailable(e.into())),
    }
}

/// `GET /f/batches/{id}/runs/{run_id}/codes.csv`: the run's codes (item, code, URL), for a
/// print shop's own labels.
#[handler]
pub async fn codes_file(
    state: Data<&AppState>,
    farmer: Farmer,
    Path((id, run_id)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let run = match codes::run(&state.db, &farmer.actor, id, run_id).await {
        Ok((_, run)) => run,
        Err(TraceError::NotFound | TraceError::Forbidden) => {
            return Err(PageError::Missing(Missing::OwnBatch));
        }
        Err(e) => return Err(PageError::Unavailable(e.into())),
    };
    let chunks = codes::csv_chunks(
        state.trace_keys.clone(),
        &run,
        state.settings.public_base_url.clone(),
    );
    let lines = std::iter::once("item,code,url\n".to_owned())
        .chain(chunks)
        .map(|chunk| Ok::<_, std::io::Error>(bytes::Bytes::from(chunk)));
    Ok(Response::builder()
        .content_type("text/csv; charset=utf-8")
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"batch-{id}-run-{run_id}.csv\""),
        )
        .header(header::CACHE_CONTROL, "no-store")
        .body(poem::Body::from_bytes_stream(futures_util::stream::iter(
            lines,
        ))))
}

/// A label sheet as a download, never kept.
fn download(sheet: SheetPdf) -> Response {
    Response::builder()
        .content_type("application/pdf")
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", sheet.file_name),
        )
        .header(header::CACHE_CONTROL, "no-store")
        .header("x-total-pages", sheet.total_pages)
        .body(sheet.bytes)
}

/// The batch's page again, saying why a change to it was refused, with what was typed (a
/// batch that is not the household's is not found, whatever was wrong).
async fn batch_again(
    state: &AppState,
    farmer: &Farmer,
    lang: Lang,
    id: i64,
    refused: PageError,
    typed: EventForm,
) -> Result<Response, PageError> {
    let (problem, status) = Problem::of(refused, typed.fields())?;
    let batch = own_batch(state, farmer, id).await?;
    let form = Kept::refused(problem, typed);
    private_with(
        &BatchPage::new(lang, farmer, batch, state.clock.now(), form),
        status,
    )
}

async fn own_batches(state: &AppState, farmer: &Farmer) -> Result<Option<Batches>, PageError> {
    batch_pages::own_batches(&state.db, &farmer.actor, RECENT_BATCHES)
        .await
        .map_err(PageError::Unavailable)
}

/// The household's own batch; another's, or none, is not found.
async fn own_batch(state: &AppState, farmer: &Farmer, id: i64) -> Result<OwnBatch, PageError> {
    match batch_pages::own_batch(&state.db, &state.trace_keys, &farmer.actor, id).await {
        Ok(batch) => Ok(batch),
        Err(TraceError::NotFound) => Err(PageError::Missing(Missing::OwnBatch)),
        Err(e) => Err(PageError::Unavailable(e.into())),
    }
}

impl BatchForm {
    fn is(field: &Option<String>, id: i64) -> bool {
        field.as_deref().map(str::trim) == Some(id.to_string().as_str())
    }

    /// Whether the refused form had chosen this product (or plot, or listing).
    pub fn category_is(&self, id: &i64) -> bool {
        Self::is(&self.category, *id)
    }

    pub fn plot_is(&self, id: &i64) -> bool {
        Self::is(&self.plot, *id)
    }

    pub fn listing_is(&self, id: &i64) -> bool {
        Self::is(&self.listing, *id)
    }

    pub fn quantity(&self) -> &str {
        self.quantity.as_deref().unwrap_or("")
    }

    pub fn unit(&self) -> &str {
        self.unit.as_deref().unwrap_or("")
    }

    /// The day typed, or `today` on a fresh form.
    pub fn produced_on(&self, today: &NaiveDate) -> String {
        self.produced_on
            .clone()
            .unwrap_or_else(|| today.to_string())
    }

    /// The typed batch, or what to fix first.
    fn new_batch(&self) -> Result<NewBatch, Typo> {
        let id = |field: &Option<String>| field.as_deref().and_then(|v| v.parse::<i64>().ok());
        let typed = |field: &Option<String>| field.as_deref().unwrap_or("").to_owned();
        Ok(NewBatch {
            category_id: id(&self.category).ok_or(Typo::Product)?,
            plot_id: id(&self.plot),
            quantity: parse_count(&typed(&self.quantity)).ok_or(Typo::Quantity)?,
            unit: unit_of(&typed(&self.unit)),
            produced_on: NaiveDate::parse_from_str(&typed(&self.produced_on), "%Y-%m-%d")
                .map_err(|_| Typo::ProducedOn)?,
            note: String::new(),
            listing_ids: id(&self.listing).into_iter().collect(),
        })
    }
}

impl EventForm {
    /// The fields of the form that was sent (the batch page has four), that a refusal is said
    /// beside.
    fn fields(&self) -> &'static [&'static str] {
        if self.recall_confirm.is_some() || self.recall_reason.is_some() {
            &["recall_reason", "recall_confirm"]
        } else if self.item.is_some() || self.revoke_reason.is_some() {
            &["item", "revoke_reason", "revoke_confirm"]
        } else if self.count.is_some() {
            &["count"]
        } else {
            &["kind", "result", "place", "day", "time"]
        }
    }

    pub fn recall_reason(&self) -> &str {
        self.recall_reason.as_deref().unwrap_or("")
    }

    pub fn item(&self) -> &str {
        self.item.as_deref().unwrap_or("")
    }

    pub fn revoke_reason(&self) -> &str {
        self.revoke_reason.as_deref().unwrap_or("")
    }

    pub fn kind_is(&self, value: &str) -> bool {
        self.kind.as_deref() == Some(value)
    }

    pub fn result_is(&self, value: &str) -> bool {
        self.result.as_deref() == Some(value)
    }

    pub fn place(&self) -> &str {
        self.place.as_deref().unwrap_or("")
    }

    /// The count typed, or a sheet's 24 on a fresh form.
    pub fn count(&self) -> &str {
        self.count.as_deref().unwrap_or("24")
    }

    /// When the typed step happened: the county's day and time typed, now when left empty.
    fn when(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>, Typo> {
        fn typed(field: &Option<String>) -> Option<&str> {
            field.as_deref().map(str::trim).filter(|v| !v.is_empty())
        }
        let local = county_time::local(now);
        let day = match typed(&self.day) {
            None => local.date_naive(),
            Some(day) => NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| Typo::Day)?,
        };
        let time = match typed(&self.time) {
            None if typed(&self.day).is_none() => return Ok(now),
            None => NaiveTime::from_hms_opt(12, 0, 0).expect("noon"),
            Some(time) => NaiveTime::parse_from_str(time, "%H:%M")
                .or_else(|_| NaiveTime::parse_from_str(time, "%H:%M:%S"))
                .map_err(|_| Typo::Time)?,
        };
        Ok(county_time::instant(day, time))
    }

    /// The typed step, or what to fix first.
    fn new_event(&self, now: DateTime<Utc>) -> Result<events::NewEvent, Typo> {
        let kind = KINDS
            .iter()
            .find(|(_, v)| Some(*v) == self.kind.as_deref())
            .map(|(k, _)| *k)
            .ok_or(Typo::Step)?;
        let result = match self.result.as_deref() {
            Some("pass") => Some(InspectionResult::Pass),
            Some("fail") => Some(InspectionResult::Fail),
            _ => None,
        };
        Ok(events::NewEvent {
            kind,
            occurred_at: self.when(now)?,
            place_area: None,
            place_text: self.place.clone().filter(|p| !p.trim().is_empty()),
            result,
            input_batch_ids: Vec::new(),
            details: Default::default(),
        })
    }
}

/// What a farmer typed that a batch's forms cannot take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Typo {
    Product,
    Quantity,
    Day,
    ProducedOn,
    Time,
    Step,
    Count,
    Item,
    RecallConfirm,
    RevokeConfirm,
}

impl Typo {
    /// What to fix, as the form says it.
    fn words(self, lang: Lang) -> &'static str {
        let t = |zh, en| lang.t(zh, en);
        match self {
            Self::Product => t("请选择产品", "Choose the product"),
            Self::Quantity => t(
                "数量请填整数，例如 200",
                "Give the quantity as a whole number, such as 200",
            ),
            Self::Day | Self::ProducedOn => t("请选择日期", "Choose the day"),
            Self::Time => t("请填时间，例如 07:30", "Give the time, such as 07:30"),
            Self::Step => t("请选择是哪一步", "Choose the step"),
            Self::Count => t("数量请填整数，例如 24", "Give a whole number, such as 24"),
            Self::Item => t(
                "请填标签上 No. 后面的号码",
                "Give the number after No. on the label",
            ),
            Self::RecallConfirm => t(
                "请勾选“我确认召回”，再点召回",
                "Tick the box to confirm the recall, then press Recall",
            ),
            Self::RevokeConfirm => t(
                "请勾选“我确认作废”，再点作废",
                "Tick the box to confirm, then press Revoke",
            ),
        }
    }

    /// The field the mistake is in.
    fn field(self) -> &'static str {
        match self {
            Self::Product => "category",
            Self::Quantity => "quantity",
            Self::Day => "day",
            Self::ProducedOn => "produced_on",
            Self::Time => "time",
            Self::Step => "kind",
            Self::Count => "count",
            Self::Item => "item",
            Self::RecallConfirm => "recall_confirm",
            Self::RevokeConfirm => "revoke_confirm",
        }
    }

    fn refusal(self, lang: Lang) -> PageError {
        PageError::mistake_in(self.field(), self.words(lang))
    }
}

/// `GET /f/batches`, and a refused new batch.
#[derive(Template)]
#[template(path = "farmer/batches.html")]
struct BatchesPage {
    lang: Lang,
    csrf: String,
    /// The county's date now.
    today: NaiveDate,
    /// None for an account bound to no household.
    batches: Option<Batches>,
    problem: Problem,
    /// What a refused form had typed; empty on a fresh one.
    typed: BatchForm,
    /// The new-batch form's key, new on every showing.
    key: String,
}

impl BatchesPage {
    fn new(
        lang: Lang,
        farmer: &Farmer,
        today: NaiveDate,
        batches: Option<Batches>,
        form: Kept<BatchForm>,
    ) -> Self {
        Self {
            lang,
            csrf: farmer.csrf(),
            today,
            batches,
            problem: form.problem,
            typed: form.typed,
            key: fresh_key(),
        }
    }

    /// A plot as the plot select names it: `1号地（红橘、核桃）`.
    fn plot_label(&self, plot: &entities::plot::Model) -> String {
        let crops = self
            .batches
            .iter()
            .flat_map(|b| b.crops.get(&plot.id))
            .flatten()
            .map(|id| self.product(*id))
            .filter(|name| !name.is_empty())
            .collect::<Vec<_>>();
        if crops.is_empty() {
            plot.name.clone()
        } else {
            format!("{}（{}）", plot.name, crops.join(self.lang.t("、", ", ")))
        }
    }

    /// What a batch of `category_id` is, among the categories offered.
    fn product(&self, category_id: i64) -> &str {
        self.batches
            .iter()
            .flat_map(|b| &b.categories)
            .find(|c| c.id == category_id)
            .map(|c| self.lang.t(&c.name_zh, &c.name_en))
            .unwrap_or("")
    }
}

/// `GET /f/batches/{id}`, and a refused step or run of codes.
#[derive(Template)]
#[template(path = "farmer/batch.html")]
struct BatchPage {
    lang: Lang,
    csrf: String,
    batch: Batch,
    product: Option<Category>,
    code: String,
    journey: Vec<TraceEvent>,
    runs: Vec<Run>,
    revoked: Vec<Revoked>,
    problem: Problem,
    /// Each form's key, new on every showing.
    event_key: String,
    codes_key: String,
    recall_key: String,
    revoke_key: String,
    /// The county's day and time now, that a new step happens at unless the farmer says.
    now_day: String,
    now_time: String,
    /// What a refused form had typed; empty on a fresh one.
    typed: EventForm,
    /// The item whose label was just scanned, and whether that label was revoked.
    scanned: Option<(i64, bool)>,
}

impl BatchPage {
    fn new(
        lang: Lang,
        farmer: &Farmer,
        own: OwnBatch,
        now: DateTime<Utc>,
        form: Kept<EventForm>,
    ) -> Self {
        let local = county_time::local(now);
        Self {
            lang,
            csrf: farmer.csrf(),
            batch: own.batch,
            product: own.product,
            code: own.code,
            journey: own.journey,
            runs: own.runs,
            revoked: own.revoked,
            problem: form.problem,
            event_key: fresh_key(),
            codes_key: fresh_key(),
            recall_key: fresh_key(),
            revoke_key: fresh_key(),
            now_day: local.format("%Y-%m-%d").to_string(),
            now_time: local.format("%H:%M").to_string(),
            typed: form.typed,
            scanned: None,
        }
    }

    /// Opened at a scanned label: that item is named, and the step after the journey's last of
    /// packed, shipped and sold is chosen.
    fn scanned_at(&mut self, item: i64) {
        let revoked = self.revoked.iter().any(|r| r.item == item);
        self.scanned = Some((item, revoked));
        let done = self
            .journey
            .iter()
            .filter_map(|e| NEXT_STEPS.iter().position(|(k, _)| *k == e.kind))
            .max();
        let next = match done {
            None => 0,
            Some(i) => (i + 1).min(NEXT_STEPS.len() - 1),
        };
        self.typed.kind = Some(NEXT_STEPS[next].1.to_owned());
    }

    /// The scanned label as printed: its number, or the batch's own code.
    fn scanned_label(&self) -> Option<String> {
        self.scanned.map(|(item, _)| {
            if item > 0 {
                format!("No.{item}")
            } else {
                self.lang.t("批次码", "the batch code").to_owned()
            }
        })
    }

    fn scanned_revoked(&self) -> bool {
        self.scanned.is_some_and(|(_, revoked)| revoked)
    }

    /// `红苕粉 · 2024-11-20`: what the batch is and when it was harvested or made.
    fn title(&self) -> String {
        let product = self
            .product
            .as_ref()
            .map(|c| self.lang.t(&c.name_zh, &c.name_en))
            .unwrap_or("");
        format!("{product} · {}", self.batch.produced_on)
    }

    /// The pages a run's label sheet fills, numbered from 1.
    fn pages(&self, run: &Run) -> std::ops::RangeInclusive<usize> {
        let labels = (run.last_item - run.first_item + 1).max(0) as usize;
        1..=labels.div_ceil(crate::infra::labels::LABELS_PER_PAGE)
    }

    /// When a step happened, in the county's time.
    fn when(&self, event: &TraceEvent) -> String {
        county_time::minute(event.occurred_at)
    }

    /// When the batch was recalled, in the county's time.
    fn recalled_at(&self) -> String {
        self.batch
            .recalled_at
            .map(county_time::minute)
            .unwrap_or_default()
    }
}
