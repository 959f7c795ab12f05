//! Where a webhook may send: an `https` URL without credentials whose host resolves only to
//! public addresses. Plain `http`, and loopback addresses, only when the server was started
//! to allow them (`COMPLIANCE_WEBHOOK_ALLOW_LOOPBACK=1`, for a receiver on the same machine).
//! Checked when a webhook is saved and again at every delivery, where the connection itself
//! goes only to the addresses checked ([`GuardedResolver`]), so a name that changes its answer
//! between the check and the connection cannot reach the inside of the network.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;

/// Longest URL accepted.
pub const MAX_URL: usize = 2048;
/// How long a name may take to resolve.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UrlPolicy {
    pub allow_loopback: bool,
}

impl UrlPolicy {
    /// `COMPLIANCE_WEBHOOK_ALLOW_LOOPBACK=1` (the local server only: the template never sets it).
    pub fn from_env() -> UrlPolicy {
        UrlPolicy {
            allow_loopback: std::env::var("COMPLIANCE_WEBHOOK_ALLOW_LOOPBACK").as_deref()
                == Ok("1"),
        }
    }
}

/// Why a URL, or the address it resolves to, is refused: the rule, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("must be an absolute URL of at most {MAX_URL} characters")]
    NotUrl,
    #[error("must use https (plain http only to a loopback receiver, when the server is started with COMPLIANCE_WEBHOOK_ALLOW_LOOPBACK=1)")]
    Scheme,
    #[error(
        "must not carry credentials (user or password); authenticate deliveries by their signature"
    )]
    Credentials,
    #[error("{host} is {address}, a {class} address: webhooks may not reach loopback, private, link-local, unique-local, multicast or unspecified addresses")]
    Address {
        host: String,
        address: IpAddr,
        class: &'static str,
    },
    #[error("{host} could not be resolved: {reason}")]
    Unresolved { host: String, reason: String },
}

/// The URL if its form is acceptable (scheme, credentials, a literal address's class); a host
/// name's addresses are checked by [`check_resolved`] and at each delivery.
pub fn check_form(raw: &str, policy: UrlPolicy) -> Result<Url, Refusal> {
    if raw.len() > MAX_URL {
        return Err(Refusal::NotUrl);
    }
    let url = Url::parse(raw).map_err(|_| Refusal::NotUrl)?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Refusal::Credentials);
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or(Refusal::NotUrl)?;
    // The address first: `http://169.254.169.254/` is refused for where it points.
    if let Some(address) = literal(&url) {
        check_address(host, address, policy)?;
        if url.scheme() == "http" && !is_loopback(address) {
            return Err(Refusal::Scheme);
        }
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if policy.allow_loopback => Ok(url),
        _ => Err(Refusal::Scheme),
    }
}

/// [`check_form`], then every address the host resolves to.
pub async fn check_resolved(raw: &str, policy: UrlPolicy) -> Result<Url, Refusal> {
    let url = check_form(raw, policy)?;
    if literal(&url).is_none() {
        let host = url.host_str().unwrap_or_default();
        let addresses = resolve(host, policy).await?;
        if url.scheme() == "http" && !addresses.iter().all(|a| is_loopback(a.ip())) {
            return Err(Refusal::Scheme);
        }
    }
    Ok(url)
}

fn literal(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(a) => Some(IpAddr::V4(a)),
        url::Host::Ipv6(a) => Some(IpAddr::V6(a)),
        url::Host::Domain(_) => None,
    }
}

/// The host's addresses, all of them allowed; refused when any is not.
async fn resolve(host: &str, policy: UrlPolicy) -> Result<Vec<SocketAddr>, Refusal> {
    let unresolved = |reason: String| Refusal::Unresolved {
        host: host.to_string(),
        reason,
    };
    let found = tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host, 0)))
        .await
        .map_err(|_| unresolved("timed out".into()))?
        .map_err(|e| unresolved(e.to_string()))?;
    let addresses: Vec<SocketAddr> = found.collect();
    if addresses.is_empty() {
        return Err(unresolved("no address".into()));
    }
    for a in &addresses {
        check_address(host, a.ip(), policy)?;
    }
    Ok(addresses)
}

