//! From block scores to lanes: smoothing, hysteresis, the segments where a lane is
//! judged present, and which Korean scorer decides ([`KoreanBy`]).

use super::*;

/// Scores, smoothing and segmentation of all lanes; `bends` feed the evidence wording.
/// Korean lanes come from `model` when one is given, else from the hand-set rules.
pub fn score_lanes(blocks: &[BlockCues], bends: &[Bend], model: Option<&Model>) -> Vec<Lane> {
    score_lanes_with(blocks, bends, model, Model::builtin_for(true))
}

/// [`score_lanes`] with `family` (if any) naming the Korean family of the blocks the tagger
/// heard, where the app uses the shipped tagged model (cross-validation passes its own).
pub fn score_lanes_with(
    blocks: &[BlockCues],
    bends: &[Bend],
    model: Option<&Model>,
    family: Option<&Model>,
) -> Vec<Lane> {
    let korean = match model {
        Some(signal) => KoreanBy::Model { signal, family },
        None => KoreanBy::Rules,
    };
    score_lanes_by(blocks, bends, korean)
}

/// Where the Korean lanes' scores come from.
#[derive(Clone, Copy)]
pub enum KoreanBy<'a> {
    /// The hand-set rules.
    Rules,
    /// The cue model, with the model that names the family where the tagger heard a block.
    Model {
        signal: &'a Model,
        family: Option<&'a Model>,
    },
    /// Scores made elsewhere (a learned head), one row of the five Korean lanes per block.
    Given(&'a [[f32; N_KOREAN]]),
}

