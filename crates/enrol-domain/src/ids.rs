//! Plain identifiers that carry no check of their own.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn new(s: impl Into<String>) -> Self {
                Self(s.into())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
    };
}

string_id!(
    /// A school's id in the zone registry, e.g. `S014`.
    SchoolId
);
string_id!(
    /// 不动产单元号: a property unit's number in the property registry.
    UnitNo
);
string_id!(
    /// 户号: a household's number in the household registry.
    HouseholdNo
);
string_id!(
    /// The consent the upstream app collected from every guardian; sent with
    /// every read of personal data.
    ConsentId
);
string_id!(
    /// An admission round (招生批次), e.g. `2027-primary`.
    RoundId
);
string_id!(
    /// 居住证编号: a residence permit's number.
    PermitNo
);
string_id!(
    /// 出生医学证明编号: a birth certificate's number.
    CertificateNo
);
