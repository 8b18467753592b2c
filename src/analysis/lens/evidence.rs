//! The sentence a segment carries: which measured cues, model terms and tagger labels
//! support it, in words a listener can check.

use super::*;

/// The words for a lane's evidence over a run of blocks.
pub(super) fn evidence(id: &str, cs: &[BlockCues], bends: &[Bend], start: f64, end: f64) -> String {
    let med = |g: &dyn Fn(&BlockCues) -> f32| {
        pct(&mut cs.iter().map(g).filter(|v| *v != 0.0).collect(), 0.5)
    };
    let vib = |s: &mut String| {
        let (r, e) = (med(&|c| c.vib_rate), med(&|c| c.vib_extent));
        if r.is_finite() && e.is_finite() && e > 20.0 {
            s.push_str(&format!("; vibrato {r:.1} Hz ±{e:.0} cents"));
        }
    };
    let mut s = match id {
        "korean.silk_plucked"
            if cs.iter().filter(|c| plucked_layer(c) >= 0.5).count() * 2 > cs.len() =>
        {
            let mut s = format!(
                "under the mix, about {:.0} plucked notes within 4 s whose partials ring away from \
                 the attack, {:.0} of them bending after it",
                med(&|c| c.plucks as f32),
                med(&|c| c.bent_plucks as f32)
            );
            // The largest bend heard during the segment (a block's context reaches 2 s out).
            if let Some((t, hz, cents)) = cs
                .iter()
                .filter_map(|c| c.pluck_bend)
                .filter(|b| (start..end).contains(&b.0))
                .max_by(|a, b| a.2.abs().total_cmp(&b.2.abs()))
            {
                s.push_str(&format!(
                    "; at {t:.2} s a note near {hz:.0} Hz {} {:.0} cents 160–360 ms after its \
                     attack, a harmonic with it",
                    if cents < 0.0 { "drops" } else { "rises" },
                    cents.abs()
                ));
            }
            s
        }
        "korean.silk_plucked" => {
            let mut s = format!(
                "plucked onsets whose level falls {:.0} dB within 300 ms while pitched",
                med(&|c| c.decay_db)
            );
            if let Some(b) = bends
                .iter()
                .filter(|b| {
                    b.onset_s >= start && b.onset_s < end && (15.0..=250.0).contains(&b.cents.abs())
                })
                .max_by(|a, b| a.cents.abs().total_cmp(&b.cents.abs()))
            {
                s = format!(
                    "after a plucked onset at {:.2} s the pitch {} {:.0} cents within {:.0} ms; {s}",
                    b.onset_s,
                    if b.cents < 0.0 { "drops" } else { "rises" },
                    b.cents.abs(),
                    b.after_ms
                );
            }
            s
        }
        "korean.bowed" => {
            // Hz, vibrato rate and extent, harmonics over fundamental of each block's line.
            let layer: Vec<[f32; 4]> = cs
                .iter()
                .filter(|c| bowed_layer(c) >= 0.5)
                .filter_map(|c| {
                    let p = c.vib_partial?;
                    let (rate, extent) = p.vibrato?;
                    Some([p.hz, rate, extent, p.upper_db.unwrap_or(f32::NAN)])
                })
                .collect();
            if layer.len() * 2 > cs.len() {
                let m = |k: usize| pct(&mut layer.iter().map(|x| x[k]).collect(), 0.5);
                format!(
                    "under the mix, a sustained line near {:.0} Hz swings {:.1} Hz ±{:.0} cents; \
                     its 2nd–4th harmonics carry {:.0} dB more than its fundamental (a nasal \
                     tone), little energy above 4 kHz ({:.0} dB)",
                    m(0),
                    m(1),
                    m(2),
                    m(3),
                    med(&|c| c.air_db)
                )
            } else {
                format!(
                    "sustained pitched tone ({:.0} Hz), little energy above 4 kHz ({:.0} dB)",
                    med(&|c| c.f0_hz),
                    med(&|c| c.air_db)
                )
            }
        }
        "korean.wind" => format!(
            "sustained pitched tone ({:.0} Hz) with breath noise: 2–8 kHz flatness {:.2}",
            med(&|c| c.f0_hz),
            med(&|c| c.high_flat)
        ),
        "korean.drum" => format!(
            "{:.1} strokes/s with low and sharp parts; onsets stray {:.0} ms from a grid{}",
            med(&|c| c.onset_rate),
            med(&|c| c.grid_dev_ms),
            if cs.iter().filter(|c| c.ternary).count() * 2 > cs.len() {
                "; ternary grouping"
            } else {
                ""
            }
        ),
        "korean.metal" => format!(
            "tonal but inharmonic partials in {:.0} % of frames",
            100.0 * med(&|c| c.inharmonic)
        ),
        "pop.sub_bass" => {
            let mut s = format!("30–80 Hz holds {:.0} dB of the level", med(&|c| c.sub_db));
            let g = cs.iter().map(|c| c.glides).max().unwrap_or(0);
            if g > 0 {
                s.push_str("; the bass pitch glides");
            }
            s
        }
        "pop.drum_machine" => {
            let dev = med(&|c| c.grid_dev_ms);
            if dev.is_finite() && dev <= 8.0 {
                format!(
                    "{:.1} onsets/s within {dev:.1} ms of a grid",
                    med(&|c| c.onset_rate)
                )
            } else {
                // The machine layer under looser playing (see `rigid_pulse`).
                format!(
                    "{:.1} hits/s sit within ±3 ms of a {:.2} s grid, on {:.0} % of its lines, among looser onsets",
                    med(&|c| c.pulse.map_or(0.0, |p| p.rate)),
                    med(&|c| c.pulse.map_or(0.0, |p| p.period_s)),
                    100.0 * med(&|c| c.pulse.map_or(0.0, |p| p.cover))
                )
            }
        }
        "pop.synth" => {
            let layered = cs.iter().filter(|c| c.held_partials >= 3).count();
            if layered * 2 >= cs.len() {
                format!(
                    "about {:.0} partials held at a steady pitch and level under a sequenced beat",
                    med(&|c| c.held_partials as f32)
                )
            } else {
                format!(
                    "pitch steady to {:.1} cents, no vibrato, static spectrum",
                    med(&|c| c.pitch_spread)
                )
            }
        }
        "pop.tuned_vocal" => format!(
            "{:.0} % of pitched frames within 10 cents of a semitone",
            100.0 * med(&|c| c.on_semitone)
        ),
        "pop.pumping" => {
            let p: Vec<(Pumping, Option<usize>)> = cs.iter().filter_map(best_pumping_in).collect();
            let per = pct(&mut p.iter().map(|(p, _)| p.period_s).collect(), 0.5);
            let dep = pct(&mut p.iter().map(|(p, _)| p.depth_db).collect(), 0.5);
            // Where the dips were heard: the band most blocks measured them in.
            let mut counts = [0usize; TIMBRE_BANDS + 1];
            for (_, k) in &p {
                counts[k.unwrap_or(TIMBRE_BANDS)] += 1;
            }
            let band = (0..counts.len())
                .max_by_key(|&k| counts[k])
                .unwrap_or(TIMBRE_BANDS);
            let level = if band < TIMBRE_BANDS {
                let (lo, hi) = lens_model::timbre_band_hz(band);
                format!("the {lo:.0}–{hi:.0} Hz level")
            } else {
                "the 200 Hz–4 kHz level".to_string()
            };
            format!("{level} dips {dep:.0} dB every {per:.2} s, falling fast and recovering slowly")
        }
        _ => String::new(),
    };
    if matches!(id, "korean.silk_plucked" | "korean.bowed" | "korean.wind") {
        vib(&mut s);
    }
    s
}

