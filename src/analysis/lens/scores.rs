//! From a block's cues to a score per lane: the hand-written rules ([`lane_scores`]) and
//! the fitted model ([`model_scores`]).

use super::*;

/// How far a block is active enough for a lane to be judged there (0 below 0.1 of its
/// context above the activity floor, 1 from 0.4).
pub fn activity(c: &BlockCues) -> f32 {
    ramp(c.active, 0.1, 0.4)
}

/// 0 below `a`, 1 above `b`, linear between (or falling when `a > b`).
pub(super) fn ramp(x: f32, a: f32, b: f32) -> f32 {
    if !x.is_finite() {
        return 0.0;
    }
    ((x - a) / (b - a)).clamp(0.0, 1.0)
}

/// How much a level swing looks like sidechain pumping: it repeats, dips by several dB
/// while the sound holds, at a beat-like period, and it ducks suddenly and recovers slowly
/// (notes struck on the beat swing the other way: they rise at once and die away).
pub(super) fn pump_score(p: &Pumping) -> f32 {
    ramp(p.periodicity, 0.3, 0.6)
        * ramp(p.depth_db, 3.0, 8.0)
        * ramp(p.sustain, 0.3, 0.6)
        * ramp(p.period_s, 0.2, 0.3)
        * ramp(p.fall_rise, 0.8, 1.3)
}

/// Timbre bands (≈ 166 Hz … 1 kHz, where pads and chords sit) whose own level is also
/// measured for pumping.
pub(super) const PUMP_BANDS: std::ops::RangeInclusive<usize> = 4..=10;
/// Blocks between two measurements of the narrow bands' pumping (0.4 s).
pub(super) const BAND_PUMP_STRIDE: usize = 4;

/// The most pumping-like of a block's measurements (first repetition, beat period, the
/// narrow bands at the beat period), with the band it was measured in (`None`: the whole
/// 200 Hz–4 kHz region).
pub(super) fn best_pumping_in(c: &BlockCues) -> Option<(Pumping, Option<usize>)> {
    [
        c.pumping.map(|p| (p, None)),
        c.beat_pumping.map(|p| (p, None)),
    ]
    .into_iter()
    .flatten()
    .chain(c.band_pumping.map(|(p, k)| (p, Some(k))))
    .max_by(|a, b| pump_score(&a.0).total_cmp(&pump_score(&b.0)))
}

pub(super) fn best_pumping(c: &BlockCues) -> Option<Pumping> {
    best_pumping_in(c).map(|(p, _)| p)
}

/// A layer of onsets that fills most lines of a grid within ±3 ms (a programmed kick),
/// whatever else plays.
pub(super) fn machine_layer(c: &BlockCues) -> f32 {
    c.pulse
        .map(|p| ramp(p.cover, 0.5, 0.8) * ramp(p.rate, 0.6, 1.2))
        .unwrap_or(0.0)
}

/// A held layer under a sequenced beat: several partials held at a steady pitch and level
/// while a programmed pulse plays (a pad in a production; without the beat, held partials
/// are as likely a ringing string or drum of a solo recording).
pub(super) fn held_layer(c: &BlockCues) -> f32 {
    ramp(c.held_partials as f32, 3.0, 6.0) * ramp(c.held_share, 0.02, 0.1) * machine_layer(c)
}

/// A bowed line under the mix: a partial that holds its level while it swings in a wide,
/// slow vibrato (a haegeum's ≈ 4 Hz, ±60–150 cents; a sung vibrato is mostly faster, a
/// gayageum's nonghyeon rides a falling note), with the bowed timbre's little energy above
/// 4 kHz. The mono pitch track hears only the loudest voice of a dense mix; the partials
/// see this one under the others.
pub(super) fn bowed_layer(c: &BlockCues) -> f32 {
    // (The partial lies in `partials::FUNDAMENTAL_HZ`: a vibrato's higher harmonics move too fast
    // for the tracker's window, so what it follows of a bowed line is its fundamental.)
    c.vib_partial
        .and_then(|p| p.vibrato.map(|v| (p, v)))
        .map_or(0.0, |(p, (rate, extent))| {
            ramp(extent, 45.0, 65.0)
                * ramp(rate, 2.8, 3.3)
                * (1.0 - ramp(rate, 5.0, 5.8))
                * ramp(p.slope_db_s, -12.0, -6.0)
                * p.upper_db.map_or(0.0, |u| ramp(u, 0.5, 2.0))
                * (1.0 - ramp(c.air_db, -25.0, -12.0))
        })
}

