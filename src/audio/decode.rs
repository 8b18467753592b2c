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

use super::opus;
use super::store::{PcmStore, StoreWriter};

/// Most channels Sori accepts (7.1 is eight; a few more leaves room for ambisonics).
pub const MAX_CHANNELS: usize = 32;

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
}

fn name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
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

/// A file reader that counts bytes for the progress bar.
struct CountingFile {
    file: File,
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

fn open_counting(path: &Path, progress: &Arc<Progress>) -> Result<CountingFile, AudioError> {
    let io = |source| AudioError::Io {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if meta.is_dir() {
        return Err(AudioError::NotAudio(path.to_owned()));
    }
    let len = meta.len();
    if len == 0 {
        return Err(AudioError::Empty(path.to_owned()));
    }
    progress.bytes_total.store(len, Ordering::Relaxed);
    progress.bytes_read.store(0, Ordering::Relaxed);
    Ok(CountingFile {
        file,
        len,
        progress: progress.clone(),
    })
}

impl Decoder {
    /// Probes `path`. Fails with one clear sentence when the file is not audio Sori can read.
    pub fn open(path: &Path, progress: Arc<Progress>) -> Result<Self, AudioError> {
        let mut file = open_counting(path, &progress)?;
        // Ogg Opus: symphonia demuxes it but has no decoder; opus-pure reads the whole stream.
        let mut head = [0u8; 64];
        let n = read_up_to(&mut file, &mut head).map_err(|source| AudioError::Io {
            path: path.into(),
            source,
        })?;
        file.seek(SeekFrom::Start(0))
            .map_err(|source| AudioError::Io {
                path: path.into(),
                source,
            })?;
        if n >= 36 && &head[..4] == b"OggS" && head[28..36] == *b"OpusHead" {
            let ogg = opus::OggOpus::open(Box::new(file))
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
            });
        }

        let mss = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let format = symphonia::default::get_probe()
            .probe(
                &hint,
                mss,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
            .map_err(|e| match e {
                SymError::IoError(source) if source.kind() != std::io::ErrorKind::UnexpectedEof => {
                    AudioError::Io {
                        path: path.into(),
                        source,
                    }
                }
                SymError::Unsupported(_) | SymError::IoError(_) => {
                    AudioError::NotAudio(path.into())
                }
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
        let expected_frames = track.num_frames;
        let container = format.format_info().short_name.to_string();

        if params.codec == CODEC_ID_OPUS {
            let dec = opus::PacketDecoder::new(
                params.extra_data.as_deref(),
                params.channels.as_ref().map(|c| c.count()),
            )
            .map_err(|e| AudioError::Corrupt(path.into(), e))?;
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
        })
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
        } = self;
        let mut sink = Sink::new(make_store, &info, &progress, &path);
        let mut notice = None;
        match kind {
            Kind::OggOpus(mut ogg) => {
                let mut buf = Vec::new();
                loop {
                    if progress.cancelled() {
                        return Err(AudioError::Cancelled(path));
                    }
                    match ogg.next(&mut buf) {
                        Ok(true) => sink.push(opus::RATE, info.channels, &buf, &mut on_chunk)?,
                        Ok(false) => break,
                        Err(e) => {
                            notice = Some(early_end(&path, &sink, &e));
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
                    match format.next_packet() {
                        Ok(Some(p)) if p.track_id == track_id => {
                            match dec.decode(&p.data, &mut buf) {
                                Ok(()) => {
                                    sink.push(opus::RATE, dec.channels(), &buf, &mut on_chunk)?
                                }
                                Err(_) => skipped += 1,
                            }
                        }
                        Ok(Some(_)) => {}
                        Ok(None) => break,
                        Err(e) => {
                            notice = Some(early_end(&path, &sink, &e.to_string()));
                            break;
                        }
                    }
                }
                if skipped > 0 && notice.is_none() {
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
                let mut decoder = symphonia::default::get_codecs()
                    .make_audio_decoder(&params, &AudioDecoderOptions::default())
                    .map_err(|e| AudioError::Unsupported(path.clone(), e.to_string()))?;
                let mut buf: Vec<f32> = Vec::new();
                let mut skipped = 0usize;
                loop {
                    if progress.cancelled() {
                        return Err(AudioError::Cancelled(path));
                    }
                    let packet = match format.next_packet() {
                        Ok(Some(p)) => p,
                        Ok(None) => break,
                        Err(SymError::ResetRequired) => break,
                        Err(e) => {
                            notice = Some(early_end(&path, &sink, &e.to_string()));
                            break;
                        }
                    };
                    if packet.track_id != track_id {
                        continue;
                    }
                    match decoder.decode(&packet) {
                        Ok(decoded) => {
                            let rate = decoded.spec().rate();
                            let ch = decoded.spec().channels().count();
                            buf.clear();
                            decoded.copy_to_vec_interleaved(&mut buf);
                            sink.push(rate, ch, &buf, &mut on_chunk)?;
                        }
                        Err(SymError::DecodeError(_)) => skipped += 1,
                        Err(SymError::IoError(e)) => {
                            notice = Some(early_end(&path, &sink, &e.to_string()));
                            break;
                        }
                        Err(e) => {
                            if sink.frames() == 0 {
                                return Err(AudioError::Corrupt(path, e.to_string()));
                            }
                            notice = Some(early_end(&path, &sink, &e.to_string()));
                            break;
                        }
                    }
                }
                if skipped > 0 && notice.is_none() {
                    notice = Some(format!(
                        "{skipped} damaged packets in {} were skipped; the audio has gaps there.",
                        name(&path)
                    ));
                }
            }
        }
        let frames = sink.frames();
        if frames == 0 {
            return Err(AudioError::Corrupt(
                path.clone(),
                notice.unwrap_or_else(|| "the stream holds no samples".into()),
            ));
        }
        if notice.is_none()
            && let Some(expected) = info.expected_frames
            && frames + (info.sample_rate as u64 / 10) < expected
        {
            notice = Some(format!(
                "{} seems cut short: {:.1} s of the announced {:.1} s could be decoded.",
                name(&path),
                frames as f64 / info.sample_rate.max(1) as f64,
                expected as f64 / info.sample_rate.max(1) as f64
            ));
        }
        let store = sink.finish(&mut on_chunk);
        Ok((store, Outcome { notice }))
    }
}

fn early_end(
    path: &Path,
    sink: &Sink<'_, impl FnOnce(u32, usize) -> Arc<PcmStore>>,
    why: &str,
) -> String {
    let secs = sink.frames() as f64 / sink.rate.max(1) as f64;
    format!(
        "{} ended early ({why}); the first {secs:.1} s could be opened.",
        name(path)
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
}

impl<'a, F: FnOnce(u32, usize) -> Arc<PcmStore>> Sink<'a, F> {
    fn new(make: F, info: &StreamInfo, _progress: &Arc<Progress>, path: &'a Path) -> Self {
        Self {
            make: Some(make),
            store: None,
            rate: info.sample_rate,
            channels: info.channels,
            path,
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
