//! `labels!`: declares a closed set of labels with their wire strings, so every label enum of the
//! catalog gets the same `ALL`, `as_str`, `Display` and `FromStr` from one place.

/// `labels! { #[attrs] pub enum Name as "what" { Variant => "text", ... } }` declares the enum
/// and gives it `ALL` (declaration order), `as_str`, `Display`, and a `FromStr` whose error
/// names `what` and lists the valid strings. Serde attributes stay with the caller; the tests
/// check they agree with `as_str`.
macro_rules! labels {
    (
        $(#[$meta:meta])*
        pub enum $name:ident as $what:literal {
            $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];

            /// The wire string.
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
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL.into_iter().find(|v| v.as_str() == s).ok_or_else(|| {
                    let valid = $name::ALL.map($name::as_str).join(", ");
                    format!("unknown {} '{s}' (expected one of: {valid})", $what)
                })
            }
        }
    };
}
