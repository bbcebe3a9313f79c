//! Sortable record ids.
//!
//! Ids follow the ULID layout: 48 bits of Unix milliseconds then 80 random bits, written as
//! 26 Crockford base-32 characters. Text order is creation order (to the millisecond), which
//! lets "newest run" be an index scan, and the random part makes ids from concurrent
//! processes collide with negligible probability without any coordination.

use std::time::{SystemTime, UNIX_EPOCH};

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new time-sortable id (ULID layout), e.g. `01JB7Z3K9QX4M2T8C5VDRE6WNA`.
pub fn new_id() -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    encode(millis, rand::random::<u128>())
}

/// The id for a millisecond timestamp and random bits (only the low 80 are used).
fn encode(millis: u64, random: u128) -> String {
    let ts = u128::from(millis & ((1 << 48) - 1));
    let value = (ts << 80) | (random & ((1u128 << 80) - 1));
    (0..26)
        .rev()
        .map(|i| {
            // 26 five-bit groups cover 130 bits; the top two are always zero.
            let group = usize::try_from((value >> (i * 5)) & 0x1f).unwrap_or(0);
            char::from(CROCKFORD[group])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_ulid_shape_and_sort_by_time() {
        let a = encode(1_700_000_000_000, u128::MAX);
        let b = encode(1_700_000_000_001, 0);
        assert_eq!(a.len(), 26);
        assert!(a < b, "{a} should sort before {b}");
        assert_eq!(encode(0, 0), "0".repeat(26));
        // The largest 48-bit timestamp starts with 7: the top two bits are unused.
        assert!(encode((1 << 48) - 1, 0).starts_with('7'));
        let id = new_id();
        assert!(id.bytes().all(|c| CROCKFORD.contains(&c)));
        assert_ne!(new_id(), new_id());
    }
}
