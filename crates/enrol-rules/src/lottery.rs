//! The lottery number (电脑随机派位), verifiable by anyone who knows the round seed.

use enrol_domain::{LotteryNumber, NationalId};
use sha2::{Digest, Sha256};

/// The first 16 hex digits of `SHA-256("{round_seed}:{child_id}")` over the
/// UTF-8 bytes, the ID in canonical form, read as an unsigned 64-bit integer
/// (policy.md, "Lottery number").
pub fn lottery_number(round_seed: &str, child_id: &NationalId) -> LotteryNumber {
    let mut hasher = Sha256::new();
    hasher.update(round_seed.as_bytes());
    hasher.update(b":");
    hasher.update(child_id.as_str().as_bytes());
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    LotteryNumber(u64::from_be_bytes(first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_the_first_sixteen_hex_digits_of_the_digest() {
        let id = NationalId::parse("370811202011150023").unwrap_or_else(|e| panic!("{e}"));
        let n = lottery_number("demo-seed", &id);
        // Computed independently: python3 -c "import hashlib; print(hashlib.sha256(b'demo-seed:370811202011150023').hexdigest()[:16])"
        assert_eq!(n.to_string(), "7ec11e6394a8c0e5");
        assert_ne!(lottery_number("other-seed", &id), n);
    }
}
