//! The local server's binary, as a newcomer and a crash meet it: one test binary for the tests
//! that start `compliance-local` itself.

mod ci_snippet;
mod connection;
mod crash;
mod jwt_config;
mod restart;
mod run_crash;
mod server;
