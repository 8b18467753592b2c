//! The built-in demo: a 72 s fusion sketch synthesized in code, deterministically.
//!
//! Every part imitates one thing the fusion lens looks for, and [`TIMELINE`] says what plays
//! when (the ground truth the tests and the lens use):
//! a plucked-string line whose notes bend after the attack (gayageum nonghyeon), a sustained
//! line with a ≈4 Hz, ±100 cent vibrato and a nasal spectrum (haegeum), a two-stroke drum in
//! 12/8 (janggu: low "kung" and sharp "tak"), against a four-on-the-floor kick, a
//! sidechain-pumped synth pad and a gliding 808-style sub-bass.

use std::f64::consts::TAU;

pub const SAMPLE_RATE: u32 = 44_100;
pub const DURATION_S: f64 = 72.0;
/// Tempo of the pop layer (quarter notes); the janggu plays 12/8 with one dotted quarter
/// per kick.
pub const BPM: f64 = 96.0;
pub const BEAT_S: f64 = 60.0 / BPM;

/// One element of the demo and when it plays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Part {
    /// Fusion-lens lane id (DESIGN.md section 4).
    pub lane: &'static str,
    pub instrument: &'static str,
    pub start_s: f64,
    pub end_s: f64,
    pub what: &'static str,
}

pub const TIMELINE: &[Part] = &[
    Part {
        lane: "korean.silk_plucked",
        instrument: "gayageum",
        start_s: 0.5,
        end_s: 16.0,
        what: "plucked notes that drop about 40 cents (toeseong) or rise a step (chuseong) after the attack, some with nonghyeon vibrato",
    },
    Part {
        lane: "pop.drum_machine",
        instrument: "kick",
        start_s: 8.0,
        end_s: 64.0,
        what: "four-on-the-floor kick, exactly on the grid",
    },
    Part {
        lane: "pop.pumping",
        instrument: "synth pad",
        start_s: 8.0,
        end_s: 64.0,
        what: "sawtooth pad ducked by the kick on every beat (sidechain pumping)",
    },
    Part {
        lane: "pop.synth",
        instrument: "synth pad",
        start_s: 8.0,
        end_s: 64.0,
        what: "steady-pitched sawtooth chords",
    },
    Part {
        lane: "korean.drum",
        instrument: "janggu",
        start_s: 16.0,
        end_s: 41.0,
        what: "12/8 pattern: low kung and sharp tak strokes, sometimes together (deong)",
    },
    Part {
        lane: "pop.sub_bass",
        instrument: "808 bass",
        start_s: 24.0,
        end_s: 64.0,
        what: "sub-bass notes 36-65 Hz that glide between pitches",
    },
    Part {
        lane: "korean.bowed",
        instrument: "haegeum",
        start_s: 34.0,
        end_s: 58.0,
        what: "sustained bowed line, vibrato 4 Hz ±100 cents, nasal spectrum",
    },
    Part {
        lane: "korean.silk_plucked",
        instrument: "gayageum",
        start_s: 44.0,
        end_s: 56.0,
        what: "the plucked line returns against the haegeum",
    },
    Part {
        lane: "korean.silk_plucked",
        instrument: "gayageum",
        start_s: 64.0,
        end_s: 71.0,
        what: "plucked coda alone",
    },
];

/// Haegeum vibrato of the demo: rate (Hz) and extent (± cents).
pub const HAEGEUM_VIBRATO: (f64, f64) = (4.0, 100.0);

/// Deterministic pseudo-random numbers (no global state).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

fn cents(c: f64) -> f64 {
    2f64.powf(c / 1200.0)
}

/// Pyeongjo-like (do-mode) pitches around middle C: C D F G A c d.
const PLUCK_SCALE: [f64; 7] = [261.63, 293.66, 349.23, 392.00, 440.00, 523.25, 587.33];

/// How the pitch of a plucked note moves after its attack.
#[derive(Clone, Copy)]
enum Bend {
    /// toeseong: drop by this many cents, starting 150 ms after the attack.
    Drop(f64),
    /// chuseong: rise by this many cents.
    Rise(f64),
    /// nonghyeon vibrato on the decaying note: rate Hz, ± cents.
    Vibrato(f64, f64),
}

