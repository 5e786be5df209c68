//! Importing and exporting the registry sheet against a real database: every problem named by
//! row and column, all-or-nothing commits, scope, encodings and both file kinds.

use std::io::{Seek, Write};

use api::{
    domain::{AreaCode, IdNumber},
    service::{
        audit::{self, ChainCheck},
        households::{
            self, HouseholdFilter,
            export::{self, MemberLine, SheetKind, SheetWriter},
            import::{self, ImportError, ImportReport, ProblemCode},
            sheet::Column,
        },
        policy::Actor,
        users::Origin,
    },
    testing::TestApp,
};
use entities::{
    household::{self, HouseholdStatus, PovertyCause},
    household_member::{self, Health, LabourCapacity, MemberRelation, Schooling, Sex},
    user::Role,
};
use poem::{
    http::StatusCode,
    test::{TestForm, TestFormField},
};
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::support::{self, json_of};

const HEADER: &str = "户编号,村代码,姓名,身份证号码,与户主关系,性别,出生日期,劳动技能,健康状况,文化程度,参加基本医疗保险,联系电话,主要致贫原因,识别年度";
const VILLAGE: &str = "500235101201";
const OTHER_TOWNSHIP_VILLAGE: &str = "500235102201";

/// A valid ID number from its first 17 digits.
fn id(body: &str) -> String {
    IdNumber::from_body(body).unwrap().as_str().to_owned()
}

/// The same number with its check digit changed.
fn mistyped(body: &str) -> String {
    let good = id(body);
    let last = if good.ends_with('0') { '1' } else { '0' };
    format!("{}{last}", &good[..17])
}

fn row(number: &str, village: &str, name: &str, id_number: &str, relation: &str) -> String {
    format!(
        "{number},{village},{name},{id_number},{relation},,,普通劳动力,健康,初中,是,13500135000,因病,2016"
    )
}

fn csv_file(rows: &[String]) -> std::fs::File {
    let mut file = tempfile::tempfile().unwrap();
    writeln!(file, "{HEADER}").unwrap();
    for row in rows {
        writeln!(file, "{row}").unwrap();
    }
    file.rewind().unwrap();
    file
}

fn county() -> Actor {
    Actor {
        user_id: 1,
        role: Role::CountyOfficial,
        area: Some(AreaCode::parse("500235").unwrap()),
        household_id: None,
    }
}

async fn import(
    app: &TestApp,
    actor: &Actor,
    file: std::fs::File,
    dry_run: bool,
) -> Result<ImportReport, ImportError> {
    import::import_file(
        &app.state.db,
        &app.state.pii,
        Some(actor),
        file,
        dry_run,
        &Origin::default(),
    )
    .await
}

async fn household_count(app: &TestApp) -> u64 {
    household::Entity::find()
        .count(app.state.db.conn())
        .await
        .unwrap()
}

