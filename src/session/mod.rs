//! The state of one open track — audio, analysis, transport, view — changed only through
//! [`Command`]s applied in [`Session::apply`]. The GUI, the tests and the command line all go
//! through this one path.

pub mod notes_state;
pub mod tiles;
pub mod track;

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::analysis::lens::LANES;
use crate::analysis::references::TIMBRE_HOP_S;
use crate::analysis::similar::{Match, find_similar, find_similar_by_timbre};
use crate::analysis::spectrum::SpecParams;
use crate::audio::playback::{DeviceState, Player};
use crate::render::{ColorMap, DbRange};
pub use notes_state::NotesState;
pub use track::{LoadJob, LoadStatus, Source, Track};

use crate::notes::Note;

/// How long a point note counts as "current" after its time.
pub const POINT_HOLD_S: f64 = 4.0;

/// Settings that persist between runs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Settings {
    pub colormap: ColorMap,
    pub db: DbRange,
    pub window: usize,
    pub volume: f32,
    pub recent: Vec<PathBuf>,
    pub last_folder: Option<PathBuf>,
    /// Size of text and controls (Ctrl+= / Ctrl+−), 1 = normal.
    pub text_scale: f32,
    pub theme: Theme,
    /// In presentation, playback pauses when the current note's region ends.
    pub pause_at_note_end: bool,
    /// A second opinion from the AudioSet tagger, run in the background after the lens.
    pub tagger: bool,
}

/// Colour themes: dark, light, and a high-contrast one for washed-out projectors.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
pub enum Theme {
    #[default]
    Dark,
    Light,
    HighContrast,
}

impl Theme {
    pub const ALL: [Theme; 3] = [Theme::Dark, Theme::Light, Theme::HighContrast];
    pub fn label(self) -> &'static str {
        match self {
            Theme::Dark => "Dark",
            Theme::Light => "Light",
            Theme::HighContrast => "High contrast (projector)",
        }
    }
}

/// Text scale limits and step.
pub const TEXT_SCALE_MIN: f32 = 0.75;
pub const TEXT_SCALE_MAX: f32 = 3.0;
pub const TEXT_SCALE_STEP: f32 = 1.125;

impl Default for Settings {
    fn default() -> Self {
        Self {
            colormap: ColorMap::Magma,
            db: DbRange::default(),
            window: 2048,
            volume: 0.8,
            recent: Vec::new(),
            last_folder: None,
            text_scale: 1.0,
            theme: Theme::Dark,
            pause_at_note_end: true,
            tagger: true,
        }
    }
}

pub const RECENT_MAX: usize = 10;
pub const WINDOW_SIZES: [usize; 3] = [1024, 2048, 4096];

impl Settings {
    pub fn spec_params(&self) -> SpecParams {
        let window = if WINDOW_SIZES.contains(&self.window) {
            self.window
        } else {
            2048
        };
        SpecParams { window, rows: 384 }
    }
    fn add_recent(&mut self, p: &std::path::Path) {
        self.recent.retain(|r| r != p);
        self.recent.insert(0, p.to_path_buf());
        self.recent.truncate(RECENT_MAX);
        if let Some(dir) = p.parent() {
            self.last_folder = Some(dir.to_path_buf());
        }
    }
}

/// The visible time range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct View {
    pub start_s: f64,
    pub len_s: f64,
}

impl Default for View {
    fn default() -> Self {
        Self {
            start_s: 0.0,
            len_s: 60.0,
        }
    }
}

/// A message for the user (one sentence), shown until dismissed.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Open(PathBuf),
    OpenDemo,
    Play,
    Pause,
    TogglePlay,
    Stop,
    /// Seek to seconds (clamped to the track).
    Seek(f64),
    /// Seek relative to the playhead.
    Nudge(f64),
    SetSelection(Option<(f64, f64)>),
    /// L: loop the selection (or the whole track when nothing is selected).
    ToggleLoop,
    SetVolume(f32),
    /// Zoom by `factor` (>1 zooms in) keeping time `anchor_s` under the same pixel.
    Zoom {
        factor: f64,
        anchor_s: f64,
    },
    ScrollTo(f64),
    ZoomToFit,
    ZoomToSelection,
    SetColorMap(ColorMap),
    SetDbRange(DbRange),
    SetWindow(usize),
    RetryAudio,
    DismissNotice(usize),
    /// Everything that changes the notes.
    Notes(NotesCmd),
    /// Seek to note `index`, select it and play it; with "pause at the end of each note" on,
    /// playback pauses when the note ends (a presentation's next-note step).
    PlayNote(usize),
    /// Forget the pause at the end of the note `PlayNote` started: playback goes on past it.
    PlayOnPastNoteEnd,
    /// Draw the view over `[from_s, to_s]`, within the usual zoom limits.
    ShowRange {
        from_s: f64,
        to_s: f64,
    },
    /// Open a recording with the notes file `notes` instead of its own.
    OpenWithNotes {
        source: Source,
        notes: PathBuf,
    },
    /// Page the view to keep the playhead in sight while playing.
    SetFollow(bool),
    /// Presentation mode on or off.
    SetPresenting(bool),
    SetTheme(Theme),
    /// In presentation, pause when the current note's region ends.
    SetPauseAtNoteEnd(bool),
    /// Forget the recently opened files.
    ClearRecent,
    /// Show a one-sentence notice.
    Notify {
        text: String,
        error: bool,
    },
    /// Tint the spectrogram in lane `i`'s band over its segments (`None`: no tint).
    SetTint(Option<usize>),
    /// Light up the regions whose timbre is closest to the selection's.
    FindSimilar,
    ClearSimilar,
    /// Practice speed, transposition and varispeed.
    SetPractice(crate::audio::stretch::Practice),
    /// Loop the current note's region (a point note: the next few seconds); again: stop.
    LoopNote,
    /// Multiply the text scale (1 resets it).
    ScaleText(f32),
    /// Turn the AudioSet tagger on or off (off: the lanes from the signal cues alone).
    SetTagger(bool),
}

