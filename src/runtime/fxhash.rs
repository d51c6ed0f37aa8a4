//! A small, fast, non-cryptographic hasher for in-process maps (counts, ack ledgers).
//! Keys here are either random ids or short words, never attacker-chosen in a way that
//! matters for a local run, so SipHash's DoS resistance buys nothing but time.

use std::hash::{BuildHasherDefault, Hasher};

#[derive(Debug, Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

const K: u64 = 0xf135_7aea_2e62_a9c5;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(26) ^ word).wrapping_mul(K);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let n = bytes.len();
        // Short keys (words) in one or two steps: overlapping loads of the first and
        // last bytes, with the length mixed in so overlaps cannot collide.
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&bytes[i..i + 8]);
            u64::from_le_bytes(w)
        };
        let half = |i: usize| {
            let mut w = [0u8; 4];
            w.copy_from_slice(&bytes[i..i + 4]);
            u64::from(u32::from_le_bytes(w))
        };
        match n {
            0 => return self.add(0),
            1..=3 => {
                let v = u64::from(bytes[0])
                    | u64::from(bytes[n / 2]) << 8
                    | u64::from(bytes[n - 1]) << 16;
                return self.add(v ^ (n as u64) << 59);
            }
            4..=8 => return self.add((half(0) << 32 | half(n - 4)) ^ (n as u64) << 59),
            9..=16 => {
                self.add(word(0));
                return self.add(word(n - 8) ^ (n as u64) << 59);
            }
            _ => {}
        }
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // Spread high bits down: hashbrown uses the top 7 bits and the low bits.
        self.hash.rotate_left(20)
    }
}

pub type FxBuild = BuildHasherDefault<FxHasher>;
pub type FxHashMap<K, V> = std::collections::HashMap<K, V, FxBuild>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn short_keys_differ() {
        let b = FxBuild::default();
        let words = [
            "",
            "a",
            "b",
            "ab",
            "ba",
            "abc",
            "abcd",
            "abcde",
            "kalomine",
            "kalominer",
            "x".repeat(17).leak(),
        ];
        let hashes: std::collections::HashSet<u64> =
            words.iter().map(|w| b.hash_one(w.as_bytes())).collect();
        assert_eq!(hashes.len(), words.len());
    }
}
