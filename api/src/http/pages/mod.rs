//! The server-rendered pages, by who uses them: `public` (the scan page and the market anyone
//! may open), `buyer`, `farmer` and `official`. Each page is an askama template filled from one
//! service call; `session` signs people in, `shell` is the frame every page shares, `app` the
//! farmer's pages' manifest, script and service worker.

pub mod app;
pub mod buyer;
pub mod charts;
pub mod error;
pub mod farmer;
pub mod forms;
pub mod official;
pub mod order_steps;
pub mod public;
pub mod session;
pub mod shell;
pub mod wechat;

use poem::Route;

use crate::http::methods::{get, post};

/// The pages' addresses, added to `route`.
pub fn routes(route: Route) -> Route {
    route
        .at("/t/:code", get(public::scan::scan_page))
        .at("/T/:code", get(public::scan::scan_page))
        .at(
            "/t/:code/report",
            get(public::report::report_form).post(public::report::send_report),
        )
        .at("/m", get(public::market::browse_page))
        .at("/m/listings/:id", get(public::market::listing_page))
        .at(
            "/m/trace",
            get(public::market::trace_form_page).post(wechat::buyer_scan_photo),
        )
        .at("/login/wechat", get(wechat::start))
        .at("/login/wechat/back", get(wechat::back))
        .at("/wx/config", get(wechat::js_config))
        .at(
            "/f/scan",
            get(wechat::farmer_scan).post(wechat::farmer_scan_photo),
        )
        .at(
            "/m/certificates/:id",
            get(public::certificate::certificate_page),
        )
        .at("/audit", get(public::audit::audit_page))
        .at("/notices", get(public::notices::county_board))
        .at("/notices/:area", get(public::notices::area_board))
        .at(
            "/notices/objection/:case",
            get(public::notices::objection_form).post(public::notices::object),
        )
        .at(
            "/notices/objection/exit/:case",
            get(public::notices::exit_objection_form).post(public::notices::object_to_exit),
        )
        .at(
            "/m/listings/:id/order",
            get(buyer::orders::order_form_page).post(buyer::orders::place_order),
        )
        .at("/m/orders", get(buyer::orders::my_orders))
        .at("/m/orders/:id/:action", post(buyer::orders::take_step))
        .at("/login", get(session::login_page).post(session::login))
        .at(
            "/login/code",
            get(session::code_page).post(session::send_code),
        )
        .at("/logout", post(session::logout))
        .at("/f", get(farmer::listings::my_listings))
        .at(app::WORKER_PATH, get(app::worker))
        .at(app::MANIFEST_PATH, get(app::manifest))
        .at("/static/f.js", get(app::script))
        .at("/static/wx.js", get(app::wechat_script))
        .at("/static/icon-192.png", get(app::icon_192))
        .at("/static/icon-512.png", get(app::icon_512))
        .at(
            "/f/listings/new",
            get(farmer::listings::new_listing_page).post(farmer::listings::create_listing),
        )
        .at(
            "/f/listings/:id",
            get(farmer::listings::listing_page).post(farmer::listings::update_listing),
        )
        .at(
            "/f/listings/:id/status",
            post(farmer::listings::set_listing_status),
        )
        .at(
            "/f/listings/:id/details",
            post(farmer::listings::update_details),
        )
        .at("/f/listings/:id/photos", post(farmer::listings::add_photo))
        .at(
            "/f/batches",
            get(farmer::batches::my_batches).post(farmer::batches::create_batch),
        )
        .at("/f/batches/:id", get(farmer::batches::batch_page))
        .at(
            "/f/batches/:id/certificate",
            get(farmer::certificates::batch_certificate)
                .post(farmer::certificates::issue_certificate),
        )
        .at(
            "/f/certificates/:id/withdraw",
            post(farmer::certificates::withdraw_certificate),
        )
        .at(
            "/f/inputs",
            get(farmer::certificates::my_inputs).post(farmer::certificates::record_input),
        )
        .at("/f/batches/:id/events", post(farmer::batches::add_event))
        .at("/f/batches/:id/codes", post(farmer::batches::issue_codes))
        .at("/f/batches/:id/recall", post(farmer::batches::recall_batch))
        .at(
            "/f/batches/:id/revocations",
            post(farmer::batches::revoke_code),
        )
        .at(
            "/f/plots",
            get(farmer::plots::my_plots).post(farmer::plots::create_plot),
        )
        .at(
            "/f/plots/:id",
            get(farmer::plots::plot_page).post(farmer::plots::update_plot),
        )
        .at(
            "/f/batches/:id/runs/:run_id/labels.pdf",
            get(farmer::batches::label_sheet),
        )
        .at(
            "/f/batches/:id/runs/:run_id/labels/:page",
            get(farmer::batches::label_page),
        )
        .at(
            "/f/batches/:id/runs/:run_id/codes.csv",
            get(farmer::batches::codes_file),
        )
        .at("/f/orders", get(farmer::sales::my_orders))
        .at(
            "/f/orders/:id/cancel",
            get(farmer::sales::cancel_page).post(farmer::sales::cancel),
        )
        .at("/f/orders/:id/:action", post(farmer::sales::take_step))
        .at("/f/payment", post(farmer::sales::set_payment_instructions))
        .at("/f/income", get(farmer::sales::my_income))
        .at("/o", get(official::progress::dashboard))
        .at("/o/villages", get(official::progress::village_ranking))
        .at("/o/villages/:code", get(official::village::village_page))
        .at("/o/cases", get(official::work::waiting_cases))
        .at("/o/cases/:id/:action", post(official::work::take_step))
        .at("/o/households/:id", get(official::work::household_page))
        .at(
            "/o/households/:id/help",
            get(official::help::help_page).post(official::help::record_help),
        )
        .at(
            "/o/households/:id/visits",
            post(official::help::record_visit),
        )
        .at(
            "/o/households/:id/cadre",
            post(official::help::assign_cadre),
        )
        .at(
            "/o/monitoring/figures",
            get(official::figures::figures_page),
        )
        .at("/o/stats", get(official::work::stats_page))
        .at("/o/monitoring", get(official::monitoring::warnings_page))
        .at(
            "/o/sector-lists",
            get(official::sector::sector_page).post(official::sector::upload),
        )
        .at(
            "/f/monitoring",
            get(farmer::monitoring::apply_page).post(farmer::monitoring::apply),
        )
        .at(
            "/o/monitoring/:household/start",
            post(official::monitoring::start),
        )
        .at("/o/reports", get(official::reports::reports_page))
        .at(
            "/o/certificates",
            get(official::certificates::certificates_page),
        )
        .at(
            "/o/reports/:id/close",
            post(official::reports::close_report),
        )
}