/// The commands that change the notes (nested in [`Command::Notes`], so that each is handled
/// by name: a new one cannot fall through a catch-all).
#[derive(Debug, Clone, PartialEq)]
pub enum NotesCmd {
    /// M: a point note at the playhead, or a region note over the selection.
    Add,
    Delete(usize),
    Select(Option<usize>),
    /// Click on a note: seek to its start and select it.
    Seek(usize),
    /// Shift+→ / Shift+←.
    Next,
    Prev,
    /// Replace note `index`; `coalesce` merges with the previous edit (typing, dragging).
    Update {
        index: usize,
        note: Note,
        coalesce: bool,
    },
    /// Ends a coalesced run of edits (focus left the field, the drag ended).
    EndEdit,
    /// The image the user picked for note `index` (copied next to the notes when it is
    /// elsewhere).
    SetImage {
        index: usize,
        picked: PathBuf,
    },
    Undo,
    Redo,
    Save,
    SaveAs(PathBuf),
    /// Open another notes file (any supported format) for the current track.
    Open(PathBuf),
    /// Write the notes in the format of the path's extension.
    Export(PathBuf),
    /// Answer to "restore unsaved edits from last time?".
    Restore(bool),
    /// Answer to "the notes file changed on disk: reload?".
    Reload(bool),
    /// A draft note from segment `segment` of lane `lane`: its time, the lane's instrument
    /// and category, the evidence as the body.
    DraftFromSegment {
        lane: usize,
        segment: usize,
    },
    /// "Don't save": the edits are dropped from the document's dirty state but kept in the
    /// recovery copy, so the next launch can still offer them back.
    Discard,
    /// The window closes: unsaved edits go to the recovery copy now.
    KeepForRecovery,
}

pub struct Session {
    player: Player,
    job: Option<LoadJob>,
    track: Option<Arc<Track>>,
    view: View,
    selection: Option<(f64, f64)>,
    notices: Vec<Notice>,
    settings: Settings,
    /// Follow the playhead by paging the view while playing.
    follow: bool,
    last_device: Option<DeviceState>,
    /// The device problem being shown, taken away when the device is back.
    device_notice: Option<String>,
    rebuild_overview: Option<std::thread::JoinHandle<()>>,
    notes: NotesState,
    /// A notes file named on the command line, used for the next track that opens.
    notes_override: Option<PathBuf>,
    demo_picture_started: bool,
    /// Lane whose band is tinted on the spectrogram.
    tint: Option<usize>,
    /// Regions found by Find similar, best first, and the region they were asked for.
    similar: Vec<Match>,
    similar_query: Option<(f64, f64)>,
    /// Playback pauses when it reaches this time (the end of a note played by `PlayNote`).
    pause_at: Option<f64>,
    /// Presentation mode is on (where notes played by `PlayNote` may pause at their end).
    presenting: bool,
    /// Notices from worker threads (an export finished or failed), shown at the next poll.
    notice_tx: std::sync::mpsc::Sender<(String, bool)>,
    notice_rx: std::sync::mpsc::Receiver<(String, bool)>,
    /// `settings.tagger`, as the loading and tagging threads read it.
    tagger_on: Arc<std::sync::atomic::AtomicBool>,
}

/// Shortest visible range: a few dozen samples across the screen.
pub const MIN_VIEW_FRAMES: f64 = 24.0;

impl Session {
    pub fn new(player: Player, mut settings: Settings) -> Self {
        player.transport.set_volume(settings.volume);
        // a settings file edited by hand (or damaged) must not make the window unusable
        if !(settings.text_scale.is_finite()
            && (TEXT_SCALE_MIN..=TEXT_SCALE_MAX).contains(&settings.text_scale))
        {
            settings.text_scale = 1.0;
        }
        let (notice_tx, notice_rx) = std::sync::mpsc::channel();
        let tagger_on = Arc::new(std::sync::atomic::AtomicBool::new(settings.tagger));
        Self {
            tagger_on,
            notice_tx,
            notice_rx,
            player,
            job: None,
            track: None,
            view: View::default(),
            selection: None,
            notices: Vec::new(),
            settings,
            follow: true,
            last_device: None,
            device_notice: None,
            rebuild_overview: None,
            notes: NotesState::default(),
            notes_override: None,
            demo_picture_started: false,
            tint: None,
            similar: Vec::new(),
            similar_query: None,
            pause_at: None,
            presenting: false,
        }
    }

    fn notify(&mut self, text: impl Into<String>, error: bool) {
        let text = text.into();
        if !self.notices.iter().any(|n| n.text == text) {
            self.notices.push(Notice { text, error });
        }
        if self.notices.len() > 5 {
            self.notices.remove(0);
        }
    }

    pub fn player(&self) -> &Player {
        &self.player
    }
    /// The recording being opened, while it decodes.
    pub fn job(&self) -> Option<&LoadJob> {
        self.job.as_ref()
    }
    pub fn track(&self) -> Option<&Arc<Track>> {
        self.track.as_ref()
    }
    pub fn view(&self) -> View {
        self.view
    }
    pub fn selection(&self) -> Option<(f64, f64)> {
        self.selection
    }
    pub fn notices(&self) -> &[Notice] {
        &self.notices
    }
    pub fn settings(&self) -> &Settings {
        &self.settings
    }
    pub fn follow(&self) -> bool {
        self.follow
    }
    pub fn notes(&self) -> &NotesState {
        &self.notes
    }
    /// Lane whose band is tinted on the spectrogram.
    pub fn tint(&self) -> Option<usize> {
        self.tint
    }
    /// Regions found by Find similar, best first.
    pub fn similar(&self) -> &[Match] {
        &self.similar
    }
    /// The region Find similar was asked about.
    pub fn similar_query(&self) -> Option<(f64, f64)> {
        self.similar_query
    }
    /// Where playback will pause at the end of the note being played, if it will.
    pub fn pause_at(&self) -> Option<f64> {
        self.pause_at
    }
    pub fn presenting(&self) -> bool {
        self.presenting
    }
    /// The loop's bounds in frames.
    pub fn loop_range(&self) -> (u64, u64) {
        self.player.transport.loop_range()
    }

