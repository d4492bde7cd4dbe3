//! The round seed, its commitment and the lottery number (电脑随机派位), as
//! anyone can recompute them (policy.md, "Lottery number").

use sha2::{Digest, Sha256};

/// SHA-256 of the UTF-8 string, as 64 lower-case hex digits.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The full digest `SHA-256("{round_seed}:{child_id}")`; the lottery number is
/// its first 16 hex digits.
pub fn lottery_digest(round_seed: &str, child_id: &str) -> String {
    sha256_hex(&format!("{round_seed}:{child_id}"))
}

/// What the revealed seed proves against the commitment published at open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitmentCheck {
    /// A demo or audit round: the commitment is SHA-256 of the whole seed.
    WholeSeed,
    /// A live round: the seed is `{sealed}-{public}` and the commitment is
    /// SHA-256 of `sealed` (公证摇号 draws `public` after close).
    SealedAndPublic { sealed: String, public: String },
    /// Neither: the seed revealed is not the one committed to.
    Mismatch,
}

/// Checks the revealed round seed against the published commitment.
pub fn check_commitment(round_seed: &str, commitment: &str) -> CommitmentCheck {
    let commitment = commitment.to_ascii_lowercase();
    if sha256_hex(round_seed) == commitment {
        return CommitmentCheck::WholeSeed;
    }
    // The sealed part is hex only, so the first '-' ends it.
    if let Some((sealed, public)) = round_seed.split_once('-')
        && sealed.len() >= 32
        && sealed.bytes().all(|b| b.is_ascii_hexdigit())
        && sha256_hex(sealed) == commitment
    {
        return CommitmentCheck::SealedAndPublic {
            sealed: sealed.to_owned(),
            public: public.to_owned(),
        };
    }
    CommitmentCheck::Mismatch
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lottery_digest_matches_the_rules_engine() {
        // The value enrol-rules' own test computed independently with Python.
        assert_eq!(
            &lottery_digest("demo-seed", "370811202011150023")[..16],
            "7ec11e6394a8c0e5"
        );
    }

    #[test]
    fn recognises_whole_and_split_seeds() {
        let whole = "demo-2027-primary";
        assert_eq!(check_commitment(whole, &sha256_hex(whole)), CommitmentCheck::WholeSeed);
        assert_eq!(
            check_commitment(whole, &sha256_hex(whole).to_uppercase()),
            CommitmentCheck::WholeSeed
        );
        let sealed = "0123456789abcdef0123456789abcdef";
        let seed = format!("{sealed}-20270715-123456");
        assert_eq!(
            check_commitment(&seed, &sha256_hex(sealed)),
            CommitmentCheck::SealedAndPublic {
                sealed: sealed.to_owned(),
                public: "20270715-123456".to_owned()
            }
        );
        assert_eq!(check_commitment(&seed, &sha256_hex("other")), CommitmentCheck::Mismatch);
    }
}
