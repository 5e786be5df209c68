//! The spreadsheet layout officials keep the registry in: Chinese headers, one row per member,
//! household fields repeated on every row of the household. Import reads it, export and the
//! blank template write it, so the three can never disagree.

use std::{
    fs::File,
    io::{BufReader, Read, Seek},
};

use chrono::NaiveDate;
use entities::{
    household::{HouseholdStatus, PovertyCause},
    household_member::{Health, LabourCapacity, MemberRelation, Schooling, Sex},
};
use sea_orm::ActiveEnum;

/// One column of the registry sheet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Column {
    HouseholdNumber,
    VillageCode,
    Name,
    IdNumber,
    Relation,
    Sex,
    BirthDate,
    LabourCapacity,
    Health,
    Schooling,
    MedicalInsurance,
    Phone,
    PovertyCause,
    RegisteredYear,
    /// Export only: the village's name, for people reading the sheet.
    VillageName,
    /// Where the household stands (empty: 未脱贫). An import takes 已脱贫 as exited elsewhere,
    /// on record as imported; it never starts or finishes an exit procedure.
    Status,
    /// The year an exited household exited.
    ExitYear,
}

impl Column {
    /// The columns an import reads, in template order.
    pub const IMPORTED: [Column; 16] = [
        Column::HouseholdNumber,
        Column::VillageCode,
        Column::Name,
        Column::IdNumber,
        Column::Relation,
        Column::Sex,
        Column::BirthDate,
        Column::LabourCapacity,
        Column::Health,
        Column::Schooling,
        Column::MedicalInsurance,
        Column::Phone,
        Column::PovertyCause,
        Column::RegisteredYear,
        Column::Status,
        Column::ExitYear,
    ];

    /// The columns an export writes: the imported ones and the village name.
    pub const EXPORTED: [Column; 17] = [
        Column::HouseholdNumber,
        Column::VillageCode,
        Column::VillageName,
        Column::Name,
        Column::IdNumber,
        Column::Relation,
        Column::Sex,
        Column::BirthDate,
        Column::LabourCapacity,
        Column::Health,
        Column::Schooling,
        Column::MedicalInsurance,
        Column::Phone,
        Column::PovertyCause,
        Column::RegisteredYear,
        Column::Status,
        Column::ExitYear,
    ];

    /// The header as written in the template.
    pub fn header(self) -> &'static str {
        self.headers()[0]
    }

    /// The header and the other spellings officials' own sheets use for it.
    fn headers(self) -> &'static [&'static str] {
        match self {
            Column::HouseholdNumber => &["户编号", "户号"],
            Column::VillageCode => &["村代码", "行政村代码", "村行政区划代码"],
            Column::Name => &["姓名"],
            Column::IdNumber => &["身份证号码", "身份证号", "证件号码"],
            Column::Relation => &["与户主关系"],
            Column::Sex => &["性别"],
            Column::BirthDate => &["出生日期"],
            Column::LabourCapacity => &["劳动技能", "劳动能力"],
            Column::Health => &["健康状况"],
            Column::Schooling => &["文化程度", "在校生状况"],
            Column::MedicalInsurance => &["参加基本医疗保险", "是否参加基本医疗保险"],
            Column::Phone => &["联系电话", "电话"],
            Column::PovertyCause => &["主要致贫原因", "致贫原因"],
            Column::RegisteredYear => &["识别年度", "建档年度"],
            Column::VillageName => &["村名称"],
            Column::Status => &["户状态", "脱贫状态"],
            Column::ExitYear => &["脱贫年度", "脱贫年份"],
        }
    }

    /// Whether every row must fill it (the others may be left empty).
    pub fn required(self) -> bool {
        !matches!(
            self,
            Column::Sex | Column::BirthDate | Column::Phone | Column::Status | Column::ExitYear
        )
    }

    /// What the template's notes sheet says may go in the column.
    pub fn allowed(self) -> String {
        match self {
            Column::HouseholdNumber => "1 至 32 个字符，全县唯一".into(),
            Column::VillageCode => "12 位行政区划代码（也可填 9 位以上的前缀写法）".into(),
            Column::Name => "1 至 64 个字".into(),
            Column::IdNumber => "18 位居民身份证号码，请把该列设为文本格式".into(),
            Column::Relation => MemberRelation::label_list(),
            Column::Sex => format!("{}；可不填，填写时须与身份证号码一致", Sex::label_list()),
            Column::BirthDate => "如 1980-01-31；可不填，填写时须与身份证号码一致".into(),
            Column::LabourCapacity => LabourCapacity::label_list(),
            Column::Health => Health::label_list(),
            Column::Schooling => Schooling::label_list(),
            Column::MedicalInsurance => "是、否".into(),
            Column::Phone => "11 位手机号码，可不填".into(),
            Column::PovertyCause => PovertyCause::label_list(),
            Column::RegisteredYear => "如 2014".into(),
            Column::VillageName => "导出时填写，导入时忽略".into(),
            Column::Status => format!(
                "{}；可不填（即未脱贫）。已脱贫的户记为「导入时已脱贫」；拟退出的户按未脱贫导入，退出程序须在本系统重新进行",
                HouseholdStatus::label_list()
            ),
            Column::ExitYear => "已脱贫或返贫的户填写脱贫的年度，如 2019；其他户不填".into(),
        }
    }

    /// The column a header names, if any (spaces and full-width spaces around it ignored).
    pub fn from_header(header: &str) -> Option<Column> {
        let header = clean(header);
        Column::EXPORTED
            .into_iter()
            .find(|c| c.headers().contains(&header))
    }
}

