//! Measures time-stretch candidates for practice speed: pitch held on a sine at 0.5×,
//! transposition +12 on a sine, onset smear on a click train, spectral centroid and onset
//! counts on real recordings, and CPU time per second of stereo audio.
//!
//! `cargo run --release -- [RECORDING...]` (from this folder). Prints a Markdown table.

use std::num::{NonZeroU16, NonZeroU32};
use std::path::PathBuf;
use std::time::Instant;

use sori::analysis::{cues, features};
use sori::audio::{PcmStore, decode_file};

const SR: u32 = 44_100;

/// A candidate: interleaved stereo in, tempo (source time / output time) and semitones.
struct Candidate {
    name: &'static str,
    run: fn(&[f32], u32, f64, f64) -> Option<Vec<f32>>,
}

fn signalsmith(x: &[f32], sr: u32, tempo: f64, semis: f64) -> Option<Vec<f32>> {
    let mut s = signalsmith_stretch::Stretch::preset_default(2, sr);
    s.set_transpose_factor_semitones(semis as f32, None);
    let frames_in = x.len() / 2;
    let block_in = 512usize;
    let block_out = (block_in as f64 / tempo).round() as usize;
    let mut out = Vec::with_capacity((frames_in as f64 / tempo) as usize * 2 + 8192);
    let mut buf = vec![0.0f32; block_out * 2];
    let mut i = 0;
    while i < frames_in {
        let end = (i + block_in).min(frames_in);
        let n_out = (((end - i) as f64) / tempo).round() as usize;
        buf.resize(n_out * 2, 0.0);
        s.process(&x[i * 2..end * 2], &mut buf);
        out.extend_from_slice(&buf);
        i = end;
    }
    // Flush what the stretcher still holds (its latency) so the end is not cut off.
    let mut tail = vec![0.0f32; (s.input_latency() + s.output_latency()) * 2];
    s.flush(&mut tail);
    out.extend_from_slice(&tail);
    Some(out)
}

fn timestretch(x: &[f32], sr: u32, tempo: f64, semis: f64) -> Option<Vec<f32>> {
    use timestretch::{Backend, Parameters, PitchRatio, SessionConfig, TempoRate};
    let parameters = Parameters {
        tempo: TempoRate::new(tempo).ok()?,
        pitch: PitchRatio::from_semitones(semis).ok()?,
        ..Parameters::default()
    };
    let r = timestretch::render(
        x,
        SessionConfig {
            source_sample_rate: sr,
            output_sample_rate: sr,
            channels: 2,
            backend: Backend::Portable,
            parameters,
            ..SessionConfig::default()
        },
    )
    .ok()?;
    Some(r.samples)
}

fn wsola(x: &[f32], sr: u32, tempo: f64, semis: f64) -> Option<Vec<f32>> {
    if semis != 0.0 {
        return None; // tempo only: transposition would need a resampler on top
    }
    wsola::stretch(x, NonZeroU32::new(sr)?, NonZeroU16::new(2)?, tempo as f32).ok()
}

fn stereo(mono: &[f32]) -> Vec<f32> {
    mono.iter().flat_map(|&v| [v, v]).collect()
}

fn left(x: &[f32]) -> Vec<f32> {
    x.iter().step_by(2).copied().collect()
}

/// Frequency of a steady sine from its positive-going zero crossings (linear interpolation),
/// over the middle half of the signal.
fn sine_hz(y: &[f32], sr: u32) -> f64 {
    let (a, b) = (y.len() / 4, 3 * y.len() / 4);
    let mut first = None;
    let mut last = 0.0;
    let mut n = 0usize;
    for i in a.max(1)..b {
        if y[i - 1] < 0.0 && y[i] >= 0.0 {
            let t = (i - 1) as f64 + (-y[i - 1] / (y[i] - y[i - 1])) as f64;
            if first.is_none() {
                first = Some(t);
            } else {
                n += 1;
            }
            last = t;
        }
    }
    match first {
        Some(f) if n > 0 => n as f64 * sr as f64 / (last - f),
        _ => f64::NAN,
    }
}

/// Length of audio above −60 dB of the peak (drops leading latency and trailing flush).
fn audible_len(y: &[f32]) -> usize {
    let peak = y.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let th = peak * 1e-3;
    let a = y.iter().position(|v| v.abs() > th).unwrap_or(0);
    let b = y.iter().rposition(|v| v.abs() > th).unwrap_or(0);
    b.saturating_sub(a)
}

/// Median width (ms) over which each click's 1 ms envelope stays above 10 % of its peak,
/// and the number of clicks found (peaks ≥ 30 % of the largest, ≥ 100 ms apart).
fn click_smear(y: &[f32], sr: u32) -> (f64, usize) {
    let w = (sr / 1000) as usize;
    let mut env = vec![0.0f32; y.len()];
    let mut acc = 0.0f32;
    for i in 0..y.len() {
        acc += y[i].abs();
        if i >= w {
            acc -= y[i - w].abs();
        }
        env[i] = acc / w as f32;
    }
    let max = env.iter().fold(0.0f32, |m, &v| m.max(v));
    let gap = sr as usize / 10;
    let mut widths = Vec::new();
    let mut i = 0;
    while i < env.len() {
        if env[i] >= 0.3 * max {
            // the peak of this click within the next 100 ms
            let end = (i + gap).min(env.len());
            let (p, pv) = (i..end).fold((i, 0.0f32), |(bp, bv), j| {
                if env[j] > bv { (j, env[j]) } else { (bp, bv) }
            });
            let th = 0.1 * pv;
            let lo = (p.saturating_sub(gap)..=p)
                .rev()
                .find(|&j| env[j] < th)
                .unwrap_or(p.saturating_sub(gap));
            let hi = (p..(p + gap).min(env.len()))
                .find(|&j| env[j] < th)
                .unwrap_or(p + gap);
            widths.push((hi - lo) as f64 * 1000.0 / sr as f64);
            i = p + gap;
        } else {
            i += 1;
        }
    }
    let n = widths.len();
    widths.sort_by(f64::total_cmp);
    (widths.get(n / 2).copied().unwrap_or(f64::NAN), n)
}

