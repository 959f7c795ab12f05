//! Scoring a repository as the org sees it right now: the I/O around the pure engine, shared by
//! the score endpoint, the rescoring function and the daily snapshot; and the memo that spares
//! the score endpoint re-reading and re-scoring what did not change.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use chrono::{DateTime, Utc};

use crate::exceptions::{self, Exception};
use crate::latest;
use crate::org_view::OrgView;
use crate::repos::{self, Repo};
use crate::scans::LatestScanRecord;
use crate::scans::{self, StoredScan};
use compliance_domain::ids::{OrgId, RepoId};
use compliance_domain::ingest::{FindingKey, ScanSummary};
use compliance_domain::scoring::{
    self, Applying, Evaluation, Excepted, FrameworkInput, MatchMemo, Report, ScanInput,
};
use compliance_store::record::Record;
use compliance_store::{keys, ChangeMarker, Item, Store, StoreError};

/// A scan as its controls are judged at some time: the findings of the approved exceptions that
/// apply then taken out of its summary ([`scoring::apply_exceptions`]).
pub struct Excepting {
    pub summary: ScanSummary,
    pub excepted: Excepted,
    /// When the first of those exceptions ends (the judgement may change then).
    pub until: Option<DateTime<Utc>>,
    /// The scan's finding keys they were matched on.
    pub keys: Vec<FindingKey>,
}

/// The findings of each scan matched against the exceptions that applied (see [`MatchMemo`]).
static MATCHES: LazyLock<MatchMemo<Excepting>> = LazyLock::new(MatchMemo::new);

/// The approved exceptions of `applying` (the org's, [`exceptions::applying`]) for the scan's
/// repository, applied to the scan; `None` when none applies (nothing to read). The match is
/// made once per scan and set of exceptions, and reused while the same set applies.
pub async fn excepting(
    store: &dyn Store,
    org: &OrgId,
    applying: &[Exception],
    scan: &StoredScan,
) -> Result<Option<Arc<Excepting>>, StoreError> {
    let of_repo: Vec<&Exception> = applying
        .iter()
        .filter(|e| e.repo_id.is_none_or(|r| r == scan.repo_id))
        .collect();
    if of_repo.is_empty() {
        return Ok(None);
    }
    let memo_key = format!(
        "{}\n{org}\n{}\n{}",
        store.instance(),
        scan.repo_id,
        scan.scan_id
    );
    let set: Vec<&str> = of_repo.iter().map(|e| e.exception_id.as_str()).collect();
    if let Some(kept) = MATCHES.get(&memo_key, &set) {
        return Ok(Some(kept));
    }
    let rules = exceptions::for_repo(applying, scan.repo_id);
    let keys = scans::finding_keys(store, org, scan).await?;
    let (summary, excepted) = scoring::apply_exceptions(&scan.summary, &keys, &rules);
    // Every exception of the set applies until its expiry, so the first expiry is the set's end.
    let until = rules.iter().filter_map(|r| r.expires_at).min();
    let bytes = keys.iter().map(FindingKey::weight).sum::<usize>() + 4096;
    let made = Arc::new(Excepting {
        summary,
        excepted,
        until,
        keys,
    });
    let set = set.into_iter().map(str::to_string).collect();
    MATCHES.put(memo_key, set, made.clone(), bytes);
    Ok(Some(made))
}

/// The enabled, applicable controls of `view` some of whose findings in `scan` the exception
/// sets aside (framework key, control id): what an export relates the exception to.
pub fn exception_controls(
    view: &OrgView,
    scan: &StoredScan,
    keys: &[FindingKey],
    exception: &Exception,
) -> Vec<(String, String)> {
    let one = [Applying {
        covers: exception.scope.covers(),
        expires_at: exception.expires_at,
    }];
    let (kept, excepted) = scoring::apply_exceptions(&scan.summary, keys, &one);
    if excepted.is_empty() {
        return Vec::new();
    }
    view.frameworks
        .iter()
        .filter(|f| view.enabled(f))
        .flat_map(|f| {
            let disabled = view.settings.disabled(&f.key);
            let (kept, excepted) = (&kept, &excepted);
            f.controls
                .iter()
                .filter(move |c| !disabled.contains(&c.id))
                .filter(move |c| excepted.for_control(c, kept).is_some())
                .map(move |c| (f.key.clone(), c.id.clone()))
        })
        .collect()
}

