//! `GET /api/compliance/mappings`: for a weakness (`?cwe=79`), every control of every framework
//! it maps to, the built-in ones and the org's own, each with the source of the mapping; for a
//! control (`?control=owasp:A03:2021`), the weaknesses it covers and every other control that
//! shares one. The "one finding, many frameworks" view: what a CWE-79 finding counts against.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use compliance_domain::catalog::{CheckType, Control, Framework};
use compliance_http::{ApiError, AppState, Caller, Params};
use compliance_services::org_view::OrgView;
use serde::{Deserialize, Serialize};

/// CWE ids are MITRE's, from 1.
const MAX_CWE_ID: u32 = 99_999;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingsQuery {
    cwe: Option<String>,
    control: Option<String>,
}

/// A control a weakness maps to.
#[derive(Serialize)]
pub struct MappedControl<'a> {
    pub framework_key: &'a str,
    pub framework_name: &'a str,
    pub custom: bool,
    pub control_id: &'a str,
    pub control_name: &'a str,
    pub check_type: CheckType,
    /// The control's weaknesses among those asked about.
    pub cwe: Vec<u32>,
    /// Where the control's mapping comes from (`custom` for an org's own framework).
    pub source: &'a str,
}

#[derive(Serialize)]
pub struct Mappings<'a> {
    /// The weaknesses asked about: the one of `?cwe=`, or every one of the `?control=`'s.
    pub cwe: Vec<u32>,
    /// The control asked about, as a mapping of its own (`?control=` only).
    pub control: Option<MappedControl<'a>>,
    /// Every control (other than the one asked about) that covers at least one of `cwe`, in
    /// catalog order then the org's frameworks by key.
    pub mappings: Vec<MappedControl<'a>>,
}

/// `79` or `CWE-79`.
fn parse_cwe(text: &str) -> Result<u32, ApiError> {
    let digits = text
        .strip_prefix("CWE-")
        .or_else(|| text.strip_prefix("cwe-"))
        .unwrap_or(text);
    digits
        .parse::<u32>()
        .ok()
        .filter(|id| (1..=MAX_CWE_ID).contains(id))
        .ok_or_else(|| {
            ApiError::query(
                "cwe",
                format!("expected a CWE id from 1 to {MAX_CWE_ID}, e.g. 79 or CWE-79"),
            )
        })
}

fn mapped<'a>(
    framework: &'a Framework,
    control: &'a Control,
    asked: &[u32],
) -> Option<MappedControl<'a>> {
    let mapping = control.weaknesses.as_ref()?;
    let cwe: Vec<u32> = mapping
        .cwe
        .iter()
        .copied()
        .filter(|id| asked.contains(id))
        .collect();
    (!cwe.is_empty()).then(|| MappedControl {
        framework_key: &framework.key,
        framework_name: &framework.name,
        custom: framework.custom,
        control_id: &control.id,
        control_name: &control.name,
        check_type: control.check_type,
        cwe,
        source: &mapping.source,
    })
}

pub async fn list(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Params(query): Params<MappingsQuery>,
) -> Result<Response, ApiError> {
    let asked_cwe = match (&query.cwe, &query.control) {
        (Some(cwe), None) => Some(parse_cwe(cwe.trim())?),
        (None, Some(_)) => None,
        _ => {
            return Err(ApiError::query(
                "cwe",
                "give exactly one of cwe (e.g. 79) or control (e.g. owasp:A03:2021)",
            ))
        }
    };
    let view = OrgView::load(state.store.as_ref(), &principal.org_id).await?;
    let (asked, subject) = match (asked_cwe, &query.control) {
        (Some(cwe), _) => (vec![cwe], None),
        (None, Some(reference)) => {
            let (key, id) = reference.split_once(':').ok_or_else(|| {
                ApiError::query(
                    "control",
                    "expected <framework key>:<control id>, e.g. owasp:A03:2021",
                )
            })?;
            let framework = view
                .find(key)
                .ok_or_else(|| ApiError::NotFound("Unknown framework".into()))?;
            let control = framework
                .control(id)
                .ok_or_else(|| ApiError::NotFound("Unknown control".into()))?;
            let cwe = control
                .weaknesses
                .as_ref()
                .map(|m| m.cwe.clone())
                .unwrap_or_default();
            (cwe, Some((framework, control)))
        }
        (None, None) => unreachable!("checked above"),
    };
    let mappings: Vec<MappedControl> = view
        .frameworks
        .iter()
        .flat_map(|f| f.controls.iter().map(move |c| (f, c)))
        .filter(|(f, c)| subject.is_none_or(|(sf, sc)| !(sf.key == f.key && sc.id == c.id)))
        .filter_map(|(f, c)| mapped(f, c, &asked))
        .collect();
    let answer = Mappings {
        control: subject.and_then(|(f, c)| mapped(f, c, &asked)),
        cwe: asked,
        mappings,
    };
    // The answer borrows the view: it is rendered while the view lives.
    Ok(Json(answer).into_response())
}