    pub fn duration_s(&self) -> f64 {
        self.track.as_ref().map(|t| t.duration_s()).unwrap_or(0.0)
    }
    pub fn sample_rate(&self) -> f64 {
        self.track
            .as_ref()
            .map(|t| t.store.sample_rate() as f64)
            .unwrap_or(44100.0)
    }
    /// Playhead in seconds, from the frame the audio callback consumed.
    pub fn position_s(&self) -> f64 {
        self.player.transport.position() as f64 / self.sample_rate()
    }
    pub fn is_playing(&self) -> bool {
        self.player.transport.is_playing()
    }
    pub fn is_loading(&self) -> bool {
        self.job
            .as_ref()
            .is_some_and(|j| j.status() == LoadStatus::Loading)
    }
    pub fn loop_on(&self) -> bool {
        self.player.transport.loop_on()
    }
    /// Length the view may show: the announced length while decoding, else the decoded one.
    pub fn total_s(&self) -> f64 {
        match &self.track {
            Some(t) => {
                let rate = t.store.sample_rate() as f64;
                let expected = t
                    .store
                    .expected_frames()
                    .map(|n| n as f64 / rate)
                    .unwrap_or(0.0);
                if t.store.is_complete() {
                    t.duration_s()
                } else {
                    t.duration_s().max(expected)
                }
            }
            None => 0.0,
        }
    }

    fn start_load(&mut self, source: Source) {
        if let Some(job) = self.job.take() {
            job.cancel();
        }
        self.player.transport.set_playing(false);
        self.pause_at = None;
        self.job = Some(LoadJob::start(
            source,
            self.settings.spec_params(),
            self.tagger_on.clone(),
        ));
    }

