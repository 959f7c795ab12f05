//! What scoring reads of the org's own partition (its plan, settings, custom frameworks,
//! attestations and approved exceptions), kept in the process between requests. Each part is
//! kept with the count of its changes it was read at: the org's versions item
//! ([`keys::org_versions`]), to which the store adds one in every write that changes the part.
//! So a request reads that one small item, in the same request as whatever else it needs
//! (a `BatchGetItem`, or the summary's Query), and reads a part again only when its count moved.
//!
//! A part read after the versions item may be newer than its count says (a change committed in
//! between); it is then read again at the next count, never kept older than its count. As a
//! bound on anything the counts could miss (a change written by a function still running an
//! older version during a deployment), nothing is kept longer than [`MAX_AGE`].

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use compliance_domain::ids::OrgId;
use compliance_store::keys::{self, OrgPart};
use compliance_store::{Item, Key, Projection, Store, StoreError};

use crate::attestations::{self, Attestation};
use crate::custom_frameworks::{self, CustomFramework};
use crate::exceptions::{self, Exception};
use crate::orgs::{self, Org};
use crate::settings::{self, OrgSettings};

/// How long a part is kept whatever its count.
pub const MAX_AGE: Duration = Duration::from_secs(300);
/// Orgs kept per store (past it, the cache starts over).
const MAX_ORGS: usize = 1024;

/// The counts of the org's versions item, in [`OrgPart::ALL`]'s order (an absent item or
/// attribute counts 0: nothing was changed since counting began).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Versions([u64; 5]);

impl Versions {
    /// The counts of a stored versions item (`None`: not stored yet).
    pub fn of(item: Option<&Item>) -> Versions {
        let mut counts = [0; 5];
        if let Some(item) = item {
            for (count, part) in counts.iter_mut().zip(OrgPart::ALL) {
                *count = item.get(part.attr()).and_then(|v| v.as_u64()).unwrap_or(0);
            }
        }
        Versions(counts)
    }

    fn get(&self, part: OrgPart) -> u64 {
        self.0[OrgPart::ALL.iter().position(|p| *p == part).unwrap_or(0)]
    }

    /// As a cursor carries them: the counts joined by `.`.
    pub fn encode(&self) -> String {
        self.0.map(|c| c.to_string()).join(".")
    }

    pub fn decode(text: &str) -> Option<Versions> {
        let counts: Vec<u64> = text
            .split('.')
            .map(|c| c.parse().ok())
            .collect::<Option<_>>()?;
        Some(Versions(counts.try_into().ok()?))
    }
}

/// The org's scoring inputs, each part shared with the cache.
#[derive(Clone)]
pub struct OrgInputs {
    pub versions: Versions,
    /// Tells these inputs from any other read of the process (a part read again, even at the
    /// same count, makes new inputs): what a memo of results made from them is keyed by.
    pub generation: u64,
    pub org: Arc<Org>,
    pub settings: Arc<OrgSettings>,
    pub custom: Arc<Vec<CustomFramework>>,
    /// Every attestation in force.
    pub attestations: Arc<Vec<Attestation>>,
    /// Every approved exception (whether it still applies depends on the time).
    pub approved: Arc<Vec<Exception>>,
}

struct Kept {
    inputs: OrgInputs,
    read_at: Instant,
}

static GENERATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

static KEPT: LazyLock<Mutex<HashMap<(u64, OrgId), Kept>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The inputs held for the org, and when the oldest of their parts was read.
fn kept(store: &dyn Store, org: &OrgId) -> Option<(OrgInputs, Instant)> {
    let kept = KEPT.lock().unwrap_or_else(|e| e.into_inner());
    kept.get(&(store.instance(), org.clone()))
        .filter(|k| k.read_at.elapsed() < MAX_AGE)
        .map(|k| (k.inputs.clone(), k.read_at))
}

fn keep(store: &dyn Store, org: &OrgId, inputs: &OrgInputs, read_at: Instant) {
    let mut kept = KEPT.lock().unwrap_or_else(|e| e.into_inner());
    if kept.len() >= MAX_ORGS {
        kept.clear();
    }
    let key = (store.instance(), org.clone());
    // Of two requests that read concurrently, the one that saw the higher counts stays.
    if kept
        .get(&key)
        .is_some_and(|k| k.inputs.versions.0 > inputs.versions.0)
    {
        return;
    }
    kept.insert(
        key,
        Kept {
            inputs: inputs.clone(),
            read_at,
        },
    );
}

