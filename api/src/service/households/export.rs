//! Writing the registry sheet: the export of a filtered list (ID numbers masked, or in full for
//! officials who may reveal them, audited), the blank import template, and any list of member
//! lines — the import benchmark writes its county-sized file with the same writer.

use std::collections::HashMap;

use chrono::NaiveDate;
use entities::{
    area,
    household::{self, HouseholdStatus, PovertyCause},
    household_member::{self, Health, LabourCapacity, MemberRelation, Schooling, Sex},
};
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;

use super::{
    HouseholdError, HouseholdFilter, HouseholdSort, NewHousehold, list,
    sheet::{Column, SheetColumn, SheetLabel, SheetRow, yes_no},
};
use crate::{
    domain::AreaCode,
    infra::{
        db::Database,
        pii::{PiiVault, Sealed},
    },
    service::{
        audit::{self, NewAuditEntry},
        pagination::PageRequest,
        policy::{self, Action, Actor, Resource},
        users::Origin,
    },
};

/// A file kind the registry sheet is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SheetKind {
    Csv,
    Xlsx,
}

impl SheetKind {
    pub fn content_type(self) -> &'static str {
        match self {
            SheetKind::Csv => "text/csv; charset=utf-8",
            SheetKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            SheetKind::Csv => "csv",
            SheetKind::Xlsx => "xlsx",
        }
    }
}

/// One row of the sheet: a member with their household's fields.
#[derive(Clone, Debug)]
pub struct MemberLine {
    pub household_number: String,
    pub village_code: String,
    pub village_name: String,
    pub name: String,
    /// Masked or in full.
    pub id_number: String,
    pub relation: MemberRelation,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub labour_capacity: LabourCapacity,
    pub health: Health,
    pub schooling: Schooling,
    pub medical_insurance: bool,
    pub phone: Option<String>,
    pub poverty_cause: PovertyCause,
    pub registered_year: i32,
    pub status: HouseholdStatus,
    /// Written for exited and returned households only: the year of their exit.
    pub exit_year: Option<i32>,
}

impl SheetRow<Column> for MemberLine {
    fn cell(&self, column: Column) -> String {
        match column {
            Column::HouseholdNumber => self.household_number.clone(),
            Column::VillageCode => self.village_code.clone(),
            Column::VillageName => self.village_name.clone(),
            Column::Name => self.name.clone(),
            Column::IdNumber => self.id_number.clone(),
            Column::Relation => self.relation.label().to_owned(),
            Column::Sex => self.sex.label().to_owned(),
            Column::BirthDate => self.birth_date.format("%Y-%m-%d").to_string(),
            Column::LabourCapacity => self.labour_capacity.label().to_owned(),
            Column::Health => self.health.label().to_owned(),
            Column::Schooling => self.schooling.label().to_owned(),
            Column::MedicalInsurance => yes_no(self.medical_insurance).to_owned(),
            Column::Phone => self.phone.clone().unwrap_or_default(),
            Column::PovertyCause => self.poverty_cause.label().to_owned(),
            Column::RegisteredYear => self.registered_year.to_string(),
            Column::Status => self.status.label().to_owned(),
            Column::ExitYear => match self.status {
                HouseholdStatus::Exited | HouseholdStatus::Returned => {
                    self.exit_year.map(|y| y.to_string()).unwrap_or_default()
                }
                HouseholdStatus::Poor | HouseholdStatus::ExitPending => String::new(),
            },
        }
    }
}

