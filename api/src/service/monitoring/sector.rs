//! Sector lists (部门筛查预警): a spreadsheet of people another sector reports — health
//! insurance (large medical expenses), civil affairs, emergency management (disaster victims),
//! education — imported with the registry import's machinery: a dry run reports every problem
//! by row and column and writes nothing; a commit writes every row in one transaction, or none
//! when any row has a problem. Each row is matched to a registered member by the ID number's
//! keyed hash; a matched household of the official's area becomes a warning. Rows that match
//! no member of the area are reported by row and kept too (an 边缘易致贫户 may be among them).

use std::{collections::HashMap, fs::File};

use chrono::NaiveDate;
use entities::{
    household, household_member,
    sector_record::{self, Sector},
    user::Role,
};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter,
};
use serde::Serialize;
use serde_json::json;

use crate::{
    domain::{
        AreaCode, IdNumber,
        county_time::{self, Clock},
    },
    infra::{db::Database, pii::PiiVault},
    service::{
        audit::{self, NewAuditEntry},
        households::{
            import::{MAX_REPORTED_PROBLEMS, Problem, ProblemCode},
            sheet::{self, SheetError, clean},
        },
        idempotency::{self, Claim},
        policy::Actor,
        users::Origin,
    },
};

#[derive(Debug, thiserror::Error)]
pub enum SectorImportError {
    #[error("not allowed")]
    Forbidden,
    #[error(transparent)]
    Sheet(#[from] SheetError),
    /// A commit refused because of the problems in the report.
    #[error("the file has {} problems; nothing was written", .0.problem_count)]
    Rejected(Box<SectorReport>),
    /// The client's idempotency key is not one.
    #[error("{0}")]
    Invalid(crate::service::reasons::Reason),
    /// The client's idempotency key was sent before with another file.
    #[error("the key was used for another request")]
    KeyReused,
    #[error(transparent)]
    Database(#[from] DbErr),
}

impl From<idempotency::KeyError> for SectorImportError {
    fn from(e: idempotency::KeyError) -> Self {
        match e {
            idempotency::KeyError::Malformed(reason) => Self::Invalid(reason),
            idempotency::KeyError::Reused => Self::KeyReused,
            idempotency::KeyError::Database(e) => Self::Database(e),
        }
    }
}

/// A row that matched no registered member of the official's area.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Unmatched {
    pub row: u32,
    pub name: String,
    /// `500235********123X`
    pub id_masked: String,
    /// Registered, but in a household outside the official's area.
    pub outside_area: bool,
}

/// What a sector import found, and whether it wrote.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SectorReport {
    pub format: Option<&'static str>,
    /// People (rows) in the file.
    pub rows: usize,
    /// Rows matched to a registered member of the area, and their households.
    pub matched_rows: usize,
    pub matched_households: usize,
    /// Every row matched to no member of the area, in row order.
    pub unmatched: Vec<Unmatched>,
    pub committed: bool,
    pub problems: Vec<Problem>,
    pub problem_count: usize,
    pub ignored_columns: Vec<String>,
}

/// The columns of a sector list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum SectorColumn {
    IdNumber,
    Name,
    Sector,
    What,
    Amount,
    Date,
}

impl SectorColumn {
    const ALL: [SectorColumn; 6] = [
        SectorColumn::IdNumber,
        SectorColumn::Name,
        SectorColumn::Sector,
        SectorColumn::What,
        SectorColumn::Amount,
        SectorColumn::Date,
    ];

    /// The header the template uses.
    fn header(self) -> &'static str {
        match self {
            SectorColumn::IdNumber => "身份证号",
            SectorColumn::Name => "姓名",
            SectorColumn::Sector => "部门",
            SectorColumn::What => "情况",
            SectorColumn::Amount => "金额（元）",
            SectorColumn::Date => "日期",
        }
    }

    fn from_header(text: &str) -> Option<Self> {
        let text = clean(text);
        Some(match text {
            "身份证号" | "身份证号码" | "公民身份号码" | "id_number" => {
                SectorColumn::IdNumber
            }
            "姓名" | "name" => SectorColumn::Name,
            "部门" | "行业部门" | "sector" => SectorColumn::Sector,
            "情况" | "发生了什么" | "事由" | "what" => SectorColumn::What,
            "金额（元）" | "金额(元)" | "金额" | "amount" => SectorColumn::Amount,
            "日期" | "发生日期" | "date" => SectorColumn::Date,
            _ => return None,
        })
    }

    fn required(self) -> bool {
        self != SectorColumn::Amount
    }
}

