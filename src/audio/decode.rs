//! Decoding audio files into a [`PcmStore`]: symphonia for WAV, AIFF, FLAC, MP3, Ogg Vorbis,
//! AAC/M4A, ALAC and CAF; `opus-pure` for Ogg Opus and for Opus inside Matroska/WebM.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use symphonia::core::codecs::audio::{AudioDecoderOptions, well_known::CODEC_ID_OPUS};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;

use super::store::{PcmStore, StoreWriter};
use super::{opus, repair};
use crate::display_name as name;

/// Most channels Sori accepts (7.1 is eight; a few more leaves room for ambisonics).
pub const MAX_CHANNELS: usize = 32;

/// The most decoded audio Sori holds in memory (32-bit samples): 4 GiB is about 3 h 6 min of
/// stereo at 48 kHz, or 1 h 33 min of 8 channels at 48 kHz.
pub const MAX_PCM_BYTES: u64 = 4 << 30;

/// No codec Sori reads packs audio tighter than this many bytes of 32-bit samples per byte of
/// file (low-rate mono Opus comes closest, at about 96). A header that announces more audio
/// than its file could hold at this ratio is not believed when it comes to refusing a file.
const MAX_EXPANSION: u64 = 128;

#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("Could not read {}: {source}.", name(.path))]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is empty (0 bytes); choose another file.", name(.0))]
    Empty(PathBuf),
    #[error("{} is not an audio file Sori can read (no known audio format was found in it).", name(.0))]
    NotAudio(PathBuf),
    #[error("{} holds no audio track.", name(.0))]
    NoAudioTrack(PathBuf),
    #[error("{} uses an audio codec Sori cannot decode ({}).", name(.0), .1)]
    Unsupported(PathBuf, String),
    #[error("{} is damaged: no audio could be decoded from it ({}).", name(.0), .1)]
    Corrupt(PathBuf, String),
    #[error("{} has {} channels; Sori opens files with 1 to {MAX_CHANNELS} channels.", name(.0), .1)]
    TooManyChannels(PathBuf, usize),
    #[error("Opening {} was cancelled.", name(.0))]
    Cancelled(PathBuf),
    #[error(
        "{} is too long to open: {} needs {:.1} GB of memory, and Sori holds at most {:.1} GB of audio. Open a shorter excerpt, or convert it to fewer channels or a lower sample rate.",
        name(.path), .what, gb(*.needs), gb(*.budget)
    )]
    TooLarge {
        path: PathBuf,
        what: String,
        needs: u64,
        budget: u64,
    },
}

fn gb(bytes: u64) -> f64 {
    bytes as f64 / 1e9
}

/// "1 h 02 min" / "3 min 20 s" / "12.5 s".
fn duration_words(secs: f64) -> String {
    let s = secs.max(0.0);
    if s >= 3600.0 {
        let m = (s / 60.0).round() as u64;
        format!("{} h {:02} min", m / 60, m % 60)
    } else if s >= 60.0 {
        let r = s.round() as u64;
        format!("{} min {:02} s", r / 60, r % 60)
    } else {
        format!("{s:.1} s")
    }
}

/// What the container says before decoding starts.
#[derive(Debug, Clone)]
pub struct StreamInfo {
    pub sample_rate: u32,
    pub channels: usize,
    /// Frames the container announces, if it does.
    pub expected_frames: Option<u64>,
    /// Short human description, e.g. "FLAC" or "Opus in Ogg".
    pub codec: String,
}

/// How decoding ended (when it produced audio).
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Set when the stream stopped early or packets were skipped: one sentence for the user.
    pub notice: Option<String>,
}

/// Progress and cancellation shared between the decoder thread and its observers.
#[derive(Debug, Default)]
pub struct Progress {
    pub bytes_read: AtomicU64,
    pub bytes_total: AtomicU64,
    pub cancel: AtomicBool,
}

