//! One opened track and the worker that loads it (decode → store → peaks → overview).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::analysis::features::{self, Features};
use crate::analysis::lens::{Analysis, add_tags, analyze, analyze_features, remove_tags};
use crate::analysis::peaks::PeakPyramid;
use crate::analysis::spectrum::{Overview, SpecParams};
use crate::analysis::tagger::{Tagger, TaggerError, WindowTags};
use crate::audio::{Decoder, PcmStore, Progress, StoreWriter};
use crate::demo;

static NEXT_TRACK_ID: AtomicU64 = AtomicU64::new(1);

/// Where a track comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    File(PathBuf),
    Demo,
}

impl Source {
    pub fn title(&self) -> String {
        match self {
            Source::Demo => "Sori demo — gayageum, haegeum and janggu meet a pop beat".into(),
            Source::File(p) => p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        }
    }
}

/// An opened track: PCM plus the analysis products drawn from it.
pub struct Track {
    pub id: u64,
    pub source: Source,
    pub codec: String,
    pub store: Arc<PcmStore>,
    pub peaks: RwLock<PeakPyramid>,
    pub overview: RwLock<Overview>,
    /// Set once the peaks and overview cover the whole decoded track.
    analysis_done: std::sync::atomic::AtomicBool,
    /// The fusion lens, once computed (after decoding, on the loading thread); see [`Track::lens`].
    lens: RwLock<Option<Arc<Analysis>>>,
    lens_busy: std::sync::atomic::AtomicBool,
    /// The lens's frame features, measured while the file decodes (see [`Track::follow_features`]).
    features: Mutex<Option<std::thread::JoinHandle<Option<Features>>>>,
    /// Set when decoding ended, however: the features then end with what was decoded.
    decoding_over: Arc<std::sync::atomic::AtomicBool>,
    /// Set once the features are measured (or could not be followed).
    features_done: Arc<std::sync::atomic::AtomicBool>,
    /// The AudioSet tagger's windows, once it has heard the whole track.
    tags: RwLock<Option<Arc<Vec<WindowTags>>>>,
    tagging: std::sync::atomic::AtomicBool,
    /// Windows tagged so far, of how many.
    tag_done: std::sync::atomic::AtomicUsize,
    tag_total: std::sync::atomic::AtomicUsize,
    tag_error: Mutex<Option<String>>,
}

/// The tagger every track shares (its plans per window length are kept between tracks);
/// the error, in a sentence, if its model cannot be loaded.
pub fn shared_tagger() -> Result<&'static Tagger, TaggerError> {
    static TAGGER: std::sync::OnceLock<Result<Tagger, TaggerError>> = std::sync::OnceLock::new();
    TAGGER
        .get_or_init(Tagger::new)
        .as_ref()
        .map_err(|e| e.clone())
}

impl std::fmt::Debug for Track {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Track")
            .field("id", &self.id)
            .field("source", &self.source)
            .finish()
    }
}