/// A plucked line under the mix: within ±2 s, several notes whose partials peak at an onset
/// and ring away like a string's, two or more of which bend after the attack (nonghyeon, the
/// gayageum's idiom), one of them with a harmonic bending alongside. The mono pitch track
/// follows only the loudest voice (often the bass); the partials see the plucks under it.
pub(super) fn plucked_layer(c: &BlockCues) -> f32 {
    ramp(c.plucks as f32, 2.5, 4.5)
        * ramp(c.bent_plucks as f32, 1.0, 2.5)
        * ramp(c.confirmed_bends as f32, 0.5, 1.0)
}

/// Scores of every lane for one block, with the cue values the evidence quotes.
pub fn lane_scores(c: &BlockCues) -> [f32; N_LANES] {
    if c.active < 0.1 {
        return [0.0; N_LANES];
    }
    let act = ramp(c.active, 0.1, 0.4);
    let pitched = ramp(c.voiced, 0.15, 0.5);
    let percussive = ramp(c.onset_rate, 0.8, 2.5) * (1.0 - ramp(c.voiced, 0.4, 0.8));
    let sustained = ramp(c.voiced, 0.3, 0.7) * (1.0 - ramp(c.decay_db, 8.0, 20.0));
    let breath = ramp(c.high_flat, 0.15, 0.35) * ramp(c.presence_db, -40.0, -25.0);
    let vib = ramp(c.vib_extent, 25.0, 60.0)
        * ramp(c.vib_rate, 2.5, 3.5)
        * (1.0 - ramp(c.vib_rate, 8.0, 10.0));
    // No steady-pitch measurement is no evidence of a steady pitch.
    let steady = if c.pitch_spread.is_finite() {
        1.0 - ramp(c.pitch_spread, 3.0, 8.0)
    } else {
        0.0
    };
    let grid_rigid = if c.grid_dev_ms.is_finite() {
        1.0 - ramp(c.grid_dev_ms, 5.0, 12.0)
    } else {
        0.0
    };
    let grid_loose = if c.grid_dev_ms.is_finite() {
        ramp(c.grid_dev_ms, 8.0, 18.0)
    } else {
        0.5
    };

    // Plucked: onsets that decay while pitched; bends/vibrato on the decaying note raise it.
    let pluck = ramp(c.decay_db, 2.0, 6.0) * pitched * ramp(c.onset_rate, 0.3, 1.0);
    let idiom = (ramp(c.bend_share, 0.1, 0.4) + 0.6 * vib).min(1.0);
    let silk = (pluck * (0.45 + 0.55 * idiom)).max(plucked_layer(c));
    // Bowed: sustained pitch, wide vibrato, little air.
    let nasal = 1.0 - ramp(c.air_db, -25.0, -12.0);
    let bowed = (sustained * nasal * (0.4 + 0.6 * vib) * (1.0 - 0.5 * breath)).max(bowed_layer(c));
    // Wind: sustained pitch with breath noise in 2–8 kHz.
    let wind = sustained * breath * (0.6 + 0.4 * vib.max(ramp(c.level_swing_db, 3.0, 8.0)));
    // Drums: strokes with both low and high parts, not on a machine grid, no held pitch.
    let strokes = percussive * ramp(c.onset_low.min(c.onset_high), 0.1, 0.35);
    let drum = strokes * (0.5 + 0.5 * grid_loose) * (1.0 - 0.7 * grid_rigid);
    // Metal: tonal but inharmonic, bright strikes or long low sustain.
    let metal = ramp(c.inharmonic, 0.2, 0.5) * (1.0 - pitched * 0.7);

    // Held: 30–80 Hz neither falls right after onsets nor dies away over the next second.
    let held = (1.0 - ramp(c.sub_fall_db, 8.0, 16.0))
        * (1.0 - ramp(c.sub_decay_db, 6.0, 12.0))
        * (1.0 - ramp(c.sub_ring_fall_db, 12.0, 20.0));
    let sub = ramp(c.sub_db, -14.0, -6.0) * held * (0.6 + 0.4 * ramp(c.glides as f32, 0.0, 1.0));
    // A drum machine: the onsets around sit on a grid, or a layer of them does (a kick
    // that fills most lines of a grid within ±3 ms, whatever else plays).
    let machine = (ramp(c.onset_rate, 0.6, 1.4) * grid_rigid).max(machine_layer(c));
    // A synth note is held: a tone that dies away after its attack was struck or plucked.
    let held_layer = held_layer(c);
    let synth_alone = pitched
        * steady
        * (1.0 - breath)
        * (1.0 - vib)
        * (1.0 - ramp(c.timbre_change_db, 1.5, 4.0))
        * (1.0 - ramp(c.ring_fall_db, 10.0, 20.0));
    let synth = synth_alone.max(held_layer);
    let tuned = pitched
        * ramp(c.on_semitone, 0.5, 0.8)
        * steady
        * ramp(c.timbre_change_db, 1.0, 3.0)
        * (1.0 - vib);
    let pump = best_pumping(c).map_or(0.0, |p| pump_score(&p));
    LaneId::ALL.map(|lane| {
        let v = match lane {
            LaneId::SilkPlucked => silk,
            LaneId::Bowed => bowed,
            LaneId::Wind => wind,
            LaneId::Drum => drum,
            LaneId::Metal => metal,
            LaneId::SubBass => sub,
            LaneId::DrumMachine => machine,
            LaneId::Synth => synth,
            LaneId::TunedVocal => tuned,
            LaneId::Pumping => pump,
        };
        (v * act).clamp(0.0, 1.0)
    })
}