/// The cues that pushed the model's `class` most over a run of blocks, in words.
pub(super) fn model_evidence(m: &Model, class: usize, cs: &[BlockCues]) -> String {
    let mut total = vec![0.0f32; lens_model::N_FEATURES];
    let mut xs = vec![0.0f32; lens_model::N_FEATURES];
    let act: Vec<&BlockCues> = cs.iter().filter(|c| c.active >= 0.1).collect();
    for c in &act {
        let x = lens_model::vector(c);
        for (i, v) in m.contributions(class, &x) {
            total[i] += v / act.len() as f32;
        }
        for i in 0..lens_model::N_FEATURES {
            xs[i] += x[i] / act.len() as f32;
        }
    }
    let mut order: Vec<usize> = (0..total.len()).collect();
    order.sort_by(|a, b| total[*b].total_cmp(&total[*a]));
    let named: Vec<String> = order
        .iter()
        .take(3)
        .filter(|&&i| total[i] > 0.0)
        .map(|&i| {
            let high = xs[i] > m.mean[i];
            format!(
                "{} {} than usual",
                lens_model::feature_info(i).0,
                if high { "higher" } else { "lower" }
            )
        })
        .collect();
    if named.is_empty() {
        String::new()
    } else {
        format!("; cues that weighed most: {}", named.join(", "))
    }
}

/// What the tagger heard of lane `k`'s sound over a run of blocks: the strongest class of
/// the lane's group where it scored highest, with its score ("Zither 0.79"); `None` when the
/// track was not tagged.
pub(super) fn tagger_says(lane: LaneId, cs: &[BlockCues]) -> Option<String> {
    let g = lane.tagger_group()?;
    let (class, score) = cs
        .iter()
        .filter(|c| c.tagged)
        .map(|c| c.tags[g])
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    let name = tagger::labels().get(class)?;
    Some(format!("{name} {score:.2}"))
}
