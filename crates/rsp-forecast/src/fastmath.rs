//! Branch-free lane-wise `exp` and `ln` for the Huber objective's inner loop.
//!
//! Why not `f64::exp`/`f64::ln`: they are calls into libm, which the compiler
//! cannot inline or vectorise, and they branch on special cases. The
//! Chinchilla fit evaluates two exponentials and one logarithm per data point
//! over a million times, and those calls dominated its profile. These
//! versions are plain arithmetic on [`F64v`] lanes and their bit patterns,
//! so they compile to SIMD, and they are accurate to about one unit in the
//! last place on the domains the objective uses (checked against libm in the
//! tests below), so the optimum does not move.
//!
//! Domains are deliberately narrow (what the caller guarantees), which is
//! what removes the branches:
//! - [`exp_nonpos`]: x ≤ 0 (arguments are shifted by their maximum), results
//!   below e^−708 are flushed to e^−708 ≈ 3·10⁻³⁰⁸ instead of going subnormal;
//! - [`ln_normal`]: positive normal x (the caller rejects anything below
//!   10⁻²⁹⁰ and falls back to libm).
//!
//! NaN inputs give NaN from `exp_nonpos`; `ln_normal` gives an unspecified
//! value for NaN, so its caller checks its argument.

use crate::lanes::{F64v, LANES};

/// 1.5·2⁵²: adding it to |y| < 2⁵¹ rounds y to an integer and leaves that
/// integer (two's complement) in the low mantissa bits.
const SHIFTER: f64 = 6_755_399_441_055_744.0;
/// ln 2 split so that k·LN2_HI is exact for |k| < 2¹¹ (fdlibm's constants).
const LN2_HI: f64 = 0.6931471803691238;
const LN2_LO: f64 = 1.9082149292705877e-10;
/// Below this, e^x would need a subnormal scale factor.
const EXP_MIN_ARG: f64 = -708.0;

/// fdlibm's minimax coefficients for the rational approximation of e^r.
const P1: f64 = 0.16666666666666602;
const P2: f64 = -0.0027777777777015593;
const P3: f64 = 6.613756321437934e-05;
const P4: f64 = -1.6533902205465252e-06;
const P5: f64 = 4.1381367970572385e-08;

/// e^x for x ≤ 0 (see the module docs).
///
/// fdlibm's `exp` without its special cases: x = k ln 2 + r with
/// k = round(x / ln 2) and |r| ≤ ln 2 / 2 (Cody–Waite reduction, r = hi − lo),
/// e^r = 1 + r + r·c/(2 − c) with c = r − r²·P(r²) (error < 2⁻⁵⁹), and 2^k
/// built from its bits.
#[inline(always)]
pub(crate) fn exp_nonpos(x: F64v) -> F64v {
    // `x < MIN` is false for NaN, so NaN passes through.
    let min = F64v::splat(EXP_MIN_ARG);
    let x = x.lt(min).select(min, x);
    let kf = x * std::f64::consts::LOG2_E + SHIFTER;
    let k = kf - SHIFTER;
    let hi = x - k * LN2_HI;
    let lo = k * LN2_LO;
    let r = hi - lo;
    let t = r * r;
    let c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
    let er = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
    let bits = kf.to_bits();
    let scale = F64v::from_bits(std::array::from_fn(|l| bits[l].wrapping_add(1023) << 52));
    er * scale
}

/// √2/2, as the bit pattern the reduction of [`ln_normal`] subtracts.
const HALF_SQRT2_BITS: u64 = 0x3fe6_a09e_667f_3bcd;
/// fdlibm's minimax coefficients for (ln(1+f) − f + f²/2 − …) in s = f/(2+f).
const LG1: f64 = 0.6666666666666735;
const LG2: f64 = 0.3999999999940942;
const LG3: f64 = 0.2857142874366239;
const LG4: f64 = 0.22222198432149784;
const LG5: f64 = 0.1818357216161805;
const LG6: f64 = 0.15313837699209373;
const LG7: f64 = 0.14798198605116586;

