//! The lens on synthesized signals with known answers.

use super::*;
use crate::analysis::cues;
use crate::audio::PcmStore;
use std::f32::consts::PI;

const RATE: u32 = 22_050;

fn run(x: &[f32]) -> Analysis {
    analyze(&PcmStore::from_interleaved(RATE, 1, x))
}
fn lane<'a>(a: &'a Analysis, id: &str) -> &'a Lane {
    a.lanes
        .iter()
        .find(|l| l.id == id)
        .expect("every lane is present")
}
/// Mean score of a lane between two times.
fn mean_between(l: &Lane, from: f64, to: f64) -> f32 {
    let (a, b) = (
        (from / l.hop_s) as usize,
        ((to / l.hop_s) as usize).min(l.scores.len()),
    );
    l.scores[a..b].iter().sum::<f32>() / (b - a).max(1) as f32
}
/// Deterministic noise in −1 … 1.
fn noise(seed: &mut u64) -> f32 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    ((*seed >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
}

#[test]
fn given_korean_scores_drive_the_korean_lanes_and_their_segments() {
    // 6 s of active blocks; a head says "bowed" at 0.9 from 1 to 4 s and nothing else.
    let blocks = vec![
        BlockCues {
            active: 1.0,
            ..Default::default()
        };
        60
    ];
    let given: Vec<[f32; 5]> = (0..60)
        .map(|i| {
            if (10..40).contains(&i) {
                [0.0, 0.9, 0.0, 0.0, 0.0]
            } else {
                [0.0; 5]
            }
        })
        .collect();
    let lanes = score_lanes_by(&blocks, &[], KoreanBy::Given(&given));
    let bowed = lanes.iter().find(|l| l.id == "korean.bowed").expect("lane");
    assert_eq!(bowed.segments.len(), 1, "{:?}", bowed.segments);
    let seg = &bowed.segments[0];
    assert!(
        (seg.start_s - 1.0).abs() <= 0.31 && (seg.end_s - 4.0).abs() <= 0.31,
        "{seg:?}"
    );
    assert!(mean_between(bowed, 1.5, 3.5) > 0.8);
    for l in lanes
        .iter()
        .filter(|l| l.family == Family::Korean && l.id != "korean.bowed")
    {
        assert!(l.segments.is_empty(), "{}: {:?}", l.id, l.segments);
    }
    // The same blocks by the rules: no bowed segment from nothing.
    let rules = score_lanes_by(&blocks, &[], KoreanBy::Rules);
    let bowed = rules.iter().find(|l| l.id == "korean.bowed").expect("lane");
    assert!(bowed.segments.is_empty());
}

#[test]
fn sliding_percentiles_match_a_fresh_sort_of_each_window() {
    // Two measurements with repeated values, NaNs and excluded frames; windows that
    // overlap, jump past the last one, shrink at the end and stand empty.
    let mut seed = 7u64;
    let vals: Vec<[f32; 2]> = (0..600)
        .map(|i| {
            let a = (noise(&mut seed) * 8.0).round();
            let b = if i % 17 == 0 {
                f32::NAN
            } else {
                noise(&mut seed)
            };
            [a, b]
        })
        .collect();
    let include = |i: usize| i % 5 != 3;
    let mut sl = Sliding::new(2, |k, i| vals[i][k], include);
    let windows = [
        (0, 0),
        (0, 40),
        (10, 60),
        (30, 90),
        (200, 260),
        (250, 300),
        (590, 600),
    ];
    for (lo, hi) in windows {
        sl.slide(lo, hi);
        for (k, col) in sl.cols.iter().enumerate() {
            for q in [0.03, 0.1, 0.5, 0.9, 0.95] {
                let mut fresh: Vec<f32> = (lo..hi)
                    .filter(|&i| include(i))
                    .map(|i| vals[i][k])
                    .collect();
                let (want, got) = (pct(&mut fresh, q), col.pct(q));
                assert!(
                    want.to_bits() == got.to_bits() || (want.is_nan() && got.is_nan()),
                    "window {lo}..{hi}, column {k}, q {q}: {got} vs {want}"
                );
            }
        }
    }
}

/// Plucked notes (decaying harmonics) every 0.6 s; `bend` cents reached 200 ms after the attack.
fn plucks(bend: f32) -> Vec<f32> {
    let mut x = vec![0.0f32; RATE as usize * 5];
    for k in 0..7 {
        let start = (0.2 + k as f32 * 0.6) * RATE as f32;
        let f0 = 293.66;
        let mut phase = 0.0f32;
        for i in 0..(0.58 * RATE as f32) as usize {
            let t = i as f32 / RATE as f32;
            let c = if t < 0.08 {
                0.0
            } else {
                bend * ((t - 0.08) / 0.12).min(1.0)
            };
            phase += 2.0 * PI * f0 * 2f32.powf(c / 1200.0) / RATE as f32;
            let env = (-t / 0.35).exp() * (1.0 - (-t / 0.002).exp());
            let s: f32 = (1..6).map(|h| (h as f32 * phase).sin() / h as f32).sum();
            x[start as usize + i] += 0.4 * env * s;
        }
    }
    x
}

#[test]
fn a_pluck_that_bends_40_cents_is_flagged_and_a_fixed_one_is_not() {
    let bent = run(&plucks(-40.0));
    let drops: Vec<f32> = bent.bends.iter().map(|b| b.cents).collect();
    assert!(drops.len() >= 5, "{drops:?}");
    for d in &drops {
        assert!((d + 40.0).abs() < 10.0, "bend {d} vs −40: {drops:?}");
    }
    let seg = &lane(&bent, "korean.silk_plucked").segments;
    assert!(
        !seg.is_empty(),
        "the bending plucks make a plucked-string segment"
    );
    assert!(seg[0].evidence.contains("drops"), "{}", seg[0].evidence);

    let fixed = run(&plucks(0.0));
    for b in &fixed.bends {
        assert!(
            b.cents.abs() < 8.0,
            "a fixed pluck must not bend: {}",
            b.cents
        );
    }
    assert!(
        mean_between(lane(&fixed, "korean.silk_plucked"), 0.5, 4.0)
            < mean_between(lane(&bent, "korean.silk_plucked"), 0.5, 4.0),
        "bends raise the plucked-string score"
    );
}

/// Kick-like hits on 8th notes at 120 BPM, each moved by up to ±`jitter_ms` at random.
fn kicks(jitter_ms: f32) -> Vec<f32> {
    let mut x = vec![0.0f32; RATE as usize * 10];
    let mut seed = 7u64;
    let mut k = 0;
    loop {
        let t = 0.1 + k as f32 * 0.25 + jitter_ms / 1000.0 * noise(&mut seed);
        let s = (t * RATE as f32) as usize;
        if s + 4000 >= x.len() {
            break;
        }
        let mut phase = 0.0f32;
        for i in 0..4000 {
            let tt = i as f32 / RATE as f32;
            phase += 2.0 * PI * (50.0 + 120.0 * (-tt / 0.03).exp()) / RATE as f32;
            let fade = ((4000 - i) as f32 / 400.0).min(1.0); // no click at the cut
            x[s + i] += fade
                * (0.7 * (-tt / 0.06).exp() * phase.sin()
                    + 0.2 * (-tt / 0.004).exp() * noise(&mut seed));
        }
        k += 1;
    }
    x
}

#[test]
fn a_quantized_kick_scores_as_drum_machine_and_a_jittered_one_clearly_lower() {
    let q = run(&kicks(0.0));
    let j = run(&kicks(25.0));
    let (sq, sj) = (
        mean_between(lane(&q, "pop.drum_machine"), 2.0, 8.0),
        mean_between(lane(&j, "pop.drum_machine"), 2.0, 8.0),
    );
    assert!(sq > 0.6, "quantized: {sq}");
    assert!(sj < sq - 0.3, "jittered {sj} vs quantized {sq}");
    assert!(q.grid.is_some_and(|g| g.deviation_ms < 6.0), "{:?}", q.grid);
}

#[test]
fn a_quantized_kick_under_loose_plucks_still_reads_as_a_drum_machine() {
    // The kicks of the test above on every beat (0.5 s), plus a plucked melody in free
    // time: the onsets' intervals no longer fit a grid, the kick layer still does.
    let mut seed = 11u64;
    let mut x = kicks(0.0);
    let plucks = plucks(0.0);
    for (k, v) in x.iter_mut().enumerate() {
        let t = k as f32 / RATE as f32;
        // Drop the off-beat kicks so the machine layer is a quarter-note kick only.
        if (t - 0.1).rem_euclid(0.5) > 0.25 {
            *v = 0.0;
        }
    }
    // One plucked note, placed at irregular times (gaps of 0.2-0.45 s) like a free melody.
    let note = &plucks[(0.2 * RATE as f32) as usize..(0.75 * RATE as f32) as usize];
    let mut at = 0.33f32;
    while ((at * RATE as f32) as usize) + note.len() < x.len() {
        let s0 = (at * RATE as f32) as usize;
        for (k, p) in note.iter().enumerate() {
            x[s0 + k] += 0.8 * p;
        }
        at += 0.325 + 0.125 * noise(&mut seed);
    }
    let a = run(&x);
    let m = mean_between(lane(&a, "pop.drum_machine"), 2.0, 4.0);
    assert!(m > 0.5, "drum machine under plucks: {m}");
    let p = a.blocks[30].pulse.expect("the kick layer is found");
    let seg = &lane(&a, "pop.drum_machine").segments;
    assert!(
        seg.iter().any(|s| s.evidence.contains("within ±3 ms")),
        "the evidence names the rigid layer: {seg:?}"
    );
    assert!(
        (p.period_s - 0.5).abs() < 0.01 || (p.period_s - 1.0).abs() < 0.02,
        "{p:?}"
    );
}

#[test]
fn rigid_pulse_finds_a_sequenced_layer_and_not_a_human_one() {
    let mut seed = 5u64;
    // 120 BPM kick on every beat for 8 s, plus 12 onsets of a melody at random times.
    let mut machine: Vec<f64> = (0..16).map(|k| 0.2 + k as f64 * 0.5).collect();
    machine.extend((0..12).map(|_| 4.0 + 4.0 * noise(&mut seed) as f64));
    machine.sort_by(|a, b| a.total_cmp(b));
    let p = cues::rigid_pulse(&machine, 0.5, 0.0, 8.0).expect("a sequenced kick is a pulse");
    assert!(p.cover > 0.9 && (p.rate - 2.0).abs() < 0.2, "{p:?}");
    // A drummer on the same beats, each hit up to ±20 ms off.
    let human: Vec<f64> = (0..16)
        .map(|k| 0.2 + k as f64 * 0.5 + 0.02 * noise(&mut seed) as f64)
        .collect();
    let h = cues::rigid_pulse(&human, 0.5, 0.0, 8.0);
    assert!(h.is_none_or(|h| h.cover < 0.6), "{h:?}");
}

/// A bowed-like line under a louder 808 and kick: long notes around 600 Hz with a
/// vibrato of `rate` Hz, ±`extent` cents; `nasal`: harmonics near 1.5 kHz louder than
/// the fundamental (else a pure tone, as a flute or a sine lead).
fn line_under_a_beat(rate: f32, extent: f32, nasal: bool) -> Vec<f32> {
    let notes = [587.33f32, 659.25, 523.25, 587.33];
    let mut ph = 0.0f32;
    let mut sub = 0.0f32;
    (0..RATE * 12)
        .map(|i| {
            let t = i as f32 / RATE as f32;
            let (k, tn) = ((t / 3.0) as usize, t % 3.0);
            let vib = extent * (2.0 * PI * rate * tn).sin() * (tn / 0.4).min(1.0);
            ph = (ph + notes[k % 4] * 2f32.powf(vib / 1200.0) / RATE as f32).fract();
            let env = (tn / 0.08).min(1.0) * ((3.0 - tn) / 0.1).min(1.0);
            let line: f32 = if nasal {
                (1..=8)
                    .map(|h| {
                        let fk = notes[k % 4] * h as f32;
                        let formant = 1.0 + 2.5 * (-((fk - 1500.0) / 500.0).powi(2)).exp();
                        (2.0 * PI * ph * h as f32).sin() * formant / h as f32
                    })
                    .sum()
            } else {
                (2.0 * PI * ph).sin()
            };
            sub += 2.0 * PI * 48.0 / RATE as f32;
            let since = t % 0.625;
            let kick = (2.0 * PI * 60.0 * since).sin() * (-since / 0.15).exp();
            0.08 * env * line + 0.3 * sub.sin() + 0.4 * kick
        })
        .collect()
}

/// Plucked notes of 262–523 Hz on every beat of a louder kick and 48 Hz sub (each up to
/// 15 ms off the beat), harmonics 1–8 dying away at `decay` + 0.9·h per second; each note
/// moves by `bend` cents from 150 to 270 ms after its attack.
fn plucks_under_a_beat(bend: f32, decay: f32) -> Vec<f32> {
    let notes = [261.63f32, 293.66, 349.23, 392.0, 440.0, 523.25];
    let mut x = vec![0.0f32; RATE as usize * 12];
    let mut seed = 3u64;
    for (k, at) in (0..19).map(|k| (k, 0.3 + k as f32 * 0.625)) {
        let at = at + 0.015 * noise(&mut seed);
        let f0 = notes[k % notes.len()];
        let mut ph = [0.0f32; 8];
        let n0 = (at * RATE as f32) as usize;
        for i in 0..(2.0 * RATE as f32) as usize {
            let t = i as f32 / RATE as f32;
            let u = ((t - 0.15) / 0.12).clamp(0.0, 1.0);
            let f = f0 * 2f32.powf(bend * u * u * (3.0 - 2.0 * u) / 1200.0);
            let mut v = 0.0;
            for (h, p) in ph.iter_mut().enumerate() {
                let h = (h + 1) as f32;
                *p = (*p + f * h / RATE as f32).fract();
                v += (2.0 * PI * *p).sin() * (-t * (decay + 0.9 * h)).exp() / h.powf(1.1);
            }
            if let Some(s) = x.get_mut(n0 + i) {
                *s += 0.1 * v * (t / 0.003).min(1.0);
            }
        }
    }
    let mut sub = 0.0f32;
    for (i, s) in x.iter_mut().enumerate() {
        let t = i as f32 / RATE as f32;
        sub += 2.0 * PI * 48.0 / RATE as f32;
        let since = (t - 0.3).rem_euclid(0.625);
        *s += 0.3 * sub.sin() + 0.4 * (2.0 * PI * 60.0 * since).sin() * (-since / 0.15).exp();
    }
    x
}

#[test]
fn plucks_that_bend_after_the_attack_are_heard_under_a_beat() {
    let layer = |a: &Analysis| {
        let b = &a.blocks[20..100];
        b.iter().map(plucked_layer).sum::<f32>() / b.len() as f32
    };
    let a = run(&plucks_under_a_beat(-40.0, 1.5));
    // The mono pitch track follows the bass, not the plucks.
    assert!(a.bends.len() < 3, "{:?}", a.bends);
    assert!(layer(&a) > 0.5, "{}", layer(&a));
    let seg = &lane(&a, "korean.silk_plucked").segments;
    assert!(
        seg.iter().any(|s| s.evidence.contains("under the mix")
            && s.evidence.contains("drops")
            && s.end_s - s.start_s > 5.0),
        "{seg:?}"
    );
    // The same plucks at a fixed pitch (a guitar, a harp, a synth pluck), and a tom whose
    // pitch falls as it dies within a fraction of a second, are not.
    let fixed = layer(&run(&plucks_under_a_beat(0.0, 1.5)));
    assert!(fixed < 0.1, "fixed pitch: {fixed}");
    let tom = layer(&run(&plucks_under_a_beat(-40.0, 12.0)));
    assert!(tom < 0.1, "fast decay: {tom}");
}

/// Mean [`bowed_layer`] over 2–10 s.
fn bowed_layer_mean(a: &Analysis) -> f32 {
    let b = &a.blocks[20..100];
    b.iter().map(bowed_layer).sum::<f32>() / b.len() as f32
}

#[test]
fn a_nasal_line_with_a_slow_wide_vibrato_is_heard_as_bowed_under_a_beat() {
    let a = run(&line_under_a_beat(4.0, 90.0, true));
    let v = a.blocks[20..100]
        .iter()
        .filter_map(|c| c.vib_partial?.vibrato)
        .collect::<Vec<_>>();
    assert!(
        v.len() > 40,
        "the line's vibrato is followed under the beat: {v:?}"
    );
    let (r, e) = v[v.len() / 2];
    assert!(
        (r - 4.0).abs() < 0.4 && (e - 90.0).abs() < 20.0,
        "{r} Hz ±{e}"
    );
    assert!(bowed_layer_mean(&a) > 0.5, "{}", bowed_layer_mean(&a));
    let seg = &lane(&a, "korean.bowed").segments;
    assert!(
        seg.iter()
            .any(|s| s.evidence.contains("under the mix") && s.end_s - s.start_s > 3.0),
        "{seg:?}"
    );
}

#[test]
fn a_pure_tone_or_a_fast_vibrato_is_not_heard_as_bowed() {
    // The same vibrato on a tone without upper harmonics (a flute, a sine lead): no
    // timbral evidence.
    let pure = bowed_layer_mean(&run(&line_under_a_beat(4.0, 90.0, false)));
    assert!(pure < 0.1, "pure tone: {pure}");
    // A singer's faster, narrower vibrato on the nasal tone.
    let sung = bowed_layer_mean(&run(&line_under_a_beat(6.5, 40.0, true)));
    assert!(sung < 0.1, "6.5 Hz ±40 cents: {sung}");
}

/// A sawtooth A-major pad at time `t`, ducked at the start of every `period` and
/// recovering over the next 150 ms (a sidechain's pumping).
fn ducked_pad(t: f32, period: f32) -> f32 {
    let saw = |f: f32| 2.0 * ((t * f).fract()) - 1.0;
    let pad = (saw(220.0) + saw(277.18) + saw(329.63)) / 3.0;
    let ph = (t % period) / period;
    pad * (1.0 - 0.8 * (-ph / 0.15).exp())
}

#[test]
fn a_sidechain_pumped_pad_is_found_with_its_period() {
    let period = 0.5f32;
    let x: Vec<f32> = (0..RATE * 10)
        .map(|i| 0.4 * ducked_pad(i as f32 / RATE as f32, period))
        .collect();
    let a = run(&x);
    let l = lane(&a, "pop.pumping");
    assert!(mean_between(l, 2.0, 8.0) > 0.5, "{:?}", &l.scores[20..80]);
    let p = cues::pumping_in(&cues::mid_level(&a.features)[200..800]).expect("pumping measured");
    assert!((p.period_s - period).abs() < 0.03, "period {}", p.period_s);
    assert!(
        l.segments.iter().any(|s| s.evidence.contains("0.50 s")),
        "{:?}",
        l.segments
    );
}

#[test]
fn a_pumped_pad_under_a_louder_steady_line_is_found_in_its_own_band() {
    // The pad (220–330 Hz, ducked on every beat of a 50 Hz kick) lies 12 dB under a
    // steady 1.8 kHz line that fills the rest of the mid range, so the level of the whole
    // 200 Hz–4 kHz region hardly moves; the pad's own band still dips.
    let period = 0.5f32;
    let x: Vec<f32> = (0..RATE * 10)
        .map(|i| {
            let t = i as f32 / RATE as f32;
            let since = t % period;
            let kick = (2.0 * PI * 50.0 * since).sin() * (-since / 0.08).exp();
            let line = (2.0 * PI * 1800.0 * t).sin();
            0.1 * ducked_pad(t, period) + 0.4 * line + 0.4 * kick
        })
        .collect();
    let a = run(&x);
    let whole = a.blocks[20..80]
        .iter()
        .filter_map(|c| {
            [c.pumping, c.beat_pumping]
                .into_iter()
                .flatten()
                .map(|p| pump_score(&p))
                .reduce(f32::max)
        })
        .fold(0.0f32, f32::max);
    assert!(
        whole < 0.3,
        "the whole mid range should not show the ducks: {whole}"
    );
    // The hand-set rules alone: the shipped model hears the pure 1.8 kHz tone as a flute
    // and would hold every pop lane down under it.
    let lanes = score_lanes(&a.blocks, &a.bends, None);
    let l = lanes
        .iter()
        .find(|l| l.id == "pop.pumping")
        .expect("pumping lane");
    assert!(mean_between(l, 2.0, 8.0) > 0.5, "{:?}", &l.scores[20..80]);
    let seg = l.segments.iter().find(|s| s.start_s < 5.0 && s.end_s > 5.0);
    let ev = seg.map(|s| s.evidence.as_str()).unwrap_or_default();
    assert!(ev.contains("0.50 s"), "{:?}", l.segments);
    let band: Vec<f32> = ev
        .split_once(" Hz level")
        .map(|(b, _)| {
            b.rsplit(' ')
                .next()
                .unwrap_or("")
                .split('–')
                .filter_map(|v| v.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        band.len() == 2 && band[0] >= 160.0 && band[1] <= 1000.0,
        "the dips are named in a band the sawtooth pad fills, under the 1.8 kHz line: {ev}"
    );
}

/// A 110 Hz sawtooth re-attacked every 1.5 s for 9 s; `fall_db_per_s` is how fast each
/// note dies away (0: held, as a synth plays it).
fn reattacked_saw(fall_db_per_s: f32) -> Vec<f32> {
    (0..RATE * 9)
        .map(|i| {
            let t = i as f32 / RATE as f32;
            let since = t % 1.5;
            let attack = (since / 0.005).min(1.0);
            let env = attack * 10f32.powf(-fall_db_per_s * since / 20.0);
            let saw: f32 = (1..12)
                .map(|h| (2.0 * PI * 110.0 * h as f32 * t).sin() / h as f32)
                .sum();
            0.3 * env * saw
        })
        .collect()
}

#[test]
fn a_tone_that_dies_away_after_each_attack_is_not_a_held_synth_note() {
    let held = run(&reattacked_saw(0.0));
    let struck = run(&reattacked_saw(25.0));
    let (h, s) = (
        mean_between(lane(&held, "pop.synth"), 1.0, 8.0),
        mean_between(lane(&struck, "pop.synth"), 1.0, 8.0),
    );
    assert!(h > 0.4, "held sawtooth: synth {h}");
    assert!(s < 0.1, "a note falling 25 dB/s is no held synth note: {s}");
    // 50 ms to 1 s after the attack: 25 dB/s × 0.95 s.
    let ring = struck.blocks[30..70]
        .iter()
        .map(|c| c.ring_fall_db)
        .fold(f32::NAN, f32::max);
    assert!(
        (ring - 23.75).abs() < 3.0,
        "measured fall over the second after the attack: {ring}"
    );
}

#[test]
fn an_808_glide_is_found() {
    // 55 Hz for 1 s, gliding down to 41.2 Hz (−5 semitones) over 0.3 s, held 1 s.
    let mut phase = 0.0f32;
    let x: Vec<f32> = (0..(RATE as f32 * 2.5) as usize)
        .map(|i| {
            let t = i as f32 / RATE as f32;
            let f = if t < 1.0 {
                55.0
            } else if t < 1.3 {
                55.0 * 2f32.powf(-5.0 * (t - 1.0) / 0.3 / 12.0)
            } else {
                41.2
            };
            phase += 2.0 * PI * f / RATE as f32;
            0.6 * phase.sin()
        })
        .collect();
    let a = run(&x);
    let g = a
        .glides
        .iter()
        .find(|g| g.start_s > 0.8 && g.start_s < 1.3)
        .unwrap_or_else(|| panic!("{:?}", a.glides));
    assert!(g.from_hz > g.to_hz);
    assert!(
        (1200.0 * (g.from_hz / g.to_hz).log2() - 500.0).abs() < 120.0,
        "{g:?}"
    );
    assert!(mean_between(lane(&a, "pop.sub_bass"), 0.5, 2.0) > 0.5);
}

#[test]
fn blocks_take_the_tagger_windows_that_hold_them_and_the_evidence_names_the_class() {
    let names = tagger::labels();
    let zither = names.iter().position(|n| n == "Zither").expect("Zither");
    let harp = names.iter().position(|n| n == "Harp").expect("Harp");
    let win = |a: f64, b: f64, z: f32, h: f32| {
        let mut scores = vec![0.0f32; tagger::CLASSES];
        scores[zither] = z;
        scores[harp] = h;
        WindowTags {
            start_s: a,
            end_s: b,
            scores,
            embedding: Vec::new(),
        }
    };
    // Two windows overlapping over 8–10 s, the second one's plucked strings a harp.
    let w = [win(0.0, 10.0, 0.8, 0.1), win(8.0, 18.0, 0.2, 0.6)];
    let mut blocks = vec![BlockCues::default(); 200];
    set_block_tags(&mut blocks, &w);
    let plucked = |t: f64| blocks[(t / LANE_HOP_S) as usize].tags[0];
    assert_eq!(plucked(2.0), (zither, 0.8));
    assert_eq!(plucked(15.0), (harp, 0.6));
    // Both windows hold 9 s: their mean, named by the class that scored highest.
    let (class, mean) = plucked(9.0);
    assert_eq!(class, zither);
    assert!((mean - 0.7).abs() < 1e-6, "{mean}");
    // Past the last window, the nearest one.
    assert_eq!(plucked(19.5), (harp, 0.6));
    assert!(blocks.iter().all(|c| c.tagged));
    assert_eq!(
        tagger_says(LaneId::SilkPlucked, &blocks[..50]).as_deref(),
        Some("Zither 0.80")
    );
    // An untagged track: nothing to say.
    assert_eq!(
        tagger_says(LaneId::SilkPlucked, &vec![BlockCues::default(); 5]),
        None
    );
}

#[test]
fn the_demo_timeline_is_recovered_by_the_lanes_with_and_without_the_tagger() {
    let x = crate::demo::render();
    let store = PcmStore::from_interleaved(crate::demo::SAMPLE_RATE, 2, &x);
    let plain = analyze(&store);
    let mut tagged = plain.clone();
    let t = tagger::Tagger::new().expect("the built-in tagger loads");
    let w = t
        .tag_track(&store, 2, |_, _| {}, || true)
        .expect("the demo is tagged");
    add_tags(&mut tagged, &w);
    let mut missed = Vec::new();
    for (a, part) in [&plain, &tagged]
        .into_iter()
        .flat_map(|a| crate::demo::TIMELINE.iter().map(move |p| (a, p)))
    {
        let l = lane(&a, part.lane);
        let covered: f64 = l
            .segments
            .iter()
            .map(|s| (s.end_s.min(part.end_s) - s.start_s.max(part.start_s)).max(0.0))
            .sum();
        let share = covered / (part.end_s - part.start_s);
        if share < 0.5 {
            missed.push(format!(
                "{}{} {}–{} s: {:.0} % covered; segments {:?}",
                if a.blocks.iter().any(|c| c.tagged) {
                    "with the tagger: "
                } else {
                    ""
                },
                part.lane,
                part.start_s,
                part.end_s,
                share * 100.0,
                l.segments
            ));
        }
    }
    assert!(missed.is_empty(), "{}", missed.join("\n"));
    // With the tagger, a Korean segment cites the references it sounds closest to;
    // without it there is no embedding to cite by, and nothing is made up.
    let korean = |a: &Analysis| -> Vec<Segment> {
        a.lanes
            .iter()
            .filter(|l| l.family == Family::Korean)
            .flat_map(|l| l.segments.clone())
            .collect()
    };
    assert!(!korean(&tagged).is_empty());
    for s in korean(&tagged) {
        assert!(!s.closest.is_empty() && s.closest.len() <= CITED, "{s:?}");
        assert!(
            s.closest
                .windows(2)
                .all(|w| w[0].similarity >= w[1].similarity)
        );
        assert!(
            s.closest
                .iter()
                .all(|c| !c.source.is_empty() && !c.file.is_empty())
        );
    }
    assert!(korean(&plain).iter().all(|s| s.closest.is_empty()));
    assert!(
        lane(&tagged, "pop.sub_bass")
            .segments
            .iter()
            .all(|s| s.closest.is_empty())
    );
    assert_eq!(
        tagged.timbre.len(),
        (store.duration_s() / TIMBRE_HOP_S).ceil() as usize
    );
    let mut back = tagged.clone();
    remove_tags(&mut back);
    assert!(back.timbre.is_empty() && korean(&back).iter().all(|s| s.closest.is_empty()));
}