impl MemberLine {
    /// The lines of a household about to be registered, ID numbers in full.
    pub fn of_new(household: &NewHousehold, village_name: &str) -> Vec<MemberLine> {
        household
            .members
            .iter()
            .map(|m| MemberLine {
                household_number: household.household_number.clone(),
                village_code: household.village.to_string(),
                village_name: village_name.to_owned(),
                name: m.name.clone(),
                id_number: m.id_number.as_str().to_owned(),
                relation: m.relation,
                sex: match m.id_number.sex() {
                    crate::domain::Sex::Male => Sex::Male,
                    crate::domain::Sex::Female => Sex::Female,
                },
                birth_date: m.id_number.birth_date(),
                labour_capacity: m.labour_capacity,
                health: m.health,
                schooling: m.schooling,
                medical_insurance: m.medical_insurance,
                phone: household.phone.as_ref().map(|p| p.as_str().to_owned()),
                poverty_cause: household.poverty_cause,
                registered_year: household.registered_year,
                status: HouseholdStatus::Poor,
                exit_year: None,
            })
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SheetWriteError {
    #[error(transparent)]
    Xlsx(#[from] XlsxError),
    #[error(transparent)]
    Csv(#[from] csv::Error),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Writes a sheet row by row into memory. XLSX rows go to a temporary file as they are
/// written, so a county-sized sheet does not sit in memory twice.
pub struct SheetWriter<C: SheetColumn = Column> {
    columns: &'static [C],
    out: Out,
}

enum Out {
    Csv(Box<csv::Writer<Vec<u8>>>),
    Xlsx { workbook: Box<Workbook>, row: u32 },
}

impl<C: SheetColumn> SheetWriter<C> {
    pub fn new(kind: SheetKind, columns: &'static [C]) -> Result<Self, SheetWriteError> {
        let out = match kind {
            SheetKind::Csv => {
                // The byte-order mark tells Excel the file is UTF-8.
                let mut writer = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
                writer.write_record(columns.iter().map(|c| c.header()))?;
                Out::Csv(Box::new(writer))
            }
            SheetKind::Xlsx => {
                let mut workbook = Workbook::new();
                let header = Format::new().set_bold();
                let text = Format::new().set_num_format("@");
                let sheet = workbook.add_worksheet_with_constant_memory()?;
                sheet.set_name(C::SHEET_NAME)?;
                for (i, column) in columns.iter().enumerate() {
                    let i = i as u16;
                    sheet.write_string_with_format(0, i, column.header(), &header)?;
                    // Text columns, so Excel keeps ID numbers' digits and leading zeros.
                    sheet.set_column_format(i, &text)?;
                    sheet.set_column_width(i, column.width())?;
                }
                sheet.set_freeze_panes(1, 0)?;
                Out::Xlsx {
                    workbook: Box::new(workbook),
                    row: 1,
                }
            }
        };
        Ok(Self { columns, out })
    }

    pub fn write(&mut self, line: &impl SheetRow<C>) -> Result<(), SheetWriteError> {
        match &mut self.out {
            Out::Csv(writer) => {
                writer.write_record(self.columns.iter().map(|c| line.cell(*c)))?;
            }
            Out::Xlsx { workbook, row } => {
                let sheet = workbook.worksheet_from_index(0)?;
                for (i, column) in self.columns.iter().enumerate() {
                    sheet.write_string(*row, i as u16, line.cell(*column))?;
                }
                *row += 1;
            }
        }
        Ok(())
    }

    /// The finished file; for XLSX with a second sheet that explains each column.
    pub fn finish(self) -> Result<Vec<u8>, SheetWriteError> {
        match self.out {
            Out::Csv(writer) => writer
                .into_inner()
                .map_err(|e| SheetWriteError::Io(std::io::Error::other(e.to_string()))),
            Out::Xlsx { mut workbook, .. } => {
                let notes = workbook.add_worksheet();
                notes.set_name("填写说明")?;
                let bold = Format::new().set_bold();
                notes.write_string_with_format(0, 0, "列名", &bold)?;
                notes.write_string_with_format(0, 1, "是否必填", &bold)?;
                notes.write_string_with_format(0, 2, "填写要求", &bold)?;
                notes.set_column_width(0, 18)?;
                notes.set_column_width(2, 80)?;
                for (i, column) in self.columns.iter().enumerate() {
                    let row = i as u32 + 1;
                    notes.write_string(row, 0, column.header())?;
                    notes.write_string(row, 1, if column.required() { "是" } else { "否" })?;
                    notes.write_string(row, 2, column.allowed())?;
                }
                Ok(workbook.save_to_buffer()?)
            }
        }
    }
}

/// The blank import template: the header row, and for XLSX the notes sheet.
pub fn template(kind: SheetKind) -> Result<Vec<u8>, SheetWriteError> {
    SheetWriter::new(kind, &Column::IMPORTED)?.finish()
}

/// The households a filter selects, one row per member. ID numbers are masked unless
/// `reveal`, which needs the right to reveal in the whole area and is audited.
pub async fn export(
    db: &Database,
    vault: &PiiVault,
    actor: &Actor,
    filter: &HouseholdFilter,
    reveal: bool,
    kind: SheetKind,
    origin: &Origin,
) -> Result<Vec<u8>, HouseholdError> {
    let area = filter.area.clone().or_else(|| actor.area.clone());
    if reveal {
        let allowed = area.as_ref().is_some_and(|area| {
            policy::can(
                actor,
                Action::Reveal,
                &Resource::Household {
                    household_id: None,
                    area,
                },
            )
        });
        if !allowed {
            return Err(HouseholdError::Forbidden);
        }
    }
    let village_names: HashMap<String, String> = area::Entity::find()
        .select_only()
        .column(area::Column::Code)
        .column(area::Column::Name)
        .filter(area::Column::Level.eq(area::AreaLevel::Village))
        .into_tuple()
        .all(db.conn())
        .await?
        .into_iter()
        .collect();

    let mut writer = SheetWriter::new(kind, &Column::EXPORTED)?;
    let mut page = PageRequest {
        after: None,
        limit: 100,
    };
    let (mut households, mut members) = (0usize, 0usize);
    loop {
        // The same selection, scope and order as the list, a page at a time.
        let found = list(db, actor, filter, HouseholdSort::Registered, &page).await?;
        let ids: Vec<i64> = found.items.iter().map(|s| s.household.id).collect();
        let stored = household_member::Entity::find()
            .filter(household_member::Column::HouseholdId.is_in(ids))
            .order_by_asc(household_member::Column::HouseholdId)
            .order_by_asc(household_member::Column::Id)
            .all(db.conn())
            .await?;
        let by_id: HashMap<i64, &household::Model> = found
            .items
            .iter()
            .map(|s| (s.household.id, &s.household))
            .collect();
        for member in &stored {
            let household = by_id[&member.household_id];
            let id_number = if reveal {
                vault.open(&Sealed {
                    key_id: member.id_key_id.clone(),
                    ciphertext: member.id_ciphertext.clone(),
                })?
            } else {
                member.id_masked.clone()
            };
            writer.write(&line(household, member, id_number, &village_names))?;
        }
        households += found.items.len();
        members += stored.len();
        match found.next_after {
            Some(after) => page.after = Some(after),
            None => break,
        }
    }
    let file = writer.finish()?;

    let txn = db.begin_write().await?;
    audit::append(
        &txn,
        NewAuditEntry {
            actor_user_id: Some(actor.user_id),
            actor_ip: origin.ip.clone(),
            action: if reveal {
                "household.exported_revealed"
            } else {
                "household.exported"
            },
            entity: "household",
            entity_id: "*".into(),
            area_code: area.as_ref().map(AreaCode::to_string),
            after: Some(json!({
                "format": kind.extension(),
                "households": households,
                "members": members,
                "status": filter.status.map(|s| s.label()),
                "poverty_cause": filter.poverty_cause.map(|c| c.label()),
                "text": filter.text,
            })),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(file)
}

fn line(
    household: &household::Model,
    member: &household_member::Model,
    id_number: String,
    village_names: &HashMap<String, String>,
) -> MemberLine {
    MemberLine {
        household_number: household.household_number.clone(),
        village_code: household.village_code.clone(),
        village_name: village_names
            .get(&household.village_code)
            .cloned()
            .unwrap_or_default(),
        name: member.name.clone(),
        id_number,
        relation: member.relation,
        sex: member.sex,
        birth_date: member.birth_date,
        labour_capacity: member.labour_capacity,
        health: member.health,
        schooling: member.schooling,
        medical_insurance: member.medical_insurance,
        phone: household.phone.clone(),
        poverty_cause: household.poverty_cause,
        registered_year: household.registered_year,
        status: household.status,
        exit_year: household.exit_year,
    }
}