    pub fn apply(&mut self, cmd: Command) {
        let t = self.player.transport.clone();
        let rate = self.sample_rate();
        match cmd {
            // A notes file opens with its recording, found next to it by name.
            Command::Open(path) if crate::notes::native::is_sidecar(&path) => {
                match crate::notes::native::audio_for_sidecar(&path, crate::audio::AUDIO_EXTENSIONS) {
                    Some(audio) => self.apply(Command::OpenWithNotes {
                        source: Source::File(audio),
                        notes: path,
                    }),
                    None => self.notify(
                        format!(
                            "No recording named like {} next to it: open the audio file, and Sori opens its notes with it.",
                            path.file_name().unwrap_or_default().to_string_lossy()
                        ),
                        true,
                    ),
                }
            }
            Command::Open(path) => {
                self.settings.add_recent(&path);
                self.start_load(Source::File(path));
            }
            Command::OpenDemo => self.start_load(Source::Demo),
            Command::OpenWithNotes { source, notes } => {
                if let Source::File(path) = &source {
                    self.settings.add_recent(path);
                }
                self.start_load(source);
                self.notes_override = Some(notes);
            }
            Command::Play => {
                self.pause_at = None;
                if self.track.is_some() {
                    if t.reached_end()
                        || self.position_s() >= self.duration_s() - 1e-3 && self.track_complete()
                    {
                        t.seek(0);
                    }
                    t.set_playing(true);
                }
            }
            Command::Pause => {
                self.pause_at = None;
                t.set_playing(false);
            }
            Command::TogglePlay => {
                let cmd = if t.is_playing() {
                    Command::Pause
                } else {
                    Command::Play
                };
                self.apply(cmd);
            }
            Command::Stop => {
                self.pause_at = None;
                t.set_playing(false);
                let back = if t.loop_on() { t.loop_range().0 } else { 0 };
                t.seek(back);
            }
            Command::Seek(s) => {
                let s = s.clamp(0.0, self.duration_s());
                t.seek((s * rate).round() as u64);
            }
            Command::Nudge(d) => self.apply(Command::Seek(self.position_s() + d)),
            Command::SetSelection(sel) => {
                self.selection = sel.and_then(|(a, b)| {
                    let (a, b) = (a.min(b).max(0.0), a.max(b).min(self.duration_s()));
                    (b - a > 0.0).then_some((a, b))
                });
                if t.loop_on() {
                    match self.selection {
                        Some((a, b)) => t.set_loop(true, (a * rate) as u64, (b * rate) as u64),
                        None => t.set_loop(false, 0, 0),
                    }
                }
            }
            Command::ToggleLoop => {
                if t.loop_on() {
                    t.set_loop(false, 0, 0);
                } else if self.track.is_some() {
                    let (a, b) = self.selection.unwrap_or((0.0, self.duration_s()));
                    self.start_loop(a, b);
                }
            }
            Command::SetVolume(v) => {
                t.set_volume(v);
                self.settings.volume = t.volume();
            }
            Command::Zoom { factor, anchor_s } => {
                if !(factor.is_finite() && factor > 0.0) {
                    return;
                }
                let min_len = MIN_VIEW_FRAMES / rate;
                let max_len = self.total_s().max(min_len);
                let len = (self.view.len_s / factor).clamp(min_len, max_len);
                let frac = ((anchor_s - self.view.start_s) / self.view.len_s).clamp(0.0, 1.0);
                self.view.len_s = len;
                self.view.start_s = anchor_s - frac * len;
                self.clamp_view();
            }
            Command::ShowRange { from_s, to_s } => {
                if !(from_s.is_finite() && to_s.is_finite()) {
                    return;
                }
                let min_len = MIN_VIEW_FRAMES / rate;
                let max_len = self.total_s().max(min_len);
                self.view = View {
                    start_s: from_s,
                    len_s: (to_s - from_s).clamp(min_len, max_len),
                };
                self.clamp_view();
            }
            Command::ScrollTo(start) => {
                self.view.start_s = start;
                self.clamp_view();
            }
            Command::ZoomToFit => {
                self.view = View {
                    start_s: 0.0,
                    len_s: self.total_s().max(MIN_VIEW_FRAMES / rate),
                };
            }
            Command::ZoomToSelection => {
                if let Some((a, b)) = self.selection {
                    let pad = (b - a) * 0.05;
                    self.view = View {
                        start_s: a - pad,
                        len_s: (b - a + 2.0 * pad).max(MIN_VIEW_FRAMES / rate),
                    };
                    self.clamp_view();
                }
            }
            Command::SetColorMap(m) => self.settings.colormap = m,
            Command::SetDbRange(r) => {
                let floor = r.floor.clamp(-127.0, -10.0);
                let ceiling = r.ceiling.clamp(floor + 10.0, 20.0);
                self.settings.db = DbRange { floor, ceiling };
            }
            Command::SetWindow(w) => {
                if WINDOW_SIZES.contains(&w) && w != self.settings.window {
                    self.settings.window = w;
                    self.rebuild_overview();
                }
            }
            Command::SetTagger(on) => {
                self.settings.tagger = on;
                self.tagger_on
                    .store(on, std::sync::atomic::Ordering::Relaxed);
                match (&self.track, on) {
                    (Some(t), false) => t.clear_tags(),
                    // A track opened with the tagger off is tagged now, in the background.
                    (Some(t), true) if t.lens().is_some() && t.tags().is_none() => {
                        let (t, flag) = (t.clone(), self.tagger_on.clone());
                        let spawned = std::thread::Builder::new()
                            .name("sori-tagger".into())
                            .spawn(move || t.run_tagger(&flag, &|| false));
                        if let Err(e) = spawned {
                            self.notices.push(Notice {
                                text: format!("The tagger could not start ({e})."),
                                error: true,
                            });
                        }
                    }
                    _ => {}
                }
            }
            Command::RetryAudio => {
                self.last_device = None;
                self.player.reopen();
            }
            Command::SetTint(lane) => self.tint = lane.filter(|&i| i < LANES.len()),
            Command::FindSimilar => {
                self.clear_similar();
                let Some((a, b)) = self.selection else {
                    self.notify(
                        "Select a region first: Find similar looks for its timbre.",
                        false,
                    );
                    return;
                };
                let Some(lens) = self.track.as_ref().and_then(|t| t.lens()) else {
                    self.notify("The fusion lens is still measuring this track.", false);
                    return;
                };
                // Over what the lens already measured (the tagger's hidden features once
                // it has heard the track, else the per-block cues): a lookup, no DSP.
                self.similar = if lens.timbre.is_empty() {
                    find_similar(&lens.blocks, a, b, 5)
                } else {
                    find_similar_by_timbre(&lens.blocks, &lens.timbre, TIMBRE_HOP_S, a, b, 5)
                };
                self.similar_query = Some((a.min(b), a.max(b)));
                if self.similar.is_empty() {
                    self.notify(
                        "Nothing similar found: choose a region shorter than half the track.",
                        false,
                    );
                }
            }
            Command::ClearSimilar => self.clear_similar(),
            Command::SetPractice(p) => {
                t.set_practice(p);
                if !t.practice_available() && !p.clamped().is_neutral() {
                    self.notify(
                        "Speed and transposition need a recording sampled at 32 kHz or more; this one plays as it is.",
                        false,
                    );
                }
            }
            Command::LoopNote => {
                if t.loop_on() {
                    t.set_loop(false, 0, 0);
                    return;
                }
                // the note at the playhead, else the selected one, else the next one
                let pos = self.position_s();
                let next = self.notes.doc().next_start(pos - 1e-3).and_then(|s| {
                    self.notes.doc().notes.iter().position(|n| n.start == s)
                });
                let Some(n) = self
                    .current_note()
                    .or(self.notes.selected)
                    .or(next)
                    .and_then(|i| self.notes.doc().notes.get(i))
                else {
                    self.notify("There is no note to loop.", false);
                    return;
                };
                let (a, b) = (n.start, n.end.unwrap_or(n.start + POINT_HOLD_S));
                let b = b.min(self.duration_s());
                if b > a {
                    self.selection = Some((a, b));
                    self.start_loop(a, b);
                }
            }
            Command::ScaleText(f) => {
                let s = &mut self.settings.text_scale;
                *s = if f == 1.0 || !f.is_finite() {
                    1.0
                } else {
                    (*s * f).clamp(TEXT_SCALE_MIN, TEXT_SCALE_MAX)
                };
            }
            Command::DismissNotice(i) => {
                if i < self.notices.len() {
                    self.notices.remove(i);
                }
            }
            Command::Notify { text, error } => self.notify(text, error),
            Command::ClearRecent => self.settings.recent.clear(),
            Command::SetFollow(on) => self.follow = on,
            Command::SetTheme(theme) => self.settings.theme = theme,
            Command::SetPauseAtNoteEnd(on) => {
                self.settings.pause_at_note_end = on;
                if !on {
                    self.pause_at = None;
                }
            }
            Command::PlayOnPastNoteEnd => self.pause_at = None,
            Command::SetPresenting(on) => {
                self.presenting = on;
                self.pause_at = None;
            }
            Command::PlayNote(i) => {
                let Some(n) = self.notes.doc().notes.get(i) else {
                    return;
                };
                // where the note ends: its region's end, else the next note's start
                let end = n.end.or_else(|| self.notes.doc().next_start(n.start));
                self.apply(Command::Notes(NotesCmd::Seek(i)));
                self.apply(Command::Play);
                if self.presenting && self.settings.pause_at_note_end {
                    self.pause_at = end;
                }
            }
            Command::Notes(cmd) => self.apply_notes(cmd),
        }
    }

