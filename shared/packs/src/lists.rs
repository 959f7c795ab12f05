//! Named lists: sets of values that change over time and are maintained outside the packs (by
//! FATF, the European Commission, …). A condition refers to one as `{"list": "<name>"}` with the
//! operator `in` or `not_in`; the evaluation engine resolves the name to the list's current
//! contents, so a pack never hard-codes a country list that goes stale.

/// A named list a condition may refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct NamedList {
    /// The name used in `{"list": name}`.
    pub name: &'static str,
    /// What the list holds and how its values are spelt.
    pub description: &'static str,
    /// Who publishes it and when it changes.
    pub source: &'static str,
    /// The contents the engine uses, and the publication they were taken from.
    pub values: &'static [&'static str],
    pub as_of: &'static str,
}

impl NamedList {
    pub fn contains(&self, value: &str) -> bool {
        self.values.contains(&value)
    }
}

/// Every list a condition may name.
pub const NAMED_LISTS: &[NamedList] = &[
    NamedList {
        name: "fatf_call_for_action",
        description: "ISO 3166-1 alpha-2 codes of the FATF's 'High-Risk Jurisdictions subject to a Call for Action'",
        source: "FATF public statement, revised after each FATF plenary (three a year)",
        values: &["IR", "KP", "MM"],
        as_of: "FATF plenary of 13 June 2025",
    },
    NamedList {
        name: "fatf_increased_monitoring",
        description: "ISO 3166-1 alpha-2 codes of the FATF's 'Jurisdictions under Increased Monitoring'",
        source: "FATF public statement, revised after each FATF plenary (three a year)",
        values: &[
            "AO", "BF", "BG", "BO", "CD", "CI", "CM", "DZ", "HT", "KE", "LA", "LB", "MC", "MZ", "NA",
            "NG", "NP", "SS", "SY", "VE", "VG", "VN", "YE", "ZA",
        ],
        as_of: "FATF plenary of 13 June 2025",
    },
    NamedList {
        name: "eea_countries",
        description: "ISO 3166-1 alpha-2 codes of the European Economic Area: the EU member states, Iceland, Liechtenstein and Norway",
        source: "EEA Agreement; changes only when a state joins or leaves",
        values: &[
            "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
            "IS", "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
        ],
        as_of: "EU-27 and the EEA EFTA states, 2025",
    },
    NamedList {
        name: "eu_adequacy_decisions",
        description: "ISO 3166-1 alpha-2 codes of the countries with a European Commission adequacy decision under GDPR Art. 45 in force for the transfer in question",
        source: "European Commission adequacy decisions, reviewed periodically under Art. 45(3)",
        // The United States is adequate for organisations certified under the EU-US Data
        // Privacy Framework only; Canada for commercial organisations under PIPEDA.
        values: &[
            "AD", "AR", "CA", "CH", "FO", "GB", "GG", "IL", "IM", "JE", "JP", "KR", "NZ", "US", "UY",
        ],
        as_of: "adequacy decisions in force, 2025",
    },
];

/// The list with this name.
pub fn named_list(name: &str) -> Option<&'static NamedList> {
    NAMED_LISTS.iter().find(|l| l.name == name)
}
