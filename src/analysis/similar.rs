//! "Find similar": the regions of a track whose timbre is closest to a chosen one.
//!
//! Each 0.1 s block of the lens has a timbre descriptor: its spectral envelope (20 log
//! bands) and a few cues (pitched share, periodicity, noisiness, brightness, onset rate).
//! Each dimension is standardised over the track, windows as long as the query are
//! averaged (prefix sums, so any length costs the same), and windows are ranked by their
//! distance to the query's average; matches never overlap the query or each other.
//! Once the tagger has heard the track, its hidden features (per 0.5 s) take the place of
//! the descriptor: the same measure the reference library is searched by.

use super::features::TIMBRE_BANDS;
use super::lens::{BlockCues, LANE_HOP_S};
use super::model::column_stats;
use super::tagger::Embedding;

const DIMS: usize = TIMBRE_BANDS + 6;

/// A region found by [`find_similar`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match {
    pub start_s: f64,
    pub end_s: f64,
    /// 1 for an identical timbre, falling towards 0 with distance.
    pub score: f32,
}

fn descriptor(c: &BlockCues) -> [f32; DIMS] {
    let fin = |x: f32| if x.is_finite() { x } else { 0.0 };
    let mut d = [0.0f32; DIMS];
    for k in 0..TIMBRE_BANDS {
        d[k] = if c.shape[k].is_finite() {
            c.shape[k] / 10.0
        } else {
            -6.0
        };
    }
    d[TIMBRE_BANDS] = c.voiced;
    d[TIMBRE_BANDS + 1] = fin(c.harmonicity);
    d[TIMBRE_BANDS + 2] = fin(c.flatness).sqrt();
    d[TIMBRE_BANDS + 3] = fin(c.high_flat);
    d[TIMBRE_BANDS + 4] = (fin(c.centroid_hz).max(50.0) / 1000.0).log2();
    d[TIMBRE_BANDS + 5] = (c.onset_rate / 4.0).min(2.0);
    d
}

/// Up to `count` regions as long as `[from_s, to_s)` whose timbre is closest to it, best first.
pub fn find_similar(blocks: &[BlockCues], from_s: f64, to_s: f64, count: usize) -> Vec<Match> {
    let desc: Vec<[f32; DIMS]> = blocks.iter().map(descriptor).collect();
    let active: Vec<f32> = blocks.iter().map(|c| c.active).collect();
    rank(&desc, &active, LANE_HOP_S, from_s, to_s, count)
}

/// [`find_similar`] over the tagger's hidden features (`timbre`, one per `hop_s`), with
/// the blocks saying where the track sounds; frames the tagger did not hear count as
/// silence.
pub fn find_similar_by_timbre(
    blocks: &[BlockCues],
    timbre: &[Option<Embedding>],
    hop_s: f64,
    from_s: f64,
    to_s: f64,
    count: usize,
) -> Vec<Match> {
    let (mean, _) = column_stats(timbre.iter().flatten());
    let desc: Vec<Embedding> = timbre.iter().map(|e| e.unwrap_or(mean)).collect();
    let per = (hop_s / LANE_HOP_S).round().max(1.0) as usize;
    let active: Vec<f32> = timbre
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let b = blocks
                .get(i * per..((i + 1) * per).min(blocks.len()))
                .unwrap_or(&[]);
            match (e, b.len()) {
                (Some(_), n) if n > 0 => b.iter().map(|c| c.active).sum::<f32>() / n as f32,
                _ => 0.0,
            }
        })
        .collect();
    rank(&desc, &active, hop_s, from_s, to_s, count)
}

