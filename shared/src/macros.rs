//! The trait impls every text newtype in the contracts shares, written once.

/// Implements, for newtypes over a `String` with a `parse(&str) -> Result<Self, ERROR>`
/// constructor: `as_str`, `Display`, `TryFrom<String>` (through `parse`, so deserializing
/// validates too) and `From<_> for String`; then each extra listed in brackets, `FromStr`
/// (through `parse`) or `AsRef` (`AsRef<str>`).
///
/// `text_newtype_impls!(ParseError; [FromStr]; Scope, Subject)`
macro_rules! text_newtype_impls {
    ($error:ty; $extras:tt; $($name:ident),* $(,)?) => {$(
        text_newtype_impls!(@one $error; $name; $extras);
    )*};
    (@one $error:ty; $name:ident; [$($extra:ident),*]) => {
        impl $name {
            /// The value as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = $error;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        $(text_newtype_impls!(@extra $extra; $error; $name);)*
    };
    (@extra FromStr; $error:ty; $name:ident) => {
        impl std::str::FromStr for $name {
            type Err = $error;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::parse(value)
            }
        }
    };
    (@extra AsRef; $error:ty; $name:ident) => {
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}
