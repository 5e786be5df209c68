//! Importing the registry from officials' spreadsheets (CSV or XLSX, see `sheet`). A dry run
//! reports every problem by row and column without writing; a commit writes everything in one
//! transaction, or nothing when any row has a problem.

use std::{
    collections::{HashMap, hash_map::Entry},
    fs::File,
};

use entities::{
    household::{HouseholdStatus, PovertyCause},
    household_member::{Health, LabourCapacity, MemberRelation, Schooling},
};
use sea_orm::DbErr;
use serde::Serialize;

use super::{
    Flaw, NewHousehold, NewMember, flaws,
    sheet::{self, Column, SheetError, SheetLabel, clean},
    store::{self, Clash, Standing},
};
use crate::{
    domain::{AreaCode, IdNumber, IdNumberError, Phone, Sex},
    infra::{db::Database, pii::PiiVault},
    service::{
        idempotency::{self, Claim, KeyError},
        policy::Actor,
        users::Origin,
    },
};

/// A report lists at most this many problems (and counts them all).
pub const MAX_REPORTED_PROBLEMS: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("not allowed")]
    Forbidden,
    #[error(transparent)]
    Sheet(#[from] SheetError),
    /// A commit refused because of the problems in the report.
    #[error("the file has {} problems; nothing was written", .0.problem_count)]
    Rejected(Box<ImportReport>),
    /// The client's idempotency key is not one.
    #[error("{0}")]
    Invalid(crate::service::reasons::Reason),
    /// The client's idempotency key was sent before with another request.
    #[error("the key was used for another request")]
    KeyReused,
    #[error(transparent)]
    Database(#[from] DbErr),
}

impl From<KeyError> for ImportError {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::Malformed(reason) => Self::Invalid(reason),
            KeyError::Reused => Self::KeyReused,
            KeyError::Database(e) => Self::Database(e),
        }
    }
}

/// What an import found, and whether it wrote.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ImportReport {
    pub format: Option<&'static str>,
    /// Households and members in the file.
    pub households: usize,
    pub members: usize,
    /// Whether the households were written (never on a dry run or with problems).
    pub committed: bool,
    /// Every problem found, up to `MAX_REPORTED_PROBLEMS`, in row order.
    pub problems: Vec<Problem>,
    pub problem_count: usize,
    /// Headers the import does not read.
    pub ignored_columns: Vec<String>,
    /// Households the sheet brings as exited, on record as imported.
    pub households_exited: usize,
    /// What was taken otherwise than the sheet says, by row: a 拟退出 household is imported as
    /// poor, since an exit procedure cannot be imported half-way. At most
    /// `MAX_REPORTED_PROBLEMS`; `notice_count` counts them all.
    pub notices: Vec<Problem>,
    pub notice_count: usize,
}

/// One thing wrong with the file, where a person can find and fix it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The row as the spreadsheet numbers it (the header is row 1).
    pub row: u32,
    /// The column's header, when one column is at fault.
    pub column: Option<&'static str>,
    pub code: ProblemCode,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemCode {
    MissingColumn,
    Empty,
    Required,
    InvalidValue,
    InvalidIdNumber,
    Mismatch,
    InconsistentHousehold,
    HeadCount,
    MemberCount,
    DuplicateInFile,
    AlreadyRegistered,
    NumberTaken,
    UnknownVillage,
    OutsideArea,
    /// A notice, not a problem: a household in an exit procedure imported as poor.
    ExitPendingAsPoor,
    /// A village's de-listing on record here that the sheet contradicts.
    DelistedHere,
    /// A village whose exit procedure runs here, which the sheet brings as de-listed.
    InProcedure,
    /// A notice, not a problem: a village in its exit procedure imported as not de-listed.
    InProcedureAsNotDelisted,
}