/// The track's background jobs started after it opened, each on a thread of its own.
impl Track {
    /// Recomputes the spectrogram overview with `params` (another window size), following the
    /// store while it may still be decoding.
    pub fn spawn_overview(
        self: &Arc<Self>,
        params: SpecParams,
    ) -> std::io::Result<std::thread::JoinHandle<()>> {
        let track = self.clone();
        std::thread::Builder::new()
            .name("sori-overview".into())
            .spawn(move || {
                let mut ov = Overview::new(params, track.store.sample_rate());
                loop {
                    let complete = track.store.is_complete();
                    ov.update(&track.store);
                    if complete {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                if let Ok(mut o) = track.overview.write() {
                    *o = ov;
                }
            })
    }

    /// Tags a track that was opened with the tagger off, while `on` stays set.
    pub fn spawn_tagger(
        self: &Arc<Self>,
        on: Arc<std::sync::atomic::AtomicBool>,
    ) -> std::io::Result<std::thread::JoinHandle<()>> {
        let track = self.clone();
        std::thread::Builder::new()
            .name("sori-tagger".into())
            .spawn(move || track.run_tagger(&on, &|| false))
    }

    /// Draws the demo's picture of its haegeum line to `out` (in the folder `dir`), once the
    /// analysis is done; the demo notes show it.
    pub fn spawn_demo_picture(
        self: &Arc<Self>,
        dir: PathBuf,
        out: PathBuf,
    ) -> std::io::Result<std::thread::JoinHandle<()>> {
        let track = self.clone();
        std::thread::Builder::new()
            .name("sori-demo-picture".into())
            .spawn(move || {
                let (Ok(peaks), Ok(ov)) = (track.peaks.read(), track.overview.read()) else {
                    return;
                };
                let opts = crate::render::picture::PictureOptions {
                    width: 900,
                    height: 420,
                    from_s: 36.0,
                    to_s: Some(44.0),
                    title: "Haegeum-like line: 4 Hz vibrato, nasal partials".into(),
                    ..Default::default()
                };
                let img =
                    crate::render::picture::render_picture(&track.store, &peaks, Some(&ov), &opts);
                if std::fs::create_dir_all(&dir).is_ok() {
                    let _ = crate::render::save_png(&out, &img);
                }
            })
    }
}

impl Track {
    pub fn new(source: Source, codec: String, store: Arc<PcmStore>, params: SpecParams) -> Self {
        let ch = store.channels();
        let rate = store.sample_rate();
        Self {
            id: NEXT_TRACK_ID.fetch_add(1, Ordering::Relaxed),
            source,
            codec,
            store,
            peaks: RwLock::new(PeakPyramid::new(ch)),
            overview: RwLock::new(Overview::new(params, rate)),
            analysis_done: std::sync::atomic::AtomicBool::new(false),
            lens: RwLock::new(None),
            lens_busy: std::sync::atomic::AtomicBool::new(true),
            features: Mutex::new(None),
            decoding_over: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            features_done: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            tags: RwLock::new(None),
            tagging: std::sync::atomic::AtomicBool::new(false),
            tag_done: std::sync::atomic::AtomicUsize::new(0),
            tag_total: std::sync::atomic::AtomicUsize::new(0),
            tag_error: Mutex::new(None),
        }
    }

    /// The tagger's windows, once the whole track is tagged.
    pub fn tags(&self) -> Option<Arc<Vec<WindowTags>>> {
        self.tags.read().ok().and_then(|t| t.clone())
    }
    /// While the tagger runs: windows done and in all.
    pub fn tag_progress(&self) -> Option<(usize, usize)> {
        self.tagging.load(Ordering::Acquire).then(|| {
            (
                self.tag_done.load(Ordering::Relaxed),
                self.tag_total.load(Ordering::Relaxed),
            )
        })
    }
    /// Why the tagger could not hear this track, if it could not.
    pub fn tag_error(&self) -> Option<String> {
        self.tag_error.lock().ok().and_then(|e| e.clone())
    }

    /// Tags the decoded track window by window while `on` stays true, then scores the
    /// lanes again with the tagger's classes. Runs on the calling (worker) thread; a second
    /// call while one runs, or once the track is tagged, does nothing.
    pub fn run_tagger(
        &self,
        on: &std::sync::atomic::AtomicBool,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) {
        if self.tags().is_some() || self.tagging.swap(true, Ordering::AcqRel) {
            return;
        }
        let keep_going = || on.load(Ordering::Relaxed) && !cancelled();
        if keep_going() && self.store.is_complete() {
            // One core stays free for drawing and playback (the tagger is the longest job).
            let threads = crate::parallel::cores().saturating_sub(1).max(1);
            self.tag_done.store(0, Ordering::Relaxed);
            let result = shared_tagger().map_err(|e| e.to_string()).and_then(|t| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    t.tag_track(
                        &self.store,
                        threads,
                        |done, total| {
                            self.tag_done.store(done, Ordering::Relaxed);
                            self.tag_total.store(total, Ordering::Relaxed);
                        },
                        keep_going,
                    )
                }))
                .map_err(|_| "the tagger failed on this track".to_string())?
                .map_err(|e| e.to_string())
            });
            let total = crate::analysis::tagger::windows(self.store.duration_s()).len();
            match result {
                // Stopped part way (turned off, or another file opened): nothing is kept.
                Ok(w) if w.len() < total || !keep_going() => {}
                Ok(mut w) => {
                    if let Some(lens) = self.lens() {
                        let mut a = (*lens).clone();
                        add_tags(&mut a, &w);
                        if let Ok(mut l) = self.lens.write() {
                            *l = Some(Arc::new(a));
                        }
                    }
                    // The lens keeps the hidden features per 0.5 s (the references and Find
                    // similar read them); the windows' own, ~50 MB for 3 h, stay out of memory.
                    w.iter_mut().for_each(|t| t.embedding = Vec::new());
                    if let Ok(mut t) = self.tags.write() {
                        *t = Some(Arc::new(w));
                    }
                }
                Err(e) => {
                    if let Ok(mut m) = self.tag_error.lock() {
                        *m = Some(e);
                    }
                }
            }
        }
        self.tagging.store(false, Ordering::Release);
    }

    /// Drops the tagger's judgement: the lanes go back to the signal cues alone.
    pub fn clear_tags(&self) {
        let had = self.tags.write().ok().and_then(|mut t| t.take()).is_some();
        if had && let Some(lens) = self.lens() {
            let mut a = (*lens).clone();
            remove_tags(&mut a);
            if let Ok(mut l) = self.lens.write() {
                *l = Some(Arc::new(a));
            }
        }
    }

    /// The fusion lens, if it is ready.
    pub fn lens(&self) -> Option<Arc<Analysis>> {
        self.lens.read().ok().and_then(|l| l.clone())
    }
    /// True while the lens is still to come (decoding or measuring).
    pub fn lens_busy(&self) -> bool {
        self.lens_busy.load(Ordering::Acquire)
    }
    /// Starts measuring the lens's frame features on a thread of their own while the store
    /// fills, so that after decoding only the lens's cues and scores remain to do.
    fn follow_features(&self) {
        let (store, over) = (self.store.clone(), self.decoding_over.clone());
        let done = self.features_done.clone();
        let spawned = std::thread::Builder::new()
            .name("sori-features".into())
            .spawn(move || {
                // Done even if the measurement fails: the lens then measures the store.
                let f = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    features::compute_following(&store, &over)
                }))
                .ok();
                done.store(true, Ordering::Release);
                f
            });
        // Without the thread, the lens measures the finished store instead.
        match (spawned, self.features.lock()) {
            (Ok(h), Ok(mut f)) => *f = Some(h),
            _ => self.features_done.store(true, Ordering::Release),
        }
    }

    /// Decoding has ended (done, failed or cancelled).
    fn end_decoding(&self) {
        self.decoding_over.store(true, Ordering::Release);
    }

    /// True once the frame features are measured while decoding (or could not be).
    pub fn features_measured(&self) -> bool {
        self.features_done.load(Ordering::Acquire)
    }

    /// Measures the lens on the decoded track and publishes it (`skip`: give up instead).
    fn run_lens(&self, skip: bool) {
        let followed = self.features.lock().ok().and_then(|mut f| f.take());
        // A failure inside the analysis leaves the track without lanes, never a spinner
        // that turns forever.
        let analysed = (!skip)
            .then(|| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    match followed.and_then(|h| h.join().ok().flatten()) {
                        Some(f) => analyze_features(f),
                        None => analyze(&self.store),
                    }
                }))
                .ok()
            })
            .flatten();
        if let Some(mut a) = analysed
            && let Ok(mut l) = self.lens.write()
        {
            // The app draws, rescores and searches from the lanes and the block cues; the
            // per-frame measurements they were made of are for `sori analyze`'s JSON, and
            // for hours of audio they are a few hundred MB.
            a.features = Default::default();
            *l = Some(Arc::new(a));
        }
        self.lens_busy.store(false, Ordering::Release);
    }

    /// Folds newly decoded audio into the peaks and the overview spectrogram.
    pub fn update_analysis(&self) {
        if let Ok(mut p) = self.peaks.write() {
            p.update(&self.store);
        }
        let complete = self.store.is_complete();
        if let Ok(mut o) = self.overview.write() {
            o.update(&self.store);
        }
        if complete {
            self.analysis_done.store(true, Ordering::Release);
        }
    }

    /// True once the peaks and overview cover the whole (completely decoded) track.
    pub fn analysis_done(&self) -> bool {
        self.analysis_done.load(Ordering::Acquire)
    }

    pub fn duration_s(&self) -> f64 {
        self.store.duration_s()
    }
    pub fn title(&self) -> String {
        self.source.title()
    }
}

