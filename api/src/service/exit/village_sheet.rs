//! The village sheet (贫困村名单): one row per village with its registered rural population,
//! whether it is a registered poor village, and where its de-listing (出列) stands. Export writes
//! it for an area; import reads it back, so that a county moved from one system to another keeps
//! its de-listed villages. No import runs the exit procedure: a village the sheet brings as
//! 已出列 is stored de-listed with its year and `delist_source` `imported`, and a village the sheet
//! has as 出列中 starts its procedure afresh here.

use std::{
    collections::{HashMap, HashSet},
    fs::File,
};

use chrono::Utc;
use entities::{
    area::{self, AreaLevel},
    exit_case::{self, ExitSubject},
    household::ExitSource,
};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use serde_json::json;

use crate::{
    domain::AreaCode,
    infra::db::Database,
    service::{
        audit::{self, NewAuditEntry},
        households::{
            export::{SheetKind, SheetWriteError, SheetWriter},
            import::{MAX_REPORTED_PROBLEMS, Problem, ProblemCode},
            sheet::{self, SheetColumn, SheetError, SheetRow, clean, parse_yes_no, yes_no},
        },
        idempotency::{self, Claim, KeyError},
        policy::{self, Action, Actor, Resource},
        users::Origin,
    },
};

/// The largest rural population a village row may give.
const MAX_RURAL_POPULATION: i64 = 1_000_000;

/// One column of the village sheet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VillageColumn {
    VillageCode,
    /// Export only, for people reading the sheet.
    VillageName,
    /// Export only: the township's name.
    Township,
    PoorVillage,
    RuralPopulation,
    Stage,
    DelistedYear,
}

impl VillageColumn {
    /// The columns an import reads.
    pub const IMPORTED: [VillageColumn; 5] = [
        VillageColumn::VillageCode,
        VillageColumn::PoorVillage,
        VillageColumn::RuralPopulation,
        VillageColumn::Stage,
        VillageColumn::DelistedYear,
    ];

    /// The columns an export writes.
    pub const EXPORTED: [VillageColumn; 7] = [
        VillageColumn::VillageCode,
        VillageColumn::VillageName,
        VillageColumn::Township,
        VillageColumn::PoorVillage,
        VillageColumn::RuralPopulation,
        VillageColumn::Stage,
        VillageColumn::DelistedYear,
    ];

    fn headers(self) -> &'static [&'static str] {
        match self {
            VillageColumn::VillageCode => &["村代码", "行政村代码", "村行政区划代码"],
            VillageColumn::VillageName => &["村名称"],
            VillageColumn::Township => &["所属乡镇", "乡镇"],
            VillageColumn::PoorVillage => &["贫困村", "是否贫困村"],
            VillageColumn::RuralPopulation => &["农村户籍人口", "户籍人口", "农村人口"],
            VillageColumn::Stage => &["出列状态", "退出状态"],
            VillageColumn::DelistedYear => &["出列年度", "出列年份", "退出年度"],
        }
    }

    fn from_header(header: &str) -> Option<VillageColumn> {
        let header = clean(header);
        VillageColumn::EXPORTED
            .into_iter()
            .find(|c| c.headers().contains(&header))
    }
}

impl SheetColumn for VillageColumn {
    const SHEET_NAME: &'static str = "村";

    fn header(self) -> &'static str {
        self.headers()[0]
    }

    fn required(self) -> bool {
        self == VillageColumn::VillageCode
    }

    fn allowed(self) -> String {
        match self {
            VillageColumn::VillageCode => "12 位行政区划代码，须是本县已有的村".into(),
            VillageColumn::VillageName | VillageColumn::Township => "导出时填写，导入时忽略".into(),
            VillageColumn::PoorVillage => "是、否；不填则不变".into(),
            VillageColumn::RuralPopulation => {
                format!("0 至 {MAX_RURAL_POPULATION} 的整数；不填则不变")
            }
            VillageColumn::Stage => format!(
                "{}；不填则不变。已出列的村记为「导入时已出列」；出列中的村按未出列导入，出列程序须在本系统重新进行；导入不撤销已记录的出列",
                VillageStage::label_list()
            ),
            VillageColumn::DelistedYear => "已出列的村填写出列的年度，如 2019；其他村不填".into(),
        }
    }

    fn width(self) -> f64 {
        match self {
            VillageColumn::VillageCode => 16.0,
            VillageColumn::Stage => 10.0,
            _ => 12.0,
        }
    }
}