fn pluck(out: &mut [f64], rate: f64, start: f64, f0: f64, bend: Bend, gain: f64) {
    let n0 = (start * rate) as usize;
    let len = (2.2 * rate) as usize;
    let partials = 10usize;
    let mut phase = vec![0.0f64; partials];
    for i in 0..len {
        let idx = (n0 + i) * 2;
        if idx + 1 >= out.len() {
            break;
        }
        let t = i as f64 / rate;
        let c = match bend {
            Bend::Drop(d) => -d * smooth((t - 0.15) / 0.12),
            Bend::Rise(d) => d * smooth((t - 0.18) / 0.15),
            Bend::Vibrato(r, d) => {
                d * (TAU * r * (t - 0.3).max(0.0)).sin() * smooth((t - 0.3) / 0.2)
            }
        };
        let f = f0 * cents(c);
        let attack = (t / 0.003).min(1.0);
        let mut s = 0.0;
        for (k, ph) in phase.iter_mut().enumerate() {
            let h = (k + 1) as f64;
            let fk = f * h * (1.0 + 0.0004 * h * h);
            if fk > rate * 0.45 {
                break;
            }
            *ph += TAU * fk / rate;
            let decay = (-t * (1.5 + 0.9 * h)).exp();
            s += ph.sin() * decay / h.powf(1.1);
        }
        let v = s * attack * gain;
        out[idx] += v * 0.8;
        out[idx + 1] += v * 0.45;
    }
}

fn smooth(x: f64) -> f64 {
    let x = x.clamp(0.0, 1.0);
    x * x * (3.0 - 2.0 * x)
}

fn pluck_line(out: &mut [f64], rate: f64, from: f64, to: f64, seed: u64) {
    let mut rng = Lcg(seed);
    let mut t = from;
    let mut i = 0usize;
    while t < to - 1.0 {
        let deg = ((rng.next() + 1.0) * 3.5) as usize % PLUCK_SCALE.len();
        let bend = match i % 3 {
            0 => Bend::Drop(40.0),
            1 => Bend::Vibrato(5.5, 30.0),
            _ => Bend::Rise(200.0),
        };
        // A player, not a sequencer: each pluck up to ±20 ms off the beat.
        let at = t + 0.02 * rng.next();
        pluck(out, rate, at.max(from), PLUCK_SCALE[deg], bend, 0.33);
        t += BEAT_S * if i % 4 == 3 { 2.0 } else { 1.0 };
        i += 1;
    }
}

fn haegeum(out: &mut [f64], rate: f64, from: f64, to: f64) {
    // Long notes in a do-mode around A4-D6.
    let pitches = [
        587.33, 659.25, 523.25, 587.33, 783.99, 698.46, 587.33, 523.25, 440.0,
    ];
    let note_len = 2.5;
    let (vrate, vext) = HAEGEUM_VIBRATO;
    let partials = 14usize;
    let mut phase = vec![0.0f64; partials];
    let n_from = (from * rate) as usize;
    let n_to = (to * rate) as usize;
    for n in n_from..n_to {
        let idx = n * 2;
        if idx + 1 >= out.len() {
            break;
        }
        let t = n as f64 / rate - from;
        let k = (t / note_len) as usize;
        let tn = t - k as f64 * note_len;
        let f0 =
            pitches[k % pitches.len()] * cents(vext * (TAU * vrate * tn).sin() * smooth(tn / 0.4));
        let env = smooth(tn / 0.08) * smooth((note_len - tn) / 0.1);
        let mut s = 0.0;
        for (h, ph) in phase.iter_mut().enumerate() {
            let h = (h + 1) as f64;
            let fk = f0 * h;
            if fk > 5000.0 {
                break;
            }
            *ph += TAU * fk / rate;
            // nasal: partials near 1.2-1.8 kHz louder than the fundamental
            let formant = 1.0 + 2.5 * (-((fk - 1500.0) / 500.0).powi(2)).exp();
            s += ph.sin() * formant / h;
        }
        let v = s * env * 0.08;
        out[idx] += v * 0.45;
        out[idx + 1] += v * 0.8;
    }
}

