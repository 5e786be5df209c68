//! Integration tests of the api crate, in one binary so it links once.
//! Storage and HTTP tests run on SQLite, or on the server `TEST_DATABASE_URL` names; cache
//! tests run on the in-process cache and, when `TEST_REDIS_URL` is set, on Redis.

mod areas;
mod audit;
mod cache;
mod certificates;
mod config;
mod county_time;
mod exit;
mod farmer_app;
mod faults;
mod forms_keep_input;
mod help;
mod household_changes;
mod households;
mod http;
mod idempotency;
mod idempotency_officials;
mod identity;
mod import;
mod input;
mod kept;
mod market;
mod monitoring;
mod monitoring_demo;
mod monitoring_figures;
mod notice_board;
mod orders;
mod page_snapshots;
mod pages;
mod photos;
mod replica;
mod sms_login;
mod storage;
mod storage_faults;
mod support;
mod trace;
mod village_sheet;
mod warnings;
mod wechat_login;
mod wechat_web;
mod work_pages;
