//! The farmer's farm inputs (`/f/inputs`: what was sprayed or fed, and when) and a batch's
//! compliance certificate (`/f/batches/{id}/certificate`: issue it, print it, withdraw it).
//! Refused forms come back as they were filled in, the reason beside the field.

use askama::Template;
use chrono::NaiveDate;
use entities::{
    batch::Model as Batch,
    certificate::{Basis, Model as Certificate},
    farm_input::{InputKind, Model as FarmInput},
    plot::Model as Plot,
};
use poem::{
    Response, handler,
    web::{Data, Path},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;

use crate::http::error::Lang;
use crate::http::pages::{
    error::{Missing, PageError},
    forms::{PageUpload, Problem, fresh_key, parse_count},
    session::{Farmer, PageForm},
    shell::{Frame, private, private_with, see_other, unit_name},
};
use crate::{
    app::AppState,
    infra::certificate_label::LabelSize,
    service::trace::{
        TraceError,
        certificates::{self, BASES, BasisNames, InputView, NewCertificate, Report},
        inputs::{self, NewInput},
    },
};

/// The kinds of input as the form spells them, in the order it offers them.
pub const INPUT_KINDS: [(InputKind, &str); 4] = [
    (InputKind::Pesticide, "pesticide"),
    (InputKind::VetDrug, "vet_drug"),
    (InputKind::Fertiliser, "fertiliser"),
    (InputKind::Feed, "feed"),
];

/// What an input kind is called.
pub fn kind_name(lang: Lang, kind: InputKind) -> &'static str {
    match kind {
        InputKind::Pesticide => lang.t("农药", "Pesticide"),
        InputKind::VetDrug => lang.t("兽药", "Veterinary drug"),
        InputKind::Fertiliser => lang.t("肥料", "Fertiliser"),
        InputKind::Feed => lang.t("饲料", "Feed"),
    }
}

/// The fields of the input form, that a refusal is said beside.
const INPUT_FIELDS: &[&str] = &[
    "kind",
    "place",
    "product_name",
    "registration_no",
    "active_ingredient",
    "dose",
    "method",
    "applied_on",
    "interval_days",
];

/// What the input form was filled in with.
#[derive(Debug, Default, Deserialize)]
pub struct InputForm {
    kind: Option<String>,
    plot: Option<String>,
    flock: Option<String>,
    product_name: Option<String>,
    registration_no: Option<String>,
    active_ingredient: Option<String>,
    dose: Option<String>,
    method: Option<String>,
    applied_on: Option<String>,
    interval_days: Option<String>,
    key: Option<String>,
}

fn text(field: &Option<String>) -> &str {
    field.as_deref().unwrap_or("")
}

impl InputForm {
    pub fn kind_is(&self, value: &&str) -> bool {
        text(&self.kind) == *value
    }
    pub fn plot_is(&self, id: &i64) -> bool {
        text(&self.plot).trim() == id.to_string()
    }
    pub fn flock(&self) -> &str {
        text(&self.flock)
    }
    pub fn product_name(&self) -> &str {
        text(&self.product_name)
    }
    pub fn registration_no(&self) -> &str {
        text(&self.registration_no)
    }
    pub fn active_ingredient(&self) -> &str {
        text(&self.active_ingredient)
    }
    pub fn dose(&self) -> &str {
        text(&self.dose)
    }
    pub fn method(&self) -> &str {
        text(&self.method)
    }
    pub fn interval_days(&self) -> &str {
        text(&self.interval_days)
    }
    /// The day typed, or `today` on a fresh form.
    pub fn applied_on(&self, today: &NaiveDate) -> String {
        self.applied_on.clone().unwrap_or_else(|| today.to_string())
    }