fn kick_at(out: &mut [f64], rate: f64, t0: f64, gain: f64) {
    let n0 = (t0 * rate).round() as usize;
    let mut ph = 0.0;
    for i in 0..(0.4 * rate) as usize {
        let idx = (n0 + i) * 2;
        if idx + 1 >= out.len() {
            break;
        }
        let t = i as f64 / rate;
        let f = 48.0 + 110.0 * (-t / 0.03).exp();
        ph += TAU * f / rate;
        let click = if i < 40 {
            (1.0 - i as f64 / 40.0) * 0.5
        } else {
            0.0
        };
        let v = (ph.sin() * (-t / 0.22).exp() + click) * gain;
        out[idx] += v;
        out[idx + 1] += v;
    }
}

fn janggu(out: &mut [f64], rate: f64, from: f64, to: f64) {
    // 12/8, one eighth = a third of a beat; K = kung (low), T = tak (crack), D = both (deong).
    let pattern = b"D.TK.TD.TKT.";
    let eighth = BEAT_S / 3.0;
    let mut rng = Lcg(99);
    let mut noise = Lcg(5);
    let mut t = from;
    while t < to - 0.01 {
        for (i, &c) in pattern.iter().enumerate() {
            let jitter = rng.next() * 0.008;
            let at = t + i as f64 * eighth + jitter;
            if at >= to {
                break;
            }
            if c == b'K' || c == b'D' {
                let n0 = (at * rate) as usize;
                let mut ph = 0.0;
                for j in 0..(0.35 * rate) as usize {
                    let idx = (n0 + j) * 2;
                    if idx + 1 >= out.len() {
                        break;
                    }
                    let tt = j as f64 / rate;
                    ph += TAU * (105.0 + 60.0 * (-tt / 0.04).exp()) / rate;
                    let v = ph.sin() * (-tt / 0.12).exp() * 0.55;
                    out[idx] += v * 0.7;
                    out[idx + 1] += v * 0.6;
                }
            }
            if c == b'T' || c == b'D' {
                let n0 = (at * rate) as usize;
                let (mut prev, mut bp1, mut bp2) = (0.0, 0.0, 0.0);
                let (fc, q) = (3200.0, 6.0);
                let w = TAU * fc / rate;
                let alpha = w.sin() / (2.0 * q);
                for j in 0..(0.08 * rate) as usize {
                    let idx = (n0 + j) * 2;
                    if idx + 1 >= out.len() {
                        break;
                    }
                    let tt = j as f64 / rate;
                    let x = noise.next();
                    // crude resonant band-pass (two-pole) on differentiated noise
                    let d = x - prev;
                    prev = x;
                    let y = alpha * d + 2.0 * w.cos() * bp1 / (1.0 + alpha)
                        - (1.0 - alpha) / (1.0 + alpha) * bp2;
                    bp2 = bp1;
                    bp1 = y;
                    let v = (y * 2.0 + d * 0.3) * (-tt / 0.018).exp() * 0.5;
                    out[idx] += v * 0.6;
                    out[idx + 1] += v * 0.7;
                }
            }
        }
        t += 12.0 * eighth;
    }
}

fn polyblep(t: f64, dt: f64) -> f64 {
    if t < dt {
        let x = t / dt;
        x + x - x * x - 1.0
    } else if t > 1.0 - dt {
        let x = (t - 1.0) / dt;
        x * x + x + x + 1.0
    } else {
        0.0
    }
}

