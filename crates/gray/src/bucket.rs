//! Sticky percentage bucketing, identical to Unleash's flexibleRollout.
//!
//! A key is in a rollout of `percent` when `murmur3_x86_32("{group}:{key}", seed 0) % 100 + 1 <=
//! percent`. Using the same hash, input and seed as Unleash means a team moving between the two
//! keeps the same users in the canary.

/// The 32-bit x86 murmur3 hash of the concatenation of `parts`, without allocating or copying.
pub fn murmur3_x86_32(parts: &[&[u8]], seed: u32) -> u32 {
    let mut hasher = Murmur3::new(seed);
    for part in parts {
        hasher.write(part);
    }
    hasher.finish()
}

/// A streaming murmur3_x86_32. It is `Copy`, so a hasher that has consumed a fixed prefix (a
/// rule's `"{group}:"`) can be stored and resumed per request, hashing only the key.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Murmur3 {
    state: u32,
    total: usize,
    // Bytes carried over from the end of one write into the next 4-byte block.
    carry: [u8; 4],
    carried: usize,
}

impl Murmur3 {
    pub(crate) fn new(seed: u32) -> Murmur3 {
        Murmur3 {
            state: seed,
            total: 0,
            carry: [0; 4],
            carried: 0,
        }
    }

    pub(crate) fn write(&mut self, bytes: &[u8]) {
        self.total += bytes.len();
        let mut rest = bytes;
        if self.carried > 0 {
            let take = (4 - self.carried).min(rest.len());
            self.carry[self.carried..self.carried + take].copy_from_slice(&rest[..take]);
            self.carried += take;
            rest = &rest[take..];
            if self.carried < 4 {
                return;
            }
            self.state = mix_block(self.state, u32::from_le_bytes(self.carry));
        }
        let mut blocks = rest.chunks_exact(4);
        for block in &mut blocks {
            self.state = mix_block(
                self.state,
                u32::from_le_bytes([block[0], block[1], block[2], block[3]]),
            );
        }
        let tail = blocks.remainder();
        self.carry[..tail.len()].copy_from_slice(tail);
        self.carried = tail.len();
    }

    pub(crate) fn finish(self) -> u32 {
        let mut state = self.state;
        if self.carried > 0 {
            let mut k = 0u32;
            for (i, byte) in self.carry[..self.carried].iter().enumerate() {
                k |= u32::from(*byte) << (8 * i);
            }
            state ^= scramble(k);
        }
        // The reference algorithm mixes in the length modulo 2^32.
        finalize(state ^ (self.total as u32))
    }
}

/// A hasher that has consumed `"{group}:"`, ready for a key.
pub(crate) fn group_prefix(group: &str) -> Murmur3 {
    let mut hasher = Murmur3::new(0);
    hasher.write(group.as_bytes());
    hasher.write(b":");
    hasher
}

/// The bucket (1..=100) of `key` given a hasher from [`group_prefix`].
pub(crate) fn bucket_after_prefix(prefix: Murmur3, key: &str) -> u32 {
    let mut hasher = prefix;
    hasher.write(key.as_bytes());
    hasher.finish() % 100 + 1
}

fn scramble(k: u32) -> u32 {
    k.wrapping_mul(0xcc9e_2d51)
        .rotate_left(15)
        .wrapping_mul(0x1b87_3593)
}

fn mix_block(state: u32, k: u32) -> u32 {
    (state ^ scramble(k))
        .rotate_left(13)
        .wrapping_mul(5)
        .wrapping_add(0xe654_6b64)
}

fn finalize(mut hash: u32) -> u32 {
    hash ^= hash >> 16;
    hash = hash.wrapping_mul(0x85eb_ca6b);
    hash ^= hash >> 13;
    hash = hash.wrapping_mul(0xc2b2_ae35);
    hash ^ (hash >> 16)
}

/// The bucket (1..=100) of `key` in `group`: `murmur3_x86_32("{group}:{key}", 0) % 100 + 1`.
pub fn bucket(group: &str, key: &str) -> u32 {
    bucket_after_prefix(group_prefix(group), key)
}

/// Whether `key` is in a rollout of `percent` (0..=100) for `group`.
pub fn in_rollout(group: &str, key: &str, percent: u32) -> bool {
    bucket(group, key) <= percent
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(text: &str, seed: u32) -> u32 {
        murmur3_x86_32(&[text.as_bytes()], seed)
    }

    #[test]
    fn murmur3_matches_published_reference_vectors() {
        // Vectors from the reference implementation's verification set (SMHasher) and Guava.
        let vectors: &[(&str, u32, u32)] = &[
            ("", 0, 0),
            ("", 1, 0x514e_28b7),
            ("", 0xffff_ffff, 0x81f1_6f39),
            ("hello", 0, 0x248b_fa47),
            ("hello, world", 0, 0x149b_bb7f),
            (
                "The quick brown fox jumps over the lazy dog",
                0,
                0x2e4f_f723,
            ),
            ("aaaa", 0x9747_b28c, 0x5a97_808a),
            ("abc", 0, 0xb3dd_93fa),
            ("Hello, world!", 0x9747_b28c, 0x2488_4cba),
        ];
        for &(text, seed, expected) in vectors {
            assert_eq!(hash(text, seed), expected, "murmur3({text:?}, {seed:#x})");
        }
    }

    #[test]
    fn split_input_hashes_like_the_concatenation() {
        let whole = hash("group-one:user-12345", 0);
        for parts in [
            vec!["group-one:user-12345"],
            vec!["group-one", ":user-12345"],
            vec!["group-one", ":", "user-12345"],
            vec!["gr", "oup-one", ":", "user-", "12345"],
            vec!["", "group-one:", "", "user-12345", ""],
        ] {
            let bytes: Vec<&[u8]> = parts.iter().map(|p| p.as_bytes()).collect();
            assert_eq!(murmur3_x86_32(&bytes, 0), whole, "{parts:?}");
        }
        assert_eq!(murmur3_x86_32(&[], 0), hash("", 0));
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_the_murmur3_crate(parts in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..9), 0..6), seed: u32) {
            let whole: Vec<u8> = parts.concat();
            let slices: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
            let expected = murmur3::murmur3_32(&mut whole.as_slice(), seed).unwrap();
            proptest::prop_assert_eq!(murmur3_x86_32(&slices, seed), expected);
        }
    }

    #[test]
    fn bucket_is_the_unleash_formula() {
        for key in ["alice", "bob", "123", ""] {
            let expected = hash(&format!("billing-v2:{key}"), 0) % 100 + 1;
            assert_eq!(bucket("billing-v2", key), expected);
            assert!((1..=100).contains(&expected));
        }
        // Unleash's own normalizedHash("123", "gr1") is 73; its SDK spec tests pin this value.
        assert_eq!(bucket("gr1", "123"), 73);
    }

    #[test]
    fn zero_percent_is_nobody_and_hundred_is_everybody() {
        for i in 0..1000 {
            let key = format!("user-{i}");
            assert!(!in_rollout("g", &key, 0));
            assert!(in_rollout("g", &key, 100));
        }
    }
}