fn check_address(host: &str, address: IpAddr, policy: UrlPolicy) -> Result<(), Refusal> {
    match class(address) {
        Some("loopback") if policy.allow_loopback => Ok(()),
        Some(class) => Err(Refusal::Address {
            host: host.to_string(),
            address,
            class,
        }),
        None => Ok(()),
    }
}

fn is_loopback(address: IpAddr) -> bool {
    class(address) == Some("loopback")
}

/// The class of an address no webhook may reach, `None` for a public one. IPv6 forms that
/// carry an IPv4 address (mapped, compatible, NAT64) are judged by that address.
pub fn class(address: IpAddr) -> Option<&'static str> {
    match address {
        IpAddr::V4(a) => class_v4(a),
        IpAddr::V6(a) => match embedded_v4(a) {
            Some(v4) => class_v4(v4),
            None => class_v6(a),
        },
    }
}

fn class_v4(a: Ipv4Addr) -> Option<&'static str> {
    let [b0, b1, ..] = a.octets();
    Some(match () {
        _ if a.is_unspecified() || b0 == 0 => "unspecified",
        _ if a.is_loopback() => "loopback",
        _ if a.is_private() => "private",
        // Carrier-grade NAT (100.64.0.0/10): private to a provider's network.
        _ if b0 == 100 && (64..128).contains(&b1) => "private",
        // 169.254.0.0/16, the instance metadata service's among them.
        _ if a.is_link_local() => "link-local",
        _ if a.is_multicast() => "multicast",
        _ if a.is_broadcast() || b0 >= 240 => "reserved",
        // 192.0.0.0/24 (protocol assignments) and 198.18.0.0/15 (benchmarking).
        _ if (b0 == 192 && b1 == 0 && a.octets()[2] == 0) || (b0 == 198 && (b1 & 0xfe) == 18) => {
            "reserved"
        }
        _ => return None,
    })
}

fn class_v6(a: Ipv6Addr) -> Option<&'static str> {
    let first = a.segments()[0];
    Some(match () {
        _ if a.is_unspecified() => "unspecified",
        _ if a.is_loopback() => "loopback",
        _ if (first & 0xfe00) == 0xfc00 => "unique-local",
        _ if (first & 0xffc0) == 0xfe80 => "link-local",
        // Site-local (deprecated, still routed inside some networks).
        _ if (first & 0xffc0) == 0xfec0 => "private",
        _ if a.is_multicast() => "multicast",
        _ => return None,
    })
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`)
/// NAT64 (`64:ff9b::a.b.c.d`) or 6to4 (`2002:a.b.c.d::`) address.
fn embedded_v4(a: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = a.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, ..] => Some(tail),
        // `::` and `::1` are themselves, not IPv4-compatible forms of 0.0.0.0 and 0.0.0.1.
        [0, 0, 0, 0, 0, 0, hi, _] if hi != 0 => Some(tail),
        [0x64, 0xff9b, 0, 0, 0, 0, ..] => Some(tail),
        // Local-use NAT64 (`64:ff9b:1::/48`), as RFC 8215 maps it (the last 32 bits).
        [0x64, 0xff9b, 1, ..] => Some(tail),
        // 6to4 (`2002:a.b.c.d::/48`): the IPv4 address is the prefix's.
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new(
            (hi >> 8) as u8,
            hi as u8,
            (lo >> 8) as u8,
            lo as u8,
        )),
        _ => None,
    }
}

/// The resolver of the delivering client: answers only addresses [`check_address`] allows, so
/// what was checked is what is connected to. The client of plain `http` URLs answers loopback
/// addresses only (`loopback_only`).
pub struct GuardedResolver {
    pub policy: UrlPolicy,
    pub loopback_only: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let (policy, loopback_only) = (self.policy, self.loopback_only);
        Box::pin(async move {
            let addresses = resolve(name.as_str(), policy).await?;
            if loopback_only && !addresses.iter().all(|a| is_loopback(a.ip())) {
                return Err(Refusal::Scheme.into());
            }
            let addrs: Addrs = Box::new(addresses.into_iter());
            Ok(addrs)
        })
    }
}