/// What scoring a repository reads: the org's view, the repository (`None`: no such
/// repository) and its latest scan. One request (the org's versions item, the repository and
/// the pointer to its latest scan) when the process holds the org's inputs at their counts (see
/// [`crate::org_inputs`]) and the scan (see [`crate::latest`]); a scan the process does not
/// hold yet, or a repository created before pointers were kept and not scanned since, costs one
/// more.
pub async fn read_repo(
    store: &dyn Store,
    org: &OrgId,
    id: RepoId,
) -> Result<(OrgView, Option<Repo>, Option<Arc<StoredScan>>), StoreError> {
    let also = [keys::repo(org, id), keys::repo_latest_scan(org, id)];
    let projection = repos::listing_projection();
    let (view, items) = OrgView::load_with(store, org, &also, Some(projection)).await?;
    let [repo, pointer] = <[Option<Item>; 2]>::try_from(items)
        .map_err(|_| StoreError::Backend("a batch read answered another number of items".into()))?;
    let Some(repo) = repo else {
        return Ok((view, None, None));
    };
    let latest = match pointer {
        Some(pointer) => latest::resolve(store, org, &[LatestScanRecord::from_item(pointer)?])
            .await?
            .pop()
            .flatten(),
        None => scans::latest(store, org, id).await?.map(Arc::new),
    };
    Ok((view, Some(repos::from_item(repo)?), latest))
}

/// Scores `scan` (the repository's latest, or none; `excepting`: with the exceptions that apply
/// now taken out) against the org's enabled frameworks, or only `only` among them.
pub fn score_repo(
    view: &OrgView,
    scan: Option<&StoredScan>,
    excepting: Option<&Excepting>,
    only: Option<&str>,
    now: DateTime<Utc>,
) -> Report {
    evaluate_repo(view, scan, excepting, only, now).to_report()
}

/// [`score_repo`] without writing the reasons out (see [`scoring::evaluate`]): what the score
/// endpoint serialises.
pub fn evaluate_repo<'a>(
    view: &'a OrgView,
    scan: Option<&StoredScan>,
    excepting: Option<&Excepting>,
    only: Option<&str>,
    now: DateTime<Utc>,
) -> Evaluation<'a> {
    let inputs: Vec<FrameworkInput> = view
        .frameworks
        .iter()
        .filter(|f| view.enabled(f) && only.is_none_or(|k| k == f.key))
        .map(|f| FrameworkInput {
            framework: f,
            disabled: view.settings.disabled(&f.key),
            attested: view.attested(&f.key),
        })
        .collect();
    let input = scan.map(|s| ScanInput {
        summary: excepting.map_or(&s.summary, |e| &e.summary),
        completed_at: s.scanned_at,
        excepted: excepting.map(|e| &e.excepted),
    });
    scoring::evaluate(&inputs, input.as_ref(), now)
}

/// Most bytes of memoised values kept (past it, the memo starts over).
const MEMO_MAX_BYTES: usize = 32 * 1024 * 1024;

/// A memo of what was made of one repository's score (for the score endpoint: the rendered
/// response), reused while it would come out the same:
///
/// - what it was made of has not changed ([`Stamp`]): on the embedded store, nothing was
///   committed since ([`Store::change_marker`], known before any read); on DynamoDB, the
///   request's one read found the same org counts, repository and latest scan;
/// - the evaluation time is in the same [`scoring::age_class`] of the latest scan: the report
///   reads the time only through the scan's age;
/// - no exception it applied has ended since, and no attestation of the org has changed state
///   (neither needs a write).
///
/// Keyed by the store, the caller's org (tenancy: an org only ever sees its own entries), the
/// repository, and the request's `variant` (its framework filter and page).
pub struct ScoreMemo<V> {
    inner: Mutex<Entries<V>>,
}