impl ProblemCode {
    /// The code as reports spell it.
    pub fn name(self) -> &'static str {
        match self {
            ProblemCode::MissingColumn => "missing_column",
            ProblemCode::Empty => "empty",
            ProblemCode::Required => "required",
            ProblemCode::InvalidValue => "invalid_value",
            ProblemCode::InvalidIdNumber => "invalid_id_number",
            ProblemCode::Mismatch => "mismatch",
            ProblemCode::InconsistentHousehold => "inconsistent_household",
            ProblemCode::HeadCount => "head_count",
            ProblemCode::MemberCount => "member_count",
            ProblemCode::DuplicateInFile => "duplicate_in_file",
            ProblemCode::AlreadyRegistered => "already_registered",
            ProblemCode::NumberTaken => "number_taken",
            ProblemCode::UnknownVillage => "unknown_village",
            ProblemCode::OutsideArea => "outside_area",
            ProblemCode::ExitPendingAsPoor => "exit_pending_as_poor",
            ProblemCode::DelistedHere => "delisted_here",
            ProblemCode::InProcedure => "in_procedure",
            ProblemCode::InProcedureAsNotDelisted => "in_procedure_as_not_delisted",
        }
    }
}

/// Reads, checks and (unless `dry_run`) writes the households in `file`. `actor` is `None` for
/// the command line, which reaches the whole county.
pub async fn import_file(
    db: &Database,
    vault: &PiiVault,
    actor: Option<&Actor>,
    file: File,
    dry_run: bool,
    origin: &Origin,
) -> Result<ImportReport, ImportError> {
    import_file_keyed(db, vault, actor, file, dry_run, origin, None).await
}

/// [`import_file`], once for a client's key: the same file sent again with the same key writes
/// nothing more and answers the first import's report; the key with another file is refused.
/// A dry run writes nothing and keeps no key.
pub async fn import_file_keyed(
    db: &Database,
    vault: &PiiVault,
    actor: Option<&Actor>,
    file: File,
    dry_run: bool,
    origin: &Origin,
    key: Option<&str>,
) -> Result<ImportReport, ImportError> {
    if actor.is_some_and(|a| !a.is_official() && a.role != entities::user::Role::Admin) {
        return Err(ImportError::Forbidden);
    }
    let (parsed, digest) = tokio::task::spawn_blocking(move || {
        let digest = sheet::file_digest(&file).map_err(SheetError::Io)?;
        Ok::<_, ImportError>((parse_file(file)?, digest))
    })
    .await
    .map_err(|e| DbErr::Custom(format!("the import stopped: {e}")))??;
    let claim = match actor {
        Some(actor) if !dry_run => {
            Claim::new(actor, key, "household_import", serde_json::json!(digest))?
        }
        _ => None,
    };
    if idempotency::earlier(db.conn(), claim.as_ref())
        .await?
        .is_some()
    {
        // The same file was written by the first request: its report, as it was then.
        let mut report = parsed.report;
        report.committed = true;
        report.problem_count = 0;
        report.notice_count = report.notices.len();
        report.notices.truncate(MAX_REPORTED_PROBLEMS);
        return Ok(report);
    }
    let ParsedSheet {
        households,
        standings,
        member_rows,
        mut report,
    } = parsed;

    let (clashes, txn) = if dry_run || !report.problems.is_empty() {
        (
            store::find_clashes(db.conn(), vault, actor, &households).await?,
            None,
        )
    } else {
        // Checked again inside the transaction that writes, so nothing slips in between.
        let txn = db.begin_write().await?;
        (
            store::find_clashes(&txn, vault, actor, &households).await?,
            Some(txn),
        )
    };
    for clash in clashes {
        report
            .problems
            .push(clash_problem(clash, &households, &member_rows));
    }
    report.problems.sort_by_key(|p| p.row);
    report.problem_count = report.problems.len();
    report.problems.truncate(MAX_REPORTED_PROBLEMS);
    report.notice_count = report.notices.len();
    report.notices.truncate(MAX_REPORTED_PROBLEMS);

    let Some(txn) = txn else {
        return if dry_run {
            Ok(report)
        } else {
            Err(ImportError::Rejected(Box::new(report)))
        };
    };
    if report.problem_count > 0 {
        txn.rollback().await?;
        return Err(ImportError::Rejected(Box::new(report)));
    }
    store::insert_households_standing(
        &txn,
        vault,
        &households,
        &standings,
        "household.imported",
        actor.map(|a| a.user_id),
        origin,
    )
    .await?;
    let resource = format!("{} households", households.len());
    // When another request with the same key and file wrote them first, this one rolled back:
    // either way the file's households are written once, and the report is the same.
    idempotency::commit(db, txn, claim.as_ref(), &resource).await?;
    report.committed = true;
    Ok(report)
}