/// Where a poor village's de-listing stands, as the sheet writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VillageStage {
    /// 未出列: not de-listed, no procedure running.
    NotDelisted,
    /// 出列中: its procedure is running (export only; an import starts it afresh).
    InProcedure,
    /// 已出列.
    Delisted,
}

impl VillageStage {
    const ALL: [VillageStage; 3] = [
        VillageStage::NotDelisted,
        VillageStage::InProcedure,
        VillageStage::Delisted,
    ];

    pub fn label(self) -> &'static str {
        match self {
            VillageStage::NotDelisted => "未出列",
            VillageStage::InProcedure => "出列中",
            VillageStage::Delisted => "已出列",
        }
    }

    fn from_label(text: &str) -> Option<Self> {
        let text = clean(text);
        Self::ALL.into_iter().find(|s| s.label() == text)
    }

    fn label_list() -> String {
        Self::ALL.map(|s| s.label()).join("、")
    }
}

/// One row of the sheet: a village as it stands.
#[derive(Clone, Debug)]
pub struct VillageLine {
    pub code: String,
    pub name: String,
    pub township: String,
    pub is_poor_village: bool,
    pub rural_population: i64,
    /// Empty for villages that are not registered poor villages.
    pub stage: Option<VillageStage>,
    pub delisted_year: Option<i32>,
}

