//! The small numerical helpers every part of the analysis shares: quantiles, a line fit and
//! detrending, the parabolic peak offset, a window, decibels and cents, a fast logarithm, a
//! dot product, autocorrelation and vibrato of a pitch curve. Pure functions of their
//! arguments; nothing here knows about frames, lanes or tracks, so every other analysis
//! module may use it and it uses none of them.

/// The `q`-quantile (0 … 1, nearest rank) of the finite values of `v`, which it reorders;
/// `None` when `v` has no finite value.
pub fn percentile_in_place(v: &mut [f32], q: f32) -> Option<f32> {
    let mut finite = 0;
    for i in 0..v.len() {
        if v[i].is_finite() {
            v.swap(i, finite);
            finite += 1;
        }
    }
    let s = &mut v[..finite];
    if s.is_empty() {
        return None;
    }
    let i = ((s.len() - 1) as f32 * q.clamp(0.0, 1.0)).round() as usize;
    Some(*s.select_nth_unstable_by(i, f32::total_cmp).1)
}

/// [`percentile_in_place`] of a copy of `v`.
pub fn percentile(v: &[f32], q: f32) -> Option<f32> {
    percentile_in_place(&mut v.to_vec(), q)
}

/// The median (the upper of the two middle values for an even count) of the finite values of
/// `v`, which it reorders; `None` when there is none.
pub fn median(v: &mut [f32]) -> Option<f32> {
    percentile_in_place(v, 0.5)
}

/// A periodic Hann window of `n` points (the shape an FFT frame wants).
pub fn hann(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / n as f32).cos())
        .collect()
}

/// Power in dB, floored at -120 dB.
pub fn db(p: f32) -> f32 {
    10.0 * p.max(1e-12).log10()
}

/// Dot product in eight lanes (the shape the compiler turns into SIMD).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut lanes = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            lanes[k] += x[k] * y[k];
        }
    }
    lanes.iter().sum::<f32>() + ra.iter().zip(rb).map(|(x, y)| x * y).sum::<f32>()
}

/// Natural logarithm of a positive, finite `x`, within a few units in the last place of
/// `f32::ln`. It has no branch and no library call, so a loop over a spectrum vectorises;
/// the spectral features take two logarithms per bin and frame.
#[inline]
pub fn ln(x: f32) -> f32 {
    // x = 2^e · m with m in [√½, √2): e from the bits' distance to those of √½.
    const SQRT_HALF_BITS: u32 = 0x3f35_04f3;
    let bits = x.to_bits();
    let e = (bits.wrapping_sub(SQRT_HALF_BITS) as i32) >> 23;
    let m = f32::from_bits(bits.wrapping_sub((e as u32) << 23));
    // ln m = 2 atanh t with t = (m − 1)/(m + 1), |t| ≤ 0.172: five terms of the series
    // leave an error under 1e-9.
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    let series = 2.0 + t2 * (2.0 / 3.0 + t2 * (2.0 / 5.0 + t2 * (2.0 / 7.0 + t2 * (2.0 / 9.0))));
    e as f32 * std::f32::consts::LN_2 + t * series
}

/// Offset (−0.5 … 0.5) of the vertex of the parabola through three equally spaced values
/// from the middle one: sub-sample position of a peak or dip.
pub fn parabolic_offset(p: f32, q: f32, r: f32) -> f32 {
    let den = p - 2.0 * q + r;
    if den.abs() > 1e-9 {
        (0.5 * (p - r) / den).clamp(-0.5, 0.5)
    } else {
        0.0
    }
}

/// Cents of `f` above A440.
pub fn cents(f: f32) -> f32 {
    1200.0 * (f / 440.0).log2()
}

