//! The one way this crate builds a validated text newtype: `new` checks the value, and
//! `FromStr`, `TryFrom<String>` (which serde's `try_from` uses, so deserializing checks too),
//! `Display`, `AsRef<str>` and `as_str` all go through it.

/// Implement the text newtype `$name(String)`: `$validate` is an expression of type
/// `fn(&str) -> Result<(), Error>`, `$what` names the value in its docs.
macro_rules! text_newtype {
    ($name:ident, $validate:expr, $what:literal, $errors:literal) => {
        impl $name {
            #[doc = concat!("A ", $what, " from its text.")]
            ///
            /// # Errors
            ///
            #[doc = $errors]
            pub fn new(value: impl Into<String>) -> Result<Self, Error> {
                let value = value.into();
                let validate: fn(&str) -> Result<(), Error> = $validate;
                validate(&value)?;
                Ok(Self(value))
            }

            /// The text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = Error;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::new(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = Error;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::new(value)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

pub(crate) use text_newtype;