/// A sector as the sheet names it.
pub fn parse_sector(text: &str) -> Option<Sector> {
    Some(match clean(text) {
        "医保" | "医疗保障" | "医保局" | "health_insurance" => Sector::HealthInsurance,
        "民政" | "民政局" | "civil_affairs" => Sector::CivilAffairs,
        "应急" | "应急管理" | "应急管理局" | "emergency" => Sector::Emergency,
        "教育" | "教育局" | "education" => Sector::Education,
        _ => return None,
    })
}

/// One person as read from the sheet.
#[derive(Clone, Debug)]
struct SectorRow {
    row: u32,
    id_number: IdNumber,
    name: String,
    sector: Sector,
    what: String,
    amount_fen: Option<i64>,
    on: NaiveDate,
}

struct Parsed {
    rows: Vec<SectorRow>,
    report: SectorReport,
}

fn parse_file(file: File, today: NaiveDate) -> Result<Parsed, SectorImportError> {
    let mut columns: Option<HashMap<SectorColumn, usize>> = None;
    let mut rows = Vec::new();
    let mut report = SectorReport::default();
    let mut seen: HashMap<(String, Sector, NaiveDate), u32> = HashMap::new();
    let format = sheet::read_rows(file, |row, cells| {
        if cells.iter().all(|c| clean(c).is_empty()) {
            return;
        }
        let Some(found) = &columns else {
            let mut found = HashMap::new();
            for (i, cell) in cells.iter().enumerate() {
                match SectorColumn::from_header(cell) {
                    Some(column) => {
                        found.entry(column).or_insert(i);
                    }
                    None if !clean(cell).is_empty() => {
                        report.ignored_columns.push(clean(cell).to_owned())
                    }
                    None => {}
                }
            }
            for column in SectorColumn::ALL {
                if column.required() && !found.contains_key(&column) {
                    report.problems.push(Problem {
                        row,
                        column: Some(column.header()),
                        code: ProblemCode::MissingColumn,
                        message: format!("表头缺少「{}」列", column.header()),
                    });
                }
            }
            columns = Some(found);
            return;
        };
        report.rows += 1;
        let mut problems = Vec::new();
        let text = |column: SectorColumn| -> String {
            found
                .get(&column)
                .and_then(|i| cells.get(*i))
                .map(|c| clean(c).to_owned())
                .unwrap_or_default()
        };
        let mut problem = |column: SectorColumn, code: ProblemCode, message: String| {
            problems.push(Problem {
                row,
                column: Some(column.header()),
                code,
                message,
            })
        };
        let mut required = |column: SectorColumn| -> Option<String> {
            let t = text(column);
            if t.is_empty() {
                problem(
                    column,
                    ProblemCode::Required,
                    format!("「{}」不能为空", column.header()),
                );
                None
            } else {
                Some(t)
            }
        };
        let id_text = required(SectorColumn::IdNumber);
        let name = required(SectorColumn::Name);
        let sector_text = required(SectorColumn::Sector);
        let what = required(SectorColumn::What);
        let date_text = required(SectorColumn::Date);
        let amount_text = text(SectorColumn::Amount);
        let id_number = id_text.and_then(|t| match IdNumber::parse(&t) {
            Ok(id) => Some(id),
            Err(e) => {
                problem(
                    SectorColumn::IdNumber,
                    ProblemCode::InvalidIdNumber,
                    crate::service::reasons::id_number(&e).zh,
                );
                None
            }
        });
        let name = name.filter(|n| {
            let fits = n.chars().count() <= 32;
            if !fits {
                problem(
                    SectorColumn::Name,
                    ProblemCode::InvalidValue,
                    "姓名最多 32 个字".into(),
                );
            }
            fits
        });
        let sector = sector_text.and_then(|t| {
            let found = parse_sector(&t);
            if found.is_none() {
                problem(
                    SectorColumn::Sector,
                    ProblemCode::InvalidValue,
                    format!("没有「{t}」这个部门，请填：医保、民政、应急、教育"),
                );
            }
            found
        });
        let what = what.filter(|w| {
            let fits = w.chars().count() <= 100;
            if !fits {
                problem(
                    SectorColumn::What,
                    ProblemCode::InvalidValue,
                    "情况最多 100 个字".into(),
                );
            }
            fits
        });
        let on = date_text.and_then(|t| match sheet::parse_date(&t) {
            Some(on) if on <= today => Some(on),
            Some(_) => {
                problem(
                    SectorColumn::Date,
                    ProblemCode::InvalidValue,
                    format!("日期不能晚于今天（{today}）"),
                );
                None
            }
            None => {
                problem(
                    SectorColumn::Date,
                    ProblemCode::InvalidValue,
                    format!("「{t}」不是日期，请写成 2026-03-09"),
                );
                None
            }
        });
        let amount_fen = if amount_text.is_empty() {
            Some(None)
        } else {
            match parse_yuan(&amount_text) {
                Some(fen) => Some(Some(fen)),
                None => {
                    problem(
                        SectorColumn::Amount,
                        ProblemCode::InvalidValue,
                        format!("金额「{amount_text}」不对，请填元数，例如 32000 或 32000.50"),
                    );
                    None
                }
            }
        };
        if let (Some(id_number), Some(name), Some(sector), Some(what), Some(on), Some(amount_fen)) =
            (id_number, name, sector, what, on, amount_fen)
        {
            let key = (id_number.as_str().to_owned(), sector, on);
            if let Some(first) = seen.get(&key) {
                problem(
                    SectorColumn::IdNumber,
                    ProblemCode::DuplicateInFile,
                    format!("与第 {first} 行是同一人、同一部门、同一天"),
                );
            } else if problems.is_empty() {
                seen.insert(key, row);
                rows.push(SectorRow {
                    row,
                    id_number,
                    name,
                    sector,
                    what,
                    amount_fen,
                    on,
                });
            }
        }
        report.problems.extend(problems);
    })?;
    report.format = Some(match format {
        sheet::SheetFormat::Csv => "csv",
        sheet::SheetFormat::Xlsx => "xlsx",
    });
    if columns.is_none() {
        report.problems.push(Problem {
            row: 1,
            column: None,
            code: ProblemCode::Empty,
            message: "文件是空的".into(),
        });
    }
    Ok(Parsed { rows, report })
}

