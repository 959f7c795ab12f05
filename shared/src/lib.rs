//! The common crate of the compliance API: everything the Lambda functions, the local server and
//! the operator CLI share.

pub mod apikeys;
pub mod audit;
pub mod auth;
pub mod catalog;
pub mod config;
pub mod custom_frameworks;
pub mod evaluation;
pub mod http;
pub mod ingest;
pub mod keys;
pub mod org_view;
pub mod orgs;
pub mod plans;
pub mod repos;
pub mod scans;
pub mod scoring;
pub mod settings;
pub mod store;
pub mod telemetry;
pub mod time;
pub mod trends;
pub mod validate;