/// The households read from a file, with the rows each member came from.
struct ParsedSheet {
    households: Vec<NewHousehold>,
    /// Where each household stands, as the sheet says.
    standings: Vec<Standing>,
    /// For each household, the row of each member.
    member_rows: Vec<Vec<u32>>,
    report: ImportReport,
}

fn parse_file(file: File) -> Result<ParsedSheet, ImportError> {
    let mut builder = SheetBuilder::new();
    let format = sheet::read_rows(file, |row, cells| builder.row(row, cells))?;
    let mut parsed = builder.finish();
    parsed.report.format = Some(match format {
        sheet::SheetFormat::Csv => "csv",
        sheet::SheetFormat::Xlsx => "xlsx",
    });
    Ok(parsed)
}

/// Turns rows into households as they stream past.
struct SheetBuilder {
    /// Where each column is, once the header row has been read.
    columns: Option<HashMap<Column, usize>>,
    households: Vec<NewHousehold>,
    standings: Vec<Standing>,
    member_rows: Vec<Vec<u32>>,
    /// The row each household's fields were first read from.
    first_rows: Vec<u32>,
    by_number: HashMap<String, usize>,
    /// Where each ID number was first seen.
    seen_ids: HashMap<IdNumber, u32>,
    report: ImportReport,
}

impl SheetBuilder {
    fn new() -> Self {
        Self {
            columns: None,
            households: Vec::new(),
            standings: Vec::new(),
            member_rows: Vec::new(),
            first_rows: Vec::new(),
            by_number: HashMap::new(),
            seen_ids: HashMap::new(),
            report: ImportReport::default(),
        }
    }

    fn problem(&mut self, row: u32, column: Option<Column>, code: ProblemCode, message: String) {
        self.report.problems.push(Problem {
            row,
            column: column.map(Column::header),
            code,
            message,
        });
    }

    fn row(&mut self, row: u32, cells: Vec<String>) {
        if cells.iter().all(|c| clean(c).is_empty()) {
            return;
        }
        match &self.columns {
            None => self.header(row, &cells),
            Some(columns) => {
                let columns = columns.clone();
                self.member(row, &columns, &cells);
            }
        }
    }

    fn header(&mut self, row: u32, cells: &[String]) {
        let mut columns = HashMap::new();
        for (i, cell) in cells.iter().enumerate() {
            match Column::from_header(cell) {
                Some(column) if Column::IMPORTED.contains(&column) => {
                    columns.entry(column).or_insert(i);
                }
                _ if !clean(cell).is_empty() => {
                    self.report.ignored_columns.push(clean(cell).to_owned())
                }
                _ => {}
            }
        }
        for column in Column::IMPORTED {
            if column.required() && !columns.contains_key(&column) {
                self.problem(
                    row,
                    Some(column),
                    ProblemCode::MissingColumn,
                    format!("表头缺少「{}」列", column.header()),
                );
            }
        }
        self.columns = Some(columns);
    }

