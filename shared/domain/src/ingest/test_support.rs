//! Helpers shared by the ingestion tests of several modules: the sample corpus
//! (`../shared/sarif-samples`) and the native example document.

use std::path::Path;

macro_rules! samples_dir {
    () => {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/sarif-samples")
    };
}
pub(crate) use samples_dir;

pub(crate) fn sample(rel: &str) -> Vec<u8> {
    let path = Path::new(samples_dir!()).join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

pub(crate) const NATIVE_EXAMPLE: &[u8] = include_bytes!("testdata/native_example.json");