/// Windows of `desc` (one row per `hop_s`) as long as the query, ranked by the distance of
/// their mean to the query's over dimensions standardised across the track.
fn rank<const N: usize>(
    desc: &[[f32; N]],
    active: &[f32],
    hop_s: f64,
    from_s: f64,
    to_s: f64,
    count: usize,
) -> Vec<Match> {
    let n = desc.len().min(active.len());
    let (a, b) = (from_s.min(to_s), from_s.max(to_s));
    let q0 = ((a / hop_s).round().max(0.0) as usize).min(n);
    let q1 = ((b / hop_s).round() as usize).min(n);
    let w = q1.saturating_sub(q0);
    if w == 0 || w > n / 2 {
        return Vec::new();
    }
    // Standardise each dimension over the track.
    let (mean, sd) = column_stats(desc[..n].iter());
    // Prefix sums of the standardised descriptors and of activity.
    let mut pre = vec![[0.0f64; N]; n + 1];
    let mut act = vec![0.0f64; n + 1];
    for i in 0..n {
        for k in 0..N {
            pre[i + 1][k] = pre[i][k] + ((desc[i][k] - mean[k]) / sd[k]) as f64;
        }
        act[i + 1] = act[i] + active[i] as f64;
    }
    let window = |s: usize| -> [f64; N] {
        let mut m = [0.0f64; N];
        for k in 0..N {
            m[k] = (pre[s + w][k] - pre[s][k]) / w as f64;
        }
        m
    };
    let query = window(q0);
    let query_active = (act[q1] - act[q0]) / w as f64;
    let mut ranked: Vec<(f64, usize)> = (0..=n - w)
        .filter(|&s| {
            // A sounding query is not matched by silence.
            query_active < 0.3 || (act[s + w] - act[s]) / w as f64 >= 0.3
        })
        .map(|s| {
            let m = window(s);
            let d2: f64 = (0..N).map(|k| (m[k] - query[k]).powi(2)).sum();
            ((d2 / N as f64).sqrt(), s)
        })
        .collect();
    ranked.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut taken: Vec<(usize, usize)> = vec![(q0, q1)];
    let mut out = Vec::new();
    for (dist, s) in ranked {
        if out.len() >= count {
            break;
        }
        if taken.iter().any(|&(x, y)| s < y && s + w > x) {
            continue;
        }
        taken.push((s, s + w));
        out.push(Match {
            start_s: s as f64 * hop_s,
            end_s: (s + w) as f64 * hop_s,
            score: (1.0 / (1.0 + dist)) as f32,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::lens::analyze;
    use crate::audio::PcmStore;

    #[test]
    fn a_tone_finds_the_other_tone_before_the_noise() {
        // 2 s sections: noise, tone, noise, tone, noise, clicks.
        let rate = 22_050u32;
        let mut seed = 3u64;
        let x: Vec<f32> = (0..rate as usize * 12)
            .map(|i| {
                let t = i as f32 / rate as f32;
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let noise = ((seed >> 40) as f32 / (1u64 << 24) as f32) - 0.5;
                match (t / 2.0) as usize {
                    1 | 3 => {
                        0.3 * (2.0 * std::f32::consts::PI * 330.0 * t).sin()
                            + 0.1 * (2.0 * std::f32::consts::PI * 660.0 * t).sin()
                    }
                    5 => {
                        if (t * 4.0).fract() < 0.01 {
                            0.8
                        } else {
                            0.0
                        }
                    }
                    _ => 0.4 * noise,
                }
            })
            .collect();
        let a = analyze(&PcmStore::from_interleaved(rate, 1, &x));
        let found = find_similar(&a.blocks, 2.5, 3.5, 3);
        assert_eq!(found.len(), 3, "{found:?}");
        let best = found[0];
        assert!(
            best.start_s >= 6.0 && best.end_s <= 8.0,
            "the best match lies in the other tone (6–8 s): {found:?}"
        );
        assert!(found[0].score >= found[1].score && found[1].score >= found[2].score);
        for m in &found {
            assert!(
                m.end_s <= 2.5 || m.start_s >= 3.5,
                "overlaps the query: {m:?}"
            );
            assert!((m.end_s - m.start_s - 1.0).abs() < 1e-9);
        }
        for (i, m) in found.iter().enumerate() {
            for o in &found[i + 1..] {
                assert!(m.end_s <= o.start_s || o.end_s <= m.start_s, "{found:?}");
            }
        }
    }

    #[test]
    fn with_the_taggers_features_a_region_finds_the_one_that_sounds_the_same() {
        // 20 frames of 0.5 s: timbre A at 2–4 s and 7–9 s, B elsewhere, one frame unheard.
        let e = |d: usize| -> Embedding { std::array::from_fn(|k| if k == d { 2.0 } else { 0.1 }) };
        let timbre: Vec<Option<Embedding>> = (0..20)
            .map(|i| match i {
                4..=7 | 14..=17 => Some(e(3)),
                11 => None,
                _ => Some(e(40 + i % 3)),
            })
            .collect();
        let blocks = vec![
            BlockCues {
                active: 1.0,
                ..Default::default()
            };
            100
        ];
        let found = find_similar_by_timbre(&blocks, &timbre, 0.5, 2.0, 4.0, 2);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!((found[0].start_s, found[0].end_s), (7.0, 9.0), "{found:?}");
        assert!(found[0].score > found[1].score);
        // Where nothing was heard, the blocks' activity cannot make a frame sound.
        let quiet = vec![BlockCues::default(); 100];
        assert!(find_similar_by_timbre(&quiet, &timbre, 0.5, 2.0, 4.0, 2).len() == 2);
    }

    #[test]
    fn an_empty_or_too_long_query_finds_nothing() {
        let blocks = vec![BlockCues::default(); 50];
        assert!(find_similar(&blocks, 1.0, 1.0, 5).is_empty());
        assert!(find_similar(&blocks, 0.0, 4.0, 5).is_empty());
    }
}