fn pumped_pad(out: &mut [f64], rate: f64, from: f64, to: f64) {
    let chords: [[f64; 3]; 4] = [
        [174.61, 220.0, 261.63],
        [146.83, 174.61, 220.0],
        [130.81, 164.81, 196.0],
        [146.83, 196.0, 246.94],
    ];
    let bar = 4.0 * BEAT_S;
    let mut phases = [0.0f64; 6];
    let mut lp = 0.0;
    for n in (from * rate) as usize..(to * rate) as usize {
        let idx = n * 2;
        if idx + 1 >= out.len() {
            break;
        }
        let t = n as f64 / rate;
        let chord = chords[(((t - from) / bar) as usize) % chords.len()];
        let mut s = 0.0;
        for (v, ph) in phases.iter_mut().enumerate() {
            let f = chord[v % 3] * if v >= 3 { cents(7.0) } else { cents(-7.0) };
            let dt = f / rate;
            *ph = (*ph + dt).fract();
            s += 2.0 * *ph - 1.0 - polyblep(*ph, dt);
        }
        lp += 0.08 * (s - lp);
        // sidechain: duck on each kick, recover over ~250 ms
        let since_kick = (t - from).rem_euclid(BEAT_S);
        let duck = 1.0 - 0.85 * (-since_kick / 0.11).exp();
        let fade = smooth((t - from) / 1.0) * smooth((to - t) / 1.0);
        let v = lp * duck * fade * 0.06;
        out[idx] += v;
        out[idx + 1] += v;
    }
}

fn sub_bass(out: &mut [f64], rate: f64, from: f64, to: f64) {
    let notes = [43.65, 36.71, 65.41, 48.99, 43.65, 55.0, 36.71, 48.99];
    let step = 2.0 * BEAT_S;
    let mut ph = 0.0;
    let mut f = notes[0];
    for n in (from * rate) as usize..(to * rate) as usize {
        let idx = n * 2;
        if idx + 1 >= out.len() {
            break;
        }
        let t = n as f64 / rate - from;
        let k = (t / step) as usize;
        let target = notes[k % notes.len()];
        // portamento: glide toward the new note over ~120 ms
        f += (target - f) * (1.0 - (-1.0 / (0.04 * rate)).exp());
        ph += TAU * f / rate;
        let tn = t - k as f64 * step;
        let env =
            smooth(tn / 0.01) * (0.6 + 0.4 * (-tn / 0.5).exp()) * smooth((to - from - t) / 0.5);
        let v = (ph.sin() + 0.15 * (2.0 * ph).sin()) * env * 0.32;
        out[idx] += v;
        out[idx + 1] += v;
    }
}

/// Renders the demo as interleaved stereo at [`SAMPLE_RATE`].
pub fn render() -> Vec<f32> {
    let rate = SAMPLE_RATE as f64;
    let frames = (DURATION_S * rate) as usize;
    let mut mix = vec![0.0f64; frames * 2];
    for part in TIMELINE {
        match (part.lane, part.instrument) {
            ("korean.silk_plucked", _) => pluck_line(
                &mut mix,
                rate,
                part.start_s,
                part.end_s,
                (part.start_s * 10.0) as u64,
            ),
            ("korean.bowed", _) => haegeum(&mut mix, rate, part.start_s, part.end_s),
            ("korean.drum", _) => janggu(&mut mix, rate, part.start_s, part.end_s),
            ("pop.drum_machine", _) => {
                let mut t = part.start_s;
                while t < part.end_s {
                    kick_at(&mut mix, rate, t, 0.55);
                    t += BEAT_S;
                }
            }
            ("pop.pumping", _) => pumped_pad(&mut mix, rate, part.start_s, part.end_s),
            ("pop.sub_bass", _) => sub_bass(&mut mix, rate, part.start_s, part.end_s),
            _ => {}
        }
    }
    let peak = mix.iter().fold(0.0f64, |m, x| m.max(x.abs())).max(1e-9);
    let g = 0.89 / peak;
    mix.iter().map(|x| (x * g) as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_is_deterministic_and_in_range() {
        let a = render();
        assert_eq!(a.len(), (DURATION_S * SAMPLE_RATE as f64) as usize * 2);
        assert!(a.iter().all(|x| x.is_finite() && x.abs() <= 0.9));
        let b = render();
        assert!(a == b, "two renders differ");
        // silence before the first pluck, sound during the janggu section
        let rms = |from: f64, to: f64| {
            let s = &a[(from * 44100.0) as usize * 2..(to * 44100.0) as usize * 2];
            (s.iter().map(|x| x * x).sum::<f32>() / s.len() as f32).sqrt()
        };
        assert!(rms(0.0, 0.45) < 1e-6);
        assert!(rms(20.0, 22.0) > 0.05);
    }
}