impl SheetColumn for Column {
    const SHEET_NAME: &'static str = "建档立卡户";

    fn header(self) -> &'static str {
        Column::header(self)
    }

    fn required(self) -> bool {
        Column::required(self)
    }

    fn allowed(self) -> String {
        Column::allowed(self)
    }

    fn width(self) -> f64 {
        if self == Column::IdNumber { 22.0 } else { 12.0 }
    }
}

/// A column of a sheet officials keep: its header, whether every row fills it, and what the
/// notes sheet of the XLSX file says may go in it.
pub trait SheetColumn: Copy + PartialEq + 'static {
    /// The name of the worksheet holding the rows.
    const SHEET_NAME: &'static str;
    fn header(self) -> &'static str;
    fn required(self) -> bool;
    fn allowed(self) -> String;
    /// The column's width in Excel's characters.
    fn width(self) -> f64 {
        12.0
    }
}

/// A row of a sheet whose columns are `C`.
pub trait SheetRow<C> {
    fn cell(&self, column: C) -> String;
}

/// A cell's text with surrounding ASCII and full-width spaces removed.
pub fn clean(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

/// An enum written in the sheet by its Chinese label; its API code (`head`, `illness`, …) is
/// accepted too.
pub trait SheetLabel: ActiveEnum<Value = String> + Copy + 'static {
    /// Each value with its label first and accepted aliases after.
    const LABELS: &'static [(Self, &'static [&'static str])];

    fn label(self) -> &'static str
    where
        Self: PartialEq,
    {
        Self::LABELS
            .iter()
            .find(|(value, _)| *value == self)
            .map(|(_, labels)| labels[0])
            .unwrap_or("")
    }

    fn from_label(text: &str) -> Option<Self> {
        let text = clean(text);
        Self::LABELS
            .iter()
            .find(|(_, labels)| labels.contains(&text))
            .map(|(value, _)| *value)
            .or_else(|| Self::try_from_value(&text.to_ascii_lowercase()).ok())
    }

    /// The labels, for messages and the template's notes.
    fn label_list() -> String {
        Self::LABELS
            .iter()
            .map(|(_, labels)| labels[0])
            .collect::<Vec<_>>()
            .join("、")
    }
}

impl SheetLabel for MemberRelation {
    const LABELS: &'static [(Self, &'static [&'static str])] = &[
        (Self::Head, &["户主", "本人"]),
        (Self::Spouse, &["配偶", "妻", "夫"]),
        (Self::Child, &["子女", "之子", "之女", "儿子", "女儿"]),
        (Self::Parent, &["父母", "之父", "之母", "父亲", "母亲"]),
        (
            Self::Grandchild,
            &[
                "孙辈",
                "之孙子",
                "之孙女",
                "孙子",
                "孙女",
                "外孙子",
                "外孙女",
            ],
        ),
        (Self::Sibling, &["兄弟姐妹", "兄弟", "姐妹"]),
        (Self::Other, &["其他"]),
    ];
}

impl SheetLabel for Sex {
    const LABELS: &'static [(Self, &'static [&'static str])] =
        &[(Self::Male, &["男"]), (Self::Female, &["女"])];
}

impl SheetLabel for LabourCapacity {
    const LABELS: &'static [(Self, &'static [&'static str])] = &[
        (Self::Full, &["普通劳动力", "技能劳动力"]),
        (
            Self::Partial,
            &["弱劳动力或半劳动力", "弱劳动力", "半劳动力"],
        ),
        (
            Self::None,
            &["无劳动力", "丧失劳动力", "丧失劳动力或无劳动力"],
        ),
    ];
}

impl SheetLabel for Health {
    const LABELS: &'static [(Self, &'static [&'static str])] = &[
        (Self::Healthy, &["健康"]),
        (Self::Chronic, &["长期慢性病"]),
        (Self::Serious, &["患有大病", "大病"]),
        (Self::Disabled, &["残疾"]),
    ];
}

impl SheetLabel for Schooling {
    const LABELS: &'static [(Self, &'static [&'static str])] = &[
        (Self::None, &["文盲或半文盲", "文盲", "半文盲", "无"]),
        (Self::Preschool, &["学前教育", "学龄前儿童"]),
        (Self::Primary, &["小学"]),
        (Self::JuniorSecondary, &["初中"]),
        (Self::SeniorSecondary, &["高中"]),
        (Self::Vocational, &["中职", "中专", "职业高中"]),
        (Self::College, &["大专及以上", "大专", "本科"]),
    ];
}

impl SheetLabel for PovertyCause {
    const LABELS: &'static [(Self, &'static [&'static str])] = &[
        (Self::Illness, &["因病"]),
        (Self::Disability, &["因残"]),
        (Self::Education, &["因学"]),
        (Self::Labour, &["缺劳力"]),
        (Self::Land, &["缺土地"]),
        (Self::Water, &["缺水"]),
        (Self::Capital, &["缺资金"]),
        (Self::Skills, &["缺技术"]),
        (Self::Transport, &["交通条件落后"]),
        (Self::Disaster, &["因灾"]),
        (Self::InsufficientDrive, &["自身发展动力不足"]),
    ];
}

impl SheetLabel for HouseholdStatus {
    const LABELS: &'static [(Self, &'static [&'static str])] = &[
        (Self::Poor, &["未脱贫", "贫困"]),
        (Self::ExitPending, &["拟退出"]),
        (Self::Exited, &["已脱贫"]),
        (Self::Returned, &["返贫"]),
    ];
}

/// `是`/`否` and the other ways a yes or no is written.
pub fn parse_yes_no(text: &str) -> Option<bool> {
    match clean(text).to_ascii_lowercase().as_str() {
        "是" | "已参加" | "参加" | "y" | "yes" | "true" | "1" => Some(true),
        "否" | "未参加" | "不参加" | "n" | "no" | "false" | "0" => Some(false),
        _ => None,
    }
}

pub fn yes_no(value: bool) -> &'static str {
    if value { "是" } else { "否" }
}

/// `1980-01-31`, `1980/1/31`, `1980.1.31` or `19800131`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = clean(text);
    ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d"]
        .iter()
        .find_map(|format| NaiveDate::parse_from_str(text, format).ok())
}