    fn new_input(&self, lang: Lang) -> Result<NewInput, PageError> {
        let kind = INPUT_KINDS
            .iter()
            .find(|(_, name)| *name == text(&self.kind))
            .map(|(kind, _)| *kind)
            .ok_or_else(|| {
                PageError::mistake_in(
                    "kind",
                    lang.t("请选是什么投入品", "Choose the kind of input"),
                )
            })?;
        let applied_on = NaiveDate::parse_from_str(text(&self.applied_on).trim(), "%Y-%m-%d")
            .map_err(|_| {
                PageError::mistake_in(
                    "applied_on",
                    lang.t("请选使用的日期", "Choose the day it was used"),
                )
            })?;
        let interval = text(&self.interval_days).trim();
        let interval_days = if interval.is_empty() {
            None
        } else {
            Some(
                parse_count(interval.trim_end_matches('天'))
                    .and_then(|d| i32::try_from(d).ok())
                    .ok_or_else(|| {
                        PageError::mistake_in(
                            "interval_days",
                            lang.t(
                                "间隔天数请填数字，例如 7",
                                "Give the days as a number, such as 7",
                            ),
                        )
                    })?,
            )
        };
        let plot_id = text(&self.plot).trim().parse::<i64>().ok();
        Ok(NewInput {
            kind,
            plot_id,
            flock: self.flock.clone().filter(|_| plot_id.is_none()),
            product_name: self.product_name().to_owned(),
            registration_no: self.registration_no.clone(),
            active_ingredient: self.active_ingredient.clone(),
            dose: self.dose().to_owned(),
            method: self.method().to_owned(),
            applied_on,
            interval_days,
        })
    }
}

#[derive(Template)]
#[template(path = "farmer/inputs.html")]
struct InputsPage {
    lang: Lang,
    csrf: String,
    key: String,
    today: NaiveDate,
    plots: Vec<Plot>,
    inputs: Vec<FarmInput>,
    problem: Problem,
    typed: InputForm,
}

impl InputsPage {
    fn kind(&self, kind: &InputKind) -> &'static str {
        kind_name(self.lang, *kind)
    }

    fn place(&self, input: &FarmInput) -> String {
        match (input.plot_id, &input.flock) {
            (Some(id), _) => self
                .plots
                .iter()
                .find(|p| p.id == id)
                .map(|p| p.name.clone())
                .unwrap_or_default(),
            (None, Some(flock)) => flock.clone(),
            (None, None) => String::new(),
        }
    }

    fn allowed_from(&self, input: &FarmInput) -> NaiveDate {
        inputs::allowed_from(input)
    }

    fn waiting(&self, input: &FarmInput) -> bool {
        input.interval_days > 0 && inputs::allowed_from(input) > self.today
    }
}

async fn inputs_page(
    state: &AppState,
    farmer: &Farmer,
    lang: Lang,
    problem: Problem,
    typed: InputForm,
) -> Result<InputsPage, PageError> {
    let Some(household) = farmer.actor.household_id else {
        return Err(PageError::Missing(Missing::OwnPlot));
    };
    let plots = entities::plot::Entity::find()
        .filter(entities::plot::Column::HouseholdId.eq(household))
        .order_by_asc(entities::plot::Column::Id)
        .all(state.db.conn())
        .await
        .map_err(|e| PageError::Unavailable(e.into()))?;
    let inputs = inputs::own(&state.db, &farmer.actor)
        .await
        .map_err(|e| PageError::Unavailable(e.into()))?;
    Ok(InputsPage {
        lang,
        csrf: farmer.csrf(),
        key: fresh_key(),
        today: state.clock.today(),
        plots,
        inputs,
        problem,
        typed,
    })
}

/// `GET /f/inputs`: the household's farm inputs, latest first, and a form to record one.
#[handler]
pub async fn my_inputs(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
) -> Result<Response, PageError> {
    private(&inputs_page(&state, &farmer, lang, Problem::none(), InputForm::default()).await?)
}

