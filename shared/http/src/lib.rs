//! The HTTP plumbing every API function shares: state, extractors, the one error type and its
//! mapping to responses, and the common layers.

pub mod body;
mod budget;
pub mod config;
mod error;
mod extract;
pub mod ids;
mod layers;
pub mod negotiate;
pub mod problem;
mod routes;
mod state;
mod strict_json;
pub mod upload;
pub mod uploads;

pub use budget::{page_by_size, resume_after, RESPONSE_BUDGET};
pub use error::{audits_error_shape, ApiError};
pub use extract::{
    check_json, json_problem, page_args, parse_json, with_body_limit, with_direct_body_limit,
    Admin, Caller, Contributor, JsonBody, Meta, PageParams, Params, RawBody,
};
pub use layers::{finish, request_id, with_common_layers, RequestId};
pub use problem::{FieldError, Problem};
pub use routes::Routes;
pub use state::{run_lambda, AppState};

/// The header that carries a request's id, in and out.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
