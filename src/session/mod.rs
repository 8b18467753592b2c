//! The state of one open track — audio, analysis, transport, view — changed only through
//! [`Command`]s applied in [`Session::apply`]. The GUI, the tests and the command line all go
//! through this one path.

pub mod tiles;
pub mod track;

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::analysis::spectrum::SpecParams;
use crate::audio::playback::{DeviceState, Player};
use crate::render::{ColorMap, DbRange};
pub use track::{LoadJob, LoadStatus, Source, Track};

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
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            colormap: ColorMap::Magma,
            db: DbRange::default(),
            window: 2048,
            volume: 0.8,
            recent: Vec::new(),
            last_folder: None,
        }
    }
}

pub const RECENT_MAX: usize = 10;
pub const WINDOW_SIZES: [usize; 3] = [1024, 2048, 4096];

impl Settings {
    pub fn spec_params(&self) -> SpecParams {
        let window = if WINDOW_SIZES.contains(&self.window) { self.window } else { 2048 };
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
        Self { start_s: 0.0, len_s: 60.0 }
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
    Zoom { factor: f64, anchor_s: f64 },
    ScrollTo(f64),
    ZoomToFit,
    ZoomToSelection,
    SetColorMap(ColorMap),
    SetDbRange(DbRange),
    SetWindow(usize),
    RetryAudio,
    DismissNotice(usize),
}

pub struct Session {
    pub player: Player,
    pub job: Option<LoadJob>,
    pub track: Option<Arc<Track>>,
    pub view: View,
    pub selection: Option<(f64, f64)>,
    pub notices: Vec<Notice>,
    pub settings: Settings,
    /// Follow the playhead by paging the view while playing.
    pub follow: bool,
    last_device: Option<DeviceState>,
    rebuild_overview: Option<std::thread::JoinHandle<()>>,
}

/// Shortest visible range: a few dozen samples across the screen.
pub const MIN_VIEW_FRAMES: f64 = 24.0;

impl Session {
    pub fn new(player: Player, settings: Settings) -> Self {
        player.transport.set_volume(settings.volume);
        Self {
            player,
            job: None,
            track: None,
            view: View::default(),
            selection: None,
            notices: Vec::new(),
            settings,
            follow: true,
            last_device: None,
            rebuild_overview: None,
        }
    }

    pub fn notify(&mut self, text: impl Into<String>, error: bool) {
        let text = text.into();
        if !self.notices.iter().any(|n| n.text == text) {
            self.notices.push(Notice { text, error });
        }
        if self.notices.len() > 5 {
            self.notices.remove(0);
        }
    }

    pub fn duration_s(&self) -> f64 {
        self.track.as_ref().map(|t| t.duration_s()).unwrap_or(0.0)
    }
    pub fn sample_rate(&self) -> f64 {
        self.track.as_ref().map(|t| t.store.sample_rate() as f64).unwrap_or(44100.0)
    }
    /// Playhead in seconds, from the frame the audio callback consumed.
    pub fn position_s(&self) -> f64 {
        self.player.transport.position() as f64 / self.sample_rate()
    }
    pub fn is_playing(&self) -> bool {
        self.player.transport.is_playing()
    }
    pub fn is_loading(&self) -> bool {
        self.job.as_ref().is_some_and(|j| j.status() == LoadStatus::Loading)
    }
    pub fn loop_on(&self) -> bool {
        self.player.transport.loop_on()
    }
    /// Length the view may show: the announced length while decoding, else the decoded one.
    pub fn total_s(&self) -> f64 {
        match &self.track {
            Some(t) => {
                let rate = t.store.sample_rate() as f64;
                let expected = t.store.expected_frames().map(|n| n as f64 / rate).unwrap_or(0.0);
                if t.store.is_complete() { t.duration_s() } else { t.duration_s().max(expected) }
            }
            None => 0.0,
        }
    }

    fn start_load(&mut self, source: Source) {
        if let Some(job) = self.job.take() {
            job.cancel();
        }
        self.player.transport.set_playing(false);
        self.job = Some(LoadJob::start(source, self.settings.spec_params()));
    }