/// The file kinds an import reads, told apart by their first bytes, not by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SheetFormat {
    Csv,
    Xlsx,
}

#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error("old Excel files (.xls) are not read; save the sheet as .xlsx or .csv")]
    LegacyExcel,
    #[error("the workbook has no worksheet")]
    NoWorksheet,
    #[error("the file cannot be read as a spreadsheet: {0}")]
    Unreadable(String),
    #[error("the file cannot be read: {0}")]
    Io(#[from] std::io::Error),
}

impl SheetFormat {
    pub fn sniff(first_bytes: &[u8]) -> Result<SheetFormat, SheetError> {
        match first_bytes {
            [b'P', b'K', 3, 4, ..] => Ok(SheetFormat::Xlsx),
            [0xD0, 0xCF, 0x11, 0xE0, ..] => Err(SheetError::LegacyExcel),
            _ => Ok(SheetFormat::Csv),
        }
    }
}

/// SHA-256 of an uploaded file's bytes, read as a stream; the file is left at its start again.
/// An import sent again with its idempotency key is recognised by it.
pub fn file_digest(file: &File) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    use std::io::Seek;
    let mut reader = file;
    let mut hasher = Sha256::new();
    std::io::copy(&mut reader, &mut hasher)?;
    reader.rewind()?;
    Ok(format!("{:x}", hasher.finalize()))
}

/// Reads a sheet row by row, calling `on_row` with the row's 1-based number (as a spreadsheet
/// shows it) and its cells as text. Neither format is held in memory whole.
pub fn read_rows(
    mut file: File,
    mut on_row: impl FnMut(u32, Vec<String>),
) -> Result<SheetFormat, SheetError> {
    let mut magic = [0u8; 8];
    let read = file.read(&mut magic)?;
    file.rewind()?;
    let format = SheetFormat::sniff(&magic[..read])?;
    match format {
        SheetFormat::Csv => read_csv(file, &mut on_row)?,
        SheetFormat::Xlsx => read_xlsx(file, &mut on_row)?,
    }
    Ok(format)
}

fn read_csv(file: File, on_row: &mut impl FnMut(u32, Vec<String>)) -> Result<(), SheetError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(BufReader::with_capacity(1 << 16, file));
    let mut record = csv::ByteRecord::new();
    let mut row = 0u32;
    while reader
        .read_byte_record(&mut record)
        .map_err(|e| SheetError::Unreadable(e.to_string()))?
    {
        row += 1;
        on_row(row, record.iter().map(decode_text).collect());
    }
    Ok(())
}

