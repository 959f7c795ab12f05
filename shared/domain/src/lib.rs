//! The pure domain of the compliance API: who acts ([`identity`], [`plans`]), what is checked
//! (the control [`catalog`]), what scanners found ([`ingest`]) and what it amounts to
//! ([`scoring`]). Nothing here does I/O, spawns tasks or reads the clock by itself, so every
//! function can be tested and benchmarked on its own, and every binary that links it pays
//! only for what it uses.

#[macro_use]
pub mod labels;
pub mod catalog;
pub mod csv;
pub mod identity;
pub mod ids;
pub mod ingest;
pub mod plans;
pub mod scoring;
pub mod time;

#[doc(hidden)]
pub use serde as __serde;