    pub fn apply(&mut self, cmd: Command) {
        let t = self.player.transport.clone();
        let rate = self.sample_rate();
        match cmd {
            Command::Open(path) => {
                self.settings.add_recent(&path);
                self.start_load(Source::File(path));
            }
            Command::OpenDemo => self.start_load(Source::Demo),
            Command::Play => {
                if self.track.is_some() {
                    if t.reached_end() || self.position_s() >= self.duration_s() - 1e-3 && self.track_complete() {
                        t.seek(0);
                    }
                    t.set_playing(true);
                }
            }
            Command::Pause => t.set_playing(false),
            Command::TogglePlay => {
                let cmd = if t.is_playing() { Command::Pause } else { Command::Play };
                self.apply(cmd);
            }
            Command::Stop => {
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
                    t.set_loop(true, (a * rate) as u64, (b * rate) as u64);
                    let pos = self.position_s();
                    if pos < a || pos >= b {
                        t.seek((a * rate) as u64);
                    }
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
            Command::ScrollTo(start) => {
                self.view.start_s = start;
                self.clamp_view();
            }
            Command::ZoomToFit => {
                self.view = View { start_s: 0.0, len_s: self.total_s().max(MIN_VIEW_FRAMES / rate) };
            }
            Command::ZoomToSelection => {
                if let Some((a, b)) = self.selection {
                    let pad = (b - a) * 0.05;
                    self.view = View { start_s: a - pad, len_s: (b - a + 2.0 * pad).max(MIN_VIEW_FRAMES / rate) };
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
            Command::RetryAudio => {
                self.last_device = None;
                self.player.reopen();
            }
            Command::DismissNotice(i) => {
                if i < self.notices.len() {
                    self.notices.remove(i);
                }
            }
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
        let Some(track) = self.track.clone() else { return };
        let params = self.settings.spec_params();
        self.rebuild_overview = std::thread::Builder::new()
            .name("sori-overview".into())
            .spawn(move || {
                let mut ov = crate::analysis::spectrum::Overview::new(params, track.store.sample_rate());
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
        self.is_loading() || self.rebuild_overview.as_ref().is_some_and(|h| !h.is_finished())
    }

    /// Picks up results from worker threads. Call once per frame.
    pub fn poll(&mut self) {
        // Loading: adopt the new track as soon as its store exists.
        let mut finished = None;
        if let Some(job) = &self.job {
            let new_track = job.track().filter(|t| self.track.as_ref().map(|c| c.id) != Some(t.id));
            let status = job.status();
            if let Some(track) = new_track {
                self.player.attach(track.store.clone());
                self.track = Some(track);
                self.selection = None;
                self.view = View { start_s: 0.0, len_s: 1.0 };
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
        if self.last_device.as_ref() != Some(&dev) {
            if let DeviceState::Unavailable(msg) = &dev {
                self.notify(msg.clone(), false);
            }
            self.last_device = Some(dev);
        }
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

    fn session_with_tone(secs: f64) -> (Session, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("sori-session-{}-{secs}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("tone.wav");
        let spec = hound::WavSpec { channels: 1, sample_rate: 8000, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
        let mut w = hound::WavWriter::create(&path, spec).expect("wav");
        for i in 0..(8000.0 * secs) as usize {
            w.write_sample(((i as f32 * 0.1).sin() * 10000.0) as i16).expect("sample");
        }
        w.finalize().expect("finalize");
        let mut s = Session::new(Player::silent(), Settings::default());
        s.apply(Command::Open(path.clone()));
        for _ in 0..5000 {
            s.poll();
            if s.job.is_none() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        (s, path)
    }

    #[test]
    fn open_fits_the_view_and_remembers_the_file() {
        let (s, path) = session_with_tone(10.0);
        assert!((s.duration_s() - 10.0).abs() < 1e-9);
        assert_eq!(s.view, View { start_s: 0.0, len_s: 10.0 });
        assert_eq!(s.settings.recent.first(), Some(&path));
        assert_eq!(s.settings.last_folder.as_deref(), path.parent());
    }

    #[test]
    fn seek_clamps_and_loop_without_selection_covers_the_track() {
        let (mut s, _) = session_with_tone(4.0);
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
        let (mut s, _) = session_with_tone(10.0);
        s.apply(Command::Zoom { factor: 4.0, anchor_s: 5.0 });
        assert!((s.view.len_s - 2.5).abs() < 1e-9);
        // anchor was at the middle of the view and stays there
        assert!((s.view.start_s + s.view.len_s / 2.0 - 5.0).abs() < 1e-9);
        s.apply(Command::Zoom { factor: 1e9, anchor_s: 5.0 });
        assert!((s.view.len_s * 8000.0 - MIN_VIEW_FRAMES).abs() < 1e-6, "deepest zoom is a few samples");
        s.apply(Command::Zoom { factor: 1e-9, anchor_s: 5.0 });
        assert_eq!(s.view, View { start_s: 0.0, len_s: 10.0 }, "cannot zoom out past the track");
        s.apply(Command::Zoom { factor: 2.0, anchor_s: 0.0 });
        s.apply(Command::ScrollTo(100.0));
        assert!((s.view.start_s - 5.0).abs() < 1e-9, "scrolling stops at the end");
    }

    #[test]
    fn a_failed_open_keeps_the_current_track_and_says_why() {
        let (mut s, path) = session_with_tone(2.0);
        let bad = path.with_file_name("broken.wav");
        std::fs::write(&bad, b"RIFF\0\0\0\0WAVEjunk").expect("write");
        let before = s.track.as_ref().map(|t| t.id);
        s.apply(Command::Open(bad));
        for _ in 0..5000 {
            s.poll();
            if s.job.is_none() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        assert_eq!(s.track.as_ref().map(|t| t.id), before, "the open track stays");
        assert!(s.notices.iter().any(|n| n.error && n.text.contains("broken.wav")), "{:?}", s.notices);
    }
}
