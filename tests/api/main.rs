//! The integration tests, one binary (one link of the AWS SDK): each module tests one part of
//! the product from the outside, through HTTP as the local server serves it, through the Lambda
//! events of each function, or through the storage port on both adapters. The harness is the
//! `test-support` crate.

mod alerts;
mod api_keys;
mod attestations;
mod audit_export;
mod audit_logs;
mod audit_runs;
mod audits;
mod auth;
mod aws_json;
mod controls;
mod custom_frameworks;
mod direct_limit;
mod exceptions;
mod frameworks;
mod hostile;
mod lambda_events;
mod limits;
mod mappings;
mod metrics;
mod openapi;
mod oscal;
mod outages;
mod rescore;
mod round_trips;
mod scans;
mod scores;
mod settings_concurrency;
mod single_table;
mod snapshot;
mod soa;
mod store_contract;
mod summary;
mod telemetry;
mod template;
mod uploads;
mod webhooks;
