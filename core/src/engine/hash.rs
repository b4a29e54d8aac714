//! The hasher of Athanor's internal maps.

use std::collections::hash_map::{DefaultHasher, RandomState};
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;

/// The hasher of Athanor's internal maps (the session's identity map, the engine's statement
/// cache): one folded 64×64→128-bit multiply per integer written, so an integer primary key
/// costs a few nanoseconds instead of a SipHash round; byte strings (text and binary primary
/// keys, which come from data) still go through SipHash keyed with a per-process secret, so
/// crafted keys cannot force collisions. Integers are mixed with the same per-process seed.
#[derive(Clone, Copy)]
pub struct FastState {
    pub(super) seed: u64,
    pub(super) secret: u64,
}

pub(super) fn process_keys() -> (u64, u64) {
    static KEYS: OnceLock<(u64, u64)> = OnceLock::new();
    *KEYS.get_or_init(|| {
        let rs = RandomState::new();
        (rs.hash_one(0x5eed_u64) | 1, rs.hash_one(0x05ec_2e70_u64))
    })
}

impl Default for FastState {
    fn default() -> Self {
        let (seed, secret) = process_keys();
        FastState { seed, secret }
    }
}

impl BuildHasher for FastState {
    type Hasher = FastHasher;
    #[inline]
    fn build_hasher(&self) -> FastHasher {
        FastHasher { h: self.seed, secret: self.secret, bytes: None }
    }
}

pub(super) const FOLD_MUL: u64 = 0x9e37_79b9_7f4a_7c15;

#[inline]
pub(super) fn folded_multiply(a: u64, b: u64) -> u64 {
    let r = u128::from(a).wrapping_mul(u128::from(b));
    (r as u64) ^ ((r >> 64) as u64)
}

/// See [`FastState`].
pub struct FastHasher {
    pub(super) h: u64,
    pub(super) secret: u64,
    pub(super) bytes: Option<DefaultHasher>,
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let secret = self.secret;
        self.bytes
            .get_or_insert_with(|| {
                let mut sip = DefaultHasher::new();
                sip.write_u64(secret);
                sip
            })
            .write(bytes);
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.write_u64(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.h = folded_multiply(self.h ^ i, FOLD_MUL);
    }
    #[inline]
    fn write_u128(&mut self, i: u128) {
        self.write_u64(i as u64);
        self.write_u64((i >> 64) as u64);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        match &self.bytes {
            None => self.h,
            Some(sip) => folded_multiply(self.h ^ sip.finish(), FOLD_MUL),
        }
    }
}
