//! Why a service refused: the catalogue of every reason a person can be shown, each with a
//! stable code and a sentence in Chinese and in English written for the farmer, cadre or buyer
//! who reads it, with the numbers that matter filled in ("库存只剩 3 斤"). A service never
//! refuses with a sentence of its own: it names a reason from here, so the two languages stay
//! together and a test reads every one of them.

use entities::listing::Unit;

/// A reason a service refused, in both languages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    /// Stable and dotted, like the error codes (`batch.in_future`).
    pub code: &'static str,
    pub zh: String,
    pub en: String,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.en)
    }
}

/// What a unit is called in each language.
pub fn unit_names(unit: Unit) -> (&'static str, &'static str) {
    match unit {
        Unit::Jin => ("斤", "jin"),
        Unit::Kg => ("公斤", "kg"),
        Unit::Piece => ("个", "pieces"),
        Unit::Box => ("盒", "boxes"),
    }
}

/// Each reason: a function taking what the sentence needs, with an example value for each,
/// so that [`every`] can show them all.
macro_rules! reasons {
    ($(
        $(#[$doc:meta])*
        $name:ident($($arg:ident: $ty:ty = $example:expr),*) => $code:literal, $zh:literal, $en:literal;
    )*) => {
        $(
            $(#[$doc])*
            pub fn $name($($arg: $ty),*) -> Reason {
                Reason { code: $code, zh: format!($zh), en: format!($en) }
            }
        )*

        /// Every reason in the catalogue, with example values.
        pub fn every() -> Vec<Reason> {
            vec![$($name($($example),*)),*]
        }
    };
}

reasons! {
    // Plots and batches.
    plot_name_length() => "plot.name_length",
        "地块名称请填 1 到 32 个字", "Give the plot a name of 1 to 32 characters";
    plot_crop_length() => "plot.crop_length",
        "种的作物请填 1 到 32 个字", "Give the crop in 1 to 32 characters";
    plot_area_range() => "plot.area_range",
        "地块面积请填 0 到 10 万亩之间的数", "Give the plot's area as a number of mu up to 100,000";
    plot_location() => "plot.location",
        "位置不对：纬度在 -90 到 90 之间，经度在 -180 到 180 之间",
        "The location is a latitude (-90 to 90) and a longitude (-180 to 180)";
    plot_not_in_village() => "plot.not_in_village",
        "地块要选在某个村里", "A plot lies in a village: choose the village";
    unknown_village() => "area.unknown_village",
        "没有这个村，请重新选择", "There is no such village; choose it again";
    plot_not_own() => "plot.not_own",
        "这块地不是您家的，请重新选择地块", "This plot is not your household's; choose another";
    batch_quantity_range() => "batch.quantity_range",
        "数量请填 1 到 1 亿之间的整数", "Give the quantity as a whole number from 1 to 100,000,000";
    batch_in_future(today: chrono::NaiveDate = chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()) => "batch.in_future",
        "采收或制作的日期不能晚于今天（{today}）", "The day harvested or made cannot be after today ({today})";
    note_length(max: usize = 500) => "note.length",
        "备注最多 {max} 个字", "A note has at most {max} characters";
    category_unknown() => "category.unknown",
        "没有这个产品，请重新选择", "There is no such product; choose it again";
    listing_not_own(title: String = "红苕粉 5 斤装".into()) => "listing.not_own",
        "商品“{title}”不是您家的，请重新选择", "The goods \"{title}\" are not your household's; choose again";
    year_invalid(year: i32 = 20260) => "year.invalid",
        "{year} 不是一个年份", "{year} is not a year";
    // The journey of a batch.
    event_in_future() => "event.in_future",
        "这一步的时间不能晚于现在", "A step cannot happen later than now";
    inspection_result() => "event.inspection_result",
        "检验这一步要选合格或不合格，别的步骤不用选", "An inspection says pass or fail; other steps say neither";
    only_processing_consumes() => "event.only_processing_consumes",
        "只有加工这一步才用到其他批次", "Only processing uses other batches";
    place_length(max: usize = 100) => "event.place_length",
        "地点最多 {max} 个字", "A place has at most {max} characters";
    details_too_long(max: usize = 2000) => "event.details_too_long",
        "补充信息太长，最多 {max} 字节", "The details are too long: at most {max} bytes";
    details_not_an_object() => "event.details_not_an_object",
        "补充信息的格式不对", "The details are a JSON object";
    input_batch_not_own(batch: i64 = 17) => "event.input_not_own",
        "第 {batch} 号批次不是您家的另一个批次", "Batch {batch} is not another of your household's batches";
    // Codes and labels.
    code_count_range(max: u32 = 100_000) => "codes.count_range",
        "一次生成 1 到 {max} 个溯源码", "Issue 1 to {max} codes at a time";
    item_not_issued(item: i64 = 25) => "codes.item_not_issued",
        "第 {item} 号溯源码还没有生成，请看清标签上的号码", "Code number {item} has not been issued; check the number on the label";
    code_not_of_batch() => "codes.not_of_batch",
        "这不是这个批次的溯源码，请填标签上的号码", "This is not a code of this batch; give the number on the label";
    batch_recalled() => "batch.recalled",
        "这个批次已经召回，不能再生成溯源码", "This batch is recalled; it gets no more codes";
    batch_codes_exhausted() => "codes.exhausted",
        "这个批次能生成的溯源码已经用完了", "This batch has all the codes it can have";
    recall_reason_length(max: usize = 200) => "recall.reason_length",
        "请写明原因，1 到 {max} 个字", "Give the reason in 1 to {max} characters";
    label_pages_range(pages: usize = 3) => "labels.pages_range",
        "标签只有第 1 到第 {pages} 页", "The labels fill pages 1 to {pages}";
    label_pages_too_many(max: usize = 500, pages: usize = 600) => "labels.too_many_pages",
        "一个文件最多 {max} 页，这批标签共 {pages} 页，请分几次下载",
        "One file holds at most {max} pages and the labels fill {pages}: download them in parts";
    area_code_invalid(code: String = "5002351012".into()) => "area.code_invalid",
        "地区代码“{code}”不对，应为 6、9 或 12 位数字", "The area code \"{code}\" is not 6, 9 or 12 digits";
    // Goods.
    title_length() => "listing.title_length",
        "商品名称请填 1 到 64 个字", "Give the goods a title of 1 to 64 characters";
    description_length() => "listing.description_length",
        "介绍最多 2000 个字", "A description has at most 2,000 characters";
    price_range() => "listing.price_range",
        "价格请填 0.01 元到 100 万元之间", "Give a price from 0.01 to 1,000,000 yuan";
    stock_range(max: i64 = 100_000_000) => "listing.stock_range",
        "库存请填 0 到 {max} 之间的整数", "Give the stock as a whole number from 0 to {max}";
    min_order_range(max: i64 = 10_000) => "listing.min_order_range",
        "起订量请填 1 到 {max}", "The smallest order lies between 1 and {max}";
    min_order_above_stock(stock: i64 = 3, unit_zh: &str = "斤", unit_en: &str = "jin") => "listing.min_order_above_stock",
        "起订量不能比库存多：库存只有 {stock} {unit_zh}", "The smallest order cannot be more than the stock, {stock} {unit_en}";
    on_sale_needs_stock(min_order: i64 = 5, unit_zh: &str = "斤", unit_en: &str = "jin") => "listing.on_sale_needs_stock",
        "上架时库存至少要有起订量 {min_order} {unit_zh}", "Goods on sale need at least the smallest order, {min_order} {unit_en}, in stock";
    cooperative_needs_member() => "listing.cooperative_needs_member",
        "合作社上架商品要写明是哪一户的", "A co-operative names the member household whose goods these are";
    not_a_member() => "listing.not_a_member",
        "这一户不是合作社的成员", "This household is not a member of the co-operative";
    too_many_photos(max: usize = 8) => "listing.too_many_photos",
        "一个商品最多放 {max} 张照片", "A listing shows at most {max} photos";
    listing_needs_category() => "listing.needs_category",
        "请选择产品种类", "Choose what kind of product it is";
    new_listing_status() => "listing.new_status",
        "新商品只能先存草稿或直接上架", "New goods are saved as a draft or put on sale";
    plot_needs_crop() => "plot.needs_crop",
        "请选择这块地种的东西", "Choose what the plot grows";
    crop_unknown() => "plot.crop_unknown",
        "没有这种产品，请从列表里选", "There is no such product; choose one from the list";
    too_many_crops(max: usize = 8) => "plot.too_many_crops",
        "一块地最多选 {max} 种", "A plot grows at most {max} products";
    batch_not_plot_crop(crops_zh: &str = "红橘", crops_en: &str = "Red tangerines", product_zh: &str = "核桃", product_en: &str = "Walnuts") => "batch.not_plot_crop",
        "这块地种的是{crops_zh}，不能登记{product_zh}批次", "This plot grows {crops_en}, so it has no batch of {product_en}";
    sold_out_by_stock() => "listing.sold_out_by_stock",
        "库存卖完会自动显示售罄，不用手动选", "Goods show as sold out by themselves when the stock runs out";
    // Categories and co-operatives (county officials).
    category_code_format() => "category.code_format",
        "种类代码请用 1 到 32 个小写字母、数字或下划线", "A category code has 1 to 32 lower-case letters, digits or _";
    category_name_length() => "category.name_length",
        "种类名称请填 1 到 32 个字", "A category name has 1 to 32 characters";
    guide_price_range() => "category.guide_price_range",
        "参考价请填 0.01 元到 100 万元之间", "Give a guide price from 0.01 to 1,000,000 yuan";
    category_incomplete() => "category.incomplete",
        "新种类要填代码、中英文名称和默认单位", "A new category needs a code, both names and a default unit";
    category_code_fixed() => "category.code_fixed",
        "种类代码定了就不能改", "A category's code does not change";
    cooperative_name_length() => "cooperative.name_length",
        "名称请填 1 到 64 个字", "Give a name of 1 to 64 characters";
    cooperative_area() => "cooperative.area",
        "合作社要登记在乡镇或村", "A co-operative is registered in a township or a village";
    cooperative_manager() => "cooperative.manager",
        "负责人要是在用的农户账号", "The manager is an active farmer account";
    manages_another() => "cooperative.manages_another",
        "这个账号已经管理另一个合作社", "This account manages another co-operative";
    exit_admin_takes_no_step() => "exit.admin_takes_no_step",
        "退出的每一步由村、乡镇、县的干部办理，管理员只能查看",
        "Each step of an exit is taken by the village, township or county officials; an admin only reads";
    // ID numbers, told without repeating the number.
    id_number_length() => "id_number.length",
        "身份证号码应为 18 位", "An ID number has 18 characters";
    id_number_characters() => "id_number.characters",
        "身份证号码应为 17 位数字加 1 位数字或 X", "An ID number is 17 digits and a last digit or X";
    id_number_region() => "id_number.region",
        "身份证号码的地区代码无效", "The ID number's first digits name no province";
    id_number_birth_date() => "id_number.birth_date",
        "身份证号码中的出生日期无效", "The birth date in the ID number is not a real past date";
    id_number_check_digit() => "id_number.check_digit",
        "身份证号码校验位不符，可能有数字输错", "The ID number's last character does not match; a digit is probably mistyped";
    cooperative_member_outside() => "cooperative.member_outside_township",
        "这户不在合作社所在的乡镇，不能加入这个合作社",
        "This household does not live in the co-operative's township, so it cannot join it";
    // Orders.
    out_of_stock(available: i64 = 3, unit_zh: &str = "斤", unit_en: &str = "jin") => "order.out_of_stock",
        "库存只剩 {available} {unit_zh}", "Only {available} {unit_en} left in stock";
    order_quantity() => "order.quantity",
        "数量至少是 1", "The quantity is at least 1";
    order_address_length() => "order.address_length",
        "收货地址请填 1 到 200 个字", "Give the address in 1 to 200 characters";
    order_recipient_length() => "order.recipient_length",
        "收货人姓名请填 1 到 32 个字", "Give the recipient's name in 1 to 32 characters";
    idempotency_key_format() => "request.idempotency_key_format",
        "表单已过期，请刷新页面后再提交", "The form has expired; reload the page and send it again";
    own_goods() => "order.own_goods",
        "不能买自己家的商品", "A household does not buy its own goods";
    below_min_order(min_order: i64 = 5, unit_zh: &str = "斤", unit_en: &str = "jin") => "order.below_min_order",
        "这件商品至少买 {min_order} {unit_zh}", "These goods sell at least {min_order} {unit_en} an order";
    order_amount_too_large() => "order.amount_too_large",
        "订单金额太大，请减少数量", "The order's amount is too large; order fewer";
    cancel_needs_reason() => "order.cancel_needs_reason",
        "请写上取消的原因，买家会看到", "Say why the order is cancelled: the buyer reads it";
    cancel_reason_length(max: usize = 200) => "order.cancel_reason_length",
        "取消原因最多 {max} 个字", "A reason has at most {max} characters";
    // Paying and shipping.
    payment_instructions_length(max: usize = 300) => "order.payment_instructions_length",
        "付款方式最多写 {max} 个字", "Payment instructions have at most {max} characters";
    payment_instructions_seller() => "order.payment_instructions_seller",
        "只有卖货的农户或合作社负责人才写付款方式", "Only a farmer or co-operative manager who sells writes payment instructions";
    carrier_unknown() => "order.carrier_unknown",
        "请从列表里选择快递公司", "Choose the carrier from the list";
    waybill_required() => "order.waybill_required",
        "发货时请填快递公司和运单号，买家好查物流", "Shipping needs the carrier and the waybill number, so the buyer can follow the parcel";
    waybill_digits(carrier_zh: &str = "中通快递", carrier_en: &str = "ZTO Express", min: usize = 10, max: usize = 15) => "order.waybill_digits",
        "{carrier_zh}的运单号是 {min} 到 {max} 位数字，请对照面单再填", "{carrier_en} waybill numbers have {min} to {max} digits: check the label";
    waybill_letters_and_digits(carrier_zh: &str = "顺丰速运", carrier_en: &str = "SF Express", min: usize = 12, max: usize = 15) => "order.waybill_letters_and_digits",
        "{carrier_zh}的运单号是 {min} 到 {max} 位数字（可带字母），请对照面单再填", "{carrier_en} waybill numbers have {min} to {max} digits and letters: check the label";
    // Exit procedure and assessments.
    village_not_poor() => "exit.village_not_poor",
        "只有登记的贫困村才走退出程序", "Only a registered poor village has an exit procedure";
    village_exited() => "exit.village_exited",
        "这个村已经退出了", "The village has exited already";
    // Return-to-poverty monitoring.
    monitoring_admin_takes_no_step() => "monitoring.admin_takes_no_step",
        "监测的每一步由村、乡镇、县的干部办理，管理员只能查看",
        "Each step of monitoring is taken by the village, township or county officials; an admin only reads";
    monitoring_no_risk_type() => "monitoring.no_risk_type",
        "请至少选一种风险", "Choose at least one risk";
    monitoring_unstable_needs_exit() => "monitoring.unstable_needs_exit",
        "脱贫不稳定户只能是已经脱贫的户", "Only a household that has exited can be an unstable exited household";
    monitoring_note_length(max: usize = 500) => "monitoring.note_length",
        "情况说明最多 {max} 个字", "Say what happened in at most {max} characters";
    monitoring_year_out_of_range() => "monitoring.year_out_of_range",
        "年份不对，请填今年或往年", "The year must be this year or an earlier one";
    monitoring_no_line() => "monitoring.no_line",
        "这一年还没有设定监测范围", "No monitoring line is configured for that year";
    monitoring_not_monitored() => "monitoring.not_monitored",
        "只有已经纳入监测的户才能办理风险消除", "Only a household under monitoring can have its risk eliminated";
    // Help and visits (帮扶与走访).
    help_admin_records_nothing() => "help.admin_records_nothing",
        "帮扶和走访由村、乡镇、县的干部记录，管理员只能查看",
        "Help and visits are recorded by the village, township or county officials; an admin only reads";
    help_day(today: chrono::NaiveDate = chrono::NaiveDate::from_ymd_opt(2026, 12, 6).unwrap()) => "help.day",
        "日期请填 2014 年 1 月 1 日到今天（{today}）之间", "The day lies between 2014-01-01 and today ({today})";
    help_amount_range(max_yuan: i64 = 10_000_000) => "help.amount_range",
        "金额请填 0 到 {max_yuan} 元，没有金额就不填", "An amount lies between 0 and {max_yuan} yuan; leave it empty when there is none";
    help_note_length(max: usize = 500) => "help.note_length",
        "说明最多 {max} 个字", "A note has at most {max} characters";
    help_kind_needed() => "help.kind_needed",
        "请选帮扶的类别", "Choose the kind of help";
    help_day_needed() => "help.day_needed",
        "请选日期", "Choose the day";
    help_cadre_outside(user_id: i64 = 42) => "help.cadre_outside",
        "编号为 {user_id} 的账号不是这户所在村、乡镇或县的干部", "Account {user_id} is not an official of the household's village, township or county";
    visit_findings_length(max: usize = 500) => "visit.findings_length",
        "请写走访看到的情况，1 到 {max} 个字", "Say what the visit found, in 1 to {max} characters";
    monitoring_no_household() => "monitoring.no_household",
        "您的账号还没有绑定登记的农户，请直接找村干部说明情况",
        "Your account is not linked to a registered household; tell your village cadre what happened";
    monitoring_what_needed() => "monitoring.what_needed",
        "请写一写发生了什么", "Say what happened";
    monitoring_already_applied() => "monitoring.already_applied",
        "您家已经在监测中，或者申请正在办理，不用再申请；有新情况请告诉村干部",
        "Your household is monitored already or its application is being handled; tell your village cadre what is new";
    objection_reason_length(max: usize = 500) => "notice.objection_reason_length",
        "请写明异议的理由，最多 {max} 个字", "Say why you object, in at most {max} characters";
    objection_code_needed() => "notice.code_needed",
        "请先获取并填写短信验证码", "Ask for the texted code and type it in first";
    household_not_poor() => "exit.household_not_poor",
        "只有贫困户或返贫户才能提出退出", "Only a poor or returned household can be proposed";
    step_reason_length(max: usize = 500) => "exit.reason_length",
        "原因最多 {max} 个字", "A reason has at most {max} characters";
    step_needs_reason() => "exit.step_needs_reason",
        "这一步要写明原因", "This step needs a reason";
    return_reason_length(max: usize = 500) => "exit.return_reason_length",
        "请写明返贫的原因，1 到 {max} 个字", "Say why the household returned to poverty, in 1 to {max} characters";
    only_exited_return() => "exit.only_exited_return",
        "只有已脱贫的户才会返贫", "Only a household that exited can return to poverty";
    assessment_year(this_year: i32 = 2026) => "assessment.year",
        "评估年份请填 2014 到 {this_year} 年", "Assessments are for the years 2014 to {this_year}";
    text_length(what_zh: &str = "说明", what_en: &str = "A note", max: usize = 500) => "text.length",
        "{what_zh}最多 {max} 个字", "{what_en} has at most {max} characters";
    collective_income_range(max_yuan: i64 = 100_000_000) => "assessment.collective_income_range",
        "集体收入请填 0 到 {max_yuan} 元", "Collective income lies between 0 and {max_yuan} yuan";
    // Households.
    household_number_length() => "household.number_length",
        "户编号请填 1 到 32 个字", "A household number has 1 to 32 characters";
    household_number_characters() => "household.number_characters",
        "户编号只能用普通的字母和数字，不能有看不见的字符或全角数字",
        "A household number has plain letters and digits: no invisible characters, no full-width digits";
    registered_year(this_year: i32 = 2026) => "household.registered_year",
        "建档年份请填 2014 到 {this_year} 年", "The registered year lies between 2014 and {this_year}";
    member_count() => "household.member_count",
        "一户有 1 到 30 个成员", "A household has 1 to 30 members";
    head_count(heads: usize = 2) => "household.head_count",
        "一户只能有一个户主，现在有 {heads} 个", "A household has exactly one head, not {heads}";
    member_name_length(member: usize = 2) => "household.member_name_length",
        "第 {member} 个成员：姓名请填 1 到 64 个字", "Member {member}: a name has 1 to 64 characters";
    member_sex_mismatch(member: usize = 2) => "household.member_sex_mismatch",
        "第 {member} 个成员：性别和身份证号对不上", "Member {member}: the sex does not match the ID number";
    member_birth_mismatch(member: usize = 2) => "household.member_birth_mismatch",
        "第 {member} 个成员：出生日期和身份证号对不上", "Member {member}: the birth date does not match the ID number";
    member_repeated(member: usize = 2) => "household.member_repeated",
        "第 {member} 个成员：身份证号重复了", "Member {member}: the same ID number is listed twice";
    removal_reason_length(max: usize = 200) => "household.removal_reason_length",
        "请写明删除这一户的原因，1 到 {max} 个字", "Say why the household is removed, in 1 to {max} characters";
    head_already() => "household.head_already",
        "这一户已有户主：请先用别的关系添加此人，再设为户主",
        "The household has a head: add the person with another relation, then make them the head";
    head_stays() => "household.head_stays",
        "要换户主，请把另一个成员设为户主", "The head stays the head until another member is made the head";
    head_not_removed() => "household.head_not_removed",
        "户主不能删除：请先把另一个成员设为户主，或删除整户",
        "The head cannot be removed: make another member the head first, or remove the household";
    account_kind() => "household.account_kind",
        "只有买家或农户账号能绑定到户", "Only a buyer's or a farmer's account can be bound to a household";
    account_without_phone() => "household.account_without_phone",
        "这个账号还没有验证手机号", "The account has no verified phone number yet";
    account_bound_elsewhere() => "household.account_bound_elsewhere",
        "这个账号已经绑定了别的户", "The account is bound to another household";
    cadre_unknown(user_id: i64 = 42) => "household.cadre_unknown",
        "没有编号为 {user_id} 的干部账号", "No official's account has the number {user_id}";
    income_year(this_year: i32 = 2026) => "income.year",
        "收入年份请填 2014 到 {this_year} 年", "Income is recorded for the years 2014 to {this_year}";
    ecommerce_income_by_orders() => "income.ecommerce_by_orders",
        "电商收入由完成的订单自动记入，不用手填", "E-commerce income comes from completed orders, not by hand";
    household_records() => "household.records",
        "这一户的记录有问题，请县里核查", "The household's records have a problem; ask the county to check them";
    income_amount_range(max_yuan: i64 = 100_000_000) => "income.amount_range",
        "金额请填 0 到 {max_yuan} 元", "An amount lies between 0 and {max_yuan} yuan";
    // Buyers' reports on a code.
    report_text_length(max: usize = 500) => "report.text_length",
        "请写 1 到 {max} 个字", "Write 1 to {max} characters";
    report_phone() => "report.phone",
        "手机号不对，请填 11 位手机号，或者不填", "The phone number is not right: give an 11-digit mobile number, or none";
    report_closed() => "report.closed",
        "这条反映已经处理完了", "This report is already closed";
    // Farm inputs (投入品) and certificates (承诺达标合格证).
    input_needs_place() => "input.needs_place",
        "请选用在哪块地上，或者填上鸡群、畜群的名字", "Choose the plot it was used on, or name the flock or herd";
    input_product_name() => "input.product_name",
        "投入品名称请填 1 到 64 个字", "Give the product's name in 1 to 64 characters";
    pesticide_registration_no() => "input.pesticide_registration_no",
        "农药登记证号不对：是 PD、LS、WP 或 WL 加 8 位数字，印在农药瓶子或袋子的标签上，如 PD20080001",
        "The pesticide registration number is PD, LS, WP or WL and 8 digits, as on the label (PD20080001)";
    vet_approval_no() => "input.vet_approval_no",
        "兽药批准文号不对：印在兽药包装上，如 兽药字(2020)150012345",
        "The veterinary drug approval number is as on the package: 兽药字(2020)150012345";
    input_ingredient() => "input.ingredient",
        "有效成分最多 64 个字", "The active ingredient has at most 64 characters";
    input_dose() => "input.dose",
        "用量请填 1 到 64 个字，如 每亩 30 毫升", "Give the dose in 1 to 64 characters, e.g. 30 ml per mu";
    input_method() => "input.method",
        "用法请填 1 到 32 个字，如 喷雾", "Give the method in 1 to 32 characters, e.g. spraying";
    input_interval(max: i32 = 365) => "input.interval",
        "农药要填安全间隔期，兽药要填休药期：0 到 {max} 天", "A pesticide has its pre-harvest interval, a veterinary drug its withdrawal period: 0 to {max} days";
    input_in_future(today: chrono::NaiveDate = chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()) => "input.in_future",
        "使用日期不能晚于今天（{today}）", "The day used cannot be after today ({today})";
    input_flock_length() => "input.flock_length",
        "鸡群、畜群的名字最多 32 个字", "A flock's or herd's name has at most 32 characters";
    certificate_inside_interval(
        product: String = "吡虫啉".into(),
        applied: chrono::NaiveDate = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        days: i32 = 12,
        harvested: chrono::NaiveDate = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        allowed: chrono::NaiveDate = chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()
    ) => "certificate.inside_interval",
        "{harvested} 采收时还在「{product}」的间隔期里（{applied} 用的，要隔 {days} 天），{allowed} 起采收的才能开合格证",
        "Harvested on {harvested}, inside the {days}-day interval of {product} used on {applied}: a harvest from {allowed} on can be certified";
    certificate_already(id: i64 = 12) => "certificate.already_issued",
        "这批货已经开过合格证了（第 {id} 号），要重开请先撤回那一张", "This batch has certificate no. {id}; withdraw it before issuing another";
    certificate_needs_report() => "certificate.needs_report",
        "依据是检测合格的，请附上检测报告的照片或 PDF", "A certificate based on a test carries the test report: attach a photo or a PDF";
    certificate_report_file(max_mb: usize = 10) => "certificate.report_file",
        "检测报告请传照片（JPEG、PNG）或 PDF，不超过 {max_mb} MB", "Attach the report as a photo (JPEG, PNG) or a PDF of at most {max_mb} MB";
    certificate_issuer_name() => "certificate.issuer_name",
        "承诺人（户主或合作社）名称请填 1 到 64 个字", "Give the promising party's name in 1 to 64 characters";
    certificate_phone() => "certificate.phone",
        "联系电话不对，请填 11 位手机号或带区号的座机", "Give an 11-digit mobile number or a landline with its area code";
    certificate_input_uncertified(batch: i64 = 7) => "certificate.input_uncertified",
        "这批货是用第 {batch} 批混装或加工的，那一批还没有有效的合格证，请先给它开证",
        "This batch was mixed or made from batch {batch}, which has no valid certificate: certify it first";
    certificate_withdraw_reason() => "certificate.withdraw_reason",
        "撤回原因请写 2 到 200 个字", "Give the reason for withdrawing in 2 to 200 characters";
    certificate_withdrawn() => "certificate.withdrawn",
        "这张合格证已经撤回了", "This certificate is already withdrawn";
    certificate_retained(until: chrono::NaiveDate = chrono::NaiveDate::from_ymd_opt(2027, 6, 2).unwrap()) => "certificate.retained",
        "合格证要保存到 {until}，在那之前不能删除", "A certificate is kept until {until}; it cannot be deleted before then";
    certificate_basis() => "certificate.basis",
        "请选承诺的依据", "Choose what the promise rests on";
    listing_needs_certificate(batch: i64 = 7) => "listing.needs_certificate",
        "第 {batch} 批货还没有合格证，开了合格证才能上架", "Batch {batch} has no certificate yet: issue one before putting the goods on sale";
}

/// Why an ID number was refused, without repeating it.
pub fn id_number(error: &crate::domain::IdNumberError) -> Reason {
    use crate::domain::IdNumberError;
    match error {
        IdNumberError::Length => id_number_length(),
        IdNumberError::Characters => id_number_characters(),
        IdNumberError::Region => id_number_region(),
        IdNumberError::BirthDate => id_number_birth_date(),
        IdNumberError::CheckDigit => id_number_check_digit(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_is_listed_once_with_both_languages() {
        let every = every();
        let mut codes: Vec<_> = every.iter().map(|r| r.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), every.len(), "a reason code is used twice");
        for reason in &every {
            assert!(reason.code.contains('.'), "{}", reason.code);
            assert!(!reason.zh.trim().is_empty() && !reason.en.trim().is_empty());
            assert!(
                !reason.zh.contains('{') && !reason.en.contains('{'),
                "{reason:?}"
            );
        }
    }
}