/// `POST /f/inputs`: records the input, or shows the form again with what was wrong.
#[handler]
pub async fn record_input(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
    PageForm(form): PageForm<InputForm>,
) -> Result<Response, PageError> {
    let refused = match form.new_input(lang) {
        Err(typo) => typo,
        Ok(new) => {
            let key = form.key.as_deref();
            match inputs::record_keyed(&state.db, &*state.clock, &farmer.actor, new, key).await {
                Ok(input) => return Ok(see_other(&format!("/f/inputs#input-{}", input.id))),
                Err(e) => PageError::refused(lang, e),
            }
        }
    };
    let (problem, status) = Problem::of(refused, INPUT_FIELDS)?;
    let mut page = inputs_page(&state, &farmer, lang, problem, InputForm::default()).await?;
    page.typed = form;
    private_with(&page, status)
}

/// The fields of the certificate form, that a refusal is said beside.
const CERTIFICATE_FIELDS: &[&str] = &["basis", "issuer_name", "issuer_phone", "photo", "reason"];

/// What the certificate form was filled in with.
#[derive(Debug, Default)]
pub struct CertificateForm {
    basis: String,
    issuer_name: String,
    issuer_phone: String,
}

impl CertificateForm {
    pub fn basis_is(&self, basis: &Basis) -> bool {
        self.basis == basis.code() || (self.basis.is_empty() && *basis == Basis::QualityControl)
    }
}

#[derive(Template)]
#[template(path = "farmer/certificate.html")]
struct CertificatePage {
    lang: Lang,
    csrf: String,
    key: String,
    batch: Batch,
    product: String,
    certificates: Vec<Certificate>,
    inputs: Vec<InputView>,
    problem: Problem,
    typed: CertificateForm,
}

impl CertificatePage {
    fn unit(&self) -> &'static str {
        unit_name(self.lang, self.batch.unit)
    }

    fn basis(&self, basis: &Basis) -> &'static str {
        self.lang.t(basis.name_zh(), basis.name_en())
    }

    fn kind(&self, kind: &InputKind) -> &'static str {
        kind_name(self.lang, *kind)
    }

    fn live(&self) -> Option<&Certificate> {
        self.certificates.iter().find(|c| c.withdrawn_at.is_none())
    }

    fn bases(&self) -> [Basis; 4] {
        BASES
    }

    fn sizes(&self) -> [LabelSize; 3] {
        LabelSize::ALL
    }

    fn size_words(&self, size: &LabelSize) -> String {
        let (w, h) = size.mm();
        format!("{w} × {h} {}", self.lang.t("毫米", "mm"))
    }
}

async fn certificate_page(
    state: &AppState,
    farmer: &Farmer,
    lang: Lang,
    id: i64,
    problem: Problem,
    typed: CertificateForm,
) -> Result<CertificatePage, PageError> {
    let certificates = match certificates::of_own_batch(&state.db, &farmer.actor, id).await {
        Ok(found) => found,
        Err(TraceError::NotFound | TraceError::Forbidden) => {
            return Err(PageError::Missing(Missing::OwnBatch));
        }
        Err(e) => return Err(PageError::Unavailable(e.into())),
    };
    let unavailable = |e: sea_orm::DbErr| PageError::Unavailable(e.into());
    let batch = entities::batch::Entity::find_by_id(id)
        .one(state.db.conn())
        .await
        .map_err(unavailable)?
        .ok_or(PageError::Missing(Missing::OwnBatch))?;
    let product = entities::product_category::Entity::find_by_id(batch.category_id)
        .one(state.db.conn())
        .await
        .map_err(unavailable)?
        .map(|c| lang.t(&c.name_zh, &c.name_en).to_owned())
        .unwrap_or_default();
    let inputs = certificates::input_views(state.db.conn(), &batch)
        .await
        .map_err(|e| PageError::Unavailable(e.into()))?;
    Ok(CertificatePage {
        lang,
        csrf: farmer.csrf(),
        key: fresh_key(),
        batch,
        product,
        certificates,
        inputs,
        problem,
        typed,
    })
}

