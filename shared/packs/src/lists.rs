//! Named lists: sets of values that change over time and are maintained outside the packs (by
//! FATF, the European Commission, …). A condition refers to one as `{"list": "<name>"}` with the
//! operator `in` or `not_in`; the evaluation engine resolves the name to the list's current
//! contents, so a pack never hard-codes a country list that goes stale.

/// A named list a condition may refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamedList {
    /// The name used in `{"list": name}`.
    pub name: &'static str,
    /// What the list holds and how its values are spelt.
    pub description: &'static str,
    /// Who publishes it and when it changes.
    pub source: &'static str,
}

/// Every list a condition may name.
pub const NAMED_LISTS: &[NamedList] = &[
    NamedList {
        name: "fatf_call_for_action",
        description: "ISO 3166-1 alpha-2 codes of the FATF's 'High-Risk Jurisdictions subject to a Call for Action'",
        source: "FATF public statement, revised after each FATF plenary (three a year)",
    },
    NamedList {
        name: "fatf_increased_monitoring",
        description: "ISO 3166-1 alpha-2 codes of the FATF's 'Jurisdictions under Increased Monitoring'",
        source: "FATF public statement, revised after each FATF plenary (three a year)",
    },
    NamedList {
        name: "eea_countries",
        description: "ISO 3166-1 alpha-2 codes of the European Economic Area: the EU member states, Iceland, Liechtenstein and Norway",
        source: "EEA Agreement; changes only when a state joins or leaves",
    },
    NamedList {
        name: "eu_adequacy_decisions",
        description: "ISO 3166-1 alpha-2 codes of the countries with a European Commission adequacy decision under GDPR Art. 45 in force for the transfer in question",
        source: "European Commission adequacy decisions, reviewed periodically under Art. 45(3)",
    },
];

/// The list with this name.
pub fn named_list(name: &str) -> Option<&'static NamedList> {
    NAMED_LISTS.iter().find(|l| l.name == name)
}
