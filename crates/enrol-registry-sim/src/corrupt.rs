//! Answer corruption (registries.md, "Dirty records"): a registry that answers
//! `200` with a body that breaks its own format. Which records are corrupt, and
//! how, is decided per record (registry, path and query) from the seed alone,
//! so it does not depend on the order requests arrive in: the same seed
//! corrupts the same records the same way in every run.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::registry::Registry;

/// How a corrupt answer breaks the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CorruptionKind {
    /// The body is cut in half (as a dropped connection would leave it).
    Truncated,
    /// The body's first field (in key order) has a value of another JSON type.
    WrongType,
    /// Two bytes that are not UTF-8 (`FF FE`) right after the body's first quote.
    BadUtf8,
}

/// The corruption faults of one registry. Off by default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Corruption {
    /// Share of records whose answers are cut short.
    pub p_truncated: f64,
    /// Share of records whose answers carry a field of the wrong type.
    pub p_wrong_type: f64,
    /// Share of records whose answers carry invalid UTF-8.
    pub p_bad_utf8: f64,
    /// How many times in a row a corrupt record is served corrupt before it is
    /// served clean once (then corrupt again, and so on); `0`: always corrupt
    /// (registries.md: such answers do not go away on retry). `1` or `2`
    /// models a cut connection that the client's own retries get past.
    pub corrupt_times: u32,
}

impl Default for Corruption {
    fn default() -> Self {
        Corruption {
            p_truncated: 0.0,
            p_wrong_type: 0.0,
            p_bad_utf8: 0.0,
            corrupt_times: 0,
        }
    }
}

impl Corruption {
    /// Every record's answer corrupt in the same way `share` of the time, split
    /// evenly over the three kinds, for ever.
    pub fn uniform(share: f64) -> Corruption {
        Corruption {
            p_truncated: share / 3.0,
            p_wrong_type: share / 3.0,
            p_bad_utf8: share / 3.0,
            corrupt_times: 0,
        }
    }

    /// Whether nothing is corrupted.
    pub fn is_off(&self) -> bool {
        self.p_truncated == 0.0 && self.p_wrong_type == 0.0 && self.p_bad_utf8 == 0.0
    }

    pub(crate) fn validate(&self) -> Result<(), (&'static str, String)> {
        for (field, p) in [
            ("p_truncated", self.p_truncated),
            ("p_wrong_type", self.p_wrong_type),
            ("p_bad_utf8", self.p_bad_utf8),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err((field, format!("a share is 0 to 1, found {p}")));
            }
        }
        let total = self.p_truncated + self.p_wrong_type + self.p_bad_utf8;
        if total > 1.0 + 1e-9 {
            return Err((
                "p_truncated",
                format!("p_truncated + p_wrong_type + p_bad_utf8 is at most 1, found {total}"),
            ));
        }
        Ok(())
    }

    /// How the answers about `record` (path and query, as requested) are
    /// corrupted for `seed`, if they are: one draw per record, from the seed,
    /// the registry and the record alone.
    pub fn kind_for(&self, seed: u64, registry: Registry, record: &str) -> Option<CorruptionKind> {
        if self.is_off() {
            return None;
        }
        let u = unit_draw(seed, registry, record);
        let mut edge = self.p_truncated;
        if u < edge {
            return Some(CorruptionKind::Truncated);
        }
        edge += self.p_wrong_type;
        if u < edge {
            return Some(CorruptionKind::WrongType);
        }
        edge += self.p_bad_utf8;
        (u < edge).then_some(CorruptionKind::BadUtf8)
    }

    /// Whether the `n`-th answer (0-based) about a corrupt record is served corrupt.
    pub fn corrupts_answer(&self, n: u32) -> bool {
        self.corrupt_times == 0 || n % (self.corrupt_times + 1) < self.corrupt_times
    }
}