/// Yuan as typed (`32000`, `32,000.5`, `¥32000`) in fen; none for anything else or a negative.
fn parse_yuan(text: &str) -> Option<i64> {
    let t: String = text
        .chars()
        .filter(|c| !matches!(c, ',' | '，' | '¥' | '￥' | '元' | ' '))
        .collect();
    let (whole, cents) = match t.split_once('.') {
        Some((w, c)) if !c.is_empty() && c.len() <= 2 => (w, c),
        Some(_) => return None,
        None => (t.as_str(), "0"),
    };
    if whole.is_empty() || !whole.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if !cents.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = whole.parse().ok().filter(|w| *w <= 100_000_000)?;
    let cents: i64 = format!("{cents:0<2}").parse().ok()?;
    Some(whole * 100 + cents)
}

/// Reads, checks, matches and (unless `dry_run`) stores the people in `file`, for a township
/// or county official (an admin reaches the whole county). The same file sent again with the
/// same key stores nothing more and answers as the first time; dry runs keep no key.
#[allow(clippy::too_many_arguments)]
pub async fn import_file(
    db: &Database,
    vault: &PiiVault,
    clock: &dyn Clock,
    actor: &Actor,
    file: File,
    dry_run: bool,
    origin: &Origin,
    key: Option<&str>,
) -> Result<SectorReport, SectorImportError> {
    if !matches!(
        actor.role,
        Role::TownshipOfficial | Role::CountyOfficial | Role::Admin
    ) {
        return Err(SectorImportError::Forbidden);
    }
    let now = clock.now();
    let today = county_time::local(now).date_naive();
    let (Parsed { rows, mut report }, digest) = tokio::task::spawn_blocking(move || {
        let digest = sheet::file_digest(&file).map_err(SheetError::Io)?;
        Ok::<_, SectorImportError>((parse_file(file, today)?, digest))
    })
    .await
    .map_err(|e| DbErr::Custom(format!("the import stopped: {e}")))??;
    let claim = match dry_run {
        true => None,
        false => Claim::new(actor, key, "sector_import", json!(digest))?,
    };
    let earlier = idempotency::earlier(db.conn(), claim.as_ref()).await?;
    report.problems.sort_by_key(|p| p.row);
    report.problem_count = report.problems.len();
    report.problems.truncate(MAX_REPORTED_PROBLEMS);

    // Each row's member, by the keyed hash of the ID number, and that member's household.
    let hashes: Vec<String> = rows
        .iter()
        .map(|r| vault.search_hash(r.id_number.as_str()))
        .collect();
    // Matched outside the write lock: a dry run, a refused file or a repeat writes nothing.
    let conn = db.conn();
    let mut members: HashMap<String, i64> = HashMap::new();
    for chunk in hashes.chunks(500) {
        for m in household_member::Entity::find()
            .filter(household_member::Column::IdHash.is_in(chunk.to_vec()))
            .all(conn)
            .await?
        {
            members.insert(m.id_hash, m.household_id);
        }
    }
    let household_ids: Vec<i64> = members.values().copied().collect();
    let mut villages: HashMap<i64, String> = HashMap::new();
    for chunk in household_ids.chunks(500) {
        for h in household::Entity::find()
            .filter(household::Column::Id.is_in(chunk.to_vec()))
            .all(conn)
            .await?
        {
            villages.insert(h.id, h.village_code);
        }
    }
    let in_area = |village: &str| AreaCode::parse(village).is_ok_and(|v| actor.governs(&v));
    let mut matched: Vec<Option<(i64, String)>> = Vec::with_capacity(rows.len());
    let mut households = std::collections::BTreeSet::new();
    for (row, hash) in rows.iter().zip(&hashes) {
        let found = members
            .get(hash)
            .and_then(|h| villages.get(h).map(|v| (*h, v.clone())));
        match found {
            Some((household, village)) if in_area(&village) => {
                households.insert(household);
                report.matched_rows += 1;
                matched.push(Some((household, village)));
            }
            other => {
                report.unmatched.push(Unmatched {
                    row: row.row,
                    name: row.name.clone(),
                    id_masked: row.id_number.masked(),
                    outside_area: other.is_some(),
                });
                matched.push(None);
            }
        }
    }
    report.matched_households = households.len();

    if earlier.is_some() {
        // The same file was stored by the first request: its report, as it was then.
        report.committed = true;
        return Ok(report);
    }
    if dry_run || report.problem_count > 0 {
        return if dry_run {
            Ok(report)
        } else {
            Err(SectorImportError::Rejected(Box::new(report)))
        };
    }
    let txn = db.begin_write().await?;
    for ((row, found), hash) in rows.iter().zip(matched).zip(hashes) {
        let sealed = vault.seal(row.id_number.as_str());
        let (household_id, village_code) = match found {
            Some((h, v)) => (Some(h), Some(v)),
            None => (None, None),
        };
        let saved = sector_record::ActiveModel {
            sector: Set(row.sector),
            name: Set(row.name.clone()),
            id_key_id: Set(sealed.key_id),
            id_ciphertext: Set(sealed.ciphertext),
            id_masked: Set(row.id_number.masked()),
            id_hash: Set(hash),
            what: Set(row.what.clone()),
            amount_fen: Set(row.amount_fen),
            happened_on: Set(row.on),
            household_id: Set(household_id),
            village_code: Set(village_code.clone()),
            imported_by: Set(Some(actor.user_id)),
            imported_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        audit::append(
            &txn,
            NewAuditEntry {
                actor_user_id: Some(actor.user_id),
                actor_ip: origin.ip.clone(),
                action: "sector_record.imported",
                entity: "sector_record",
                entity_id: saved.id.to_string(),
                area_code: village_code
                    .or_else(|| actor.area.as_ref().map(|a| a.as_str().to_owned())),
                before: None,
                after: Some(json!({
                    "sector": saved.sector.to_value(),
                    "id_masked": saved.id_masked,
                    "what": saved.what,
                    "amount_fen": saved.amount_fen,
                    "happened_on": saved.happened_on,
                    "household_id": saved.household_id,
                    "row": row.row,
                })),
            },
        )
        .await?;
    }
    // When another request with the same key and file stored it first, this one rolled back:
    // either way the file is stored once.
    idempotency::commit(db, txn, claim.as_ref(), &format!("{} rows", rows.len())).await?;
    report.committed = true;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_as_people_type_them() {
        assert_eq!(parse_yuan("32000"), Some(3_200_000));
        assert_eq!(parse_yuan("32,000.5"), Some(3_200_050));
        assert_eq!(parse_yuan("¥0.05"), Some(5));
        assert_eq!(parse_yuan("-5"), None);
        assert_eq!(parse_yuan("3.456"), None);
        assert_eq!(parse_yuan("三万"), None);
    }
}