/// Loading state, as the GUI shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadStatus {
    Loading,
    Done {
        notice: Option<String>,
    },
    /// One sentence for the user.
    Failed(String),
}

/// A running (or finished) load.
pub struct LoadJob {
    pub source: Source,
    pub progress: Arc<Progress>,
    pub track: Arc<Mutex<Option<Arc<Track>>>>,
    pub status: Arc<Mutex<LoadStatus>>,
    pub started: Instant,
    /// Time from start until the first audio was in the store (for the open→waveform figure).
    pub first_audio: Arc<Mutex<Option<Duration>>>,
}

/// Makes the store a file is decoded into, for its sample rate and channel count.
pub(crate) type NewStore = Arc<dyn Fn(u32, usize) -> PcmStore + Send + Sync>;

impl LoadJob {
    /// Starts loading `source` on a worker thread; after the lens, the tagger runs there too
    /// while `tagger_on` is true.
    pub fn start(
        source: Source,
        params: SpecParams,
        tagger_on: Arc<std::sync::atomic::AtomicBool>,
    ) -> Self {
        Self::start_with(source, params, tagger_on, Arc::new(PcmStore::new))
    }

    /// [`LoadJob::start`], decoding a file into the stores `new_store` makes.
    pub(crate) fn start_with(
        source: Source,
        params: SpecParams,
        tagger_on: Arc<std::sync::atomic::AtomicBool>,
        new_store: NewStore,
    ) -> Self {
        let job = LoadJob {
            source: source.clone(),
            progress: Arc::new(Progress::default()),
            track: Arc::new(Mutex::new(None)),
            status: Arc::new(Mutex::new(LoadStatus::Loading)),
            started: Instant::now(),
            first_audio: Arc::new(Mutex::new(None)),
        };
        let (progress, track, status, first) = (
            job.progress.clone(),
            job.track.clone(),
            job.status.clone(),
            job.first_audio.clone(),
        );
        let started = job.started;
        let worker = move || {
            // Whatever goes wrong, the job ends with a status the window can show.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match &source {
                Source::Demo => load_demo(&track, &progress, params, started, &first),
                Source::File(path) => load_file(
                    path,
                    &source,
                    (&track, &progress, &first),
                    params,
                    started,
                    &*new_store,
                ),
            }))
            .unwrap_or_else(|_| {
                Err(format!(
                    "{} could not be opened: Sori failed on it (please report this, with the file if you can).",
                    source.title()
                ))
            });
            let ok = result.is_ok();
            if let Ok(mut s) = status.lock() {
                *s = match result {
                    Ok(notice) => LoadStatus::Done { notice },
                    Err(msg) => LoadStatus::Failed(msg),
                };
            }
            // The track is usable now; the fusion lens follows on this thread.
            if let Some(t) = track.lock().ok().and_then(|t| t.clone()) {
                t.run_lens(!ok || progress.cancelled());
                if ok && t.lens().is_some() {
                    t.run_tagger(&tagger_on, &|| progress.cancelled());
                }
            }
        };
        if let Err(e) = std::thread::Builder::new()
            .name("sori-load".into())
            .spawn(worker)
            && let Ok(mut s) = job.status.lock()
        {
            *s = LoadStatus::Failed(format!("Could not start loading ({e})."));
        }
        job
    }

    pub fn status(&self) -> LoadStatus {
        self.status
            .lock()
            .map(|s| s.clone())
            .unwrap_or(LoadStatus::Loading)
    }
    pub fn track(&self) -> Option<Arc<Track>> {
        self.track.lock().ok().and_then(|t| t.clone())
    }
    pub fn cancel(&self) {
        self.progress.cancel.store(true, Ordering::Relaxed);
    }
    /// Blocks until the job ends (command line, tests, benchmarks).
    pub fn wait(&self) -> LoadStatus {
        loop {
            let s = self.status();
            if s != LoadStatus::Loading {
                return s;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

fn mark_first(first: &Mutex<Option<Duration>>, started: Instant) {
    if let Ok(mut f) = first.lock()
        && f.is_none()
    {
        *f = Some(started.elapsed());
    }
}

/// Where a load reports: the track once it exists, the progress, the first audio's time.
type LoadSlots<'a> = (
    &'a Mutex<Option<Arc<Track>>>,
    &'a Arc<Progress>,
    &'a Mutex<Option<Duration>>,
);

fn load_file(
    path: &std::path::Path,
    source: &Source,
    (slot, progress, first): LoadSlots,
    params: SpecParams,
    started: Instant,
    new_store: &(dyn Fn(u32, usize) -> PcmStore + Send + Sync),
) -> Result<Option<String>, String> {
    let dec = Decoder::open(path, progress.clone()).map_err(|e| e.to_string())?;
    let info = dec.info().clone();
    let follower = Follower::default();
    let mut track: Option<Arc<Track>> = None;
    let make = |rate: u32, ch: usize| {
        let store = Arc::new(new_store(rate, ch));
        if let Some(n) = info.expected_frames {
            store.set_expected_frames(n);
        }
        let t = Arc::new(Track::new(
            source.clone(),
            info.codec.clone(),
            store.clone(),
            params,
        ));
        track = Some(t.clone());
        follower.start(t.clone());
        t.follow_features();
        if let Ok(mut s) = slot.lock() {
            *s = Some(t);
        }
        store
    };
    let result = dec.run(make, |_store| {
        follower.poke();
        mark_first(first, started);
    });
    if let Some(t) = &track {
        t.end_decoding();
    }
    follower.finish();
    match result {
        // A recording too long for memory that could not go to the cache file stays in
        // memory whole: the user is told, since it may need more memory than there is.
        Ok((store, outcome)) => Ok(join_notices(
            outcome.notice,
            store.spill_error().map(|e| sentence(&e)),
        )),
        Err(e) => {
            if let Ok(mut s) = slot.lock() {
                *s = None;
            }
            Err(e.to_string())
        }
    }
}

/// Two notices as one text, either or both absent.
fn join_notices(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(format!("{a} {b}")),
        (a, b) => a.or(b),
    }
}

/// A clause as a sentence: a capital first letter and a full stop.
fn sentence(clause: &str) -> String {
    let mut chars = clause.trim().chars();
    let mut s: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    if !s.ends_with('.') {
        s.push('.');
    }
    s
}

fn load_demo(
    slot: &Mutex<Option<Arc<Track>>>,
    progress: &Progress,
    params: SpecParams,
    started: Instant,
    first: &Mutex<Option<Duration>>,
) -> Result<Option<String>, String> {
    let samples = demo::render();
    let store = Arc::new(PcmStore::new(demo::SAMPLE_RATE, 2));
    store.set_expected_frames((samples.len() / 2) as u64);
    let track = Arc::new(Track::new(
        Source::Demo,
        "synthesized".into(),
        store.clone(),
        params,
    ));
    if let Ok(mut s) = slot.lock() {
        *s = Some(track.clone());
    }
    let mut w = StoreWriter::new(&store);
    let follower = Follower::default();
    follower.start(track.clone());
    track.follow_features();
    progress
        .bytes_total
        .store(samples.len() as u64, Ordering::Relaxed);
    for (i, part) in samples.chunks(1 << 16).enumerate() {
        if progress.cancelled() {
            track.end_decoding();
            follower.finish();
            return Err("Loading the demo was cancelled.".into());
        }
        w.write(&store, part);
        follower.poke();
        progress
            .bytes_read
            .store(((i + 1) << 16) as u64, Ordering::Relaxed);
        mark_first(first, started);
    }
    w.finish(&store);
    track.end_decoding();
    follower.finish();
    Ok(None)
}

/// Runs the peaks and overview on a second thread that follows the decoder, so analysis
/// overlaps decoding (two cores) instead of adding to it.
#[derive(Default)]
struct Follower {
    track: Mutex<Option<Arc<Track>>>,
    tx: Mutex<Option<std::sync::mpsc::Sender<()>>>,
    handle: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Follower {
    fn start(&self, track: Arc<Track>) {
        if let Ok(mut t) = self.track.lock() {
            *t = Some(track.clone());
        }
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let spawned = std::thread::Builder::new()
            .name("sori-analysis".into())
            .spawn(move || {
                // Each wake-up folds in everything decoded so far; when the sender goes, one last pass.
                while rx.recv().is_ok() {
                    while rx.try_recv().is_ok() {}
                    track.update_analysis();
                }
                track.update_analysis();
            });
        // Without a thread, `finish` does the analysis inline.
        if let (Ok(h), Ok(mut t), Ok(mut hh)) = (spawned, self.tx.lock(), self.handle.lock()) {
            *t = Some(tx);
            *hh = Some(h);
        }
    }
    fn poke(&self) {
        if let Ok(t) = self.tx.lock()
            && let Some(tx) = t.as_ref()
        {
            let _ = tx.send(());
        }
    }
    /// Waits until the analysis covers everything decoded.
    fn finish(&self) {
        if let Ok(mut t) = self.tx.lock() {
            t.take();
        }
        let handle = self.handle.lock().ok().and_then(|mut h| h.take());
        match handle {
            Some(h) => {
                let _ = h.join();
            }
            None => {
                if let Some(t) = self.track.lock().ok().and_then(|t| t.clone()) {
                    t.update_analysis();
                }
            }
        }
    }
}