/// A number in `[0, 1)` from SHA-256 of the seed, the registry and the record.
fn unit_draw(seed: u64, registry: Registry, record: &str) -> f64 {
    let mut hash = Sha256::new();
    hash.update(seed.to_le_bytes());
    hash.update(registry.segment().as_bytes());
    hash.update([0]);
    hash.update(record.as_bytes());
    let digest = hash.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    // 53 bits: every value exactly representable.
    (u64::from_le_bytes(first) >> 11) as f64 / (1u64 << 53) as f64
}

/// `body` corrupted the way `kind` says. Never the same bytes as `body`.
pub fn corrupt_body(kind: CorruptionKind, body: &[u8]) -> Vec<u8> {
    match kind {
        CorruptionKind::Truncated => body[..body.len() / 2].to_vec(),
        CorruptionKind::BadUtf8 => match body.iter().position(|b| *b == b'"') {
            Some(i) => {
                let mut out = Vec::with_capacity(body.len() + 2);
                out.extend_from_slice(&body[..=i]);
                out.extend_from_slice(&[0xFF, 0xFE]);
                out.extend_from_slice(&body[i + 1..]);
                out
            }
            None => [&[0xFF, 0xFE], body].concat(),
        },
        CorruptionKind::WrongType => match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(serde_json::Value::Object(mut map)) if !map.is_empty() => {
                // serde_json's map is ordered by key: the first key, whatever the body's order.
                if let Some((_, value)) = map.iter_mut().next() {
                    *value = wrong_type(value);
                }
                serde_json::to_vec(&map).unwrap_or_else(|_| b"{".to_vec())
            }
            Ok(other) => serde_json::to_vec(&wrong_type(&other)).unwrap_or_else(|_| b"{".to_vec()),
            Err(_) => b"0".to_vec(),
        },
    }
}

/// A value of another JSON type than `value`.
fn wrong_type(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(_) => Value::from(0),
        Value::Number(n) => Value::String(n.to_string()),
        Value::Bool(b) => Value::String(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => Value::from(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_breaks_a_body() {
        let body = br#"{"id": "370811202011150023", "months": ["2025-05"]}"#;
        let cut = corrupt_body(CorruptionKind::Truncated, body);
        assert!(serde_json::from_slice::<serde_json::Value>(&cut).is_err());
        let bad = corrupt_body(CorruptionKind::BadUtf8, body);
        assert!(std::str::from_utf8(&bad).is_err());
        assert!(serde_json::from_slice::<serde_json::Value>(&bad).is_err());
        let typed = corrupt_body(CorruptionKind::WrongType, body);
        let v: serde_json::Value = serde_json::from_slice(&typed).unwrap();
        assert_eq!(v["id"], serde_json::json!(0));
        assert_eq!(v["months"], serde_json::json!(["2025-05"]));
    }

    #[test]
    fn draws_are_per_record_and_near_their_rates() {
        let c = Corruption::uniform(0.06);
        let n = 30_000;
        let mut counts = std::collections::BTreeMap::new();
        for i in 0..n {
            let record = format!("/hukou/v1/persons/{i:018}");
            let kind = c.kind_for(7, Registry::Hukou, &record);
            assert_eq!(kind, c.kind_for(7, Registry::Hukou, &record), "same record, same draw");
            *counts.entry(kind).or_insert(0usize) += 1;
        }
        for kind in [
            CorruptionKind::Truncated,
            CorruptionKind::WrongType,
            CorruptionKind::BadUtf8,
        ] {
            let share = counts.get(&Some(kind)).copied().unwrap_or(0) as f64 / n as f64;
            assert!((share - 0.02).abs() < 0.005, "{kind:?}: {share}");
        }
        assert_eq!(Corruption::default().kind_for(7, Registry::Hukou, "/x"), None);
    }

    #[test]
    fn corrupt_times_alternates_with_a_clean_answer() {
        let always = Corruption::uniform(1.0);
        assert!((0..10).all(|n| always.corrupts_answer(n)));
        let twice = Corruption {
            corrupt_times: 2,
            ..Corruption::uniform(1.0)
        };
        let served: Vec<bool> = (0..6).map(|n| twice.corrupts_answer(n)).collect();
        assert_eq!(served, [true, true, false, true, true, false]);
    }
}