/// ln x for positive normal x (see the module docs).
///
/// x = 2^k·z with z ∈ [√2/2, √2), found from the bit pattern (subtracting
/// √2/2's pattern makes the exponent field k); then fdlibm's `log`: with
/// f = z − 1 and s = f/(2+f), ln z = f − f²/2 + s·(f²/2 + R(s²)).
#[inline(always)]
pub(crate) fn ln_normal(x: F64v) -> F64v {
    let ix = x.to_bits();
    let tmp: [u64; LANES] = std::array::from_fn(|l| ix[l].wrapping_sub(HALF_SQRT2_BITS));
    // k as a 12-bit two's complement number in the top bits of `tmp`,
    // converted to f64 without an integer conversion (which SSE2 lacks for
    // 64-bit lanes): u in [0, 4096) through the 2⁵² trick, then wrap.
    let u = F64v::from_bits(std::array::from_fn(|l| {
        0x4330_0000_0000_0000 | (tmp[l] >> 52)
    })) - 4_503_599_627_370_496.0;
    let k = u.ge(F64v::splat(2048.0)).select(u - 4096.0, u);
    let z = F64v::from_bits(std::array::from_fn(|l| {
        ix[l].wrapping_sub(tmp[l] & (0xfff << 52))
    }));
    let f = z - 1.0;
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z2 = s * s;
    let w = z2 * z2;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z2 * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    k * LN2_HI - ((hfsq - (s * (hfsq + r) + k * LN2_LO)) - f)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in units in the last place (same-sign finite values).
    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    /// A deterministic spread of points (no RNG dependency needed).
    fn sweep(lo: f64, hi: f64, n: usize) -> impl Iterator<Item = f64> {
        (0..=n).map(move |i| {
            let t = i as f64 / n as f64;
            // Irrational-ish jitter so points do not line up with k·ln 2.
            let j = ((i as f64) * 0.618_033_988_749_895).fract() / n as f64;
            lo + (hi - lo) * (t + j).min(1.0)
        })
    }

    /// Lane 0 of the vector function at `x` (the other lanes get other
    /// values, so a lane mix-up would show).
    fn exp1(x: f64) -> f64 {
        exp_nonpos(F64v(std::array::from_fn(|l| {
            if l == 0 { x } else { -0.37 * l as f64 }
        })))
        .0[0]
    }

    fn ln1(x: f64) -> f64 {
        ln_normal(F64v(std::array::from_fn(|l| {
            if l == 0 { x } else { 0.3 * l as f64 }
        })))
        .0[0]
    }

    #[test]
    fn exp_is_within_one_ulp_of_libm() {
        let mut worst = 0;
        for x in sweep(-700.0, 0.0, 200_000).chain(sweep(-2.0, 0.0, 200_000)) {
            worst = worst.max(ulps(exp1(x), x.exp()));
        }
        assert!(worst <= 1, "worst {worst} ulp");
        let xs = F64v(std::array::from_fn(|l| {
            [-0.1, -1.5, -40.0, -600.0][l % 4] * (1.0 + l as f64 / 100.0)
        }));
        let got = exp_nonpos(xs);
        for l in 0..LANES {
            assert!(ulps(got.0[l], xs.0[l].exp()) <= 1, "lane {l}");
        }
        assert_eq!(exp1(0.0), 1.0);
        assert_eq!(exp1(-0.0), 1.0);
        assert!(exp1(f64::NAN).is_nan());
        // Far below the range: flushed to e^-708, never 0 or subnormal.
        assert_eq!(exp1(-1e6), exp1(-708.0));
        assert!(exp1(-1e6).is_normal());
    }

    #[test]
    fn ln_is_within_one_ulp_of_libm() {
        let mut worst = 0;
        for x in sweep(1e-6, 4.0, 400_000)
            .chain(sweep(0.5, 2.0, 200_000))
            .chain([
                1e-290,
                1e-100,
                std::f64::consts::FRAC_1_SQRT_2,
                std::f64::consts::SQRT_2,
                1e300,
            ])
        {
            worst = worst.max(ulps(ln1(x), x.ln()));
        }
        assert!(worst <= 1, "worst {worst} ulp");
        let xs = F64v(std::array::from_fn(|l| {
            [0.2, 1.5, 3.0, 1e-200][l % 4] * (1.0 + l as f64 / 7.0)
        }));
        let got = ln_normal(xs);
        for l in 0..LANES {
            assert!(ulps(got.0[l], xs.0[l].ln()) <= 1, "lane {l}");
        }
        assert_eq!(ln1(1.0), 0.0);
        assert_eq!(ln1(2.0), std::f64::consts::LN_2);
    }
}