/// Least-squares line through `c` (one value per step): its mean and its slope per step
/// (0 for fewer than two values).
pub fn line_fit(c: &[f32]) -> (f32, f32) {
    let n = c.len();
    if n == 0 {
        return (0.0, 0.0);
    }
    let tm = (n - 1) as f32 / 2.0;
    let cm = c.iter().sum::<f32>() / n as f32;
    let (mut sxy, mut sxx) = (0.0f32, 0.0f32);
    for (i, v) in c.iter().enumerate() {
        sxy += (i as f32 - tm) * (v - cm);
        sxx += (i as f32 - tm).powi(2);
    }
    (cm, if sxx > 0.0 { sxy / sxx } else { 0.0 })
}

/// `c` minus its least-squares line.
pub fn detrend(c: &[f32]) -> Vec<f32> {
    let tm = (c.len().max(1) - 1) as f32 / 2.0;
    let (cm, slope) = line_fit(c);
    c.iter()
        .enumerate()
        .map(|(i, v)| v - cm - slope * (i as f32 - tm))
        .collect()
}

/// Autocorrelation of `x` at `lag`, averaged over the overlap and divided by `var`
/// (1 at lag 0 for a zero-mean `x` whose mean square is `var`).
pub fn autocorr(x: &[f32], var: f32, lag: usize) -> f32 {
    let n = x.len();
    let s = dot(&x[..n - lag], &x[lag..]);
    s / ((n - lag) as f32 * var)
}

/// Vibrato measured on one stretch of pitch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Vibrato {
    pub start_s: f64,
    pub end_s: f64,
    pub rate_hz: f32,
    /// Half the peak-to-peak swing, cents.
    pub extent_cents: f32,
    /// How sinusoidal it is: share of the detrended pitch variance the fitted sinusoid explains.
    pub regularity: f32,
}

