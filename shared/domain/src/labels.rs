//! `labels!`: a closed set of values with their wire labels, declared once. Every label enum of
//! the product (plans, roles, check types, statuses, policy types, operators …) gets from it the
//! same `ALL`, `as_str`, `Display`, `FromStr` and serde impls, so the text of a value is written
//! in exactly one place and JSON, data files and error messages cannot disagree.

/// A text that is none of an enum's labels.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} '{received}' (expected one of: {})", .expected.join(", "))]
pub struct UnknownLabel {
    /// What the enum names, for messages ("role", "check_type").
    pub what: &'static str,
    pub received: String,
    /// Every label, in declaration order.
    pub expected: &'static [&'static str],
}

impl UnknownLabel {
    /// The labels quoted and separated by ` | ` (`'a' | 'b'`).
    pub fn expected_quoted(&self) -> String {
        quoted(self.expected)
    }
}

/// `'a' | 'b' | 'c'`.
pub fn quoted(labels: &[&str]) -> String {
    labels
        .iter()
        .map(|l| format!("'{l}'"))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// `labels! { #[attrs] pub enum Name as "what" { Variant => "label", ... } }` declares the enum
/// (`Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord`, ordered as declared) with
/// `ALL`, `LABELS`, `as_str`, `Display`, `FromStr` (error: [`UnknownLabel`]) and serde as its
/// label.
#[macro_export]
macro_rules! labels {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident as $what:literal {
            $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];

            /// Every label, in declaration order.
            pub const LABELS: &'static [&'static str] = &[$($text),+];

            /// The wire label.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::labels::UnknownLabel;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL.into_iter().find(|v| v.as_str() == s).ok_or_else(|| {
                    $crate::labels::UnknownLabel {
                        what: $what,
                        received: s.to_string(),
                        expected: $name::LABELS,
                    }
                })
            }
        }

        impl $crate::__serde::Serialize for $name {
            fn serialize<S: $crate::__serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str> as $crate::__serde::Deserialize>::deserialize(d)?;
                text.parse().map_err(|_| {
                    <D::Error as $crate::__serde::de::Error>::unknown_variant(&text, $name::LABELS)
                })
            }
        }
    };
}
