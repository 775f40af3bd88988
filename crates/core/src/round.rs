//! Rounding half away from zero on the number as a person would write it
//! (spec §6): the shortest decimal that round-trips the double, not its exact
//! binary value. So 2.675 → 2.68 although the double 2.675 is 2.67499999….
//!
//! The fast path multiplies by 10ⁿ and rounds; it is exact whenever the scaled
//! value is not close to a half, which is nearly always. Near a half it falls back
//! to the decimal string Rust prints for the double (shortest round-trip digits).
//! The result is `k / 10ⁿ` as a correctly rounded division, i.e. the double
//! nearest to the decimal `k·10⁻ⁿ`, the same double a JSON reader gets for it.

const POW10: [f64; 11] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10];

/// Rounds half away from zero to 2 decimals (`round2` in the spec).
#[inline]
pub fn round2(x: f64) -> f64 {
    round_half_away(x, 2)
}

/// Rounds half away from zero to `decimals` (0–10) decimals.
///
/// Non-finite input is returned unchanged; callers reject it before rounding.
pub fn round_half_away(x: f64, decimals: u32) -> f64 {
    assert!(decimals <= 10, "round_half_away supports 0 to 10 decimals");
    if !x.is_finite() {
        return x;
    }
    let scale = POW10[decimals as usize];
    let scaled = x.abs() * scale;
    // Beyond 2^52 every double is an integer already: nothing to round.
    if scaled >= 4_503_599_627_370_496.0 {
        return x;
    }
    let floor = scaled.floor();
    let frac = scaled - floor;
    // The product's relative error is at most one ulp; keep well clear of it.
    let margin = 1e-9_f64.max(scaled * 1e-15);
    let k = if (frac - 0.5).abs() > margin { if frac > 0.5 { floor + 1.0 } else { floor } } else { decimal_round(x.abs(), decimals) };
    let r = k / scale;
    if x.is_sign_negative() { -r } else { r }
}

/// The integer `k` such that `k·10⁻ⁿ` is `|x|`'s shortest decimal rounded half
/// away from zero to `n` decimals, computed on that decimal's digits.
fn decimal_round(abs: f64, decimals: u32) -> f64 {
    // `{}` prints the shortest digits that round-trip, in positional notation.
    let text = format!("{abs}");
    let (int_part, frac_part) = text.split_once('.').unwrap_or((&text, ""));
    let n = decimals as usize;
    let mut digits: Vec<u8> = int_part.bytes().map(|b| b - b'0').collect();
    let frac: Vec<u8> = frac_part.bytes().map(|b| b - b'0').collect();
    digits.extend((0..n).map(|i| frac.get(i).copied().unwrap_or(0)));
    let round_up = frac.get(n).is_some_and(|&d| d >= 5);
    let mut k = digits.iter().fold(0.0_f64, |acc, &d| acc * 10.0 + f64::from(d));
    if round_up {
        k += 1.0;
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_examples() {
        assert_eq!(round2(2.675), 2.68);
        assert_eq!(round2(2.665), 2.67);
        assert_eq!(round2(-1.005), -1.01);
    }

    #[test]
    fn ordinary_values() {
        assert_eq!(round2(9.333333333333334), 9.33);
        assert_eq!(round2(0.0), 0.0);
        assert_eq!(round2(1.125), 1.13);
        assert_eq!(round2(1.115), 1.12);
        assert_eq!(round2(0.005), 0.01);
        assert_eq!(round2(0.004999), 0.0);
        assert_eq!(round_half_away(2.5, 0), 3.0);
        assert_eq!(round_half_away(-2.5, 0), -3.0);
        assert_eq!(round_half_away(1.23456789, 4), 1.2346);
        assert_eq!(round_half_away(1e20, 2), 1e20);
    }

    #[test]
    fn halves_round_away_from_zero_as_written() {
        // "a.bc5" must become (a·100 + bc + 1) / 100 for every such decimal,
        // although most of these doubles lie just below the written half.
        for i in 0..200_000u32 {
            let text = format!("{}.{:02}5", i / 100, i % 100);
            let x: f64 = text.parse().unwrap();
            let expected = f64::from(i + 1) / 100.0;
            assert_eq!(round2(x), expected, "{text}");
            assert_eq!(round2(-x), -expected, "-{text}");
        }
    }
}
