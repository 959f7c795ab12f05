//! Nothing here: the tests are the `api` test binary (`api/main.rs`), the harness is the
//! `test-support` crate.
