//! Uploads past the request body: a client announces what it will send, gets a presigned form
//! (S3's POST policy), posts the file to object storage, and the object is read from there, as a
//! stream, by the same parsers as a direct request, into the same scan or run.
//!
//! - `model`: the upload record, its states and target, object keys, the plans' limits.
//! - `records`: the record's changes (announce, claim, complete, fail), each conditioned on the
//!   version read.
//! - `policy`: signing a POST policy (AWS Signature V4) and checking one as S3 does.
//! - `target`: where forms point and what signs them (a bucket, or the local server).
//! - `objects`: where objects are (a folder, or S3 with the `s3` feature), read as local files.

pub mod model;
pub mod objects;
pub mod policy;
pub mod records;
pub mod target;

pub use model::{
    max_concurrency, max_upload_bytes, object_key, parse_object_key, Upload, UploadContentType,
    UploadEncoding, UploadProblem, UploadResult, UploadStatus, UploadTarget as Target, Uploader,
};
pub use target::UploadTarget;