/// A problem as (row, column, code), for comparing.
type Found = (u32, Option<&'static str>, ProblemCode);

fn found(report: &ImportReport) -> Vec<Found> {
    report
        .problems
        .iter()
        .map(|p| (p.row, p.column, p.code))
        .collect()
}

/// A file with one mistake of each kind, and the problems it must produce.
fn file_with_mistakes() -> (Vec<String>, Vec<Found>) {
    let mut sex_mismatch = row("H5", VILLAGE, "赵五", &id("50023519700505001"), "户主");
    sex_mismatch = sex_mismatch.replacen(",户主,,", ",户主,女,", 1);
    let rows = vec![
        // 2: a good head
        row("H1", VILLAGE, "张三", &id("50023519800101001"), "户主"),
        // 3: a mistyped ID number
        row(
            "H1",
            VILLAGE,
            "李四",
            &mistyped("50023519820202002"),
            "配偶",
        ),
        // 4: a household without a head
        row("H2", VILLAGE, "王二", &id("50023519900303003"), "子女"),
        // 5: a village that does not exist
        row(
            "H3",
            "500235199299",
            "钱六",
            &id("50023519600404004"),
            "户主",
        ),
        // 6: the same person as row 2
        row("H4", VILLAGE, "张三", &id("50023519800101001"), "户主"),
        // 7: a sex that contradicts the ID number (a man's number, 女)
        sex_mismatch,
        // 8: a relation nobody uses
        row("H6", VILLAGE, "孙七", &id("50023519750606006"), "邻居"),
        // 9: a person already registered elsewhere
        row("H7", VILLAGE, "周八", &id("50023519850707007"), "户主"),
        // 10: the household's village differs from its first row
        row(
            "H1",
            OTHER_TOWNSHIP_VILLAGE,
            "张小三",
            &id("50023520100808008"),
            "子女",
        ),
    ];
    let expected = vec![
        (3, Some("身份证号码"), ProblemCode::InvalidIdNumber),
        (4, Some("与户主关系"), ProblemCode::HeadCount),
        (5, Some("村代码"), ProblemCode::UnknownVillage),
        (6, Some("身份证号码"), ProblemCode::DuplicateInFile),
        (7, Some("性别"), ProblemCode::Mismatch),
        (8, Some("与户主关系"), ProblemCode::InvalidValue),
        (9, Some("身份证号码"), ProblemCode::AlreadyRegistered),
        (10, Some("村代码"), ProblemCode::InconsistentHousehold),
    ];
    (rows, expected)
}

/// Registers 周八 in another household, so the file's row 9 clashes with the registry.
async fn register_existing(app: &TestApp) {
    let file = csv_file(&[row(
        "EXISTING-1",
        VILLAGE,
        "周八",
        &id("50023519850707007"),
        "户主",
    )]);
    let report = import(app, &county(), file, false).await.unwrap();
    assert!(report.committed);
}

#[tokio::test]
async fn a_dry_run_names_every_bad_row_and_column_and_writes_nothing() {
    let app = TestApp::spawn().await;
    register_existing(&app).await;
    let (rows, expected) = file_with_mistakes();
    let before = household_count(&app).await;

    let report = import(&app, &county(), csv_file(&rows), true)
        .await
        .unwrap();
    assert_eq!(found(&report), expected, "{:#?}", report.problems);
    assert_eq!(report.problem_count, expected.len());
    assert!(!report.committed);
    assert_eq!(report.format, Some("csv"));
    assert_eq!(report.members, rows.len());
    assert_eq!(household_count(&app).await, before);

    // Problems name the place, never the full ID number.
    let text = format!("{:?}", report.problems);
    assert!(!text.contains(&id("50023519800101001")));
    assert!(text.contains("EXISTING-1"), "{text}");
}

#[tokio::test]
async fn a_commit_with_any_bad_row_writes_nothing() {
    let app = TestApp::spawn().await;
    register_existing(&app).await;
    let (rows, expected) = file_with_mistakes();
    let before = household_count(&app).await;
    let members_before = household_member::Entity::find()
        .count(app.state.db.conn())
        .await
        .unwrap();

    let Err(ImportError::Rejected(report)) = import(&app, &county(), csv_file(&rows), false).await
    else {
        panic!("a file with problems must be rejected");
    };
    assert_eq!(found(&report), expected);
    assert_eq!(household_count(&app).await, before);
    let members_after = household_member::Entity::find()
        .count(app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(members_after, members_before);
}

#[tokio::test]
async fn a_clean_file_is_written_whole_sealed_and_audited() {
    let app = TestApp::spawn().await;
    let rows = vec![
        row("H1", VILLAGE, "张三", &id("50023519800101001"), "户主"),
        row("H1", VILLAGE, "李四", &id("50023519820202002"), "配偶"),
        row("H1", VILLAGE, "张小五", &id("50023520100303003"), "之子"),
        row(
            "H2",
            OTHER_TOWNSHIP_VILLAGE,
            "王二",
            &id("50023519900303003"),
            "户主",
        ),
    ];
    let report = import(&app, &county(), csv_file(&rows), false)
        .await
        .unwrap();
    assert!(report.committed, "{:?}", report.problems);
    assert_eq!((report.households, report.members), (2, 4));

    let stored = household::Entity::find()
        .all(app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|h| h.status == HouseholdStatus::Poor));
    let members = household_member::Entity::find()
        .all(app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(members.len(), 4);
    for member in &members {
        assert!(!member.id_ciphertext.contains("1980"));
        assert!(member.id_masked.contains("********"));
    }
    let child = members.iter().find(|m| m.name == "张小五").unwrap();
    assert_eq!(child.relation, MemberRelation::Child);
    assert_eq!(child.birth_date.to_string(), "2010-03-03");

    // One audit entry per household, and the chain still holds.
    let ChainCheck::Intact { entries } = audit::verify(&app.state.db).await.unwrap() else {
        panic!("the audit chain broke");
    };
    assert!(entries >= 2);

    // Importing the same file again clashes on every household and writes nothing.
    let Err(ImportError::Rejected(again)) = import(&app, &county(), csv_file(&rows), false).await
    else {
        panic!("a repeated import must be rejected");
    };
    assert!(
        again
            .problems
            .iter()
            .any(|p| p.code == ProblemCode::NumberTaken)
    );
    assert_eq!(household_count(&app).await, 2);
}

#[tokio::test]
async fn officials_import_only_into_their_own_area() {
    let app = TestApp::spawn().await;
    let cadre = Actor {
        user_id: 1,
        role: Role::VillageCadre,
        area: Some(AreaCode::parse(VILLAGE).unwrap()),
        household_id: None,
    };
    let rows = vec![
        row("H1", VILLAGE, "张三", &id("50023519800101001"), "户主"),
        row(
            "H2",
            OTHER_TOWNSHIP_VILLAGE,
            "王二",
            &id("50023519900303003"),
            "户主",
        ),
    ];
    let report = import(&app, &cadre, csv_file(&rows), true).await.unwrap();
    assert_eq!(
        found(&report),
        vec![(3, Some("村代码"), ProblemCode::OutsideArea)]
    );

    let farmer = Actor {
        role: Role::Farmer,
        area: None,
        ..cadre
    };
    assert!(matches!(
        import(&app, &farmer, csv_file(&rows), true).await,
        Err(ImportError::Forbidden)
    ));
}

#[tokio::test]
async fn missing_columns_and_empty_cells_are_named() {
    let app = TestApp::spawn().await;
    let mut file = tempfile::tempfile().unwrap();
    writeln!(file, "户编号,村代码,姓名,与户主关系,备注").unwrap();
    writeln!(file, "H1,{VILLAGE},,户主,无").unwrap();
    file.rewind().unwrap();
    let report = import(&app, &county(), file, true).await.unwrap();
    let codes = found(&report);
    assert!(codes.contains(&(1, Some("身份证号码"), ProblemCode::MissingColumn)));
    assert!(codes.contains(&(1, Some("劳动技能"), ProblemCode::MissingColumn)));
    assert!(codes.contains(&(2, Some("姓名"), ProblemCode::Required)));
    assert_eq!(report.ignored_columns, vec!["备注".to_owned()]);

    let empty = tempfile::tempfile().unwrap();
    let report = import(&app, &county(), empty, true).await.unwrap();
    assert_eq!(found(&report), vec![(1, None, ProblemCode::Empty)]);
}

#[tokio::test]
async fn csv_saved_by_chinese_excel_in_gb18030_imports() {
    let app = TestApp::spawn().await;
    let text = format!(
        "{HEADER}\r\n{}\r\n",
        row("H1", VILLAGE, "张三", &id("50023519800101001"), "户主")
    );
    let (bytes, _, _) = encoding_rs::GB18030.encode(&text);
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(&bytes).unwrap();
    file.rewind().unwrap();
    let report = import(&app, &county(), file, false).await.unwrap();
    assert!(report.committed, "{:?}", report.problems);
    let member = household_member::Entity::find()
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(member.name, "张三");
}

fn line(number: &str, name: &str, id_number: String, relation: MemberRelation) -> MemberLine {
    // Sex and birth date as the number says, even when its check digit is wrong.
    let male = (id_number.as_bytes()[16] - b'0') % 2 == 1;
    let birth_date = chrono::NaiveDate::parse_from_str(&id_number[6..14], "%Y%m%d").unwrap();
    MemberLine {
        household_number: number.into(),
        village_code: VILLAGE.into(),
        village_name: "示范村".into(),
        name: name.into(),
        id_number,
        relation,
        sex: if male { Sex::Male } else { Sex::Female },
        birth_date,
        labour_capacity: LabourCapacity::Full,
        health: Health::Healthy,
        schooling: Schooling::Primary,
        medical_insurance: true,
        phone: None,
        poverty_cause: PovertyCause::Land,
        registered_year: 2015,
        status: HouseholdStatus::Poor,
        exit_year: None,
    }
}

fn xlsx_file(lines: &[MemberLine]) -> std::fs::File {
    let mut writer = SheetWriter::new(SheetKind::Xlsx, &Column::IMPORTED).unwrap();
    for line in lines {
        writer.write(line).unwrap();
    }
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(&writer.finish().unwrap()).unwrap();
    file.rewind().unwrap();
    file
}

#[tokio::test]
async fn xlsx_files_import_and_their_problems_are_named_too() {
    let app = TestApp::spawn().await;
    let bad = xlsx_file(&[
        line("X1", "张三", id("50023519800101001"), MemberRelation::Head),
        line(
            "X1",
            "李四",
            mistyped("50023519820202002"),
            MemberRelation::Spouse,
        ),
    ]);
    let report = import(&app, &county(), bad, true).await.unwrap();
    assert_eq!(report.format, Some("xlsx"));
    assert_eq!(
        found(&report),
        vec![(3, Some("身份证号码"), ProblemCode::InvalidIdNumber)]
    );

    let good = xlsx_file(&[
        line("X1", "张三", id("50023519800101001"), MemberRelation::Head),
        line(
            "X1",
            "李四",
            id("50023519820202002"),
            MemberRelation::Spouse,
        ),
    ]);
    let report = import(&app, &county(), good, false).await.unwrap();
    assert!(report.committed, "{:?}", report.problems);
    assert_eq!((report.households, report.members), (1, 2));
}

#[tokio::test]
async fn exports_mask_id_numbers_unless_revealed_to_the_area_and_read_back() {
    let app = TestApp::spawn().await;
    let rows = vec![
        row("H1", VILLAGE, "张三", &id("50023519800101001"), "户主"),
        row("H1", VILLAGE, "李四", &id("50023519820202002"), "配偶"),
        row(
            "H2",
            OTHER_TOWNSHIP_VILLAGE,
            "王二",
            &id("50023519900303003"),
            "户主",
        ),
    ];
    import(&app, &county(), csv_file(&rows), false)
        .await
        .unwrap();
    let township = Actor {
        user_id: 2,
        role: Role::TownshipOfficial,
        area: Some(AreaCode::parse("500235101").unwrap()),
        household_id: None,
    };
    let export = |actor: Actor, reveal: bool, kind: SheetKind| {
        let app = &app;
        async move {
            export::export(
                &app.state.db,
                &app.state.pii,
                &actor,
                &HouseholdFilter::default(),
                reveal,
                kind,
                &Origin::default(),
            )
            .await
        }
    };

    // Masked: the township sees its own village's household only.
    let csv = String::from_utf8(
        export(township.clone(), false, SheetKind::Csv)
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(csv.starts_with('\u{feff}'));
    assert!(csv.contains("张三") && csv.contains("李四") && !csv.contains("王二"));
    assert!(csv.contains("500235********001"));
    assert!(!csv.contains(&id("50023519800101001")));

    // Revealed to the township official, and the exported sheet imports cleanly elsewhere.
    let xlsx = export(township.clone(), true, SheetKind::Xlsx)
        .await
        .unwrap();
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(&xlsx).unwrap();
    file.rewind().unwrap();
    let fresh = TestApp::spawn().await;
    let report = import(&fresh, &county(), file, true).await.unwrap();
    assert_eq!(report.problem_count, 0, "{:?}", report.problems);
    assert_eq!((report.households, report.members), (1, 2));
    assert_eq!(report.ignored_columns, vec!["村名称".to_owned()]);

    // A village cadre of another village may not reveal the township's data.
    let cadre = Actor {
        role: Role::VillageCadre,
        area: Some(AreaCode::parse(OTHER_TOWNSHIP_VILLAGE).unwrap()),
        ..township
    };
    let err = export::export(
        &app.state.db,
        &app.state.pii,
        &cadre,
        &HouseholdFilter {
            area: Some(AreaCode::parse("500235101").unwrap()),
            ..Default::default()
        },
        true,
        SheetKind::Csv,
        &Origin::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, households::HouseholdError::Forbidden));
}

#[tokio::test]
async fn officials_upload_files_and_download_the_template_over_http() {
    let app = support::app_with_admin().await;
    support::official(&app, "13900000010", Role::CountyOfficial, "500235").await;
    let (token, _) = support::tokens(&app, "13900000010").await;
    let upload = |rows: Vec<String>, dry_run: bool| {
        let body = format!("{HEADER}\n{}\n", rows.join("\n"));
        app.client
            .post(format!("/api/v1/households/import?dry_run={dry_run}"))
            .header("authorization", format!("Bearer {token}"))
            .multipart(
                TestForm::new().field(
                    TestFormField::bytes(body.into_bytes())
                        .name("file")
                        .filename("households.csv"),
                ),
            )
            .send()
    };

    let (rows, expected) = file_with_mistakes();
    let resp = upload(rows.clone(), true).await;
    resp.assert_status_is_ok();
    let body = json_of(resp).await;
    assert_eq!(body["committed"], false);
    // Row 9's person is not registered here, so one problem fewer than in the service test.
    assert_eq!(body["problem_count"], expected.len() - 1);
    assert_eq!(body["problems"][0]["row"], 3);
    assert_eq!(body["problems"][0]["column"], "身份证号码");
    assert_eq!(body["problems"][0]["code"], "invalid_id_number");

    let resp = upload(rows, false).await;
    resp.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let body = json_of(resp).await;
    assert_eq!(body["code"], "household.import_rejected");
    assert_eq!(body["details"]["problems"][0]["row"], 3);

    let good = vec![row("H1", VILLAGE, "张三", &id("50023519800101001"), "户主")];
    let resp = upload(good, false).await;
    resp.assert_status(StatusCode::CREATED);
    assert_eq!(json_of(resp).await["committed"], true);

    // Without a token, nothing.
    app.client
        .post("/api/v1/households/import")
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);

    let resp = app
        .client
        .get("/api/v1/households/import/template?format=csv")
        .send()
        .await;
    resp.assert_status_is_ok();
    let disposition = resp.0.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(disposition.contains("attachment"), "{disposition}");
    let template = resp.0.into_body().into_string().await.unwrap();
    assert_eq!(
        template.trim_start_matches('\u{feff}').trim_end(),
        format!("{HEADER},户状态,脱贫年度")
    );

    let resp = app
        .client
        .get("/api/v1/households/export?format=csv")
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await;
    resp.assert_status_is_ok();
    let csv = resp.0.into_body().into_string().await.unwrap();
    assert!(csv.contains("张三") && csv.contains("500235********"));
}

#[tokio::test]
async fn uploads_beyond_the_import_limit_are_refused() {
    let app = support::app_with_admin().await;
    let (token, _) = support::tokens(&app, support::ADMIN_PHONE).await;
    let big = "x".repeat(64 * 1024 * 1024);
    app.client
        .post("/api/v1/households/import?dry_run=true")
        .header("authorization", format!("Bearer {token}"))
        .multipart(TestForm::new().field(TestFormField::bytes(big.into_bytes()).name("file")))
        .send()
        .await
        .assert_status(StatusCode::PAYLOAD_TOO_LARGE);
}

/// A member row with the household's status and exit year in the last two columns.
fn standing_row(number: &str, body: &str, relation: &str, status: &str, year: &str) -> String {
    let mut line = row(number, VILLAGE, "农户", &id(body), relation);
    line.push_str(&format!(",{status},{year}"));
    line
}

fn standing_file(rows: &[String]) -> std::fs::File {
    let mut file = tempfile::tempfile().unwrap();
    writeln!(file, "{HEADER},户状态,脱贫年度").unwrap();
    for row in rows {
        writeln!(file, "{row}").unwrap();
    }
    file.rewind().unwrap();
    file
}

async fn household_numbered(app: &TestApp, number: &str) -> household::Model {
    use sea_orm::{ColumnTrait, QueryFilter};
    household::Entity::find()
        .filter(household::Column::HouseholdNumber.eq(number))
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no household {number}"))
}

#[tokio::test]
async fn exited_households_import_as_imported_exits_and_pending_ones_as_poor_with_a_notice() {
    use entities::household::ExitSource;
    let app = TestApp::spawn().await;
    let rows = [
        standing_row("S-1", "50023519800101001", "户主", "已脱贫", "2019"),
        standing_row("S-1", "50023519820101002", "配偶", "已脱贫", "2019"),
        standing_row("S-2", "50023519800101003", "户主", "拟退出", ""),
        standing_row("S-3", "50023519800101004", "户主", "", ""),
        standing_row("S-4", "50023519800101005", "户主", "返贫", "2018"),
    ];
    let report = import(&app, &county(), standing_file(&rows), false)
        .await
        .unwrap();
    assert!(report.committed, "{:?}", report.problems);
    assert_eq!(report.households_exited, 1);
    assert_eq!(report.notice_count, 1);
    assert_eq!(report.notices[0].row, 4);
    assert_eq!(report.notices[0].code, ProblemCode::ExitPendingAsPoor);

    let exited = household_numbered(&app, "S-1").await;
    assert_eq!(exited.status, HouseholdStatus::Exited);
    assert_eq!(exited.exit_year, Some(2019));
    assert_eq!(exited.exit_source, Some(ExitSource::Imported));
    let pending = household_numbered(&app, "S-2").await;
    assert_eq!(pending.status, HouseholdStatus::Poor);
    assert_eq!((pending.exit_year, pending.exit_source), (None, None));
    let poor = household_numbered(&app, "S-3").await;
    assert_eq!(poor.status, HouseholdStatus::Poor);
    let returned = household_numbered(&app, "S-4").await;
    assert_eq!(returned.status, HouseholdStatus::Returned);
    assert_eq!(returned.exit_source, Some(ExitSource::Imported));

    // The audit entries say where each standing came from.
    let after = |id: i64| {
        let app = &app;
        async move {
            use sea_orm::{ColumnTrait, QueryFilter};
            let entry = entities::audit_log::Entity::find()
                .filter(entities::audit_log::Column::Action.eq("household.imported"))
                .filter(entities::audit_log::Column::EntityId.eq(id.to_string()))
                .one(app.state.db.conn())
                .await
                .unwrap()
                .expect("an audit entry");
            serde_json::from_str::<serde_json::Value>(&entry.after.unwrap()).unwrap()
        }
    };
    let entry = after(exited.id).await;
    assert_eq!(entry["status"], "exited");
    assert_eq!(entry["exit_source"], "imported");
    assert_eq!(entry["exit_year"], 2019);
    let entry = after(pending.id).await;
    assert_eq!(entry["status"], "poor");
    assert_eq!(entry["sheet_status"], "exit_pending");

    // No exit case was opened or announced for any of them.
    let cases = entities::exit_case::Entity::find()
        .count(app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(cases, 0);
}

#[tokio::test]
async fn a_status_and_exit_year_that_do_not_fit_are_refused_by_row() {
    let app = TestApp::spawn().await;
    let rows = [
        standing_row("T-1", "50023519800101011", "户主", "已脱贫", ""),
        standing_row("T-2", "50023519800101012", "户主", "未脱贫", "2019"),
        standing_row("T-3", "50023519800101013", "户主", "已脱贫", "2015"),
        standing_row("T-4", "50023519800101014", "户主", "已脱贫", "2019"),
        standing_row("T-4", "50023519820101015", "配偶", "未脱贫", ""),
        standing_row("T-5", "50023519800101016", "户主", "拟退出", "2019"),
        standing_row("T-6", "50023519800101017", "户主", "脱了", ""),
    ];
    let report = import(&app, &county(), standing_file(&rows), true)
        .await
        .unwrap();
    let status = Some(Column::Status.header());
    let exit_year = Some(Column::ExitYear.header());
    assert_eq!(
        found(&report),
        vec![
            (2, exit_year, ProblemCode::Required),
            (3, exit_year, ProblemCode::InvalidValue),
            // Registered in 2016 (the row helper's year): an exit in 2015 came before it.
            (4, exit_year, ProblemCode::InvalidValue),
            (6, status, ProblemCode::InconsistentHousehold),
            (6, exit_year, ProblemCode::InconsistentHousehold),
            (7, exit_year, ProblemCode::InvalidValue),
            (8, status, ProblemCode::InvalidValue),
        ]
    );
    assert_eq!(household_count(&app).await, 0);
}

#[tokio::test]
async fn a_registry_exported_and_imported_into_an_empty_county_counts_the_same() {
    use api::service::exit::progress;
    use entities::household::ExitSource;
    let app = TestApp::spawn().await;
    let mut rows = Vec::new();
    for n in 0..12u32 {
        let status = ["已脱贫", "拟退出", "", "返贫"][(n % 4) as usize];
        let year = match n % 4 {
            0 => "2019",
            3 => "2018",
            _ => "",
        };
        let number = format!("R-{n}");
        rows.push(standing_row(
            &number,
            &format!("500235198001{:02}021", n + 1),
            "户主",
            status,
            year,
        ));
        if n % 2 == 0 {
            rows.push(standing_row(
                &number,
                &format!("500235198201{:02}022", n + 1),
                "配偶",
                status,
                year,
            ));
        }
    }
    import(&app, &county(), standing_file(&rows), false)
        .await
        .unwrap();
    let county_code = AreaCode::parse("500235").unwrap();
    let counts = |app: &TestApp| {
        let (db, rules, area) = (
            app.state.db.clone(),
            app.state.exit_rules.clone(),
            county_code.clone(),
        );
        async move {
            let p = progress::compute(db.conn(), &rules, &area, 0)
                .await
                .unwrap();
            (
                p.people,
                p.parts
                    .into_iter()
                    .map(|part| (part.code, part.people))
                    .collect::<Vec<_>>(),
            )
        }
    };
    let before = counts(&app).await;
    assert_eq!(before.0.households, 12);
    assert_eq!(before.0.households_exited, 3);

    for kind in [SheetKind::Csv, SheetKind::Xlsx] {
        let sheet = export::export(
            &app.state.db,
            &app.state.pii,
            &county(),
            &HouseholdFilter::default(),
            true,
            kind,
            &Origin::default(),
        )
        .await
        .unwrap();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&sheet).unwrap();
        file.rewind().unwrap();
        let empty = TestApp::spawn().await;
        let report = import(&empty, &county(), file, false).await.unwrap();
        assert!(report.committed, "{kind:?}: {:?}", report.problems);
        assert_eq!(report.households_exited, 3);
        // Those the first sheet had in an exit procedure are poor by now.
        assert_eq!(report.notice_count, 0);
        assert_eq!(counts(&empty).await, before, "{kind:?}");
        let exited = household_numbered(&empty, "R-0").await;
        assert_eq!(exited.exit_year, Some(2019));
        assert_eq!(exited.exit_source, Some(ExitSource::Imported));
    }
}

/// Finding: a dry-run import checked many ID numbers at once against the whole county's
/// registry and named the household of each. Outside the caller's area it now says only that
/// the person is registered elsewhere.
#[tokio::test]
async fn a_dry_run_names_no_household_outside_the_callers_area() {
    let app = TestApp::spawn().await;
    let person = id("50023519800101001");
    let elsewhere = vec![row("H1", OTHER_TOWNSHIP_VILLAGE, "张三", &person, "户主")];
    import(&app, &county(), csv_file(&elsewhere), false)
        .await
        .unwrap();

    let township = Actor {
        user_id: 2,
        role: Role::TownshipOfficial,
        area: Some(AreaCode::parse("500235101").unwrap()),
        household_id: None,
    };
    let probe = vec![row("H9", VILLAGE, "张三", &person, "户主")];
    let report = import(&app, &township, csv_file(&probe), true)
        .await
        .unwrap();
    assert_eq!(
        found(&report),
        vec![(
            2,
            Some(Column::IdNumber.header()),
            ProblemCode::AlreadyRegistered
        )]
    );
    assert_eq!(
        report.problems[0].message,
        "此人已在本县其他地方登记，请联系县扶贫办"
    );
    // The county, whose area holds that household, is told where.
    let report = import(&app, &county(), csv_file(&probe), true)
        .await
        .unwrap();
    assert!(
        report.problems[0].message.contains("H1"),
        "{:?}",
        report.problems
    );
}