    fn member(&mut self, row: u32, columns: &HashMap<Column, usize>, cells: &[String]) {
        let mut cells = RowCells {
            row,
            columns,
            cells,
            problems: Vec::new(),
        };
        let number = cells.required(Column::HouseholdNumber, |t| Some(t.to_owned()));
        let village = cells.required(Column::VillageCode, |t| AreaCode::parse(t).ok());
        let name = cells.required(Column::Name, |t| Some(t.to_owned()));
        let id_number = cells.id_number();
        let relation = cells.required(Column::Relation, MemberRelation::from_label);
        let declared_sex = cells.optional(Column::Sex, |t| {
            entities::household_member::Sex::from_label(t).map(|s| match s {
                entities::household_member::Sex::Male => Sex::Male,
                entities::household_member::Sex::Female => Sex::Female,
            })
        });
        let declared_birth_date = cells.optional(Column::BirthDate, sheet::parse_date);
        let labour_capacity = cells.required(Column::LabourCapacity, LabourCapacity::from_label);
        let health = cells.required(Column::Health, Health::from_label);
        let schooling = cells.required(Column::Schooling, Schooling::from_label);
        let medical_insurance = cells.required(Column::MedicalInsurance, sheet::parse_yes_no);
        let phone = cells.optional(Column::Phone, |t| Phone::parse(t).ok());
        let poverty_cause = cells.required(Column::PovertyCause, PovertyCause::from_label);
        let registered_year = cells.required(Column::RegisteredYear, |t| t.parse::<i32>().ok());
        let status = cells.optional(Column::Status, HouseholdStatus::from_label);
        let exit_year = cells.optional(Column::ExitYear, |t| t.parse::<i32>().ok());
        let problems = std::mem::take(&mut cells.problems);
        self.report.problems.extend(problems);
        self.report.members += 1;

        let (
            Some(number),
            Some(village),
            Some(name),
            Some(id_number),
            Some(relation),
            Some(labour_capacity),
            Some(health),
            Some(schooling),
            Some(medical_insurance),
            Some(poverty_cause),
            Some(registered_year),
            Some(status),
            Some(exit_year),
        ) = (
            number,
            village,
            name,
            id_number,
            relation,
            labour_capacity,
            health,
            schooling,
            medical_insurance,
            poverty_cause,
            registered_year,
            status,
            exit_year,
        )
        else {
            return;
        };
        let member = NewMember {
            name,
            id_number,
            relation,
            declared_sex: declared_sex.flatten(),
            declared_birth_date: declared_birth_date.flatten(),
            labour_capacity,
            health,
            schooling,
            medical_insurance,
        };
        if let Some(first) = self.seen_ids.get(&member.id_number) {
            let message = format!("该身份证号码与第 {first} 行重复");
            self.problem(
                row,
                Some(Column::IdNumber),
                ProblemCode::DuplicateInFile,
                message,
            );
            return;
        }
        self.seen_ids.insert(member.id_number.clone(), row);

        let household = NewHousehold {
            household_number: crate::domain::text::identifier(&number)
                .unwrap_or_else(|_| number.clone()),
            village,
            phone: phone.flatten(),
            poverty_cause,
            responsible_cadre_id: None,
            registered_year,
            members: Vec::new(),
        };
        let standing = Standing {
            status,
            exit_year,
            was_exit_pending: false,
        };
        let index = match self.by_number.entry(number) {
            Entry::Vacant(slot) => {
                slot.insert(self.households.len());
                self.households.push(household.clone());
                self.standings.push(standing);
                self.member_rows.push(Vec::new());
                self.first_rows.push(row);
                self.households.len() - 1
            }
            Entry::Occupied(slot) => *slot.get(),
        };
        let existing = &self.households[index];
        let differs = [
            (existing.village != household.village).then_some(Column::VillageCode),
            (existing.poverty_cause != household.poverty_cause).then_some(Column::PovertyCause),
            (existing.registered_year != household.registered_year)
                .then_some(Column::RegisteredYear),
            (household.phone.is_some() && existing.phone != household.phone)
                .then_some(Column::Phone),
            (self.standings[index]
                .status
                .unwrap_or(HouseholdStatus::Poor)
                != standing.status.unwrap_or(HouseholdStatus::Poor))
            .then_some(Column::Status),
            (self.standings[index].exit_year != standing.exit_year).then_some(Column::ExitYear),
        ];
        let first_row = self.first_rows[index];
        for column in differs.into_iter().flatten() {
            self.problem(
                row,
                Some(column),
                ProblemCode::InconsistentHousehold,
                format!("「{}」与同一户第 {first_row} 行不一致", column.header()),
            );
        }
        self.households[index].members.push(member);
        self.member_rows[index].push(row);
    }