/// `GET /f/batches/{id}/certificate`: the batch's certificate, to issue, print or withdraw.
#[handler]
pub async fn batch_certificate(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let page = certificate_page(
        &state,
        &farmer,
        lang,
        id,
        Problem::none(),
        CertificateForm::default(),
    )
    .await?;
    private(&page)
}

/// `POST /f/batches/{id}/certificate`: issues the certificate (with the report photo or PDF,
/// when the basis is a test), or shows the form again with what was wrong.
#[handler]
pub async fn issue_certificate(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
    Path(id): Path<i64>,
    PageUpload(mut form): PageUpload,
) -> Result<Response, PageError> {
    let typed = CertificateForm {
        basis: form.text("basis").trim().to_owned(),
        issuer_name: form.text("issuer_name").trim().to_owned(),
        issuer_phone: form.text("issuer_phone").trim().to_owned(),
    };
    let refused = match Basis::parse(&typed.basis) {
        None => PageError::mistake_in(
            "basis",
            lang.t("请选承诺的依据", "Choose what the promise rests on"),
        ),
        Some(basis) => {
            let new = NewCertificate {
                basis,
                issuer_name: Some(typed.issuer_name.clone()),
                issuer_phone: Some(typed.issuer_phone.clone()),
                report: form.file.take().map(|f| Report { bytes: f.bytes }),
            };
            let issued = certificates::issue_keyed(
                &state.db,
                state.photos.blobs(),
                &state.cache,
                &*state.clock,
                state.settings.certificate_keep_months,
                &farmer.actor,
                id,
                new,
                form.get("key"),
            )
            .await;
            match issued {
                Ok(_) => return Ok(see_other(&format!("/f/batches/{id}/certificate"))),
                Err(TraceError::NotFound | TraceError::Forbidden) => {
                    return Err(PageError::Missing(Missing::OwnBatch));
                }
                Err(e) => PageError::refused(lang, e),
            }
        }
    };
    let (problem, status) = Problem::of(refused, CERTIFICATE_FIELDS)?;
    let page = certificate_page(&state, &farmer, lang, id, problem, typed).await?;
    private_with(&page, status)
}

#[derive(Debug, Default, Deserialize)]
pub struct WithdrawForm {
    reason: Option<String>,
    confirm: Option<String>,
}

/// `POST /f/certificates/{id}/withdraw`: withdraws the certificate with its reason, after the
/// box that confirms it is ticked.
#[handler]
pub async fn withdraw_certificate(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
    Path(id): Path<i64>,
    PageForm(form): PageForm<WithdrawForm>,
) -> Result<Response, PageError> {
    let found = entities::certificate::Entity::find_by_id(id)
        .one(state.db.conn())
        .await
        .map_err(|e| PageError::Unavailable(e.into()))?
        .ok_or(PageError::Missing(Missing::OwnBatch))?;
    let refused = if form.confirm.is_none() {
        PageError::mistake_in(
            "reason",
            lang.t(
                "请勾选“确认撤回”，撤回后买家会看到原因",
                "Tick the box to confirm: buyers will read the reason",
            ),
        )
    } else {
        let reason = text(&form.reason);
        match certificates::withdraw(
            &state.db,
            &state.cache,
            &*state.clock,
            &farmer.actor,
            id,
            reason,
        )
        .await
        {
            Ok(_) => {
                return Ok(see_other(&format!(
                    "/f/batches/{}/certificate",
                    found.batch_id
                )));
            }
            Err(TraceError::NotFound | TraceError::Forbidden) => {
                return Err(PageError::Missing(Missing::OwnBatch));
            }
            Err(e) => PageError::refused(lang, e),
        }
    };
    let (problem, status) = Problem::of(refused, CERTIFICATE_FIELDS)?;
    let page = certificate_page(
        &state,
        &farmer,
        lang,
        found.batch_id,
        problem,
        CertificateForm::default(),
    )
    .await?;
    private_with(&page, status)
}
