//! The HTTP plumbing every API function shares: state, extractors, the one error type and its
//! mapping to responses, and the common layers.

pub mod body;
mod budget;
pub mod config;
mod error;
mod extract;
pub mod ids;
mod layers;
mod routes;
mod state;
mod strict_json;

pub use budget::{page_by_size, resume_after, RESPONSE_BUDGET};
pub use error::{audits_error_shape, ApiError, FieldError};
pub use extract::{
    page_args, parse_json, with_body_limit, Admin, Caller, Contributor, JsonBody, Meta, PageParams,
    Params, RawBody,
};
pub use layers::{finish, request_id, with_common_layers, RequestId};
pub use routes::Routes;
pub use state::{run_lambda, AppState};