impl Progress {
    pub fn fraction(&self) -> f32 {
        let total = self.bytes_total.load(Ordering::Relaxed);
        if total == 0 {
            return 0.0;
        }
        (self.bytes_read.load(Ordering::Relaxed) as f64 / total as f64).clamp(0.0, 1.0) as f32
    }
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// A reader that counts bytes for the progress bar.
struct CountingFile {
    file: Box<dyn MediaSource>,
    len: u64,
    progress: Arc<Progress>,
}

impl Read for CountingFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        self.progress
            .bytes_read
            .fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}
impl Seek for CountingFile {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        let p = self.file.seek(pos)?;
        self.progress.bytes_read.store(p, Ordering::Relaxed);
        Ok(p)
    }
}
impl MediaSource for CountingFile {
    fn is_seekable(&self) -> bool {
        true
    }
    fn byte_len(&self) -> Option<u64> {
        Some(self.len)
    }
}

/// An opened, probed file ready to decode.
pub struct Decoder {
    path: PathBuf,
    info: StreamInfo,
    kind: Kind,
    progress: Arc<Progress>,
    budget: u64,
    /// The header's sizes ran past the end of the file (see `repair`).
    cut_short: bool,
}

enum Kind {
    Symphonia {
        format: Box<dyn FormatReader>,
        track_id: u32,
    },
    OggOpus(opus::OggOpus),
    MkvOpus {
        format: Box<dyn FormatReader>,
        track_id: u32,
        dec: opus::PacketDecoder,
    },
}

/// Lets the Ogg Opus reader (which wants `Read`) own a media source.
struct ReadOf(CountingFile);

