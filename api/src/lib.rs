//! shanhuo (山货): traceable mountain goods and an honest record of a county's poverty exit.
//!
//! The crate is the server, its domain services and its command line. `http` is thin glue over
//! `service`, which holds the rules; `infra` hides the database, cache and other outside parts
//! behind small types; `domain` holds the newtypes that parse input once at the edge.

pub mod app;
pub mod cli;
pub mod config;
pub mod domain;
pub mod http;
pub mod infra;
pub mod service;
pub mod telemetry;

#[cfg(feature = "testing")]
pub mod testing;
