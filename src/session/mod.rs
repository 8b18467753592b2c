//! The state of one open track — audio, analysis, transport, view — changed only through
//! [`Command`]s applied in [`Session::apply`]. The GUI, the tests and the command line all go
//! through this one path.

mod apply;
mod commands;
pub mod notes_state;
mod settings;
pub mod track;

use std::path::PathBuf;
use std::sync::Arc;

use crate::analysis::lens::LANES;
use crate::analysis::references::TIMBRE_HOP_S;
use crate::analysis::similar::{Match, find_similar, find_similar_by_timbre};
use crate::audio::playback::{DeviceState, Player};
use crate::render::DbRange;
pub use commands::{Command, NotesCmd};
pub use notes_state::NotesState;
pub use settings::{
    RECENT_MAX, Settings, TEXT_SCALE_MAX, TEXT_SCALE_MIN, TEXT_SCALE_STEP, Theme, WINDOW_SIZES,
};
pub use track::{LoadJob, LoadStatus, Source, Track};

use crate::notes::Note;

/// How long a point note counts as "current" after its time.
pub const POINT_HOLD_S: f64 = 4.0;

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

    /// The note that is current at the playhead.
    pub fn current_note(&self) -> Option<usize> {
        self.notes.doc().current(self.position_s(), POINT_HOLD_S)
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
        self.rebuild_overview = track.spawn_overview(self.settings.spec_params()).ok();
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
