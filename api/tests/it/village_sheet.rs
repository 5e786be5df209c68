//! The village sheet against a real database: de-listed villages survive an export and an
//! import into an empty county, every problem is named by row and column, a file with any
//! problem writes nothing, and officials reach only their own villages.

use api::domain::county_time::SystemClock;
use std::io::{Seek, Write};

use api::{
    domain::AreaCode,
    service::{
        audit::{self, ChainCheck},
        exit::{
            assessment::{self, NewIndicators},
            cases::{self, ExitSubjectRef},
            progress,
            village_sheet::{self, VillageImportReport, VillageSheetError},
        },
        households::{export::SheetKind, import::ProblemCode},
        policy::Actor,
        users::Origin,
    },
    testing::TestApp,
};
use entities::{
    area::{self, AreaLevel},
    audit_log,
    household::ExitSource,
    user::Role,
};
use poem::{
    http::StatusCode,
    test::{TestForm, TestFormField},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::support::{self, json_of};

const HEADER: &str = "村代码,贫困村,农村户籍人口,出列状态,出列年度";

fn official(role: Role, area: &str) -> Actor {
    Actor {
        user_id: 1,
        role,
        area: Some(AreaCode::parse(area).unwrap()),
        household_id: None,
    }
}

fn county() -> Actor {
    official(Role::CountyOfficial, "500235")
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

fn bytes_file(bytes: &[u8]) -> std::fs::File {
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(bytes).unwrap();
    file.rewind().unwrap();
    file
}

async fn import(
    app: &TestApp,
    actor: &Actor,
    file: std::fs::File,
    dry_run: bool,
) -> Result<VillageImportReport, VillageSheetError> {
    village_sheet::import_file(
        &app.state.db,
        Some(actor),
        file,
        dry_run,
        &Origin::default(),
    )
    .await
}

/// The demo county's registered poor villages, by code.
async fn poor_villages(app: &TestApp) -> Vec<area::Model> {
    area::Entity::find()
        .filter(area::Column::Level.eq(AreaLevel::Village))
        .filter(area::Column::IsPoorVillage.eq(true))
        .order_by_asc(area::Column::Code)
        .all(app.state.db.conn())
        .await
        .unwrap()
}

async fn village(app: &TestApp, code: &str) -> area::Model {
    area::Entity::find_by_id(code.to_owned())
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap()
}

/// Opens an exit case for a village that has no households: its indicators met, it qualifies.
async fn start_procedure(app: &TestApp, code: &str) {
    let code = AreaCode::parse(code).unwrap();
    assessment::record_indicators(
        &app.state.db,
        &app.state.exit_rules,
        &county(),
        &code,
        2019,
        NewIndicators {
            hardened_road: true,
            safe_water: true,
            power: true,
            broadband: true,
            clinic: true,
            cultural_room: true,
            collective_income_fen: 5_000_000,
        },
        &Origin::default(),
    )
    .await
    .unwrap();
    cases::propose(
        &app.state.db,
        &SystemClock,
        &app.state.exit_rules,
        &official(Role::TownshipOfficial, &code.as_str()[..9]),
        ExitSubjectRef::Village(code),
        2019,
        &Origin::default(),
    )
    .await
    .unwrap();
}

/// (delisted, in progress, not started, poor) county-wide and for every township.
async fn village_figures(app: &TestApp) -> Vec<(String, [u32; 4])> {
    let county = AreaCode::parse("500235").unwrap();
    let p = progress::compute(app.state.db.conn(), &app.state.exit_rules, &county, 0)
        .await
        .unwrap();
    let figures = |v: &progress::VillageCounts| [v.delisted, v.in_progress, v.not_started, v.poor];
    let mut all = vec![("county".to_owned(), figures(&p.villages))];
    all.extend(
        p.parts
            .iter()
            .map(|t| (t.code.clone(), figures(&t.villages))),
    );
    all
}

type Found = (u32, Option<&'static str>, ProblemCode);

fn found(report: &VillageImportReport) -> Vec<Found> {
    report
        .problems
        .iter()
        .map(|p| (p.row, p.column, p.code))
        .collect()
}

#[tokio::test]
async fn delisted_villages_exported_and_imported_into_an_empty_county_stay_delisted() {
    let source = TestApp::spawn().await;
    let villages = poor_villages(&source).await;
    assert!(villages.len() >= 4, "the demo county has poor villages");
    // Two villages de-listed before (brought by a sheet), one in its procedure here.
    let rows = vec![
        format!("{},是,820,已出列,2018", villages[0].code),
        format!("{},是,,已出列,2019", villages[1].code),
    ];
    let report = import(&source, &county(), csv_file(&rows), false)
        .await
        .unwrap();
    assert!(report.committed);
    assert_eq!((report.changed, report.villages_delisted), (2, 2));
    start_procedure(&source, &villages[2].code).await;
    let before = village_figures(&source).await;
    assert_eq!(before[0].1[..2], [2, 1]);

    for kind in [SheetKind::Csv, SheetKind::Xlsx] {
        let sheet =
            village_sheet::export(&source.state.db, &county(), None, kind, &Origin::default())
                .await
                .unwrap();
        let empty = TestApp::spawn().await;
        let report = import(&empty, &county(), bytes_file(&sheet), false)
            .await
            .unwrap();
        assert!(report.committed, "{:?}", report.problems);
        assert_eq!(report.villages_delisted, 2);
        // The village in its procedure comes back not de-listed, with a notice on its row.
        assert_eq!(report.notice_count, 1);
        assert_eq!(
            report.notices[0].code,
            ProblemCode::InProcedureAsNotDelisted
        );

        let after = village_figures(&empty).await;
        for ((code, b), (_, a)) in before.iter().zip(&after) {
            assert_eq!(a[0], b[0], "{code}: de-listed");
            assert_eq!(a[3], b[3], "{code}: poor villages");
            // Not de-listed here, whether in progress there or not started.
            assert_eq!(a[1] + a[2], b[1] + b[2], "{code}: not de-listed");
        }
        let moved = village(&empty, &villages[0].code).await;
        assert_eq!(moved.delisted_year, Some(2018));
        assert_eq!(moved.delist_source, Some(ExitSource::Imported));
        assert_eq!(moved.rural_population, 820);
        assert_eq!(village(&empty, &villages[2].code).await.delisted_year, None);

        // Each changed village has its own audit entry, saying the de-listing was imported;
        // the chain stays intact.
        let entries = audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq("village.imported"))
            .all(empty.state.db.conn())
            .await
            .unwrap();
        let entry = entries
            .iter()
            .find(|e| e.entity_id == villages[0].code)
            .expect("an audit entry for the village");
        let after: serde_json::Value =
            serde_json::from_str(entry.after.as_deref().unwrap()).unwrap();
        assert_eq!(after["delist_source"], "imported", "{after}");
        assert_eq!(after["sheet_stage"], "已出列", "{after}");
        assert!(matches!(
            audit::verify(&empty.state.db).await.unwrap(),
            ChainCheck::Intact { .. }
        ));

        // Importing the same sheet again changes nothing.
        let again = import(&empty, &county(), bytes_file(&sheet), false)
            .await
            .unwrap();
        assert_eq!((again.changed, again.villages_delisted), (0, 0));
    }
}

#[tokio::test]
async fn every_problem_is_named_by_row_and_column_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let villages = poor_villages(&app).await;
    let not_poor = area::Entity::find()
        .filter(area::Column::Level.eq(AreaLevel::Village))
        .filter(area::Column::IsPoorVillage.eq(false))
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    import(
        &app,
        &county(),
        csv_file(&[
            format!("{},,,已出列,2017", villages[0].code),
            format!("{},,,已出列,2017", villages[2].code),
        ]),
        false,
    )
    .await
    .unwrap();
    start_procedure(&app, &villages[1].code).await;
    let this_year = api::domain::county_time::date_of(chrono::Utc::now())
        .format("%Y")
        .to_string();
    let next_year = this_year.parse::<i32>().unwrap() + 1;

    let rows = vec![
        // 2: fine, changes the population
        format!("{},是,900,,", villages[3].code),
        // 3: no such village
        "500235999999,是,,,".to_owned(),
        // 4: not a village code
        "5002351,是,,,".to_owned(),
        // 5: de-listed without its year
        format!("{},是,,已出列,", villages[4].code),
        // 6: a year in the future
        format!("{},是,,已出列,{next_year}", villages[5].code),
        // 7: a village that is not poor cannot be de-listed
        format!("{},否,,已出列,2018", not_poor.code),
        // 8: the procedure runs here
        format!("{},是,,已出列,2019", villages[1].code),
        // 9: de-listed here in 2017, the sheet says another year
        format!("{},是,,已出列,2018", villages[0].code),
        // 10: and an import does not undo a de-listing
        format!("{},是,,未出列,", villages[2].code),
        // 11: the same village twice
        format!("{},是,901,,", villages[3].code),
        // 12: words where numbers and yes/no go
        format!("{},也许,很多,快了,", villages[6].code),
        // 13: a year without a stage
        format!("{},是,,,2018", villages[7].code),
    ];
    let expected: Vec<Found> = vec![
        (3, Some("村代码"), ProblemCode::UnknownVillage),
        (4, Some("村代码"), ProblemCode::InvalidValue),
        (5, Some("出列年度"), ProblemCode::Required),
        (6, Some("出列年度"), ProblemCode::InvalidValue),
        (7, Some("出列状态"), ProblemCode::InvalidValue),
        (8, Some("出列状态"), ProblemCode::InProcedure),
        (9, Some("出列年度"), ProblemCode::DelistedHere),
        (10, Some("出列状态"), ProblemCode::DelistedHere),
        (11, Some("村代码"), ProblemCode::DuplicateInFile),
        (12, Some("贫困村"), ProblemCode::InvalidValue),
        (12, Some("农村户籍人口"), ProblemCode::InvalidValue),
        (12, Some("出列状态"), ProblemCode::InvalidValue),
        (13, Some("出列状态"), ProblemCode::Required),
    ];
    let dry = import(&app, &county(), csv_file(&rows), true)
        .await
        .unwrap();
    assert!(!dry.committed);
    assert_eq!(found(&dry), expected);
    // Messages are for the official reading them, in Chinese.
    assert!(dry.problems.iter().all(|p| !p.message.is_empty()));
    assert!(dry.problems[0].message.contains("500235999999"));

    let before = village(&app, &villages[3].code).await;
    let Err(VillageSheetError::Rejected(report)) =
        import(&app, &county(), csv_file(&rows), false).await
    else {
        panic!("a file with problems is refused");
    };
    assert_eq!(found(&report), expected);
    // The good row was not written either.
    assert_eq!(village(&app, &villages[3].code).await, before);
    assert_eq!(
        village(&app, &villages[0].code).await.delisted_year,
        Some(2017)
    );

    // A file without the code column says so.
    let mut file = tempfile::tempfile().unwrap();
    writeln!(file, "村名称,出列状态\n示范村,已出列").unwrap();
    file.rewind().unwrap();
    let report = import(&app, &county(), file, true).await.unwrap();
    assert_eq!(
        found(&report),
        vec![(1, Some("村代码"), ProblemCode::MissingColumn)]
    );
}

#[tokio::test]
async fn officials_import_and_export_only_their_own_villages() {
    let app = TestApp::spawn().await;
    let villages = poor_villages(&app).await;
    let own = &villages[0];
    let other = villages
        .iter()
        .find(|v| v.code[..9] != own.code[..9])
        .expect("poor villages in two townships");
    let township = official(Role::TownshipOfficial, &own.code[..9]);
    let rows = vec![
        format!("{},是,,已出列,2018", own.code),
        format!("{},是,,已出列,2018", other.code),
    ];
    let Err(VillageSheetError::Rejected(report)) =
        import(&app, &township, csv_file(&rows), false).await
    else {
        panic!("another township's village is refused");
    };
    assert_eq!(
        found(&report),
        vec![(3, Some("村代码"), ProblemCode::OutsideArea)]
    );
    let report = import(&app, &township, csv_file(&rows[..1]), false)
        .await
        .unwrap();
    assert_eq!(report.villages_delisted, 1);

    // Farmers and buyers import nothing.
    let farmer = Actor {
        user_id: 2,
        role: Role::Farmer,
        area: None,
        household_id: Some(1),
    };
    assert!(matches!(
        import(&app, &farmer, csv_file(&rows[..1]), true).await,
        Err(VillageSheetError::Forbidden)
    ));

    // The township's export holds its own villages only.
    let sheet = village_sheet::export(
        &app.state.db,
        &township,
        None,
        SheetKind::Csv,
        &Origin::default(),
    )
    .await
    .unwrap();
    let text = String::from_utf8(sheet).unwrap();
    assert!(
        text.contains(&own.code) && text.contains("已出列,2018"),
        "{text}"
    );
    assert!(!text.contains(&other.code));
    assert!(matches!(
        village_sheet::export(
            &app.state.db,
            &township,
            Some(&AreaCode::parse(&other.code).unwrap()),
            SheetKind::Csv,
            &Origin::default(),
        )
        .await,
        Err(VillageSheetError::NotFound)
    ));
}

#[tokio::test]
async fn officials_upload_and_download_village_sheets_over_http() {
    let app = support::app_with_admin().await;
    support::official(&app, "13900000010", Role::CountyOfficial, "500235").await;
    let (token, _) = support::tokens(&app, "13900000010").await;
    let villages = poor_villages(&app).await;
    let upload = |rows: Vec<String>, dry_run: bool| {
        let body = format!("{HEADER}\n{}\n", rows.join("\n"));
        app.client
            .post(format!("/api/v1/villages/import?dry_run={dry_run}"))
            .header("authorization", format!("Bearer {token}"))
            .multipart(
                TestForm::new().field(
                    TestFormField::bytes(body.into_bytes())
                        .name("file")
                        .filename("villages.csv"),
                ),
            )
            .send()
    };
    let bad = vec![format!("{},是,,已出列,", villages[0].code)];
    let resp = upload(bad.clone(), true).await;
    resp.assert_status_is_ok();
    let body = json_of(resp).await;
    assert_eq!(body["committed"], false);
    assert_eq!(body["problems"][0]["code"], "required");
    assert_eq!(body["problems"][0]["column"], "出列年度");

    let resp = upload(bad, false).await;
    resp.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let body = json_of(resp).await;
    assert_eq!(body["code"], "village.import_rejected");
    assert_eq!(body["details"]["problems"][0]["row"], 2);

    let resp = upload(vec![format!("{},是,,已出列,2019", villages[0].code)], false).await;
    resp.assert_status(StatusCode::CREATED);
    let body = json_of(resp).await;
    assert_eq!(body["villages_delisted"], 1);

    let resp = app
        .client
        .get("/api/v1/villages/export?format=csv")
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await;
    resp.assert_status_is_ok();
    let csv = resp.0.into_body().into_string().await.unwrap();
    assert!(
        csv.starts_with("\u{feff}村代码,村名称,所属乡镇,贫困村,农村户籍人口,出列状态,出列年度")
    );
    assert!(csv.contains(&format!("{},", villages[0].code)) && csv.contains("已出列,2019"));

    // An unreadable file is told apart from one with problems.
    let resp = app
        .client
        .post("/api/v1/villages/import")
        .header("authorization", format!("Bearer {token}"))
        .multipart(
            TestForm::new().field(
                TestFormField::bytes(vec![0xD0, 0xCF, 0x11, 0xE0, 0, 0, 0, 0])
                    .name("file")
                    .filename("villages.xls"),
            ),
        )
        .send()
        .await;
    resp.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_of(resp).await["code"], "village.import_unreadable");

    app.client
        .get("/api/v1/villages/export")
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
}