    fn finish(mut self) -> ParsedSheet {
        if self.columns.is_none() {
            self.problem(
                1,
                None,
                ProblemCode::Empty,
                "文件没有表头，也没有数据".into(),
            );
        }
        for (index, household) in self.households.iter().enumerate() {
            let rows = &self.member_rows[index];
            for flaw in flaws(household) {
                let (row, column, code) = match flaw {
                    Flaw::NumberLength | Flaw::NumberCharacters => (
                        rows[0],
                        Some(Column::HouseholdNumber),
                        ProblemCode::InvalidValue,
                    ),
                    Flaw::YearOutOfRange { .. } => (
                        rows[0],
                        Some(Column::RegisteredYear),
                        ProblemCode::InvalidValue,
                    ),
                    Flaw::MemberCount => (rows[0], None, ProblemCode::MemberCount),
                    Flaw::HeadCount(_) => (rows[0], Some(Column::Relation), ProblemCode::HeadCount),
                    Flaw::NameLength { member } => {
                        (rows[member], Some(Column::Name), ProblemCode::InvalidValue)
                    }
                    Flaw::SexMismatch { member } => {
                        (rows[member], Some(Column::Sex), ProblemCode::Mismatch)
                    }
                    Flaw::BirthDateMismatch { member } => {
                        (rows[member], Some(Column::BirthDate), ProblemCode::Mismatch)
                    }
                    // Caught across the whole file as it was read.
                    Flaw::RepeatedIdNumber { .. } => continue,
                };
                let message = flaw_message(&flaw, household.household_number.trim());
                self.report.problems.push(Problem {
                    row,
                    column: column.map(Column::header),
                    code,
                    message,
                });
            }
        }
        for index in 0..self.households.len() {
            self.check_standing(index);
        }
        self.report.households = self.households.len();
        self.report.households_exited = self
            .standings
            .iter()
            .filter(|s| s.status == Some(HouseholdStatus::Exited))
            .count();
        ParsedSheet {
            households: self.households,
            standings: self.standings,
            member_rows: self.member_rows,
            report: self.report,
        }
    }
}

impl SheetBuilder {
    /// What a household's status and exit year may claim. 已脱贫 needs the year it exited,
    /// within its registered year and this one; 返贫 may give the year of its earlier exit;
    /// 未脱贫 gives none. 拟退出 is imported as 未脱贫 with a notice on its row: the case's
    /// steps, notice and approvals happened nowhere this system can see, so it starts over.
    fn check_standing(&mut self, index: usize) {
        let row = self.member_rows[index][0];
        let registered = self.households[index].registered_year;
        let this_year = crate::domain::county_time::year_of(chrono::Utc::now());
        let standing = &mut self.standings[index];
        let status = standing.status.unwrap_or(HouseholdStatus::Poor);
        let mut problem = None;
        match (status, standing.exit_year) {
            (HouseholdStatus::Exited, None) => {
                problem = Some((
                    ProblemCode::Required,
                    "已脱贫的户须填「脱贫年度」".to_owned(),
                ));
            }
            (HouseholdStatus::Exited | HouseholdStatus::Returned, Some(year))
                if !(registered..=this_year).contains(&year) =>
            {
                problem = Some((
                    ProblemCode::InvalidValue,
                    format!("脱贫年度应在识别年度 {registered} 至 {this_year} 之间"),
                ));
            }
            (HouseholdStatus::Poor | HouseholdStatus::ExitPending, Some(_)) => {
                problem = Some((
                    ProblemCode::InvalidValue,
                    format!("{}的户尚未脱贫，不填「脱贫年度」", status.label()),
                ));
            }
            (HouseholdStatus::ExitPending, None) => {
                standing.status = Some(HouseholdStatus::Poor);
                standing.was_exit_pending = true;
                self.report.notices.push(Problem {
                    row,
                    column: Some(Column::Status.header()),
                    code: ProblemCode::ExitPendingAsPoor,
                    message: "拟退出的户按未脱贫导入：退出程序须在本系统重新进行".into(),
                });
            }
            _ => {}
        }
        if let Some((code, message)) = problem {
            self.problem(row, Some(Column::ExitYear), code, message);
        }
    }
}

/// The cells of one row, read column by column; each unreadable cell leaves a problem.
struct RowCells<'a> {
    row: u32,
    columns: &'a HashMap<Column, usize>,
    cells: &'a [String],
    problems: Vec<Problem>,
}