/// Vibrato of a cents curve sampled every `hop_s` seconds (at least 0.3 s and 20 values).
pub fn vibrato_at(c: &[f32], hop_s: f64) -> Option<Vibrato> {
    let n = c.len();
    if n < 20 || (n as f64) * hop_s < 0.3 - 1e-9 {
        return None;
    }
    let r = detrend(c);
    let var = r.iter().map(|v| v * v).sum::<f32>() / n as f32;
    if var < 4.0 {
        return None; // under ±3 cents: no vibrato
    }
    // Autocorrelation between 2.5 and 9 Hz.
    let fps = 1.0 / hop_s as f32;
    let (lag_lo, lag_hi) = (
        (fps / 9.0).floor() as usize,
        ((fps / 2.5).ceil() as usize).min(n - 10),
    );
    if lag_lo + 2 >= lag_hi {
        return None;
    }
    let acs: Vec<f32> = (0..=lag_hi + 1)
        .map(|l| if l < n { autocorr(&r, var, l) } else { 0.0 })
        .collect();
    // First local maximum after the first zero crossing.
    let zero = (1..acs.len()).find(|&l| acs[l] < 0.0)?;
    let mut best = None;
    for l in zero.max(lag_lo)..=lag_hi {
        if l + 1 < acs.len() && acs[l] >= acs[l - 1] && acs[l] >= acs[l + 1] {
            best = Some(l);
            break;
        }
    }
    let l = best?;
    if acs[l] < 0.2 {
        return None;
    }
    let off = parabolic_offset(acs[l - 1], acs[l], acs[l + 1]);
    let rate = fps / (l as f32 + off);
    // Least-squares sinusoid at that rate (on the detrended curve).
    let w = 2.0 * std::f32::consts::PI * rate * hop_s as f32;
    let (mut ss, mut cc, mut sc, mut ys, mut yc) = (0.0f32, 0.0f32, 0.0f32, 0.0f32, 0.0f32);
    for (i, v) in r.iter().enumerate() {
        let (si, co) = (w * i as f32).sin_cos();
        ss += si * si;
        cc += co * co;
        sc += si * co;
        ys += v * si;
        yc += v * co;
    }
    let det = ss * cc - sc * sc;
    if det.abs() < 1e-6 {
        return None;
    }
    let a = (ys * cc - yc * sc) / det;
    let b = (yc * ss - ys * sc) / det;
    let extent = (a * a + b * b).sqrt();
    let explained = (0.5 * extent * extent / var).min(1.0);
    if explained < 0.4 {
        return None;
    }
    Some(Vibrato {
        start_s: 0.0,
        end_s: n as f64 * hop_s,
        rate_hz: rate,
        extent_cents: extent,
        regularity: explained,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_skip_what_is_not_a_number_and_say_when_nothing_is_left() {
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[f32::NAN, f32::INFINITY], 0.5), None);
        let v = [5.0, f32::NAN, 1.0, 4.0, 2.0, 3.0];
        assert_eq!(percentile(&v, 0.0), Some(1.0));
        assert_eq!(percentile(&v, 1.0), Some(5.0));
        assert_eq!(percentile(&v, 0.5), Some(3.0));
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(3.0));
        assert_eq!(median(&mut [f32::NAN, 7.0]), Some(7.0));
        assert_eq!(median(&mut []), None);
        // Out-of-range quantiles are the extremes, not a panic.
        assert_eq!(percentile(&v, 2.0), Some(5.0));
    }

    #[test]
    fn a_line_is_fitted_exactly_and_detrending_leaves_only_the_wiggle() {
        let line: Vec<f32> = (0..9).map(|i| 2.0 + 0.5 * i as f32).collect();
        let (mean, slope) = line_fit(&line);
        assert!((mean - 4.0).abs() < 1e-6 && (slope - 0.5).abs() < 1e-6);
        assert!(detrend(&line).iter().all(|r| r.abs() < 1e-5));
        assert_eq!(line_fit(&[]), (0.0, 0.0));
        assert_eq!(line_fit(&[3.0]), (3.0, 0.0));
    }

    #[test]
    fn the_parabolic_offset_finds_the_vertex_between_samples() {
        // y = -(x - 0.3)^2 sampled at -1, 0, 1: vertex 0.3 right of the middle sample.
        let y = |x: f32| -(x - 0.3f32).powi(2);
        assert!((parabolic_offset(y(-1.0), y(0.0), y(1.0)) - 0.3).abs() < 1e-6);
        assert_eq!(parabolic_offset(1.0, 1.0, 1.0), 0.0);
    }

    #[test]
    fn units_and_the_window_have_their_textbook_values() {
        assert!((db(1e-3) + 30.0).abs() < 1e-4);
        assert!((db(0.0) + 120.0).abs() < 1e-3);
        assert!((cents(880.0) - 1200.0).abs() < 1e-3);
        assert!(cents(440.0).abs() < 1e-6);
        for x in [1e-6f32, 0.1, 0.7071, 1.0, 2.0, 1234.5] {
            assert!((ln(x) - x.ln()).abs() <= 4.0 * f32::EPSILON * x.ln().abs().max(1.0));
        }
        let w = hann(8);
        assert_eq!(w[0], 0.0);
        assert!((w[4] - 1.0).abs() < 1e-6 && (w[2] - w[6]).abs() < 1e-6);
        assert!((dot(&[1.0; 19], &[2.0; 19]) - 38.0).abs() < 1e-5);
    }

    #[test]
    fn vibrato_of_known_rate_and_depth_is_measured() {
        // 5.5 Hz, ±40 cents, on a rising line, sampled every 10 ms for 1 s.
        let c: Vec<f32> = (0..100)
            .map(|i| {
                let t = i as f32 * 0.01;
                100.0 + 30.0 * t + 40.0 * (std::f32::consts::TAU * 5.5 * t).sin()
            })
            .collect();
        let v = vibrato_at(&c, 0.01).expect("vibrato");
        assert!((v.rate_hz - 5.5).abs() < 0.2, "{v:?}");
        assert!((v.extent_cents - 40.0).abs() < 3.0, "{v:?}");
        // A steady pitch has none.
        assert_eq!(vibrato_at(&[200.0; 100], 0.01), None);
    }
}
