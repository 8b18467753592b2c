//! Entry points shared by the fuzz targets (`fuzz/`, run with `make fuzz`) and the test that
//! replays their corpora (`tests/it/fuzz_corpus.rs`), so a crash found once stays fixed. Each
//! takes arbitrary bytes and must return without panicking, hanging or exhausting memory.

use std::path::Path;
use std::sync::Arc;

use crate::analysis::{lens, peaks::PeakPyramid, spectrum::Stft};
use crate::audio::decode::Decoder;
use crate::audio::store::PcmStore;
use crate::notes::interchange::{Format, export, import_bytes};

/// The most decoded audio one fuzz input may produce (a few seconds), so that a tiny file
/// announcing hours is cut rather than filling the fuzzer's memory.
const DECODE_BUDGET: u64 = 64 << 20;

/// Opens and decodes `data` as an audio file of unknown type. Returns the frames decoded.
pub fn decode(data: &[u8]) -> u64 {
    let Ok(dec) = Decoder::open_bytes(Path::new("fuzz-input"), data.to_vec()) else {
        return 0;
    };
    let dec = dec.with_budget(DECODE_BUDGET);
    match dec.run(|rate, ch| Arc::new(PcmStore::new(rate, ch)), |_| {}) {
        Ok((store, _)) => store.frames(),
        Err(_) => 0,
    }
}

/// The notes formats, in the order of the fuzz targets `notes_*`.
pub const NOTES_FORMATS: [(&str, Format); 7] = [
    ("notes_native", Format::Native),
    ("notes_audacity", Format::Audacity),
    ("notes_sv_csv", Format::SvCsv),
    ("notes_vtt", Format::Vtt),
    ("notes_srt", Format::Srt),
    ("notes_jams", Format::Jams),
    ("notes_textgrid", Format::TextGrid),
];

/// Parses `data` as a notes file in `format`; what parses is written back out in every
/// format and the native text read again, which must succeed.
pub fn notes(format: Format, data: &[u8]) {
    let Ok((doc, _)) = import_bytes(data, format) else {
        return;
    };
    let mut native = String::new();
    for (_, f) in NOTES_FORMATS {
        let (text, _) = export(&doc, f);
        if f == Format::Native {
            native = text;
        }
    }
    if let Err(e) = import_bytes(native.as_bytes(), Format::Native) {
        panic!("Sori cannot read back the notes it wrote: {e}\n{native}");
    }
}

/// Sample rates the analysis input chooses from (its first byte).
const RATES: [u32; 6] = [8_000, 11_025, 22_050, 44_100, 48_000, 96_000];

/// Builds a signal from `data` and runs everything that reads samples on it: the features and
/// the fusion lens, the waveform peaks and a spectrogram column.
///
/// Layout: byte 0 picks the sample rate, byte 1 the channel count (1–4), byte 2 the length
/// (1/8 s to 2 s); the rest are little-endian `f32` samples, repeated to fill the length
/// (silence when there are none). NaN, infinities and denormals come through as they are.
pub fn analysis(data: &[u8]) {
    let signal = Signal::from_bytes(data);
    let store = PcmStore::from_interleaved(signal.rate, signal.channels, &signal.samples);
    let result = lens::analyze(&store);
    for lane in &result.lanes {
        for &v in &lane.scores {
            assert!(
                v.is_finite() && (0.0..=1.0).contains(&v),
                "lane {} scored {v}",
                lane.id
            );
        }
    }
    let mut peaks = PeakPyramid::new(signal.channels);
    peaks.update(&store);
    let mut stft = Stft::new(1024);
    let (mut frame, mut column) = (Vec::new(), vec![0.0; stft.bins()]);
    stft.column_at(&store, store.frames() as i64 / 2, &mut frame, &mut column);
}

/// The signal an analysis fuzz input describes.
pub struct Signal {
    pub rate: u32,
    pub channels: usize,
    pub samples: Vec<f32>,
}

impl Signal {
    pub fn from_bytes(data: &[u8]) -> Signal {
        let byte = |i: usize| data.get(i).copied().unwrap_or(0) as usize;
        let rate = RATES[byte(0) % RATES.len()];
        let channels = byte(1) % 4 + 1;
        let frames = (byte(2) % 16 + 1) * rate as usize / 8;
        let values: Vec<f32> = data
            .get(3..)
            .unwrap_or(&[])
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let n = frames * channels;
        let samples = if values.is_empty() {
            vec![0.0; n]
        } else {
            values.iter().copied().cycle().take(n).collect()
        };
        Signal {
            rate,
            channels,
            samples,
        }
    }

    /// The bytes that describe `samples` (repeated to `len_code`'s length) at `RATES[rate]`.
    pub fn to_bytes(rate: u8, channels: u8, len_code: u8, samples: &[f32]) -> Vec<u8> {
        let mut out = vec![rate, channels, len_code];
        for s in samples {
            out.extend_from_slice(&s.to_le_bytes());
        }
        out
    }
}