impl RowCells<'_> {
    fn text(&self, column: Column) -> &str {
        self.columns
            .get(&column)
            .and_then(|i| self.cells.get(*i))
            .map(|c| clean(c))
            .unwrap_or("")
    }

    fn push(&mut self, column: Column, code: ProblemCode, message: String) {
        self.problems.push(Problem {
            row: self.row,
            column: Some(column.header()),
            code,
            message,
        });
    }

    fn required<T>(&mut self, column: Column, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
        let text = self.text(column).to_owned();
        if text.is_empty() {
            if self.columns.contains_key(&column) {
                self.push(
                    column,
                    ProblemCode::Required,
                    format!("「{}」不能为空", column.header()),
                );
            }
            return None;
        }
        self.parsed(column, &text, parse)
    }

    /// `Some(None)` for an empty cell, `None` for one that cannot be read.
    fn optional<T>(
        &mut self,
        column: Column,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<Option<T>> {
        let text = self.text(column).to_owned();
        if text.is_empty() {
            return Some(None);
        }
        self.parsed(column, &text, parse).map(Some)
    }

    fn parsed<T>(
        &mut self,
        column: Column,
        text: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let value = parse(text);
        if value.is_none() {
            self.push(
                column,
                ProblemCode::InvalidValue,
                format!("「{text}」不是有效值，应填：{}", column.allowed()),
            );
        }
        value
    }

    /// The ID number; its problem never repeats the number itself.
    fn id_number(&mut self) -> Option<IdNumber> {
        let column = Column::IdNumber;
        let text = self.text(column).to_owned();
        if text.is_empty() {
            return self.required(column, |_| None::<IdNumber>);
        }
        match IdNumber::parse(&text) {
            Ok(id) => Some(id),
            Err(e) => {
                self.push(column, ProblemCode::InvalidIdNumber, id_message(&e));
                None
            }
        }
    }
}

fn clash_problem(clash: Clash, households: &[NewHousehold], member_rows: &[Vec<u32>]) -> Problem {
    let first_row = |household: usize| member_rows[household][0];
    match clash {
        Clash::UnknownVillage { household } => Problem {
            row: first_row(household),
            column: Some(Column::VillageCode.header()),
            code: ProblemCode::UnknownVillage,
            message: format!("没有代码为 {} 的村", households[household].village),
        },
        Clash::OutsideArea { household } => Problem {
            row: first_row(household),
            column: Some(Column::VillageCode.header()),
            code: ProblemCode::OutsideArea,
            message: format!("村 {} 不在您管辖的范围内", households[household].village),
        },
        Clash::NumberTaken {
            household,
            household_number,
        } => Problem {
            row: first_row(household),
            column: Some(Column::HouseholdNumber.header()),
            code: ProblemCode::NumberTaken,
            message: format!("户编号 {household_number} 已登记"),
        },
        Clash::PersonRegistered {
            household,
            member,
            registered_in,
        } => Problem {
            row: member_rows[household][member],
            column: Some(Column::IdNumber.header()),
            code: ProblemCode::AlreadyRegistered,
            message: match registered_in {
                Some(found) => format!(
                    "此人（{}）已登记在户 {}",
                    found.id_masked, found.household_number
                ),
                None => REGISTERED_ELSEWHERE.into(),
            },
        },
    }
}

/// A person registered outside the caller's area, as the report says it: no household, no ID.
pub const REGISTERED_ELSEWHERE: &str = "此人已在本县其他地方登记，请联系县扶贫办";

/// A household flaw as the report says it.
fn flaw_message(flaw: &Flaw, household_number: &str) -> String {
    match flaw {
        Flaw::NumberLength => "户编号应为 1 至 32 个字符".into(),
        Flaw::NumberCharacters => "户编号不能含有不可见字符或控制字符".into(),
        Flaw::YearOutOfRange { this_year } => format!("识别年度应在 2014 至 {this_year} 之间"),
        Flaw::MemberCount => format!("户 {household_number} 应有 1 至 30 名成员"),
        Flaw::HeadCount(heads) => {
            format!("户 {household_number} 应有且只有一名户主，现有 {heads} 名")
        }
        Flaw::NameLength { .. } => "姓名应为 1 至 64 个字".into(),
        Flaw::SexMismatch { .. } => "性别与身份证号码不符".into(),
        Flaw::BirthDateMismatch { .. } => "出生日期与身份证号码不符".into(),
        Flaw::RepeatedIdNumber { .. } => "同一户内身份证号码重复".into(),
    }
}

/// Why an ID number was refused, without repeating it.
fn id_message(error: &IdNumberError) -> String {
    crate::service::reasons::id_number(error).zh
}
