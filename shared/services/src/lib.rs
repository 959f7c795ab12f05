//! The application services: each module owns one kind of record of an org and the operations
//! on it, over the storage port, with every change written together with its audit-log entry
//! ([`audit_log::commit`]). Used alike by the HTTP functions, the stream and schedule
//! functions, the local server and the operator CLI; nothing here knows about HTTP.

pub mod api_keys;
pub mod attestations;
pub mod audit_log;
pub mod chunks;
pub mod compliance_settings;
pub mod custom_frameworks;
pub mod exceptions;
pub mod key_secrets;
pub mod latest;
pub mod metrics;
pub mod org_inputs;
pub mod org_view;
pub mod orgs;
pub mod paging;
pub mod posture;
pub mod repos;
pub mod runtime;
pub mod scans;
pub mod scores;
pub mod settings;
pub mod summary;
pub mod suppressions;
pub mod tasks;
pub mod telemetry;
pub mod trends;