impl Read for ReadOf {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl Decoder {
    /// Probes `path`. Fails with one clear sentence when the file is not audio Sori can read.
    pub fn open(path: &Path, progress: Arc<Progress>) -> Result<Self, AudioError> {
        let io = |source| AudioError::Io {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        if meta.is_dir() {
            return Err(AudioError::NotAudio(path.to_owned()));
        }
        let hint = path.extension().and_then(|e| e.to_str());
        Self::open_source(path, Box::new(file), meta.len(), hint, progress)
    }

    /// Probes bytes already in memory; `name` is used in messages only.
    pub fn open_bytes(name: &Path, bytes: Vec<u8>) -> Result<Self, AudioError> {
        let len = bytes.len() as u64;
        let source = Box::new(std::io::Cursor::new(bytes));
        Self::open_source(name, source, len, None, Arc::new(Progress::default()))
    }

    /// Probes `source` of `len` bytes, with `hint` the file's extension when it has one.
    fn open_source(
        path: &Path,
        source: Box<dyn MediaSource>,
        len: u64,
        hint_ext: Option<&str>,
        progress: Arc<Progress>,
    ) -> Result<Self, AudioError> {
        if len == 0 {
            return Err(AudioError::Empty(path.to_owned()));
        }
        let io = |source| AudioError::Io {
            path: path.to_owned(),
            source,
        };
        progress.bytes_total.store(len, Ordering::Relaxed);
        progress.bytes_read.store(0, Ordering::Relaxed);
        let mut file = CountingFile {
            file: source,
            len,
            progress: progress.clone(),
        };
        // Ogg Opus: symphonia demuxes it but has no decoder; opus-pure reads the whole stream.
        let mut head = [0u8; 64];
        let n = read_up_to(&mut file, &mut head).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        if n >= 36 && &head[..4] == b"OggS" && head[28..36] == *b"OpusHead" {
            let ogg = opus::OggOpus::open(Box::new(ReadOf(file)))
                .map_err(|e| AudioError::Corrupt(path.into(), e.to_string()))?;
            let info = StreamInfo {
                sample_rate: opus::RATE,
                channels: ogg.channels(),
                expected_frames: None,
                codec: "Opus in Ogg".into(),
            };
            check_channels(path, info.channels)?;
            return Ok(Self {
                path: path.into(),
                info,
                kind: Kind::OggOpus(ogg),
                progress,
                budget: MAX_PCM_BYTES,
                cut_short: false,
            });
        }

        let repair = repair::inspect(&mut file, len);
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        let cut_short = repair.cut_short;
        let source = repair::Patched::new(file, repair.patches);
        let mss = MediaSourceStream::new(Box::new(source), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = hint_ext {
            hint.with_extension(ext);
        }
        let probed = guarded(|| {
            symphonia::default::get_probe().probe(
                &hint,
                mss,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
        })
        .map_err(|()| AudioError::Corrupt(path.into(), DAMAGED.into()))?;
        let format = probed.map_err(|e| match e {
            SymError::IoError(source) if source.kind() != std::io::ErrorKind::UnexpectedEof => {
                AudioError::Io {
                    path: path.into(),
                    source,
                }
            }
            SymError::Unsupported(_) | SymError::IoError(_) => AudioError::NotAudio(path.into()),
            other => AudioError::Corrupt(path.into(), other.to_string()),
        })?;
        let track = format
            .default_track(TrackType::Audio)
            .or_else(|| format.first_track(TrackType::Audio))
            .ok_or_else(|| AudioError::NoAudioTrack(path.into()))?;
        let track_id = track.id;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or_else(|| AudioError::NoAudioTrack(path.into()))?
            .clone();
        let expected_frames = repair.announced_frames.or(track.num_frames);
        let container = format.format_info().short_name.to_string();

        if params.codec == CODEC_ID_OPUS {
            let dec = opus::PacketDecoder::new(
                params.extra_data.as_deref(),
                params.channels.as_ref().map(|c| c.count()),
            )
            .map_err(|e| AudioError::Corrupt(path.into(), e.to_string()))?;
            let info = StreamInfo {
                sample_rate: opus::RATE,
                channels: dec.channels(),
                expected_frames: None,
                codec: format!("Opus in {container}"),
            };
            check_channels(path, info.channels)?;
            return Ok(Self {
                path: path.into(),
                info,
                kind: Kind::MkvOpus {
                    format,
                    track_id,
                    dec,
                },
                progress,
                budget: MAX_PCM_BYTES,
                cut_short: false,
            });
        }

        let sample_rate = params.sample_rate.unwrap_or(0);
        let channels = params.channels.as_ref().map(|c| c.count()).unwrap_or(0);
        let codec_name = symphonia::default::get_codecs()
            .get_audio_decoder(params.codec)
            .map(|d| d.codec.info.short_name.to_uppercase())
            .unwrap_or_else(|| "unknown codec".into());
        if symphonia::default::get_codecs()
            .get_audio_decoder(params.codec)
            .is_none()
        {
            return Err(AudioError::Unsupported(
                path.into(),
                format!("codec {:?} in {container}", params.codec),
            ));
        }
        check_channels(path, channels)?;
        let codec = if codec_name.eq_ignore_ascii_case(&container) {
            codec_name
        } else {
            format!("{codec_name} in {container}")
        };
        let info = StreamInfo {
            sample_rate,
            channels,
            expected_frames,
            codec,
        };
        Ok(Self {
            path: path.into(),
            info,
            kind: Kind::Symphonia { format, track_id },
            progress,
            budget: MAX_PCM_BYTES,
            cut_short,
        })
    }

    /// Holds at most `bytes` of decoded audio: a longer stream is cut there, with a notice.
    pub fn with_budget(mut self, bytes: u64) -> Self {
        self.budget = bytes;
        self
    }

    pub fn info(&self) -> &StreamInfo {
        &self.info
    }

    /// Decodes everything into `store` (which must have this stream's rate and channel count,
    /// unless the info said 0: then `make_store` is called with the first packet's values).
    /// `on_chunk` is called after each published chunk.
    pub fn run(
        self,
        make_store: impl FnOnce(u32, usize) -> Arc<PcmStore>,
        mut on_chunk: impl FnMut(&PcmStore),
    ) -> Result<(Arc<PcmStore>, Outcome), AudioError> {
        let Decoder {
            path,
            info,
            kind,
            progress,
            budget,
            cut_short,
        } = self;
        // Refuse at once what cannot fit, when the header says so and the file's size backs it.
        if let Some(frames) = info.expected_frames {
            let announced = frames.saturating_mul(info.channels.max(1) as u64 * 4);
            let len = progress.bytes_total.load(Ordering::Relaxed);
            if announced.min(len.saturating_mul(MAX_EXPANSION)) > budget {
                return Err(AudioError::TooLarge {
                    what: describe(frames, info.sample_rate, info.channels),
                    path,
                    needs: announced,
                    budget,
                });
            }
        }
        let mut sink = Sink::new(make_store, &info, budget, &path);
        let mut notice = None;
        // Why the stream ended before its end, when it did.
        let mut ended: Option<String> = None;
        match kind {
            Kind::OggOpus(mut ogg) => {
                let mut buf = Vec::new();
                loop {
                    if progress.cancelled() {
                        return Err(AudioError::Cancelled(path));
                    }
                    if sink.full {
                        break;
                    }
                    match guarded(|| ogg.next(&mut buf)) {
                        Ok(Ok(true)) => {
                            sink.push(opus::RATE, info.channels, &buf, &mut on_chunk)?
                        }
                        Ok(Ok(false)) => break,
                        Ok(Err(e)) => {
                            ended = Some(e.to_string());
                            break;
                        }
                        Err(()) => {
                            ended = Some(DAMAGED.into());
                            break;
                        }
                    }
                }
            }
            Kind::MkvOpus {
                mut format,
                track_id,
                mut dec,
            } => {
                let mut buf = Vec::new();
                let mut skipped = 0usize;
                loop {
                    if progress.cancelled() {
                        return Err(AudioError::Cancelled(path));
                    }
                    if sink.full {
                        break;
                    }
                    let Ok(next) = guarded(|| format.next_packet()) else {
                        ended = Some(DAMAGED.into());
                        break;
                    };
                    match next {
                        Ok(Some(p)) if p.track_id == track_id => {
                            match guarded(|| dec.decode(&p.data, &mut buf)) {
                                Ok(Ok(())) => {
                                    sink.push(opus::RATE, dec.channels(), &buf, &mut on_chunk)?
                                }
                                _ => skipped += 1,
                            }
                        }
                        Ok(Some(_)) => {}
                        Ok(None) => break,
                        Err(e) => {
                            ended = Some(e.to_string());
                            break;
                        }
                    }
                }
                if skipped > 0 && ended.is_none() {
                    notice = Some(format!(
                        "{skipped} damaged packets in {} were skipped.",
                        name(&path)
                    ));
                }
            }
            Kind::Symphonia {
                mut format,
                track_id,
            } => {
                let params = format
                    .tracks()
                    .iter()
                    .find(|t| t.id == track_id)
                    .and_then(|t| t.codec_params.as_ref())
                    .and_then(|p| p.audio())
                    .cloned()
                    .ok_or_else(|| AudioError::NoAudioTrack(path.clone()))?;
                let mut decoder = guarded(|| {
                    symphonia::default::get_codecs()
                        .make_audio_decoder(&params, &AudioDecoderOptions::default())
                })
                .map_err(|()| AudioError::Corrupt(path.clone(), DAMAGED.into()))?
                .map_err(|e| AudioError::Unsupported(path.clone(), e.to_string()))?;
                let mut buf: Vec<f32> = Vec::new();
                let mut skipped = 0usize;
                loop {
                    if progress.cancelled() {
                        return Err(AudioError::Cancelled(path));
                    }
                    if sink.full {
                        break;
                    }
                    let packet = match guarded(|| format.next_packet()) {
                        Ok(Ok(Some(p))) => p,
                        Ok(Ok(None)) => break,
                        Ok(Err(SymError::ResetRequired)) => break,
                        Ok(Err(e)) => {
                            ended = Some(e.to_string());
                            break;
                        }
                        Err(()) => {
                            ended = Some(DAMAGED.into());
                            break;
                        }
                    };
                    if packet.track_id != track_id {
                        continue;
                    }
                    let decoded = guarded(|| {
                        decoder.decode(&packet).map(|decoded| {
                            buf.clear();
                            decoded.copy_to_vec_interleaved(&mut buf);
                            (decoded.spec().rate(), decoded.spec().channels().count())
                        })
                    });
                    match decoded {
                        Ok(Ok((rate, ch))) => sink.push(rate, ch, &buf, &mut on_chunk)?,
                        Ok(Err(SymError::DecodeError(_))) | Err(()) => skipped += 1,
                        Ok(Err(e)) => {
                            ended = Some(e.to_string());
                            break;
                        }
                    }
                }
                if skipped > 0 && ended.is_none() {
                    notice = Some(format!(
                        "{skipped} damaged packets in {} were skipped; the audio has gaps there.",
                        name(&path)
                    ));
                }
            }
        }
        if sink.full {
            notice = Some(format!(
                "Only the first {} of {} fit in the {:.1} GB Sori holds; the rest was not opened.",
                duration_words(sink.frames() as f64 / sink.rate.max(1) as f64),
                name(&path),
                gb(budget)
            ));
        }
        // The reader's own words about a header repaired for a cut file would only confuse.
        if cut_short && ended.is_some() {
            ended = Some("the file is cut short".into());
        }
        let frames = sink.frames();
        if frames == 0 {
            return Err(AudioError::Corrupt(
                path.clone(),
                ended.unwrap_or_else(|| "the stream holds no samples".into()),
            ));
        }
        if let Some(why) = &ended {
            notice = Some(format!(
                "{} ended early ({why}); the first {} could be opened.",
                name(&path),
                duration_words(frames as f64 / sink.rate.max(1) as f64)
            ));
        }
        if notice.is_none()
            && let Some(expected) = info.expected_frames
            && frames + (info.sample_rate as u64 / 10) < expected
        {
            notice = Some(format!(
                "{} seems cut short: {} of the announced {} could be decoded.",
                name(&path),
                duration_words(frames as f64 / info.sample_rate.max(1) as f64),
                duration_words(expected as f64 / info.sample_rate.max(1) as f64)
            ));
        }
        let store = sink.finish(&mut on_chunk);
        Ok((store, Outcome { notice }))
    }
}

/// Why decoding stopped when a reader or codec library failed on the data (it panicked).
const DAMAGED: &str = "the file is damaged where the reader stopped";

/// Runs a call into a reader or codec library, turning a panic (an arithmetic overflow on a
/// hostile header, say) into an error: a damaged file must not take the app down.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, ()> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|_| ())
}

/// "2 h 00 min of 8 channels at 192 kHz".
fn describe(frames: u64, rate: u32, channels: usize) -> String {
    let secs = frames as f64 / rate.max(1) as f64;
    let chans = match channels {
        1 => "mono".to_string(),
        2 => "stereo".to_string(),
        n => format!("{n} channels"),
    };
    format!(
        "{} of {chans} at {} kHz",
        duration_words(secs),
        rate as f64 / 1000.0
    )
}

fn check_channels(path: &Path, channels: usize) -> Result<(), AudioError> {
    if channels > MAX_CHANNELS {
        Err(AudioError::TooManyChannels(path.into(), channels))
    } else {
        Ok(())
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Collects decoded packets into the store, creating it lazily from the first packet's spec.
struct Sink<'a, F> {
    make: Option<F>,
    store: Option<(Arc<PcmStore>, StoreWriter)>,
    rate: u32,
    channels: usize,
    path: &'a Path,
    /// Samples (not frames) the budget still allows.
    room: u64,
    /// Set when the budget ran out: decoding stops.
    full: bool,
}

impl<'a, F: FnOnce(u32, usize) -> Arc<PcmStore>> Sink<'a, F> {
    fn new(make: F, info: &StreamInfo, budget: u64, path: &'a Path) -> Self {
        Self {
            make: Some(make),
            store: None,
            rate: info.sample_rate,
            channels: info.channels,
            path,
            room: budget / 4,
            full: false,
        }
    }
    fn frames(&self) -> u64 {
        self.store
            .as_ref()
            .map(|(s, w)| s.frames() + w.pending_frames() as u64)
            .unwrap_or(0)
    }
    fn push(
        &mut self,
        rate: u32,
        ch: usize,
        samples: &[f32],
        on_chunk: &mut impl FnMut(&PcmStore),
    ) -> Result<(), AudioError> {
        if samples.is_empty() || ch == 0 {
            return Ok(());
        }
        if self.store.is_none() {
            check_channels(self.path, ch)?;
            if rate == 0 {
                return Err(AudioError::Corrupt(
                    self.path.into(),
                    "sample rate 0".into(),
                ));
            }
            self.rate = rate;
            self.channels = ch;
            if let Some(make) = self.make.take() {
                let store = make(rate, ch);
                let w = StoreWriter::new(&store);
                self.store = Some((store, w));
            }
        }
        let Some((store, w)) = self.store.as_mut() else {
            return Ok(());
        };
        // Whole frames of the store's layout that still fit in the budget.
        let fits = (self.room / self.channels as u64).min(usize::MAX as u64) as usize;
        let frames_in = samples.len() / ch;
        let samples = if frames_in > fits {
            self.full = true;
            &samples[..fits * ch]
        } else {
            samples
        };
        self.room -= (samples.len() / ch * self.channels) as u64;
        if ch != self.channels {
            // A mid-stream layout change: map to the first layout rather than garbling it.
            let frames = samples.len() / ch;
            let mut mapped = Vec::with_capacity(frames * self.channels);
            for f in samples.chunks_exact(ch) {
                for c in 0..self.channels {
                    mapped.push(f[c.min(ch - 1)]);
                }
            }
            let full = w.push_interleaved(&mapped);
            let any = !full.is_empty();
            w.publish(store, full);
            if any {
                on_chunk(store);
            }
            return Ok(());
        }
        let full = w.push_interleaved(samples);
        let any = !full.is_empty();
        w.publish(store, full);
        if any {
            on_chunk(store);
        }
        Ok(())
    }
    fn finish(self, on_chunk: &mut impl FnMut(&PcmStore)) -> Arc<PcmStore> {
        match self.store {
            Some((store, w)) => {
                w.finish(&store);
                on_chunk(&store);
                store
            }
            None => {
                let s = Arc::new(PcmStore::new(self.rate.max(1), self.channels.max(1)));
                StoreWriter::new(&s).finish(&s);
                s
            }
        }
    }
}

/// Decodes a whole file on the calling thread (for the command line and tests).
pub fn decode_file(path: &Path) -> Result<(Arc<PcmStore>, Outcome), AudioError> {
    decode_with(path, |_| {})
}

/// [`decode_file`], handing the store to `on_store` as soon as it exists (before any audio).
fn decode_with(
    path: &Path,
    on_store: impl FnOnce(&Arc<PcmStore>),
) -> Result<(Arc<PcmStore>, Outcome), AudioError> {
    let dec = Decoder::open(path, Arc::new(Progress::default()))?;
    let expected = dec.info().expected_frames;
    dec.run(
        |rate, ch| {
            let s = PcmStore::new(rate, ch);
            if let Some(n) = expected {
                s.set_expected_frames(n);
            }
            let store = Arc::new(s);
            on_store(&store);
            store
        },
        |_| {},
    )
}

/// Decodes a whole file on the calling thread while `follow` runs on a second thread with the
/// store as it fills, and with a flag that is set once the decoder has stopped (the store
/// may then be incomplete, after an error). Returns what `follow` returned, unless it panicked.
pub fn decode_following<T: Send>(
    path: &Path,
    follow: impl FnOnce(&PcmStore, &AtomicBool) -> T + Send,
) -> Result<(Arc<PcmStore>, Outcome, Option<T>), AudioError> {
    let over = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let mut follower = None;
        let result = decode_with(path, |store| {
            let (followed, over) = (store.clone(), &over);
            follower = Some(scope.spawn(move || follow(&followed, over)));
        });
        over.store(true, Ordering::Release);
        let followed = follower.and_then(|h| h.join().ok());
        result.map(|(store, outcome)| (store, outcome, followed))
    })
}