/// UTF-8 (with or without a byte-order mark), or GB18030 — what Excel on a Chinese Windows
/// writes when it saves CSV. Commas, quotes and line ends never occur inside a GB18030
/// character, so fields can be split before decoding.
fn decode_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => encoding_rs::GB18030.decode(bytes).0.into_owned(),
    }
}

fn read_xlsx(file: File, on_row: &mut impl FnMut(u32, Vec<String>)) -> Result<(), SheetError> {
    use calamine::{DataRef, Reader, Xlsx};
    let unreadable = |e: calamine::XlsxError| SheetError::Unreadable(e.to_string());
    let mut workbook = Xlsx::new(BufReader::new(file)).map_err(unreadable)?;
    let first = workbook
        .sheet_names()
        .first()
        .cloned()
        .ok_or(SheetError::NoWorksheet)?;
    let mut cells = workbook
        .worksheet_cells_reader(&first)
        .map_err(unreadable)?;
    let mut current: Option<(u32, Vec<String>)> = None;
    while let Some(cell) = cells.next_cell().map_err(unreadable)? {
        let (row, column) = cell.get_position();
        let text = match cell.get_value() {
            DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
            DataRef::SharedString(s) => (*s).to_owned(),
            DataRef::Int(i) => i.to_string(),
            DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
            DataRef::Float(f) => f.to_string(),
            DataRef::Bool(b) => yes_no(*b).to_owned(),
            DataRef::DateTime(d) => excel_date(d.as_f64())
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            DataRef::Error(e) => format!("#{e}"),
            DataRef::Empty => String::new(),
        };
        if current.as_ref().is_some_and(|(r, _)| *r != row) {
            let (r, cells) = current.take().expect("checked");
            on_row(r + 1, cells);
        }
        let (_, cells) = current.get_or_insert_with(|| (row, Vec::new()));
        let column = column as usize;
        if cells.len() <= column {
            cells.resize(column + 1, String::new());
        }
        cells[column] = text;
    }
    if let Some((r, cells)) = current {
        on_row(r + 1, cells);
    }
    Ok(())
}

/// An Excel serial date (days since 1899-12-30) as a date.
fn excel_date(serial: f64) -> Option<NaiveDate> {
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    epoch.checked_add_signed(chrono::Duration::days(serial.floor() as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_codes_both_parse() {
        assert_eq!(
            MemberRelation::from_label("户主"),
            Some(MemberRelation::Head)
        );
        assert_eq!(
            MemberRelation::from_label(" 之女 "),
            Some(MemberRelation::Child)
        );
        assert_eq!(
            MemberRelation::from_label("head"),
            Some(MemberRelation::Head)
        );
        assert_eq!(
            PovertyCause::from_label("Illness"),
            Some(PovertyCause::Illness)
        );
        assert_eq!(PovertyCause::from_label("因病致贫"), None);
        assert_eq!(Schooling::Vocational.label(), "中职");
    }

    #[test]
    fn every_value_has_a_label() {
        use sea_orm::Iterable;
        fn check<T: SheetLabel + Iterable + PartialEq + std::fmt::Debug>() {
            for value in T::iter() {
                assert!(!value.label().is_empty(), "{value:?} has no label");
                assert_eq!(T::from_label(value.label()), Some(value));
            }
        }
        check::<MemberRelation>();
        check::<Sex>();
        check::<LabourCapacity>();
        check::<Health>();
        check::<Schooling>();
        check::<PovertyCause>();
        check::<HouseholdStatus>();
    }

    #[test]
    fn headers_and_their_aliases_are_recognised() {
        assert_eq!(Column::from_header("户编号"), Some(Column::HouseholdNumber));
        assert_eq!(
            Column::from_header("\u{feff}户号 "),
            Some(Column::HouseholdNumber)
        );
        assert_eq!(Column::from_header("身份证号"), Some(Column::IdNumber));
        assert_eq!(Column::from_header("备注"), None);
    }

    #[test]
    fn dates_and_yes_no_are_forgiving() {
        let date = NaiveDate::from_ymd_opt(1980, 1, 31);
        assert_eq!(parse_date("1980-01-31"), date);
        assert_eq!(parse_date("1980/1/31"), date);
        assert_eq!(parse_date("19800131"), date);
        assert_eq!(parse_date("31/01/1980"), None);
        assert_eq!(parse_yes_no("是"), Some(true));
        assert_eq!(parse_yes_no("N"), Some(false));
        assert_eq!(parse_yes_no("也许"), None);
        assert_eq!(excel_date(29251.0), date);
    }

    #[test]
    fn gb18030_csv_fields_decode() {
        let (bytes, _, _) = encoding_rs::GB18030.encode("户主");
        assert_eq!(decode_text(&bytes), "户主");
        assert_eq!(decode_text("户主".as_bytes()), "户主");
    }
}