/// Scores, smoothing and segmentation of all lanes, the Korean ones from `korean`.
pub fn score_lanes_by(blocks: &[BlockCues], bends: &[Bend], korean: KoreanBy) -> Vec<Lane> {
    let model = match korean {
        KoreanBy::Model { signal, .. } => Some(signal),
        _ => None,
    };
    let learned = !matches!(korean, KoreanBy::Rules);
    // What the partials show of a plucked and a bowed line under the mix: evidence of its own
    // family that stands whichever family is likeliest overall (a gayageum plays against a
    // haegeum, a janggu accompanies both).
    use LaneId as L;
    let under: Vec<[f32; N_KOREAN]> = blocks
        .iter()
        .map(|c| {
            let act = ramp(c.active, 0.1, 0.4);
            let mut u = [0.0; N_KOREAN];
            u[L::SilkPlucked.index()] = plucked_layer(c) * act;
            u[L::Bowed.index()] = bowed_layer(c) * act;
            u
        })
        .collect();
    let raw: Vec<[f32; N_LANES]> = blocks
        .iter()
        .zip(&under)
        .enumerate()
        .map(|(i, (c, u))| {
            let mut r = lane_scores(c);
            let learned_k = match korean {
                KoreanBy::Rules => None,
                KoreanBy::Model { signal, family } => Some(model_scores(signal, family, c)),
                KoreanBy::Given(rows) => Some(rows.get(i).copied().unwrap_or_default()),
            };
            if let Some(mut k) = learned_k {
                let act = ramp(c.active, 0.1, 0.4);
                // Nonghyeon, the bend after a pluck, is the plucked lane's own idiom: where
                // it is measured on real plucks (the rule's decay and onset checks), the
                // rule's score stands even if the fitted weights, which saw few, say less.
                if c.bend_share >= 0.25 {
                    let i = L::SilkPlucked.index();
                    k[i] = k[i].max(r[i]);
                }
                // So is a bowed vibrato heard under the mix, which the block's own cues,
                // measured on the mix as a whole, cannot show the weights.
                for (k, u) in k.iter_mut().zip(u) {
                    *k = k.max(*u);
                }
                r[..N_KOREAN].copy_from_slice(&k);
                // A sound the Korean lanes explain is not also counted as its pop look-alike:
                // a held gayageum, haegeum or daegeum note is not a synth, a janggu's low
                // stroke not an 808, a human drummer's steady beat not a drum machine.
                let sum = |lanes: &[LaneId]| lanes.iter().map(|l| k[l.index()]).sum::<f32>();
                let melodic = sum(&[L::SilkPlucked, L::Bowed, L::Wind]).min(1.0);
                let struck = sum(&[L::Drum, L::Metal]).min(1.0);
                r[L::SubBass.index()] *= 1.0 - struck;
                r[L::DrumMachine.index()] *= 1.0 - struck;
                // Partials held at a steady pitch and level under a programmed beat are
                // none of those: a plucked or bowed note's partials fall or waver.
                let synth = L::Synth.index();
                r[synth] = (r[synth] * (1.0 - melodic)).max(held_layer(c) * act);
                r[L::TunedVocal.index()] *= 1.0 - melodic;
                // A ducked pad's own band dipping on the beat is no melodic line's doing;
                // the level of the whole mid range may be.
                let whole = [c.pumping, c.beat_pumping]
                    .into_iter()
                    .flatten()
                    .map(|p| pump_score(&p))
                    .fold(0.0, f32::max);
                let band = c.band_pumping.map_or(0.0, |(p, _)| pump_score(&p));
                r[L::Pumping.index()] =
                    (whole * act * (1.0 - melodic.max(struck))).max(band * act * (1.0 - struck));
            }
            r
        })
        .collect();
    // Every lane, and the layers, smoothed over ±0.3 s.
    let smooth = smoothed(&raw);
    let under = smoothed(&under);
    // Per block: the Korean lanes together, and the likeliest of them.
    let korean: Vec<(f32, usize)> = smooth
        .iter()
        .map(|m| {
            let best = (0..N_KOREAN)
                .max_by(|x, y| m[*x].total_cmp(&m[*y]))
                .unwrap_or(0);
            (m[..N_KOREAN].iter().sum(), best)
        })
        .collect();
    LaneId::ALL
        .into_iter()
        .map(|lane| {
            let (k, info) = (lane.index(), lane.info());
            let scores: Vec<f32> = smooth
                .iter()
                .map(|m| (m[k] * 100.0).round() / 100.0)
                .collect();
            // Korean lanes from the model are judged in two steps: is a Korean timbre
            // present (the Korean probabilities together), and which family is likeliest.
            let presence: Vec<f32> = if learned && info.family == Family::Korean {
                korean
                    .iter()
                    .zip(&scores)
                    .zip(&under)
                    .map(|((&(sum, best), &own), u)| {
                        if best == k {
                            sum
                        } else {
                            own.min(0.39).max(u[k])
                        }
                    })
                    .collect()
            } else {
                scores.clone()
            };
            let segments = segments_of(&presence)
                .into_iter()
                .map(|(a, b)| {
                    let (start, end) = (a as f64 * LANE_HOP_S, b as f64 * LANE_HOP_S);
                    let score = scores[a..b].iter().sum::<f32>() / (b - a) as f32;
                    let mut ev = evidence(info.id, &blocks[a..b], bends, start, end);
                    if let Some(t) = tagger_says(lane, &blocks[a..b]) {
                        ev = format!("tagger: {t}; signal: {ev}");
                    }
                    if let (Some(m), Some(class)) = (model, lane.class()) {
                        ev.push_str(&model_evidence(m, class, &blocks[a..b]));
                    }
                    ev.push_str(" (a hint, not a verdict)");
                    Segment {
                        start_s: start,
                        end_s: end,
                        score: (score * 100.0).round() / 100.0,
                        evidence: ev,
                        closest: Vec::new(),
                    }
                })
                .collect();
            Lane {
                id: info.id,
                family: info.family,
                label: info.label,
                hop_s: LANE_HOP_S,
                scores,
                segments,
            }
        })
        .collect()
}

/// Each column's mean over the blocks within ±0.3 s.
pub(super) fn smoothed<const N: usize>(rows: &[[f32; N]]) -> Vec<[f32; N]> {
    let n = rows.len();
    (0..n)
        .map(|i| {
            let (a, b) = (i.saturating_sub(3), (i + 4).min(n));
            let mut m = [0.0f32; N];
            for r in &rows[a..b] {
                for (acc, v) in m.iter_mut().zip(r) {
                    *acc += v;
                }
            }
            m.map(|v| v / (b - a) as f32)
        })
        .collect()
}

/// Runs above 0.5 (entered at 0.5, left below 0.4), gaps under 0.5 s bridged, at least 0.5 s long.
pub(super) fn segments_of(scores: &[f32]) -> Vec<(usize, usize)> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut start = None;
    for (i, &s) in scores.iter().enumerate() {
        match start {
            None if s >= 0.5 => start = Some(i),
            Some(a) if s < 0.4 => {
                runs.push((a, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(a) = start {
        runs.push((a, scores.len()));
    }
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for r in runs {
        match merged.last_mut() {
            Some(last) if r.0 - last.1 < 5 => last.1 = r.1,
            _ => merged.push(r),
        }
    }
    merged.retain(|(a, b)| b - a >= 5);
    merged
}
