//! What the lens measures in one 0.1 s block: the signal cues over its context window and
//! the AudioSet tagger's group scores around it. The lens ([`super::lens`]) fills it; the
//! fitted model ([`super::model`]) reads it. Kept on its own so that neither of those has to
//! import the other.

use super::cues::{self, Pumping};
use super::features::TIMBRE_BANDS;
use super::partials::Partial;
use super::tagger;

/// Cues of one 0.1 s block, taken over a context window around it.
#[derive(Debug, Clone, Copy, Default)]
pub struct BlockCues {
    /// Share of context frames above the track's activity floor.
    pub active: f32,
    /// Share of active frames that are clearly pitched.
    pub voiced: f32,
    pub harmonicity: f32,
    pub f0_hz: f32,
    /// Median flatness of 2–8 kHz on active frames (breath, buzz, rasp).
    pub high_flat: f32,
    /// Energy above 4 kHz relative to the whole, dB.
    pub air_db: f32,
    /// Energy 2–8 kHz relative to the whole, dB.
    pub presence_db: f32,
    /// Energy 30–80 Hz relative to the whole, dB.
    pub sub_db: f32,
    /// How far the 30–80 Hz level sits below its own peak on half the active frames, dB
    /// (small: a held bass; large: the decaying low stroke of a drum).
    pub sub_fall_db: f32,
    /// Median fall of the 30–80 Hz band from 50 ms to 300 ms after onsets, dB (a held bass
    /// note stays; a drum's low stroke dies away).
    pub sub_decay_db: f32,
    /// Median fall of the level over the second after onsets that ring on their own for at
    /// least 0.6 s, dB (a struck or plucked tone dies away; a held synth note doesn't); NaN
    /// where onsets come too fast to tell.
    pub ring_fall_db: f32,
    /// The same fall measured on the 30–80 Hz band alone.
    pub sub_ring_fall_db: f32,
    pub flatness: f32,
    pub centroid_hz: f32,
    /// Onsets per second (strength ≥ 0.15) and their mean low/high split.
    pub onset_rate: f32,
    pub onset_low: f32,
    pub onset_high: f32,
    /// Median level drop from 50 ms to 300 ms after onsets, dB (plucks and strikes decay).
    pub decay_db: f32,
    /// Share of the context's pitched onsets that bend 15–250 cents within 350 ms.
    pub bend_share: f32,
    pub bends: usize,
    /// Median vibrato over the context (0 when none).
    pub vib_rate: f32,
    pub vib_extent: f32,
    /// Median detrended pitch spread in windows without vibrato, cents.
    pub pitch_spread: f32,
    /// Share of voiced frames within 10 cents of a tempered semitone (after the tuning offset).
    pub on_semitone: f32,
    pub glides: usize,
    /// Tonal but not harmonic: low flatness with low periodicity (bells, gongs).
    pub inharmonic: f32,
    /// Level of the block, dB.
    pub rms_db: f32,
    /// Grid deviation, ms, of the onsets around (f32::NAN when too few).
    pub grid_dev_ms: f32,
    pub ternary: bool,
    /// The most rigid pulse among the onsets of the surrounding 8 s, whatever else plays.
    pub pulse: Option<cues::Pulse>,
    pub pumping: Option<Pumping>,
    /// How static the spectral envelope is: median frame-to-frame timbre change, dB.
    pub timbre_change_db: f32,
    /// Median amplitude modulation (RMS level swing, dB) on voiced frames.
    pub level_swing_db: f32,
    /// Spectral envelope: median level of each timbre band relative to the frame's whole, dB.
    pub shape: [f32; TIMBRE_BANDS],
    /// Median crest factor (peak over RMS), dB.
    pub crest_db: f32,
    /// Median 85 % rolloff, Hz.
    pub rolloff_hz: f32,
    /// Spread (90th − 10th percentile) of periodicity over active frames.
    pub harm_spread: f32,
    /// Median spectral flux above 2 kHz relative to the whole band (sharp attacks, rattle).
    pub flux_high_ratio: f32,
    /// Share of the tracked partials' power that is held (steady pitch and level for 0.8 s
    /// or more: a synth or organ chord), whatever else plays.
    pub held_share: f32,
    /// Number of held partials around.
    pub held_partials: usize,
    /// Pumping of the 200 Hz–4 kHz level measured at the beat's period.
    pub beat_pumping: Option<Pumping>,
    /// The most pumping-like of the narrow bands 166 Hz–1 kHz measured at the beat's period,
    /// with the band (a timbre band index): a ducked pad shows in the band it fills even
    /// where other parts fill the rest of the mid range.
    pub band_pumping: Option<(Pumping, usize)>,
    /// The strongest sustained partial around that swings in a regular vibrato, whatever
    /// else plays (see [`bowed_layer`]).
    pub vib_partial: Option<Partial>,
    /// Plucked partials in [`partials::FUNDAMENTAL_HZ`] starting within ±2 s (notes that
    /// peak at their attack and die away), whatever else plays.
    pub plucks: usize,
    /// Those of them that bend 15–250 cents after the attack, and those that do so together
    /// with one of their harmonics.
    pub bent_plucks: usize,
    pub confirmed_bends: usize,
    /// The largest bend of those: its start (s), pitch (Hz) and bend (cents).
    pub pluck_bend: Option<(f64, f32, f32)>,
    /// Whether the AudioSet tagger heard the track (see [`add_tags`]).
    pub tagged: bool,
    /// Each group of [`tagger::GROUPS`] in the tagger's windows that hold the block: (its
    /// strongest class, the group's score averaged over those windows).
    pub tags: [(usize, f32); tagger::N_GROUPS],
}

impl BlockCues {
    /// The block's cues without the tagger's judgement: the signal cues alone.
    pub fn untagged(&self) -> BlockCues {
        BlockCues {
            tagged: false,
            tags: Default::default(),
            ..*self
        }
    }
}
