//! The desktop app (egui/eframe). Views read the session and send commands; nothing heavy
//! runs here: decoding, analysis and spectrogram tiles come from worker threads.

mod dialogs;
mod keys;
mod lanes_view;
mod menus;
mod notes_view;
pub mod present;
mod theme;
mod tiles;
mod timeline;
mod transport_bar;

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, channel};

use eframe::egui::{self, Color32, Key, Modifiers, RichText};

use crate::audio::playback::Player;
use crate::render::{ColorMap, DbRange, format_time};
use crate::session::{
    Command, NotesCmd, Session, Settings, Source, TEXT_SCALE_STEP, Theme, WINDOW_SIZES,
};
use keys::SHORTCUTS;

pub use theme::{install_fonts, visuals};
pub use timeline::Readout;

const SETTINGS_KEY: &str = "sori.settings";

pub use crate::audio::AUDIO_EXTENSIONS;

pub struct SoriApp {
    pub session: Session,
    /// Overview, ruler, notes lane, waveform, spectrogram and the lens lanes.
    timeline: timeline::Timeline,
    /// A file dialog running on its own thread, and what its answer is for.
    dialog: Option<(Dialog, Receiver<Option<PathBuf>>)>,
    show_shortcuts: bool,
    show_about: bool,
    fonts_installed: bool,
    shown_track: Option<u64>,
    pub(crate) images: notes_view::Images,
    /// The notes panel and the notes lane.
    notes_panel: notes_view::NotesPanel,
    /// An action waiting for "save the notes first?".
    pending: Option<Pending>,
    show_glossary: bool,
    glossary_filter: String,
    /// Presentation mode (F5).
    present: present::Presenter,
    applied_theme: Option<Theme>,
    /// File → Export picture: the options window, when open.
    export: Option<ExportOptions>,
}

/// What File → Export picture draws.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ExportOptions {
    whole_track: bool,
    size: (u32, u32),
}

const EXPORT_SIZES: [(u32, u32); 4] = [(1280, 720), (1920, 1080), (2560, 1440), (3840, 2160)];

/// What to do once the user has answered the unsaved-notes question.
#[derive(Debug, Clone, PartialEq)]
enum Pending {
    Quit,
    Run(Command),
}

/// The file dialogs Sori shows.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Dialog {
    OpenAudio,
    OpenNotes,
    SaveNotesAs,
    ExportNotes,
    ExportPicture(ExportOptions),
    /// An image for note `i`.
    NoteImage(usize),
}

impl SoriApp {
    /// The time views, then what they asked for.
    pub(crate) fn show_timeline(&mut self, ui: &mut egui::Ui) {
        let cmds = self.timeline.show(ui, &self.session);
        self.apply_all(ui.ctx(), cmds);
    }

    /// Applies the commands a view returned, in order, and draws the next frame with their
    /// effect (the view itself was drawn with the state before them).
    pub(crate) fn apply_all(&mut self, ctx: &egui::Context, cmds: Vec<Command>) {
        if cmds.is_empty() {
            return;
        }
        for c in cmds {
            self.session.apply(c);
        }
        ctx.request_repaint();
    }

    /// A new app window state. `file`: open it, else the demo.
    pub fn new(settings: Settings, player: Player, file: Option<PathBuf>) -> Self {
        Self::with_notes(settings, player, file, None)
    }

    /// The same, with `notes` (a notes file named on the command line) instead of the
    /// recording's own.
    pub fn with_notes(
        settings: Settings,
        player: Player,
        file: Option<PathBuf>,
        notes: Option<PathBuf>,
    ) -> Self {
        let mut session = Session::new(player, settings);
        let source = file.map(Source::File).unwrap_or(Source::Demo);
        session.apply(match (source, notes) {
            (source, Some(notes)) => Command::OpenWithNotes { source, notes },
            (Source::File(p), None) => Command::Open(p),
            (Source::Demo, None) => Command::OpenDemo,
        });
        Self {
            session,
            timeline: timeline::Timeline::default(),
            dialog: None,
            show_shortcuts: false,
            show_about: false,
            fonts_installed: false,
            shown_track: None,
            images: notes_view::Images::default(),
            notes_panel: notes_view::NotesPanel::default(),
            pending: None,
            show_glossary: false,
            glossary_filter: String::new(),
            present: present::Presenter::default(),
            applied_theme: None,
            export: None,
        }
    }

    /// True when every spectrogram tile on screen is drawn from the finished analysis (its
    /// texture shows the latest computation of a complete tile).
    pub fn spectrogram_settled(&self) -> bool {
        self.timeline.spectrogram_settled()
    }

    /// Asks for an image file for note `i`.
    pub(crate) fn pick_note_image(&mut self, i: usize) {
        self.file_dialog(Dialog::NoteImage(i));
    }