impl SheetRow<VillageColumn> for VillageLine {
    fn cell(&self, column: VillageColumn) -> String {
        match column {
            VillageColumn::VillageCode => self.code.clone(),
            VillageColumn::VillageName => self.name.clone(),
            VillageColumn::Township => self.township.clone(),
            VillageColumn::PoorVillage => yes_no(self.is_poor_village).to_owned(),
            VillageColumn::RuralPopulation => self.rural_population.to_string(),
            VillageColumn::Stage => self.stage.map(|s| s.label()).unwrap_or("").to_owned(),
            VillageColumn::DelistedYear => self
                .delisted_year
                .map(|y| y.to_string())
                .unwrap_or_default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VillageSheetError {
    #[error("not allowed")]
    Forbidden,
    #[error("the area is not the caller's or does not exist")]
    NotFound,
    #[error(transparent)]
    Sheet(#[from] SheetError),
    #[error(transparent)]
    Write(#[from] SheetWriteError),
    /// A commit refused because of the problems in the report.
    #[error("the file has {} problems; nothing was written", .0.problem_count)]
    Rejected(Box<VillageImportReport>),
    /// The client's idempotency key is not one.
    #[error("{0}")]
    Invalid(crate::service::reasons::Reason),
    /// The client's idempotency key was sent before with another request.
    #[error("the key was used for another request")]
    KeyReused,
    #[error(transparent)]
    Database(#[from] DbErr),
}

impl From<KeyError> for VillageSheetError {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::Malformed(reason) => Self::Invalid(reason),
            KeyError::Reused => Self::KeyReused,
            KeyError::Database(e) => Self::Database(e),
        }
    }
}

/// What a village import found, and whether it wrote.
#[derive(Clone, Debug, Default, Serialize)]
pub struct VillageImportReport {
    pub format: Option<&'static str>,
    /// Village rows in the file.
    pub villages: usize,
    /// Villages whose record the file changes.
    pub changed: usize,
    /// Villages the file brings as de-listed that were not de-listed here, on record as imported.
    pub villages_delisted: usize,
    /// Whether the changes were written (never on a dry run or with problems).
    pub committed: bool,
    pub problems: Vec<Problem>,
    pub problem_count: usize,
    pub ignored_columns: Vec<String>,
    /// What was taken otherwise than the sheet says: a village 出列中 is imported as not
    /// de-listed, since a procedure cannot be imported half-way.
    pub notices: Vec<Problem>,
    pub notice_count: usize,
}

/// The sheet of the villages in `area` (the caller's own area when `None`), audited.
pub async fn export(
    db: &Database,
    actor: &Actor,
    area: Option<&AreaCode>,
    kind: SheetKind,
    origin: &Origin,
) -> Result<Vec<u8>, VillageSheetError> {
    let area = match (area, actor.area.as_ref()) {
        (Some(area), _) => area.clone(),
        (None, Some(own)) => own.clone(),
        (None, None) => crate::service::areas::county_code(db.conn())
            .await?
            .ok_or(VillageSheetError::NotFound)?,
    };
    let resource = Resource::Household {
        household_id: None,
        area: &area,
    };
    if !policy::can(actor, Action::Read, &resource) {
        return Err(VillageSheetError::NotFound);
    }
    let prefix = area.descendant_prefix();
    let areas = area::Entity::find()
        .filter(area::Column::Code.starts_with(prefix))
        .filter(area::Column::Level.ne(AreaLevel::County))
        .order_by_asc(area::Column::Code)
        .all(db.conn())
        .await?;
    let in_procedure: HashSet<String> = exit_case::Entity::find()
        .select_only()
        .column(exit_case::Column::VillageCode)
        .filter(exit_case::Column::Subject.eq(ExitSubject::Village.to_value()))
        .filter(exit_case::Column::Open.eq(true))
        .filter(exit_case::Column::VillageCode.starts_with(prefix))
        .into_tuple::<String>()
        .all(db.conn())
        .await?
        .into_iter()
        .collect();
    let townships: HashMap<&str, &str> = areas
        .iter()
        .filter(|a| a.level == AreaLevel::Township)
        .map(|a| (a.code.as_str(), a.name.as_str()))
        .collect();

    let mut writer = SheetWriter::new(kind, &VillageColumn::EXPORTED)?;
    let mut villages = 0usize;
    for village in areas.iter().filter(|a| a.level == AreaLevel::Village) {
        let stage = village.is_poor_village.then(|| {
            if village.delisted_year.is_some() {
                VillageStage::Delisted
            } else if in_procedure.contains(&village.code) {
                VillageStage::InProcedure
            } else {
                VillageStage::NotDelisted
            }
        });
        let township = village
            .parent_code
            .as_deref()
            .and_then(|code| townships.get(code).copied())
            .unwrap_or("");
        writer.write(&VillageLine {
            code: village.code.clone(),
            name: village.name.clone(),
            township: township.to_owned(),
            is_poor_village: village.is_poor_village,
            rural_population: village.rural_population,
            stage,
            delisted_year: village.delisted_year,
        })?;
        villages += 1;
    }
    let file = writer.finish()?;

    let txn = db.begin_write().await?;
    audit::append(
        &txn,
        NewAuditEntry {
            actor_user_id: Some(actor.user_id),
            actor_ip: origin.ip.clone(),
            action: "village.exported",
            entity: "area",
            entity_id: "*".into(),
            area_code: Some(area.to_string()),
            before: None,
            after: Some(json!({ "format": kind.extension(), "villages": villages })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(file)
}

/// One village row as read, before it is compared with what is stored.
#[derive(Clone, Debug)]
struct VillageRow {
    row: u32,
    code: AreaCode,
    is_poor_village: Option<bool>,
    rural_population: Option<i64>,
    stage: Option<VillageStage>,
    delisted_year: Option<i32>,
}

/// Reads, checks and (unless `dry_run`) writes the villages in `file`: all of them in one
/// transaction, or nothing when any row has a problem. `actor` is `None` for the command line,
/// which reaches the whole county.
pub async fn import_file(
    db: &Database,
    actor: Option<&Actor>,
    file: File,
    dry_run: bool,
    origin: &Origin,
) -> Result<VillageImportReport, VillageSheetError> {
    import_file_keyed(db, actor, file, dry_run, origin, None).await
}

/// [`import_file`], once for a client's key: the same file sent again with the same key
/// changes nothing more and answers the first import's counts; the key with another file is
/// refused. A dry run writes nothing and keeps no key.
pub async fn import_file_keyed(
    db: &Database,
    actor: Option<&Actor>,
    file: File,
    dry_run: bool,
    origin: &Origin,
    key: Option<&str>,
) -> Result<VillageImportReport, VillageSheetError> {
    if actor.is_some_and(|a| !a.is_official() && a.role != entities::user::Role::Admin) {
        return Err(VillageSheetError::Forbidden);
    }
    let (rows, mut report, digest) = tokio::task::spawn_blocking(move || {
        let digest = sheet::file_digest(&file).map_err(SheetError::Io)?;
        let (rows, report) = parse_file(file)?;
        Ok::<_, VillageSheetError>((rows, report, digest))
    })
    .await
    .map_err(|e| DbErr::Custom(format!("the import stopped: {e}")))??;
    let claim = match actor {
        Some(actor) if !dry_run => Claim::new(actor, key, "village_import", json!(digest))?,
        _ => None,
    };
    if let Some(earlier) = idempotency::earlier(db.conn(), claim.as_ref()).await? {
        // The first request wrote the file's changes: its counts, as they were then.
        let (changed, delisted) = earlier.split_once(':').unwrap_or(("0", "0"));
        report.changed = changed.parse().unwrap_or(0);
        report.villages_delisted = delisted.parse().unwrap_or(0);
        report.committed = true;
        return Ok(report);
    }

    let txn = db.begin_write().await?;
    let codes: Vec<String> = rows.iter().map(|r| r.code.to_string()).collect();
    let mut stored: HashMap<String, area::Model> = HashMap::new();
    for chunk in codes.chunks(500) {
        let mut find = area::Entity::find().filter(area::Column::Code.is_in(chunk.iter().cloned()));
        if !dry_run {
            // A village's case announced meanwhile waits for this import, and is seen by it.
            find = find.lock_exclusive();
        }
        for village in find.all(&txn).await? {
            stored.insert(village.code.clone(), village);
        }
    }
    let open_cases: HashSet<String> = exit_case::Entity::find()
        .select_only()
        .column(exit_case::Column::VillageCode)
        .filter(exit_case::Column::Subject.eq(ExitSubject::Village.to_value()))
        .filter(exit_case::Column::Open.eq(true))
        .filter(exit_case::Column::VillageCode.is_in(codes.iter().cloned()))
        .into_tuple::<String>()
        .all(&txn)
        .await?
        .into_iter()
        .collect();
    let any_cases: HashSet<String> = exit_case::Entity::find()
        .select_only()
        .column(exit_case::Column::VillageCode)
        .filter(exit_case::Column::Subject.eq(ExitSubject::Village.to_value()))
        .filter(exit_case::Column::VillageCode.is_in(codes))
        .into_tuple::<String>()
        .all(&txn)
        .await?
        .into_iter()
        .collect();

    let this_year = crate::domain::county_time::year_of(Utc::now());
    let mut changes = Vec::new();
    for row in &rows {
        let village = stored
            .get(row.code.as_str())
            .filter(|v| v.level == AreaLevel::Village);
        let Some(village) = village else {
            report.problems.push(problem(
                row.row,
                VillageColumn::VillageCode,
                ProblemCode::UnknownVillage,
                format!("本县没有代码为 {} 的村", row.code),
            ));
            continue;
        };
        let reach = Resource::Household {
            household_id: None,
            area: &row.code,
        };
        if actor.is_some_and(|a| !policy::can(a, Action::Update, &reach)) {
            report.problems.push(problem(
                row.row,
                VillageColumn::VillageCode,
                ProblemCode::OutsideArea,
                format!("{} 不在您管辖的范围内", row.code),
            ));
            continue;
        }
        match check_row(row, village, &open_cases, &any_cases, this_year) {
            Ok(Some(change)) => changes.push(change),
            Ok(None) => {}
            Err(problems) => report.problems.extend(problems),
        }
        if row.stage == Some(VillageStage::InProcedure) {
            report.notices.push(problem(
                row.row,
                VillageColumn::Stage,
                ProblemCode::InProcedureAsNotDelisted,
                "出列中的村按未出列导入：出列程序须在本系统重新进行".into(),
            ));
        }
    }
    report.changed = changes.len();
    report.villages_delisted = changes.iter().filter(|c| c.newly_delisted()).count();
    report.problems.sort_by_key(|p| p.row);
    report.problem_count = report.problems.len();
    report.problems.truncate(MAX_REPORTED_PROBLEMS);
    report.notice_count = report.notices.len();
    report.notices.truncate(MAX_REPORTED_PROBLEMS);

    if dry_run {
        txn.rollback().await?;
        return Ok(report);
    }
    if report.problem_count > 0 {
        txn.rollback().await?;
        return Err(VillageSheetError::Rejected(Box::new(report)));
    }
    let now = Utc::now();
    let mut entries = Vec::with_capacity(changes.len());
    for change in changes {
        let newly_delisted = change.newly_delisted();
        let before = record_json(&change.village);
        let mut active = change.village.into_active_model();
        active.is_poor_village = Set(change.is_poor_village);
        active.rural_population = Set(change.rural_population);
        if newly_delisted {
            active.delisted_year = Set(change.delisted_year);
            active.delist_source = Set(Some(ExitSource::Imported));
        }
        active.updated_at = Set(now);
        let after = active.update(&txn).await?;
        let mut after_json = record_json(&after);
        after_json["sheet_stage"] = json!(change.sheet_stage.map(|s| s.label()));
        entries.push(NewAuditEntry {
            actor_user_id: actor.map(|a| a.user_id),
            actor_ip: origin.ip.clone(),
            action: "village.imported",
            entity: "area",
            entity_id: after.code.clone(),
            area_code: Some(after.code.clone()),
            before: Some(before),
            after: Some(after_json),
        });
    }
    audit::append_many(&txn, entries).await?;
    let resource = format!("{}:{}", report.changed, report.villages_delisted);
    if let Some(first) = idempotency::commit(db, txn, claim.as_ref(), &resource).await? {
        // Another request with the same key and file wrote first; this one rolled back.
        let (changed, delisted) = first.split_once(':').unwrap_or(("0", "0"));
        report.changed = changed.parse().unwrap_or(0);
        report.villages_delisted = delisted.parse().unwrap_or(0);
    }
    report.committed = true;
    Ok(report)
}

/// What an import changes on one village.
struct VillageChange {
    village: area::Model,
    is_poor_village: bool,
    rural_population: i64,
    delisted_year: Option<i32>,
    sheet_stage: Option<VillageStage>,
}

impl VillageChange {
    fn newly_delisted(&self) -> bool {
        self.village.delisted_year.is_none() && self.delisted_year.is_some()
    }
}

fn record_json(village: &area::Model) -> serde_json::Value {
    json!({
        "is_poor_village": village.is_poor_village,
        "rural_population": village.rural_population,
        "delisted_year": village.delisted_year,
        "delist_source": village.delist_source.map(|s| s.to_value()),
    })
}

/// Compares a row with the stored village: the change it makes, nothing when it changes
/// nothing, or the problems that keep it from being imported. An import never undoes or moves
/// a de-listing on record here, and never de-lists a village whose procedure runs here.
fn check_row(
    row: &VillageRow,
    village: &area::Model,
    open_cases: &HashSet<String>,
    any_cases: &HashSet<String>,
    this_year: i32,
) -> Result<Option<VillageChange>, Vec<Problem>> {
    let mut problems = Vec::new();
    let is_poor_village = row.is_poor_village.unwrap_or(village.is_poor_village);
    let rural_population = row.rural_population.unwrap_or(village.rural_population);
    let in_procedure_here = open_cases.contains(&village.code);
    if !is_poor_village && village.is_poor_village && any_cases.contains(&village.code) {
        problems.push(problem(
            row.row,
            VillageColumn::PoorVillage,
            ProblemCode::DelistedHere,
            "本村在本系统有出列程序记录，不能改为非贫困村".into(),
        ));
    }
    let mut delisted_year = village.delisted_year;
    match (row.stage, row.delisted_year) {
        (Some(VillageStage::Delisted), None) => problems.push(problem(
            row.row,
            VillageColumn::DelistedYear,
            ProblemCode::Required,
            "已出列的村须填「出列年度」".into(),
        )),
        (Some(VillageStage::Delisted), Some(year)) => {
            if !(2014..=this_year).contains(&year) {
                problems.push(problem(
                    row.row,
                    VillageColumn::DelistedYear,
                    ProblemCode::InvalidValue,
                    format!("出列年度应在 2014 至 {this_year} 之间"),
                ));
            } else if !is_poor_village {
                problems.push(problem(
                    row.row,
                    VillageColumn::Stage,
                    ProblemCode::InvalidValue,
                    "非贫困村没有出列，「出列状态」不填".into(),
                ));
            } else if let Some(here) = village.delisted_year {
                if here != year {
                    problems.push(problem(
                        row.row,
                        VillageColumn::DelistedYear,
                        ProblemCode::DelistedHere,
                        format!("本系统记录本村于 {here} 年出列，与表中的 {year} 年不符"),
                    ));
                }
            } else if in_procedure_here {
                problems.push(problem(
                    row.row,
                    VillageColumn::Stage,
                    ProblemCode::InProcedure,
                    "本村的出列程序正在本系统进行，不能按已出列导入".into(),
                ));
            } else {
                delisted_year = Some(year);
            }
        }
        (Some(stage @ (VillageStage::NotDelisted | VillageStage::InProcedure)), year) => {
            if year.is_some() {
                problems.push(problem(
                    row.row,
                    VillageColumn::DelistedYear,
                    ProblemCode::InvalidValue,
                    format!("{}的村不填「出列年度」", stage.label()),
                ));
            }
            if let Some(here) = village.delisted_year {
                problems.push(problem(
                    row.row,
                    VillageColumn::Stage,
                    ProblemCode::DelistedHere,
                    format!("本系统记录本村已于 {here} 年出列，导入不撤销出列"),
                ));
            }
        }
        (None, Some(_)) => problems.push(problem(
            row.row,
            VillageColumn::Stage,
            ProblemCode::Required,
            "填了「出列年度」的村须填「出列状态」".into(),
        )),
        (None, None) => {}
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let unchanged = is_poor_village == village.is_poor_village
        && rural_population == village.rural_population
        && delisted_year == village.delisted_year;
    Ok((!unchanged).then(|| VillageChange {
        village: village.clone(),
        is_poor_village,
        rural_population,
        delisted_year,
        sheet_stage: row.stage,
    }))
}

fn problem(row: u32, column: VillageColumn, code: ProblemCode, message: String) -> Problem {
    Problem {
        row,
        column: Some(column.header()),
        code,
        message,
    }
}

fn parse_file(file: File) -> Result<(Vec<VillageRow>, VillageImportReport), VillageSheetError> {
    let mut report = VillageImportReport::default();
    let mut columns: Option<HashMap<VillageColumn, usize>> = None;
    let mut rows = Vec::new();
    let mut seen: HashMap<AreaCode, u32> = HashMap::new();
    let format = sheet::read_rows(file, |row, cells| {
        if cells.iter().all(|c| clean(c).is_empty()) {
            return;
        }
        let columns = match &columns {
            Some(columns) => columns,
            None => {
                columns = Some(header(row, &cells, &mut report));
                return;
            }
        };
        if !columns.contains_key(&VillageColumn::VillageCode) {
            // The header's problem says it all; rows without codes add nothing to it.
            return;
        }
        let text = |column: VillageColumn| {
            columns
                .get(&column)
                .and_then(|i| cells.get(*i))
                .map(|c| clean(c))
                .unwrap_or("")
        };
        let mut problems = Vec::new();
        let code = match AreaCode::parse(text(VillageColumn::VillageCode)) {
            Ok(code) if code.level() == AreaLevel::Village => Some(code),
            _ if text(VillageColumn::VillageCode).is_empty() => {
                problems.push(problem(
                    row,
                    VillageColumn::VillageCode,
                    ProblemCode::Required,
                    "「村代码」不能为空".into(),
                ));
                None
            }
            _ => {
                problems.push(problem(
                    row,
                    VillageColumn::VillageCode,
                    ProblemCode::InvalidValue,
                    "村代码是 12 位行政区划代码".into(),
                ));
                None
            }
        };
        // An empty cell leaves the field as it is; a cell that does not read is a problem.
        let optional = |column: VillageColumn| {
            let cell = text(column);
            (!cell.is_empty()).then_some((column, cell))
        };
        let is_poor_village = read_cell(
            &mut problems,
            row,
            optional(VillageColumn::PoorVillage),
            || "「贫困村」填是或否".into(),
            parse_yes_no,
        );
        let rural_population = read_cell(
            &mut problems,
            row,
            optional(VillageColumn::RuralPopulation),
            || format!("「农村户籍人口」填 0 至 {MAX_RURAL_POPULATION} 的整数"),
            |t| {
                t.parse::<i64>()
                    .ok()
                    .filter(|n| (0..=MAX_RURAL_POPULATION).contains(n))
            },
        );
        let stage = read_cell(
            &mut problems,
            row,
            optional(VillageColumn::Stage),
            || format!("「出列状态」填 {}", VillageStage::label_list()),
            VillageStage::from_label,
        );
        let delisted_year = read_cell(
            &mut problems,
            row,
            optional(VillageColumn::DelistedYear),
            || "「出列年度」填四位数的年份，如 2019".into(),
            |t| t.parse::<i32>().ok(),
        );
        if let Some(code) = &code
            && let Some(first) = seen.insert(code.clone(), row)
        {
            problems.push(problem(
                row,
                VillageColumn::VillageCode,
                ProblemCode::DuplicateInFile,
                format!("本村在第 {first} 行已出现"),
            ));
        }
        match (code, problems.is_empty()) {
            (Some(code), true) => rows.push(VillageRow {
                row,
                code,
                is_poor_village,
                rural_population,
                stage,
                delisted_year,
            }),
            _ => report.problems.extend(problems),
        }
    })?;
    if columns.is_none() {
        report.problems.push(Problem {
            row: 1,
            column: None,
            code: ProblemCode::Empty,
            message: "文件是空的".into(),
        });
    }
    report.format = Some(match format {
        sheet::SheetFormat::Csv => "csv",
        sheet::SheetFormat::Xlsx => "xlsx",
    });
    report.villages = rows.len();
    Ok((rows, report))
}

/// A filled cell read by `parse`; a cell that does not read leaves a problem and no value.
fn read_cell<T>(
    problems: &mut Vec<Problem>,
    row: u32,
    cell: Option<(VillageColumn, &str)>,
    message: impl FnOnce() -> String,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Option<T> {
    let (column, text) = cell?;
    let value = parse(text);
    if value.is_none() {
        problems.push(problem(row, column, ProblemCode::InvalidValue, message()));
    }
    value
}

fn header(
    row: u32,
    cells: &[String],
    report: &mut VillageImportReport,
) -> HashMap<VillageColumn, usize> {
    let mut columns = HashMap::new();
    for (i, cell) in cells.iter().enumerate() {
        match VillageColumn::from_header(cell) {
            Some(column) if VillageColumn::IMPORTED.contains(&column) => {
                columns.entry(column).or_insert(i);
            }
            _ if !clean(cell).is_empty() => report.ignored_columns.push(clean(cell).to_owned()),
            _ => {}
        }
    }
    if !columns.contains_key(&VillageColumn::VillageCode) {
        report.problems.push(problem(
            row,
            VillageColumn::VillageCode,
            ProblemCode::MissingColumn,
            "表头缺少「村代码」列".into(),
        ));
    }
    columns
}
