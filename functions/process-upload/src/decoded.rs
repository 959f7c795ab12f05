//! An object's bytes as the parsers read them: from the local file, gunzipped as they are read
//! when the upload said gzip, and capped, so a small gzip cannot expand without end. A fault of
//! the encoding or the cap is remembered, so that the parser's error (which only sees an I/O
//! error) can be replaced by the one a direct request would have had.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use compliance_http::ApiError;
use compliance_uploads::UploadEncoding;

/// How far a gzip upload may expand: far above real reports and records (SARIF and NDJSON
/// compress 5–15×), far below a zip bomb's.
pub const MAX_EXPANSION: u64 = 32;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    NotGzip,
    TooLarge,
}

/// An object to read, as often as a parser needs (a report whose results come before its tool
/// is read twice).
#[derive(Clone)]
pub struct Source {
    path: PathBuf,
    encoding: Option<UploadEncoding>,
    max_decoded: u64,
    fault: Arc<Mutex<Option<Fault>>>,
}

impl Source {
    pub fn new(path: &Path, encoding: Option<UploadEncoding>, max_bytes: u64) -> Self {
        Source {
            path: path.to_path_buf(),
            encoding,
            max_decoded: max_bytes.saturating_mul(MAX_EXPANSION),
            fault: Arc::default(),
        }
    }

    pub fn encoding(&self) -> Option<UploadEncoding> {
        self.encoding
    }

    /// The decoded bytes from the start.
    pub fn open(&self) -> io::Result<Box<dyn Read + Send>> {
        let file = BufReader::with_capacity(1 << 20, File::open(&self.path)?);
        let decoded: Box<dyn Read + Send> = match self.encoding {
            Some(UploadEncoding::Gzip) => Box::new(flate2::read::MultiGzDecoder::new(file)),
            None => Box::new(file),
        };
        Ok(Box::new(Guarded {
            inner: decoded,
            left: self.max_decoded,
            fault: self.fault.clone(),
            gzip: self.encoding.is_some(),
        }))
    }

    /// The whole decoded object in memory, when it is at most `cap` bytes (a 413 beyond).
    pub fn read_all(&self, cap: usize, what: &str) -> Result<Vec<u8>, ApiError> {
        let mut out = Vec::new();
        let read = self
            .open()
            .and_then(|r| r.take(cap as u64 + 1).read_to_end(&mut out));
        if let Err(e) = read {
            return Err(self.explain().unwrap_or_else(|| ApiError::internal(e)));
        }
        if out.len() > cap {
            return Err(ApiError::PayloadTooLarge(format!(
                "The {what} decompress to more than {} MiB",
                cap / (1024 * 1024)
            )));
        }
        Ok(out)
    }

    /// The error a direct request would have had for what went wrong while reading, if it was
    /// the encoding or the cap (and not the document).
    pub fn explain(&self) -> Option<ApiError> {
        let fault = *self.fault.lock().unwrap_or_else(|p| p.into_inner());
        fault.map(|fault| match fault {
            Fault::NotGzip => ApiError::BadRequest(
                "Content-Encoding is gzip but the body is not valid gzip (or is cut short)".into(),
            ),
            Fault::TooLarge => ApiError::PayloadTooLarge(format!(
                "The upload decompresses to more than {} bytes ({MAX_EXPANSION} times its form's \
                 limit)",
                self.max_decoded
            )),
        })
    }
}

/// The decoded bytes, read as often as the SARIF reader needs.
impl compliance_domain::ingest::ReportSource for Source {
    fn open(&self) -> io::Result<Box<dyn Read + '_>> {
        Source::open(self).map(|r| r as Box<dyn Read>)
    }
}

struct Guarded {
    inner: Box<dyn Read + Send>,
    left: u64,
    fault: Arc<Mutex<Option<Fault>>>,
    gzip: bool,
}

impl Guarded {
    fn fail(&self, fault: Fault, e: io::Error) -> io::Error {
        *self.fault.lock().unwrap_or_else(|p| p.into_inner()) = Some(fault);
        e
    }
}

impl Read for Guarded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(e) if self.gzip && e.kind() != io::ErrorKind::Interrupted => {
                return Err(self.fail(Fault::NotGzip, e))
            }
            Err(e) => return Err(e),
        };
        if n as u64 > self.left {
            let e = io::Error::other("the decompressed upload is over its cap");
            return Err(self.fail(Fault::TooLarge, e));
        }
        self.left -= n as u64;
        Ok(n)
    }
}
