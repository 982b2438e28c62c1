//! Randomness as a pure function of where a value stands: (seed, step,
//! series, measure, term, instant) → a number. No generator state exists, so
//! narrowing a window, editing another step or moving a step in the file
//! never changes a value elsewhere.
//!
//! The mixer is SplitMix64's finaliser applied in a chain: each input is
//! folded in and the state re-mixed, which passes practical equidistribution
//! for this use (statistical tests below) and costs a few nanoseconds.

use super::math;
use crate::record::{mix, name_hash};

/// A keyed stream: everything but the instant and the lane, mixed once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key(u64);

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

impl Key {
    pub fn new(seed: u64) -> Key {
        Key(mix(seed.wrapping_add(GOLDEN)))
    }

    /// A sub-key: the same key with one more part folded in.
    pub fn with(self, part: u64) -> Key {
        Key(mix(self.0 ^ mix(part.wrapping_add(GOLDEN))))
    }

    pub fn with_name(self, name: &str) -> Key {
        self.with(name_hash(name))
    }

    /// 64 random bits for `instant` (an offset from `now` or an absolute
    /// instant, in ns) and `lane` (to draw several numbers at one instant).
    pub fn bits(self, instant: i64, lane: u64) -> u64 {
        mix(self.0 ^ mix((instant as u64).wrapping_add(GOLDEN) ^ lane.wrapping_mul(GOLDEN)))
    }

    /// Uniform in [0, 1).
    pub fn unit(self, instant: i64, lane: u64) -> f64 {
        (self.bits(instant, lane) >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal (Box–Muller on lanes 2·lane and 2·lane+1).
    pub fn normal(self, instant: i64, lane: u64) -> f64 {
        let u1 = 1.0 - self.unit(instant, lane * 2); // (0, 1]
        let u2 = self.unit(instant, lane * 2 + 1);
        box_muller(u1, u2)
    }
}

/// A standard normal draw from two uniform ones, `u1` in (0, 1].
fn box_muller(u1: f64, u2: f64) -> f64 {
    (-2.0 * math::ln(u1)).sqrt() * math::cos(std::f64::consts::TAU * u2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_inputs_give_the_same_number_and_others_differ() {
        let k = Key::new(42).with_name("step").with_name("series");
        assert_eq!(k.bits(1_000, 0), k.bits(1_000, 0));
        assert_ne!(k.bits(1_000, 0), k.bits(1_001, 0));
        assert_ne!(k.bits(1_000, 0), k.bits(1_000, 1));
        assert_ne!(
            k.bits(1_000, 0),
            Key::new(43)
                .with_name("step")
                .with_name("series")
                .bits(1_000, 0)
        );
    }

    #[test]
    fn box_muller_gives_the_same_bits_everywhere() {
        // Expected: each operation of `box_muller` done in mpmath 1.3.0 at
        // 200 bits and rounded to the nearest f64 (ln, ×−2, sqrt, τ·u2,
        // cos, product), written as bit patterns.
        for (u1, u2, bits) in [
            (0.3, 0.7, 0xBFDE_B06F_E812_A610_u64),
            (0.001, 0.123, 0x4005_49E4_6A68_D612),
        ] {
            let got = box_muller(u1, u2);
            assert_eq!(got.to_bits(), bits, "({u1}, {u2}) → {got:e}");
        }
    }

    #[test]
    fn uniform_and_normal_have_the_right_moments() {
        let k = Key::new(7).with_name("moments");
        let n = 200_000;
        let (mut sum, mut sum_sq, mut below_tenth) = (0.0, 0.0, 0);
        let (mut nsum, mut nsum_sq) = (0.0, 0.0);
        for i in 0..n {
            let u = k.unit(i * 60_000_000_000, 0);
            assert!((0.0..1.0).contains(&u));
            sum += u;
            sum_sq += u * u;
            below_tenth += usize::from(u < 0.1);
            let z = k.normal(i * 60_000_000_000, 1);
            nsum += z;
            nsum_sq += z * z;
        }
        let n = n as f64;
        assert!((sum / n - 0.5).abs() < 0.005, "mean {}", sum / n);
        assert!((sum_sq / n - 1.0 / 3.0).abs() < 0.005);
        assert!((below_tenth as f64 / n - 0.1).abs() < 0.005);
        assert!((nsum / n).abs() < 0.01, "normal mean {}", nsum / n);
        assert!(
            (nsum_sq / n - 1.0).abs() < 0.02,
            "normal variance {}",
            nsum_sq / n
        );
    }
}