/// The inputs at exactly `versions`, if the process holds them (a page after the first of the
/// org-wide summary, scored with its first page's inputs).
pub fn kept_at(store: &dyn Store, org: &OrgId, versions: Versions) -> Option<OrgInputs> {
    kept(store, org)
        .map(|(k, _)| k)
        .filter(|k| k.versions == versions)
}

/// The attributes of the versions item (a projection that reads it must name them).
pub fn counted_attributes() -> impl Iterator<Item = &'static str> {
    OrgPart::ALL.into_iter().map(OrgPart::attr)
}

/// Reads the org's versions item and `also` in one request (with only `projection`'s
/// attributes when given, which then must hold [`counted_attributes`]), then the inputs as
/// [`from_versions`] makes them; `also`'s items in its order.
pub async fn load(
    store: &dyn Store,
    org: &OrgId,
    also: &[Key],
    projection: Option<&Projection>,
) -> Result<(OrgInputs, Vec<Option<Item>>), StoreError> {
    let mut wanted = Vec::with_capacity(also.len() + 1);
    wanted.push(keys::org_versions(org));
    wanted.extend_from_slice(also);
    let mut items = store.get_many(&wanted, projection).await?;
    let versions = Versions::of(items.remove(0).as_ref());
    Ok((from_versions(store, org, versions).await?, items))
}

/// The inputs at `versions` (read from the org's versions item just now): the parts the
/// process holds at the same count, and the others read again, concurrently.
pub async fn from_versions(
    store: &dyn Store,
    org: &OrgId,
    versions: Versions,
) -> Result<OrgInputs, StoreError> {
    let (held, oldest) = match kept(store, org) {
        Some((inputs, at)) => (Some(inputs), Some(at)),
        None => (None, None),
    };
    let fresh = |part: OrgPart| -> bool {
        held.as_ref()
            .is_some_and(|h| h.versions.get(part) == versions.get(part))
    };
    if OrgPart::ALL.into_iter().all(fresh) {
        if let Some(mut inputs) = held {
            inputs.versions = versions;
            return Ok(inputs);
        }
    }
    let now = Instant::now();
    let held_part = |part: OrgPart| held.as_ref().filter(|_| fresh(part));
    let profile = async {
        orgs::get(store, org)
            .await?
            .ok_or_else(|| StoreError::Backend(format!("org {org} has no profile")))
    };
    let (org_profile, settings, custom, attestations, approved) = tokio::try_join!(
        reuse(held_part(OrgPart::Profile).map(|h| &h.org), profile),
        reuse(
            held_part(OrgPart::Settings).map(|h| &h.settings),
            settings::load(store, org)
        ),
        reuse(
            held_part(OrgPart::CustomFrameworks).map(|h| &h.custom),
            custom_frameworks::list(store, org)
        ),
        reuse(
            held_part(OrgPart::Attestations).map(|h| &h.attestations),
            attestations::all(store, org)
        ),
        reuse(
            held_part(OrgPart::Exceptions).map(|h| &h.approved),
            exceptions::approved(store, org)
        ),
    )?;
    let inputs = OrgInputs {
        versions,
        generation: GENERATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        org: org_profile,
        settings,
        custom,
        attestations,
        approved,
    };
    // A part kept from before is as old as it was: the age bound holds for every part.
    let reused = OrgPart::ALL.iter().any(|p| held_part(*p).is_some());
    let read_at = oldest.filter(|_| reused).unwrap_or(now);
    keep(store, org, &inputs, read_at);
    Ok(inputs)
}

/// A part held at its count, or `read` (only then awaited) for a fresh one.
async fn reuse<T>(
    held: Option<&Arc<T>>,
    read: impl std::future::Future<Output = Result<T, StoreError>>,
) -> Result<Arc<T>, StoreError> {
    match held {
        Some(part) => Ok(part.clone()),
        None => read.await.map(Arc::new),
    }
}