    /// The whole window's contents (used by eframe and by the headless tests).
    pub fn show(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        if !self.fonts_installed {
            install_fonts(&ctx);
            // Ctrl+= / Ctrl+− are Sori's text scale, remembered in the settings
            ctx.options_mut(|o| o.zoom_with_keyboard = false);
            self.fonts_installed = true;
        }
        self.session.poll();
        let track_id = self.session.track().map(|t| t.id);
        if track_id != self.shown_track {
            // Another track: drop the old one's queued tiles and textures.
            self.timeline.forget_track();
            self.shown_track = track_id;
            if let Some(t) = &self.session.track() {
                ctx.send_viewport_cmd(egui::ViewportCommand::Title(format!(
                    "{} — Sori (소리)",
                    t.title()
                )));
            }
        }
        self.scale_keys(&ctx);
        self.apply_look(&ctx);
        if self.session.presenting() {
            let (left, cmds) = self.present.keys(&ctx, &self.session);
            self.apply_all(&ctx, cmds);
            if !left {
                let cmds =
                    self.present
                        .show(ui, &self.session, &mut self.images, &mut self.timeline);
                self.apply_all(&ctx, cmds);
                self.request_repaints(&ctx);
                return;
            }
        } else if ctx.input_mut(|i| {
            i.consume_key(Modifiers::NONE, Key::F5) || i.consume_key(Modifiers::NONE, Key::F11)
        }) {
            let cmds = self.present.enter(&ctx, &self.session);
            self.apply_all(&ctx, cmds);
            return;
        }
        self.handle_input(&ctx);

        egui::Panel::top("menu").show(ui, |ui| self.menu_bar(ui));
        egui::Panel::top("transport").show(ui, |ui| self.transport_bar(ui));
        if !self.session.notices().is_empty() {
            egui::Panel::top("notices").show(ui, |ui| self.notices(ui));
        }
        egui::Panel::bottom("status").show(ui, |ui| self.status_bar(ui));
        if self.session.track().is_some() {
            egui::Panel::bottom("tags").show(ui, |ui| self.tags_strip(ui));
        }
        egui::Panel::right("notes")
            .default_size(300.0)
            .show(ui, |ui| self.notes_panel(ui));
        egui::CentralPanel::default().show(ui, |ui| {
            self.show_timeline(ui);
        });

        self.questions(&ctx);
        self.export_window(&ctx);
        if self.show_glossary {
            self.glossary_window(&ctx);
        }
        // Files dragged over the window: say what dropping will do.
        let hovering = ctx.input(|i| i.raw.hovered_files.len());
        if hovering > 0 {
            let screen = ctx.content_rect();
            let painter = ctx.layer_painter(egui::LayerId::new(
                egui::Order::Foreground,
                egui::Id::unique("sori-drop-overlay"),
            ));
            painter.rect_filled(screen, 0.0, Color32::from_black_alpha(180));
            painter.text(
                screen.center(),
                egui::Align2::CENTER_CENTER,
                "Drop the file to open it",
                egui::FontId::proportional(32.0),
                Color32::WHITE,
            );
        }

        if self.show_shortcuts {
            egui::Window::new("Keyboard shortcuts")
                .open(&mut self.show_shortcuts)
                .show(&ctx, |ui| {
                    egui::Grid::new("keys").striped(true).show(ui, |ui| {
                        for (k, what) in SHORTCUTS {
                            ui.label(RichText::new(*k).strong());
                            ui.label(*what);
                            ui.end_row();
                        }
                    });
                });
        }
        if self.show_about {
            egui::Window::new("About Sori").open(&mut self.show_about).show(&ctx, |ui| {
                ui.heading("Sori (소리)");
                ui.label(format!("Version {}", env!("CARGO_PKG_VERSION")));
                ui.label("Explore how traditional Korean instruments are woven into modern pop tracks.");
                ui.label("Korean font: NanumSquare (SIL Open Font License 1.1).");
            });
        }

        self.request_repaints(&ctx);
    }

    /// Repaint only while something moves: playback, loading, tiles on their way, a dialog.
    fn request_repaints(&self, ctx: &egui::Context) {
        if self.session.is_playing() {
            ctx.request_repaint();
        } else if self.session.busy() || self.timeline.tiles_pending() || self.dialog.is_some() {
            ctx.request_repaint_after(std::time::Duration::from_millis(50));
        }
    }

    fn notices(&mut self, ui: &mut egui::Ui) {
        let mut dismiss = None;
        for (i, n) in self.session.notices().iter().enumerate() {
            ui.horizontal(|ui| {
                let color = if n.error {
                    Color32::from_rgb(255, 120, 110)
                } else {
                    Color32::from_rgb(250, 200, 90)
                };
                ui.label(
                    RichText::new(if n.error { "Error:" } else { "Note:" })
                        .strong()
                        .color(color),
                );
                ui.label(RichText::new(&n.text).color(color));
                if ui.small_button("Dismiss").clicked() {
                    dismiss = Some(i);
                }
            });
        }
        if let Some(i) = dismiss {
            self.session.apply(Command::DismissNotice(i));
        }
    }

