//! The transcendental functions on the value path, from the pure-Rust
//! `libm` crate. `f64::sin` and its kin call the platform's C library,
//! whose last bits differ between glibc, musl and macOS: a plan made on
//! one would then fail `plan --check` on another. These give the same bits
//! everywhere. (`+ - * /`, `sqrt`, `round` and `clamp` are exact in IEEE
//! 754 and may stay as they are.)

pub(crate) fn sin(x: f64) -> f64 {
    libm::sin(x)
}

pub(crate) fn cos(x: f64) -> f64 {
    libm::cos(x)
}

/// The natural logarithm.
pub(crate) fn ln(x: f64) -> f64 {
    libm::log(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values: mpmath 1.3.0 at 200 bits of precision, rounded to
    // the nearest f64 (`float(mpmath.sin(mpmath.mpf(x)))` under
    // `mp.prec = 200`, the argument being the exact f64 `x`), written as
    // bit patterns. Each is the correctly rounded result, which libm gives
    // at these inputs on every platform.
    /// (function, its name, argument, expected bits)
    type Case = (fn(f64) -> f64, &'static str, f64, u64);

    // 1e22 is a classic hard case of argument reduction.
    const CASES: &[Case] = &[
        (sin, "sin", 0.5, 0x3FDE_AEE8_744B_05F0),
        (sin, "sin", 2.0, 0x3FED_18F6_EAD1_B446),
        (sin, "sin", 1e6, 0xBFD6_664B_2568_D867),
        (sin, "sin", 1e22, 0xBFEB_453A_B76B_F397),
        (cos, "cos", 0.5, 0x3FEC_1528_065B_7D50),
        (cos, "cos", 3.0, 0xBFEF_AE04_BE85_E5D2),
        (ln, "ln", 0.3, 0xBFF3_4378_FCBD_A721),
        (ln, "ln", 10.0, 0x4002_6BB1_BBB5_5516),
        (ln, "ln", 1e-300, 0xC085_9634_47F8_7FB5),
    ];

    #[test]
    fn values_match_correctly_rounded_constants() {
        for &(f, name, x, bits) in CASES {
            let got = f(x);
            assert_eq!(
                got.to_bits(),
                bits,
                "{name}({x}) = {got:e}, expected {:e}",
                f64::from_bits(bits)
            );
        }
    }
}
