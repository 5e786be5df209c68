//! The officials' creations sent twice with one `Idempotency-Key` happen once, as the farmer's
//! do (`idempotency.rs`): households, members, co-operatives and their members, invited
//! officials, categories, audit checkpoints and both spreadsheet imports. Each case really
//! creates through its route, counts the rows it made, sends the same request again with the
//! key (the first answer again, nothing more made), then the key with another request
//! (refused, nothing made).

use api::{domain::IdNumber, testing::TestApp};
use entities::{
    area::{self, AreaLevel},
    audit_checkpoint, audit_log, cooperative, cooperative_member, household, household_member,
    idempotency_key, product_category,
    user::{self, Role},
};
use poem::test::{TestForm, TestFormField};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::support;

const VILLAGE: &str = "500235101201";
const TOWNSHIP: &str = "500235101";
const COUNTY_PHONE: &str = "13900000010";
const HOUSEHOLD_HEADER: &str = "户编号,村代码,姓名,身份证号码,与户主关系,性别,出生日期,劳动技能,健康状况,文化程度,参加基本医疗保险,联系电话,主要致贫原因,识别年度";
const VILLAGE_HEADER: &str = "村代码,贫困村,农村户籍人口,出列状态,出列年度";

/// What a case's request carries.
#[derive(Clone)]
enum Body {
    Json(Value),
    /// A CSV spreadsheet, as the multipart field `file`.
    Csv(String),
    None,
}

/// The rows a case's route makes.
#[derive(Clone, Copy, Debug)]
enum Made {
    Households,
    Members,
    Cooperatives,
    CooperativeMembers,
    Users,
    Categories,
    Checkpoints,
    /// Audit entries of one action: a village import changes rows that were there.
    Audited(&'static str),
}

struct Case {
    name: &'static str,
    token: String,
    path: String,
    key: &'static str,
    body: Body,
    /// The same key with this request (to `other_path`, when another route's) is refused.
    other: Body,
    other_path: Option<&'static str>,
    made: Made,
}

struct Office {
    app: TestApp,
    county: String,
    admin: String,
}

impl Office {
    async fn open() -> Self {
        let app = support::app_with_admin().await;
        support::official(&app, COUNTY_PHONE, Role::CountyOfficial, "500235").await;
        let (county, _) = support::tokens(&app, COUNTY_PHONE).await;
        let (admin, _) = support::tokens(&app, support::ADMIN_PHONE).await;
        Self { app, county, admin }
    }