    fn status_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            match &self.timeline.hover {
                Some(r) => {
                    let mut s = format!("time {}", format_time(r.time_s, 0.001));
                    if let Some(f) = r.freq_hz {
                        s += &format!(
                            "   {:.1} Hz   {}",
                            f,
                            crate::analysis::spectrum::note_name(f)
                        );
                    }
                    if let Some(db) = r.db {
                        s += &format!("   {db:.1} dB");
                    }
                    if let Some(a) = r.amplitude {
                        s += &format!("   amplitude {a:+.3}");
                    }
                    ui.label(RichText::new(s).monospace());
                }
                None => {
                    ui.label(
                        "Hover the waveform or spectrogram for time, frequency, note and level.",
                    );
                }
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if let Some(t) = &self.session.track() {
                    ui.label(format!(
                        "{} · {} Hz · {} ch · {}",
                        t.title(),
                        t.store.sample_rate(),
                        t.store.channels(),
                        t.codec
                    ));
                }
            });
        });
    }

    /// The AudioSet tagger's five strongest classes in the window under the playhead, or
    /// what the tagger is doing.
    fn tags_strip(&mut self, ui: &mut egui::Ui) {
        let Some(track) = self.session.track().cloned() else {
            return;
        };
        ui.horizontal_wrapped(|ui| {
            let weak = ui.visuals().weak_text_color();
            if !self.session.settings().tagger {
                ui.label(RichText::new("AudioSet tagger off (Lens menu)").color(weak));
                return;
            }
            if let Some(e) = track.tag_error() {
                ui.label(format!("The AudioSet tagger could not run: {e}."));
                return;
            }
            if let Some((done, total)) = track.tag_progress() {
                ui.spinner();
                ui.label(format!(
                    "AudioSet tagger listening: window {done} of {total} (the lanes take its opinion when it is done)"
                ));
                return;
            }
            let Some(tags) = track.tags() else {
                ui.label(RichText::new("AudioSet tagger: waiting for the fusion lens…").color(weak));
                return;
            };
            let now = self.session.position_s();
            let Some(w) = tags
                .iter()
                .rev()
                .find(|w| w.start_s <= now)
                .or_else(|| tags.first())
            else {
                return;
            };
            ui.label(
                RichText::new(format!(
                    "Top AudioSet tags {}–{}:",
                    format_time(w.start_s, 1.0),
                    format_time(w.end_s, 1.0)
                ))
                .strong(),
            )
            .on_hover_text(
                "What CED-Tiny, a model trained on Google's AudioSet, hears in this 10-second window: \
                 its five strongest of 527 classes, each scored 0–1. A second opinion: the lanes weigh \
                 it with the signal measurements.",
            );
            let names = crate::analysis::tagger::labels();
            for (n, (i, score)) in crate::analysis::tagger::top(&w.scores, 5).into_iter().enumerate() {
                if n > 0 {
                    ui.label(RichText::new("·").color(weak));
                }
                let name = names.get(i).map_or("?", |n| n.as_str());
                ui.label(format!("{name} {score:.2}"));
            }
        });
    }

    fn notes_panel(&mut self, ui: &mut egui::Ui) {
        let (cmds, pick_image) = self.notes_panel.show(ui, &self.session, &mut self.images);
        self.apply_all(ui.ctx(), cmds);
        if let Some(i) = pick_image {
            self.pick_note_image(i);
        }
    }
}

/// The application id: the desktop entry, AppStream and MIME files of `packaging/linux/`
/// carry this name, and the window manager matches the window to them by it.
pub const APP_ID: &str = "org.sori.Sori";

/// The window icon (`packaging/icons/`), 256 px; `None` if it can't be decoded (the window
/// then opens with the system's default icon).
pub fn window_icon() -> Option<egui::IconData> {
    let png = include_bytes!("../../packaging/icons/png/sori-256.png");
    let img = image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .ok()?
        .into_rgba8();
    Some(egui::IconData {
        width: img.width(),
        height: img.height(),
        rgba: img.into_raw(),
    })
}

struct EframeApp(SoriApp);

impl eframe::App for EframeApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.0.show(ui);
    }
    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, SETTINGS_KEY, &self.0.session.settings());
    }
    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        // Unsaved notes stay in their recovery copy; the next launch offers them back.
        self.0
            .session
            .apply(Command::Notes(NotesCmd::KeepForRecovery));
    }
}

/// Opens the window. `file`: open it at start, else the demo.
pub fn run(file: Option<PathBuf>, notes: Option<PathBuf>) -> anyhow::Result<()> {
    let mut viewport = egui::ViewportBuilder::default().with_app_id(APP_ID);
    if let Some(icon) = window_icon() {
        viewport = viewport.with_icon(icon);
    }
    let options = eframe::NativeOptions {
        viewport: viewport
            .with_title("Sori (소리)")
            .with_inner_size([1400.0, 860.0])
            .with_min_inner_size([720.0, 480.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native(
        "Sori",
        options,
        Box::new(move |cc| {
            let settings: Settings = cc
                .storage
                .and_then(|s| eframe::get_value(s, SETTINGS_KEY))
                .unwrap_or_default();
            let app = SoriApp::with_notes(settings, Player::start(), file, notes);
            Ok(Box::new(EframeApp(app)))
        }),
    )
    .map_err(|e| anyhow::anyhow!("the window could not be opened ({e})"))
}
