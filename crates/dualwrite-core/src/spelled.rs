//! Enums whose values are words other tools and stored databases read (error codes, event kinds):
//! [`spelled!`](crate::spelled) declares each value with its text once, and gives the enum every
//! value (`ALL`), its text (`as_str`, `Display`, `Serialize`) and the value of a text (`parse`).

/// Declares `enum Name { Variant = "text", … }` with `ALL`, `as_str`, `parse`, `Display` and
/// `Serialize`: each text is written once, next to its value.
#[macro_export]
macro_rules! spelled {
    (
        $(#[doc = $enum_doc:literal])*
        $vis:vis enum $name:ident {
            $($(#[doc = $doc:literal])* $variant:ident = $text:literal,)*
        }
    ) => {
        $(#[doc = $enum_doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[doc = $doc])* $variant,)*
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The value as clients and the store see it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// The value written `text`, if there is one.
            pub fn parse(text: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|value| value.as_str() == text)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}