    async fn send(&self, token: &str, path: &str, key: &str, body: &Body) -> (u16, Value) {
        let mut req = self
            .app
            .client
            .post(path)
            .header("authorization", format!("Bearer {token}"))
            .header("idempotency-key", key);
        req = match body {
            Body::Json(json) => req.body_json(json),
            Body::Csv(csv) => req.multipart(
                TestForm::new().field(
                    TestFormField::bytes(csv.clone().into_bytes())
                        .name("file")
                        .filename("sheet.csv"),
                ),
            ),
            Body::None => req,
        };
        let resp = req.send().await;
        let status = resp.0.status().as_u16();
        let text = resp.0.into_body().into_string().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn count(&self, made: Made) -> u64 {
        let db = self.app.state.db.conn();
        match made {
            Made::Households => household::Entity::find().count(db).await,
            Made::Members => household_member::Entity::find().count(db).await,
            Made::Cooperatives => cooperative::Entity::find().count(db).await,
            Made::CooperativeMembers => cooperative_member::Entity::find().count(db).await,
            Made::Users => user::Entity::find().count(db).await,
            Made::Categories => product_category::Entity::find().count(db).await,
            Made::Checkpoints => audit_checkpoint::Entity::find().count(db).await,
            Made::Audited(action) => {
                audit_log::Entity::find()
                    .filter(audit_log::Column::Action.eq(action))
                    .count(db)
                    .await
            }
        }
        .unwrap()
    }

    /// The case sent, sent again, then its key with another request.
    async fn run(&self, case: &Case) -> Value {
        let before = self.count(case.made).await;
        let first = self
            .send(&case.token, &case.path, case.key, &case.body)
            .await;
        assert!((200..300).contains(&first.0), "{}: {first:?}", case.name);
        let made = self.count(case.made).await;
        assert_eq!(
            made,
            before + 1,
            "{}: the first request makes one",
            case.name
        );

        let again = self
            .send(&case.token, &case.path, case.key, &case.body)
            .await;
        assert_eq!(
            first, again,
            "{}: the replay answers what the first made",
            case.name
        );
        assert_eq!(
            self.count(case.made).await,
            made,
            "{}: made once",
            case.name
        );

        let other_path = case.other_path.unwrap_or(&case.path);
        let (status, refused) = self
            .send(&case.token, other_path, case.key, &case.other)
            .await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (422, Some("request.idempotency_key_reused")),
            "{}: the key with another request",
            case.name
        );
        assert_eq!(
            self.count(case.made).await,
            made,
            "{}: a refused key makes nothing",
            case.name
        );
        first.1
    }
}

fn id(body: &str) -> String {
    IdNumber::from_body(body).unwrap().as_str().to_owned()
}

fn registration(number: &str) -> Value {
    json!({
        "household_number": number,
        "village_code": VILLAGE,
        "phone": "135 0013 5000",
        "poverty_cause": "illness",
        "registered_year": 2016,
        "members": [
            {
                "name": "张三", "id_number": id("50023519800101001"), "relation": "head",
                "labour_capacity": "full", "health": "chronic", "schooling": "primary",
                "medical_insurance": true
            }
        ]
    })
}

fn member(name: &str) -> Value {
    json!({
        "name": name, "id_number": id("50023520100404004"), "relation": "child",
        "labour_capacity": "none", "health": "healthy", "schooling": "primary",
        "medical_insurance": true
    })
}

fn household_sheet(number: &str) -> String {
    format!(
        "{HOUSEHOLD_HEADER}\n{number},{VILLAGE},李四,{},户主,,,普通劳动力,健康,初中,是,13500135001,因病,2016\n",
        id("50023519700202002")
    )
}

#[tokio::test]
async fn every_officials_create_post_sent_again_with_its_key_creates_once() {
    let office = Office::open().await;
    let app = &office.app;
    let manager_household = support::household_in(app, VILLAGE, 1).await;
    let manager = support::farmer_account(app, "13600000001", manager_household).await;
    let joining = support::household_in(app, VILLAGE, 2).await;
    let village = area::Entity::find()
        .filter(area::Column::Level.eq(AreaLevel::Village))
        .filter(area::Column::IsPoorVillage.eq(true))
        .order_by_asc(area::Column::Code)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .expect("a poor village in the demo county");
    let county = office.county.clone();

    let registered = office
        .run(&Case {
            name: "register a household",
            token: county.clone(),
            path: "/api/v1/households".into(),
            key: "household-1",
            body: Body::Json(registration("H-700")),
            other: Body::Json(registration("H-701")),
            other_path: None,
            made: Made::Households,
        })
        .await;
    let household_id = registered["id"].as_i64().unwrap();

    let added = office
        .run(&Case {
            name: "add a member",
            token: county.clone(),
            path: format!("/api/v1/households/{household_id}/members"),
            key: "member-1",
            body: Body::Json(member("张小六")),
            other: Body::Json(member("张小七")),
            other_path: None,
            made: Made::Members,
        })
        .await;
    assert_eq!(added["members"].as_array().unwrap().len(), 2);

    let cooperative = office
        .run(&Case {
            name: "register a co-operative",
            token: county.clone(),
            path: "/api/v1/cooperatives".into(),
            key: "cooperative-1",
            body: Body::Json(json!({ "name": "红橘合作社", "area_code": TOWNSHIP,
                                     "manager_user_id": manager.id })),
            other: Body::Json(json!({ "name": "核桃合作社", "area_code": TOWNSHIP,
                                      "manager_user_id": manager.id })),
            other_path: None,
            made: Made::Cooperatives,
        })
        .await;
    let cooperative_id = cooperative["id"].as_i64().unwrap();

    let joined = office
        .run(&Case {
            name: "add a co-operative's member household",
            token: county.clone(),
            path: format!("/api/v1/cooperatives/{cooperative_id}/members"),
            key: "cooperative-member-1",
            body: Body::Json(json!({ "household_id": joining })),
            other: Body::Json(json!({ "household_id": manager_household })),
            other_path: None,
            made: Made::CooperativeMembers,
        })
        .await;
    assert_eq!(joined["member_household_ids"], json!([joining]));

    let invited = office
        .run(&Case {
            name: "invite an official",
            token: county.clone(),
            path: "/api/v1/users".into(),
            key: "invite-1",
            body: Body::Json(json!({ "phone": "13800000099", "display_name": "村干部",
                                     "role": "village_cadre", "area_code": VILLAGE })),
            other: Body::Json(json!({ "phone": "13800000098", "display_name": "村干部",
                                      "role": "village_cadre", "area_code": VILLAGE })),
            other_path: None,
            made: Made::Users,
        })
        .await;
    assert_eq!(invited["area_code"], VILLAGE);

    office
        .run(&Case {
            name: "add a category",
            token: county.clone(),
            path: "/api/v1/categories".into(),
            key: "category-1",
            body: Body::Json(
                json!({ "code": "fungus", "name_zh": "菌", "name_en": "Fungus",
                                     "default_unit": "jin" }),
            ),
            other: Body::Json(json!({ "code": "fungus", "name_zh": "菌子",
                                      "name_en": "Fungus", "default_unit": "jin" })),
            other_path: None,
            made: Made::Categories,
        })
        .await;

    let imported = office
        .run(&Case {
            name: "import households",
            token: county.clone(),
            path: "/api/v1/households/import".into(),
            key: "household-import-1",
            body: Body::Csv(household_sheet("H-800")),
            other: Body::Csv(household_sheet("H-801")),
            other_path: None,
            made: Made::Households,
        })
        .await;
    assert_eq!(imported["committed"], true);

    let population = village.rural_population + 17;
    let sheet = |population: i64| format!("{VILLAGE_HEADER}\n{},是,{population},,\n", village.code);
    let changed = office
        .run(&Case {
            name: "import villages",
            token: county.clone(),
            path: "/api/v1/villages/import".into(),
            key: "village-import-1",
            body: Body::Csv(sheet(population)),
            other: Body::Csv(sheet(population + 1)),
            other_path: None,
            made: Made::Audited("village.imported"),
        })
        .await;
    assert_eq!(changed["changed"], 1, "{changed}");

    // A checkpoint asks nothing but to be signed: its key with another route is refused.
    office
        .run(&Case {
            name: "sign an audit checkpoint",
            token: office.admin.clone(),
            path: "/api/v1/audit/checkpoints".into(),
            key: "checkpoint-1",
            body: Body::None,
            other: Body::Json(json!({ "code": "moss", "name_zh": "苔", "name_en": "Moss",
                                      "default_unit": "jin" })),
            other_path: Some("/api/v1/categories"),
            made: Made::Checkpoints,
        })
        .await;

    // Every creation kept its key once.
    assert_eq!(
        idempotency_key::Entity::find()
            .count(app.state.db.conn())
            .await
            .unwrap(),
        9
    );
}