/// Median spectral centroid of frames above −50 dBFS, and the onset count, as Sori measures them.
fn centroid_and_onsets(x: &[f32], sr: u32) -> (f64, usize) {
    let store = PcmStore::from_interleaved(sr, 2, x);
    let f = features::compute(&store);
    let mut c: Vec<f32> = f
        .centroid_hz
        .iter()
        .zip(&f.rms_db)
        .filter(|(_, r)| **r > -50.0)
        .map(|(c, _)| *c)
        .collect();
    c.sort_by(f32::total_cmp);
    let med = c.get(c.len() / 2).copied().unwrap_or(f32::NAN) as f64;
    let strong = cues::onsets(&f)
        .iter()
        .filter(|o| o.strength >= 0.2)
        .count();
    (med, strong)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn main() {
    let recordings: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    let candidates = [
        Candidate {
            name: "signalsmith-stretch 0.1.3",
            run: signalsmith,
        },
        Candidate {
            name: "timestretch 0.16.0",
            run: timestretch,
        },
        Candidate {
            name: "wsola 0.3.0",
            run: wsola,
        },
    ];
    let secs = 4.0;
    let n = (SR as f64 * secs) as usize;
    let sine: Vec<f32> = (0..n)
        .map(|i| 0.5 * (2.0 * std::f64::consts::PI * 440.0 * i as f64 / SR as f64).sin() as f32)
        .collect();
    let clicks: Vec<f32> = (0..n)
        .map(|i| {
            if i % (SR as usize / 4) == SR as usize / 8 {
                0.9
            } else {
                0.0
            }
        })
        .collect();
    let (orig_smear, orig_clicks) = click_smear(&clicks, SR);
    let recs: Vec<(String, Vec<f32>, u32)> = recordings
        .iter()
        .filter_map(|p| {
            let (store, _) = decode_file(p).ok()?;
            let mut mono = vec![0.0f32; store.frames() as usize];
            store.read_mono(0, &mut mono);
            let name = p.file_name()?.to_string_lossy().into_owned();
            Some((name, stereo(&mono), store.sample_rate()))
        })
        .collect();
    println!(
        "| candidate | sine 440 Hz at 0.5×: Hz, duration ratio | +12 st at 1×: Hz | clicks at 0.5×: smear ms (orig {orig_smear:.1}), found/{orig_clicks} | {} | CPU ms per s of stereo at 0.5× |",
        recs.iter()
            .map(|(n, ..)| format!("{n} at 0.5×: centroid Hz, strong onsets"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("|---|---|---|---|{}---|", "---|".repeat(recs.len()));
    let rec_orig: Vec<String> = recs
        .iter()
        .map(|(_, x, sr)| {
            let (c, o) = centroid_and_onsets(x, *sr);
            format!("{c:.0}, {o}")
        })
        .collect();
    println!(
        "| (original) | 440 | — | {orig_smear:.1}, {orig_clicks} | {} | — |",
        rec_orig.join(" | ")
    );
    for c in &candidates {
        let s = stereo(&sine);
        let half = (c.run)(&s, SR, 0.5, 0.0);
        let sine_cell = match &half {
            Some(y) => {
                let l = left(y);
                format!(
                    "{:.2}, {:.3}",
                    sine_hz(&l, SR),
                    audible_len(&l) as f64 / audible_len(&sine) as f64
                )
            }
            None => "fails".into(),
        };
        let up = match (c.run)(&s, SR, 1.0, 12.0) {
            Some(y) => format!("{:.2}", sine_hz(&left(&y), SR)),
            None => "not supported".into(),
        };
        let click_cell = match (c.run)(&stereo(&clicks), SR, 0.5, 0.0) {
            Some(y) => {
                let (w, k) = click_smear(&left(&y), SR);
                format!("{w:.1}, {k}")
            }
            None => "fails".into(),
        };
        let mut rec_cells = Vec::new();
        let mut cpu = Vec::new();
        for (_, x, sr) in &recs {
            match (c.run)(x, *sr, 0.5, 0.0) {
                Some(y) => {
                    let (cen, o) = centroid_and_onsets(&y, *sr);
                    rec_cells.push(format!("{cen:.0}, {o}"));
                }
                None => rec_cells.push("fails".into()),
            }
        }
        // CPU: 10 s of the first recording (or the sine), median of 5 runs.
        let bench: Vec<f32> = recs
            .first()
            .map(|(_, x, _)| x[..x.len().min(SR as usize * 20)].to_vec())
            .unwrap_or_else(|| stereo(&sine));
        let seconds = bench.len() as f64 / 2.0 / SR as f64;
        for _ in 0..5 {
            let t = Instant::now();
            let _ = (c.run)(&bench, SR, 0.5, 0.0);
            cpu.push(t.elapsed().as_secs_f64() * 1000.0 / seconds);
        }
        println!(
            "| {} | {sine_cell} | {up} | {click_cell} | {} | {:.1} |",
            c.name,
            rec_cells.join(" | "),
            median(cpu)
        );
    }
}
