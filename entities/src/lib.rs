//! sea-orm entities for shanhuo, one module per table. Nothing but entities lives here:
//! rules belong to `api::service`, and request/response shapes to `api::http`.

pub mod area;
pub mod audit_checkpoint;
pub mod audit_head;
pub mod audit_log;
pub mod batch;
pub mod batch_listing;
pub mod code_scan;
pub mod code_scan_place;
pub mod cooperative;
pub mod cooperative_member;
pub mod exit_case;
pub mod exit_case_step;
pub mod household;
pub mod household_check;
pub mod household_income;
pub mod household_member;
pub mod listing;
pub mod listing_photo;
pub mod order;
pub mod payment_instructions;
pub mod photo;
pub mod plot;
pub mod product_category;
pub mod progress_snapshot;
pub mod refresh_token;
pub mod revoked_code;
pub mod scan_journal;
pub mod security_counter;
pub mod sign_in_code;
pub mod trace_code_run;
pub mod trace_event;
pub mod trace_report;
pub mod user;
pub mod village_indicator;