    /// The demo's notes show a picture of the haegeum passage: Sori draws it with its own
    /// renderer into the data folder the first time the demo is analysed.
    fn make_demo_picture(&mut self) {
        let Some(track) = &self.track else { return };
        if track.source != Source::Demo || !track.analysis_done() || self.demo_picture_started {
            return;
        }
        self.demo_picture_started = true;
        let Some(dir) = notes_state::demo_notes_path()
            .and_then(|p| p.parent().map(std::path::Path::to_path_buf))
        else {
            return;
        };
        let out = dir.join("demo-haegeum.png");
        if out.exists() {
            return;
        }
        let track = track.clone();
        let _ = std::thread::Builder::new()
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
            });
    }

    /// The note that is current at the playhead.
    pub fn current_note(&self) -> Option<usize> {
        self.notes.doc().current(self.position_s(), POINT_HOLD_S)
    }

    fn find_note(&self, n: &Note) -> Option<usize> {
        self.notes.doc().notes.iter().position(|x| x == n)
    }

    /// Adds `n` (times rounded to the millisecond) as one undo step and selects it.
    fn add_note(&mut self, mut n: Note) {
        n.start = (n.start * 1000.0).round() / 1000.0;
        n.end = n.end.map(|e| (e * 1000.0).round() / 1000.0);
        self.notes.editor.end_gesture();
        self.notes.editor.edit(|d| d.notes.push(n.clone()));
        self.notes.selected = self.find_note(&n);
    }

    /// Loops `[a, b)` seconds; a playhead outside the loop goes to its start.
    fn start_loop(&mut self, a: f64, b: f64) {
        let t = &self.player.transport;
        let rate = self.sample_rate();
        t.set_loop(true, (a * rate) as u64, (b * rate) as u64);
        let pos = self.position_s();
        if pos < a || pos >= b {
            t.seek((a * rate) as u64);
        }
    }

    fn clear_similar(&mut self) {
        self.similar.clear();
        self.similar_query = None;
    }

    fn apply_notes(&mut self, cmd: NotesCmd) {
        // Edits need a track; what keeps edits safe does not.
        if self.track.is_none() && !matches!(cmd, NotesCmd::Discard | NotesCmd::KeepForRecovery) {
            return;
        }
        match cmd {
            NotesCmd::Add => {
                let n = match self.selection {
                    Some((a, b)) => Note::region(a, b, "New note"),
                    None => Note::point(self.position_s(), "New note"),
                };
                self.add_note(n);
            }
            NotesCmd::DraftFromSegment { lane, segment } => {
                let Some(lens) = self.track.as_ref().and_then(|t| t.lens()) else {
                    return;
                };
                let (Some(l), Some(info)) = (lens.lanes.get(lane), LANES.get(lane)) else {
                    return;
                };
                let Some(seg) = l.segments.get(segment) else {
                    return;
                };
                let mut n = Note::region(seg.start_s, seg.end_s, info.label);
                n.category = match info.family {
                    crate::analysis::lens::Family::Korean => crate::notes::Category::Traditional,
                    crate::analysis::lens::Family::Pop => crate::notes::Category::Pop,
                };
                if !info.instrument.is_empty() {
                    n.instruments = vec![info.instrument.to_string()];
                }
                n.body = format!(
                    "Draft from the fusion lens (score {:.2}): {}",
                    seg.score, seg.evidence
                );
                if !seg.closest.is_empty() {
                    let cited: Vec<String> = seg.closest.iter().map(|c| c.describe()).collect();
                    n.body
                        .push_str(&format!("\nClosest references: {}.", cited.join("; ")));
                }
                self.add_note(n);
            }
            NotesCmd::Delete(i) => {
                if i < self.notes.doc().notes.len() {
                    self.notes.editor.end_gesture();
                    self.notes.editor.edit(|d| d.notes.remove(i));
                    self.notes.selected = None;
                }
            }
            NotesCmd::Select(i) => {
                self.notes.selected = i.filter(|&i| i < self.notes.doc().notes.len())
            }
            NotesCmd::Seek(i) => {
                if let Some(n) = self.notes.doc().notes.get(i) {
                    let start = n.start;
                    self.apply(Command::Seek(start));
                    self.notes.selected = Some(i);
                }
            }
            NotesCmd::Next | NotesCmd::Prev => {
                let pos = self.position_s();
                let target = if cmd == NotesCmd::Next {
                    self.notes.doc().next_start(pos)
                } else {
                    self.notes.doc().prev_start(pos)
                };
                if let Some(t) = target {
                    self.apply(Command::Seek(t));
                    self.notes.selected = self.current_note();
                }
            }
            NotesCmd::Update {
                index,
                note,
                coalesce,
            } => {
                if index >= self.notes.doc().notes.len() || self.notes.doc().notes[index] == note {
                    return;
                }
                let mut note = note;
                if !(note.start.is_finite() && note.start >= 0.0) {
                    return;
                }
                if let Some(e) = note.end {
                    if !e.is_finite() {
                        return;
                    }
                    if e < note.start {
                        note.end = Some(note.start);
                    }
                }
                if coalesce {
                    self.notes.editor.begin_gesture();
                } else {
                    self.notes.editor.end_gesture();
                }
                let n2 = note.clone();
                self.notes.editor.edit(move |d| d.notes[index] = n2);
                self.notes.selected = self.find_note(&note);
            }
            NotesCmd::EndEdit => self.notes.editor.end_gesture(),
            NotesCmd::SetImage { index, picked } => {
                let Some(mut note) = self.notes.doc().notes.get(index).cloned() else {
                    return;
                };
                let Some(base) = self.notes.base_dir() else {
                    self.notify("These notes have no folder yet: save them first.", true);
                    return;
                };
                match crate::notes::links::adopt_image(&base, &picked) {
                    Ok(rel) => {
                        note.image = Some(rel);
                        self.apply_notes(NotesCmd::Update {
                            index,
                            note,
                            coalesce: false,
                        });
                    }
                    Err(e) => self.notify(format!("That image could not be used ({e})."), true),
                }
            }
            NotesCmd::Undo => {
                self.notes.editor.undo();
                self.notes.selected = self
                    .notes
                    .selected
                    .filter(|&i| i < self.notes.doc().notes.len());
            }
            NotesCmd::Redo => {
                self.notes.editor.redo();
                self.notes.selected = self
                    .notes
                    .selected
                    .filter(|&i| i < self.notes.doc().notes.len());
            }
            NotesCmd::Save => match self.notes.save() {
                Ok(msg) => self.notify(msg, false),
                Err(msg) => self.notify(msg, true),
            },
            NotesCmd::SaveAs(p) => match self.notes.save_as(p) {
                Ok(msg) => self.notify(msg, false),
                Err(msg) => self.notify(msg, true),
            },
            NotesCmd::Open(p) => {
                let Some(t) = self.track.clone() else { return };
                let (st, notice) = NotesState::load_for(&t.source, Some(&p));
                self.notes = st;
                if let Some(n) = notice {
                    self.notify(n, self.notes.load_error.is_some());
                }
            }
            NotesCmd::Export(p) => {
                let Some(format) = crate::notes::interchange::Format::from_path(&p) else {
                    self.notify(format!("{}: unknown notes format.", p.display()), true);
                    return;
                };
                let (text, warnings) = crate::notes::interchange::export(self.notes.doc(), format);
                match crate::notes::save::atomic_write(&p, text.as_bytes()) {
                    Ok(()) => {
                        let mut msg = format!("Notes exported to {}.", p.display());
                        for w in warnings {
                            msg.push(' ');
                            msg.push_str(&w);
                        }
                        self.notify(msg, false);
                    }
                    Err(e) => self.notify(
                        format!("The notes could not be exported to {} ({e}).", p.display()),
                        true,
                    ),
                }
            }
            NotesCmd::Restore(restore) => self.notes.answer_recovery(restore),
            NotesCmd::Reload(reload) => {
                let Some(t) = self.track.clone() else { return };
                if let Some(n) = self.notes.answer_disk_change(reload, &t.source) {
                    self.notify(n, true);
                }
            }
            NotesCmd::Discard => {
                // Not saved, not lost: the recovery copy keeps them for next time.
                self.notes.flush_recovery();
                self.notes.editor.mark_saved();
            }
            NotesCmd::KeepForRecovery => self.notes.flush_recovery(),
        }
    }

    fn track_complete(&self) -> bool {
        self.track.as_ref().is_some_and(|t| t.store.is_complete())
    }

    fn clamp_view(&mut self) {
        let total = self.total_s();
        if self.view.len_s >= total {
            self.view.start_s = 0.0;
        } else {
            self.view.start_s = self.view.start_s.clamp(0.0, total - self.view.len_s);
        }
    }

    /// Recomputes the overview spectrogram for a new window size, off the UI thread.
    fn rebuild_overview(&mut self) {
        let Some(track) = self.track.clone() else {
            return;
        };
        let params = self.settings.spec_params();
        self.rebuild_overview = std::thread::Builder::new()
            .name("sori-overview".into())
            .spawn(move || {
                let mut ov =
                    crate::analysis::spectrum::Overview::new(params, track.store.sample_rate());
                // Follow the store while it may still be decoding.
                loop {
                    let complete = track.store.is_complete();
                    ov.update(&track.store);
                    if complete {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                if let Ok(mut o) = track.overview.write() {
                    *o = ov;
                }
            })
            .ok();
    }

    /// True while background work runs that the GUI should repaint for.
    pub fn busy(&self) -> bool {
        self.is_loading()
            || self
                .track
                .as_ref()
                .is_some_and(|t| t.lens_busy() || t.tag_progress().is_some())
            || self
                .rebuild_overview
                .as_ref()
                .is_some_and(|h| !h.is_finished())
    }

    /// Picks up results from worker threads. Call once per frame.
    /// A sender for worker threads: what they send is shown as a notice.
    pub fn background_notices(&self) -> std::sync::mpsc::Sender<(String, bool)> {
        self.notice_tx.clone()
    }

    pub fn poll(&mut self) {
        while let Ok((text, error)) = self.notice_rx.try_recv() {
            self.notify(text, error);
        }
        // Loading: adopt the new track as soon as its store exists.
        let mut finished = None;
        if let Some(job) = &self.job {
            let new_track = job
                .track()
                .filter(|t| self.track.as_ref().map(|c| c.id) != Some(t.id));
            let status = job.status();
            if let Some(track) = new_track {
                self.player.attach(track.store.clone());
                // Unsaved notes of the previous track go to their recovery copy, never lost.
                self.notes.flush_recovery();
                let (notes, notice) =
                    NotesState::load_for(&track.source, self.notes_override.take().as_deref());
                self.notes = notes;
                if let Some(n) = notice {
                    self.notify(n, true);
                }
                self.track = Some(track);
                self.selection = None;
                self.clear_similar();
                self.view = View {
                    start_s: 0.0,
                    len_s: 1.0,
                };
                self.apply(Command::ZoomToFit);
            }
            if status != LoadStatus::Loading {
                finished = Some(status);
            }
        }
        if let Some(status) = finished {
            self.job = None;
            match status {
                LoadStatus::Done { notice } => {
                    if let Some(n) = notice {
                        self.notify(n, false);
                    }
                    // The real length may differ from the announced one.
                    if self.view.len_s > self.total_s() {
                        self.apply(Command::ZoomToFit);
                    }
                }
                LoadStatus::Failed(msg) => self.notify(msg, true),
                LoadStatus::Loading => {}
            }
        }
        // Audio device notices.
        let dev = self.player.device_state();
        if dev != DeviceState::Opening && self.last_device.as_ref() != Some(&dev) {
            match &dev {
                DeviceState::Unavailable(msg) => {
                    self.notify(msg.clone(), false);
                    self.device_notice = Some(msg.clone());
                }
                DeviceState::Ready(how) => {
                    // The problem is over: its notice goes, and a short one says so.
                    if let Some(old) = self.device_notice.take() {
                        self.notices.retain(|n| n.text != old);
                        self.notify(format!("The audio output is back ({how})."), false);
                    }
                }
                DeviceState::Opening => {}
            }
            self.last_device = Some(dev);
        }
        if let Some(end) = self.pause_at
            && self.is_playing()
            && self.position_s() >= end
        {
            self.apply(Command::Pause);
        }
        self.notes.autosave(std::time::Instant::now());
        self.notes.check_disk(std::time::Instant::now());
        self.make_demo_picture();
        // Follow the playhead: page the view when it runs off the right edge.
        if self.follow && self.is_playing() {
            let p = self.position_s();
            if p > self.view.start_s + self.view.len_s || p < self.view.start_s {
                self.view.start_s = p;
                self.clamp_view();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session on a tone of `secs` seconds, its path, and the folder that holds it (removed
    /// when dropped).
    fn session_with_tone(secs: f64) -> (Session, std::path::PathBuf, crate::testdir::TestDir) {
        let dir = crate::testdir::TestDir::new(&format!("session-{secs}"));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("tone.wav");
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&path, spec).expect("wav");
        for i in 0..(8000.0 * secs) as usize {
            w.write_sample(((i as f32 * 0.1).sin() * 10000.0) as i16)
                .expect("sample");
        }
        w.finalize().expect("finalize");
        let mut s = Session::new(Player::silent(), Settings::default());
        s.apply(Command::Open(path.clone()));
        settle(&mut s);
        (s, path, dir)
    }

    #[test]
    fn a_picked_image_from_elsewhere_is_copied_next_to_the_notes_and_undoable() {
        let (mut s, audio, _dir) = session_with_tone(1.25);
        let elsewhere = crate::testdir::TestDir::new("elsewhere");
        assert!(!elsewhere.starts_with(audio.parent().expect("folder")));
        std::fs::create_dir_all(&elsewhere).expect("dir");
        let picked = elsewhere.join("taepyeongso.png");
        std::fs::write(&picked, b"png bytes").expect("image");
        s.apply(Command::Notes(NotesCmd::Add));
        let i = s.notes.selected.expect("the new note is selected");
        s.apply(Command::Notes(NotesCmd::SetImage {
            index: i,
            picked: picked.clone(),
        }));
        let image = s.notes.doc().notes[i].image.clone();
        assert_eq!(image.as_deref(), Some("images/taepyeongso.png"));
        let base = s.notes.base_dir().expect("notes folder");
        assert_eq!(
            std::fs::read(base.join("images/taepyeongso.png")).expect("copied"),
            b"png bytes"
        );
        s.apply(Command::Notes(NotesCmd::Undo));
        assert_eq!(s.notes.doc().notes[i].image, None);
        // A file that cannot be read: a notice, the note unchanged.
        s.apply(Command::Notes(NotesCmd::SetImage {
            index: i,
            picked: elsewhere.join("gone.png"),
        }));
        assert_eq!(s.notes.doc().notes[i].image, None);
        assert!(
            s.notices
                .iter()
                .any(|n| n.error && n.text.starts_with("That image could not be used"))
        );
    }

    /// Polls `s` until its loading work is over (or 10 s have passed).
    fn settle(s: &mut Session) {
        for _ in 0..5000 {
            s.poll();
            if s.job.is_none() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }

    #[test]
    fn a_note_played_in_a_presentation_pauses_at_its_end_and_only_there() {
        let (mut s, _, _dir) = session_with_tone(6.0);
        let add = |s: &mut Session, a: f64, b: f64| {
            s.apply(Command::SetSelection(Some((a, b))));
            s.apply(Command::Notes(NotesCmd::Add));
            s.notes.selected.expect("the new note is selected")
        };
        let first = add(&mut s, 1.0, 2.0);
        // a point note ends where the next note starts
        s.apply(Command::SetSelection(None));
        s.apply(Command::Seek(3.0));
        let point = {
            s.apply(Command::Notes(NotesCmd::Add));
            s.notes.selected.expect("selected")
        };
        add(&mut s, 4.5, 5.0);

        // Outside a presentation, playing a note does not pause at its end.
        s.apply(Command::PlayNote(first));
        assert!(s.is_playing());
        assert_eq!(s.position_s(), 1.0);
        assert_eq!(s.pause_at(), None);

        s.apply(Command::SetPresenting(true));
        s.apply(Command::PlayNote(first));
        assert_eq!(s.pause_at(), Some(2.0));
        s.apply(Command::Seek(1.5));
        s.poll();
        assert!(s.is_playing(), "still inside the note");
        s.apply(Command::Seek(2.01));
        s.poll();
        assert!(!s.is_playing(), "paused at the note's end");
        assert_eq!(s.pause_at(), None);

        s.apply(Command::PlayNote(point));
        assert_eq!(
            s.pause_at(),
            Some(4.5),
            "a point note runs to the next note"
        );
        // Space (or a click on the progress strip) plays on past the end.
        s.apply(Command::PlayOnPastNoteEnd);
        s.apply(Command::Seek(4.6));
        s.poll();
        assert!(s.is_playing());

        // With the setting off, notes play on.
        s.apply(Command::SetPauseAtNoteEnd(false));
        s.apply(Command::PlayNote(first));
        assert_eq!(s.pause_at(), None);
        s.apply(Command::SetPauseAtNoteEnd(true));
        s.apply(Command::PlayNote(first));
        s.apply(Command::SetPresenting(false));
        assert_eq!(
            s.pause_at(),
            None,
            "leaving the presentation forgets the pause"
        );
    }

    #[test]
    fn opening_a_notes_file_opens_its_recording_with_those_notes() {
        let (_, wav, _dir) = session_with_tone(1.5);
        let dir = wav.parent().expect("dir").join("sidecar");
        std::fs::create_dir_all(&dir).expect("dir");
        let audio = dir.join("Lecture.WAV");
        std::fs::copy(&wav, &audio).expect("copy");
        let notes = dir.join("Lecture.sori.toml");
        std::fs::write(
            &notes,
            "version = 1\n[[note]]\nstart = 0.5\ntitle = \"Haegeum enters\"\n",
        )
        .expect("notes");
        let mut s = Session::new(Player::silent(), Settings::default());
        s.apply(Command::Open(notes.clone()));
        settle(&mut s);
        let track = s.track.as_ref().expect("the recording opened");
        assert_eq!(track.source, Source::File(audio));
        assert_eq!(s.notes.path.as_deref(), Some(notes.as_path()));
        assert_eq!(s.notes.doc().notes[0].title, "Haegeum enters");

        // Without a recording next to it: one sentence, nothing opened.
        let lonely = dir.join("Elsewhere.sori.toml");
        std::fs::write(&lonely, "version = 1\n").expect("notes");
        let mut s = Session::new(Player::silent(), Settings::default());
        s.apply(Command::Open(lonely));
        assert!(s.track.is_none() && s.job.is_none());
        assert!(
            s.notices
                .iter()
                .any(|n| n.error && n.text.contains("Elsewhere.sori.toml")),
            "{:?}",
            s.notices.iter().map(|n| &n.text).collect::<Vec<_>>()
        );
    }

    #[test]
    fn open_fits_the_view_and_remembers_the_file() {
        let (s, path, _dir) = session_with_tone(10.0);
        assert!((s.duration_s() - 10.0).abs() < 1e-9);
        assert_eq!(
            s.view,
            View {
                start_s: 0.0,
                len_s: 10.0
            }
        );
        assert_eq!(s.settings.recent.first(), Some(&path));
        assert_eq!(s.settings.last_folder.as_deref(), path.parent());
    }

    #[test]
    fn seek_clamps_and_loop_without_selection_covers_the_track() {
        let (mut s, _, _dir) = session_with_tone(4.0);
        s.apply(Command::Seek(99.0));
        assert!((s.position_s() - 4.0).abs() < 1e-9);
        s.apply(Command::Seek(-3.0));
        assert_eq!(s.position_s(), 0.0);
        s.apply(Command::ToggleLoop);
        assert!(s.loop_on());
        assert_eq!(s.player.transport.loop_range(), (0, 32000));
        // selecting while looping moves the loop to the selection
        s.apply(Command::SetSelection(Some((3.0, 1.0))));
        assert_eq!(s.selection, Some((1.0, 3.0)));
        assert_eq!(s.player.transport.loop_range(), (8000, 24000));
        s.apply(Command::Stop);
        assert_eq!(s.position_s(), 1.0, "Stop returns to the loop start");
    }

    #[test]
    fn zoom_keeps_the_anchor_in_place_and_respects_limits() {
        let (mut s, _, _dir) = session_with_tone(10.0);
        s.apply(Command::Zoom {
            factor: 4.0,
            anchor_s: 5.0,
        });
        assert!((s.view.len_s - 2.5).abs() < 1e-9);
        // anchor was at the middle of the view and stays there
        assert!((s.view.start_s + s.view.len_s / 2.0 - 5.0).abs() < 1e-9);
        s.apply(Command::Zoom {
            factor: 1e9,
            anchor_s: 5.0,
        });
        assert!(
            (s.view.len_s * 8000.0 - MIN_VIEW_FRAMES).abs() < 1e-6,
            "deepest zoom is a few samples"
        );
        s.apply(Command::Zoom {
            factor: 1e-9,
            anchor_s: 5.0,
        });
        assert_eq!(
            s.view,
            View {
                start_s: 0.0,
                len_s: 10.0
            },
            "cannot zoom out past the track"
        );
        s.apply(Command::Zoom {
            factor: 2.0,
            anchor_s: 0.0,
        });
        s.apply(Command::ScrollTo(100.0));
        assert!(
            (s.view.start_s - 5.0).abs() < 1e-9,
            "scrolling stops at the end"
        );
    }

    #[test]
    fn a_recording_that_cannot_go_to_the_cache_file_opens_whole_and_says_so() {
        // 33 s at 8 kHz: four chunks, in a store that may hold one in memory and whose cache
        // folder lies under a file, so no cache file can be made.
        let (mut s, path, _dir) = session_with_tone(33.0);
        let blocker = path.with_file_name("not-a-folder");
        std::fs::write(&blocker, b"a file").expect("write");
        let cache = blocker.join("cache");
        let chunk = crate::audio::store::CHUNK_FRAMES;
        s.job = Some(LoadJob::start_with(
            Source::File(path.clone()),
            s.settings.spec_params(),
            s.tagger_on.clone(),
            Arc::new(move |rate, ch| {
                crate::audio::PcmStore::with_budget(rate, ch, chunk * ch * 4)
                    .spilling_to(cache.clone())
            }),
        ));
        settle(&mut s);
        let track = s.track.as_ref().expect("the recording is open");
        assert_eq!(track.store.frames(), 33 * 8000, "every sample is kept");
        let notice = s
            .notices
            .iter()
            .find(|n| n.text.contains("stays in memory"))
            .unwrap_or_else(|| panic!("no notice says so: {:?}", s.notices));
        assert!(!notice.error, "the recording opened: {notice:?}");
        assert!(
            notice.text.starts_with("No audio cache file could be made"),
            "{notice:?}"
        );
        assert!(notice.text.ends_with('.'), "{notice:?}");
    }

    #[test]
    fn a_failed_open_keeps_the_current_track_and_says_why() {
        let (mut s, path, _dir) = session_with_tone(2.0);
        let bad = path.with_file_name("broken.wav");
        std::fs::write(&bad, b"RIFF\0\0\0\0WAVEjunk").expect("write");
        let before = s.track.as_ref().map(|t| t.id);
        s.apply(Command::Open(bad));
        settle(&mut s);
        assert_eq!(
            s.track.as_ref().map(|t| t.id),
            before,
            "the open track stays"
        );
        assert!(
            s.notices
                .iter()
                .any(|n| n.error && n.text.contains("broken.wav")),
            "{:?}",
            s.notices
        );
    }
}