/// Korean-lane scores of one block from the model: the class probability, held down where
/// only pitch behaviour speaks for it (the probability with every pitch cue set to its
/// average must carry at least half of it). On a block the tagger heard, `family` (if any)
/// shares that probability out among the families.
pub fn model_scores(m: &Model, family: Option<&Model>, c: &BlockCues) -> [f32; N_KOREAN] {
    let mut out = [0.0f32; N_KOREAN];
    if c.active < 0.1 {
        return out;
    }
    let x = lens_model::vector(c);
    let korean = |m: &Model| {
        let p = m.probs(&x);
        let mut neutral = x;
        for (i, v) in neutral.iter_mut().enumerate() {
            if lens_model::feature_kind(i) == Kind::Pitch {
                *v = m.mean[i];
            }
        }
        let q = m.probs(&neutral);
        LaneId::KOREAN.map(|lane| lane.class().map_or(0.0, |j| p[j].min(2.0 * q[j])))
    };
    let mut k = korean(m);
    // Whether a Korean timbre is there at all is the signal model's call; which family it
    // is, the model that also hears the tagger's classes (on these recordings the tagger
    // names the family far better than it tells a Korean part from a pop one).
    if c.tagged {
        if let Some(t) = family.filter(|t| !std::ptr::eq(*t, m)) {
            let f = korean(t);
            let (sum, fsum) = (k.iter().sum::<f32>(), f.iter().sum::<f32>());
            if fsum > 1e-6 {
                k = f.map(|v| sum * v / fsum);
            }
        }
    }
    let act = ramp(c.active, 0.1, 0.4);
    for (o, v) in out.iter_mut().zip(k) {
        *o = (v * act).clamp(0.0, 1.0);
    }
    out
}