struct Entries<V> {
    by_key: HashMap<String, Entry<V>>,
    bytes: usize,
}

/// What a memoised value was made of, as far as the request can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stamp {
    /// The store's position: nothing committed since means nothing changed.
    Store(ChangeMarker),
    /// What the request read (see [`read_repo`]).
    Read {
        /// Which read of the org's inputs.
        generation: u64,
        repo: Box<Repo>,
        /// The repository's latest scan's id.
        scan: Option<compliance_domain::ids::ScanId>,
    },
}

impl Stamp {
    /// The stamp of a request's read (see [`read_repo`]).
    pub fn of_read(view: &OrgView, repo: &Repo, latest: Option<&StoredScan>) -> Stamp {
        Stamp::Read {
            generation: view.generation,
            repo: Box::new(repo.clone()),
            scan: latest.map(|s| s.scan_id.clone()),
        }
    }
}

struct Entry<V> {
    stamp: Stamp,
    /// When an exception it applied ends or an attestation changes state: from then on it is
    /// not reused.
    until: Option<DateTime<Utc>>,
    scanned_at: Option<DateTime<Utc>>,
    age_class: Option<(u64, bool)>,
    bytes: usize,
    value: Arc<V>,
}

/// The entry a request would use, once its inputs are read: taken before the reads (on the
/// embedded store), so that a change committed while they run leaves the entry stale rather
/// than wrong.
pub struct MemoTicket {
    key: String,
    stamp: Stamp,
}

impl<V> Default for ScoreMemo<V> {
    fn default() -> Self {
        ScoreMemo {
            inner: Mutex::new(Entries {
                by_key: HashMap::new(),
                bytes: 0,
            }),
        }
    }
}

impl<V> ScoreMemo<V> {
    pub fn new() -> Self {
        Self::default()
    }

    /// The memoised value for this request, if it still holds; otherwise the ticket to
    /// [`ScoreMemo::put`] the value made from reads that follow (`None`: the store cannot tell
    /// changes without a read: see [`ScoreMemo::get_read`]).
    pub fn get(
        &self,
        store: &dyn Store,
        org: &OrgId,
        repo: RepoId,
        variant: &str,
        now: DateTime<Utc>,
    ) -> Result<Arc<V>, Option<MemoTicket>> {
        let Some(marker) = store.change_marker() else {
            return Err(None);
        };
        self.get_read(store, org, repo, variant, Stamp::Store(marker), now)
            .map_err(Some)
    }

    /// The same, once the request has read what the value is made of (`stamp`).
    pub fn get_read(
        &self,
        store: &dyn Store,
        org: &OrgId,
        repo: RepoId,
        variant: &str,
        stamp: Stamp,
        now: DateTime<Utc>,
    ) -> Result<Arc<V>, MemoTicket> {
        let key = format!("{}\n{org}\n{repo}\n{variant}", store.instance());
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match inner.by_key.get(&key) {
            Some(e)
                if e.stamp == stamp
                    && e.until.is_none_or(|until| now < until)
                    && e.age_class == scoring::age_class(e.scanned_at, now) =>
            {
                Ok(e.value.clone())
            }
            _ => Err(MemoTicket { key, stamp }),
        }
    }

    /// Keeps `value`, made at `now` from reads that followed `ticket` (the latest scan's
    /// completion time: `scanned_at`; the end of the first exception it applied: `until`),
    /// weighing about `bytes`.
    #[allow(clippy::too_many_arguments)]
    pub fn put(
        &self,
        ticket: MemoTicket,
        scanned_at: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        value: Arc<V>,
        bytes: usize,
    ) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.bytes + bytes > MEMO_MAX_BYTES {
            inner.by_key.clear();
            inner.bytes = 0;
        }
        if bytes > MEMO_MAX_BYTES {
            return;
        }
        let entry = Entry {
            stamp: ticket.stamp,
            until,
            scanned_at,
            age_class: scoring::age_class(scanned_at, now),
            bytes,
            value,
        };
        inner.bytes += bytes;
        if let Some(old) = inner.by_key.insert(ticket.key, entry) {
            inner.bytes -= old.bytes;
        }
    }
}
