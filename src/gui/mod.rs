//! The desktop app (egui/eframe). Views read the session and send commands; nothing heavy
//! runs here: decoding, analysis and spectrogram tiles come from worker threads.

mod lanes_view;
mod notes_view;
pub mod present;
mod timeline;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, channel};

use eframe::egui::{self, Color32, Key, Modifiers, RichText};

use crate::audio::playback::Player;
use crate::render::{ColorMap, DbRange, format_time};
use crate::session::tiles::Tiles;
use crate::session::{
    Command, NotesCmd, Session, Settings, Source, TEXT_SCALE_STEP, Theme, WINDOW_SIZES,
};

pub use timeline::Readout;

const SETTINGS_KEY: &str = "sori.settings";

pub use crate::audio::AUDIO_EXTENSIONS;

/// Installs the bundled Korean font as a fallback after egui's defaults.
pub fn install_fonts(ctx: &egui::Context) {
    let mut fonts = egui::FontDefinitions::default();
    fonts.font_data.insert(
        "nanum-square".into(),
        std::sync::Arc::new(egui::FontData::from_static(crate::render::text::FONT_BYTES)),
    );
    for fam in [egui::FontFamily::Proportional, egui::FontFamily::Monospace] {
        fonts
            .families
            .entry(fam)
            .or_default()
            .push("nanum-square".into());
    }
    ctx.set_fonts(fonts);
}

pub struct SoriApp {
    pub session: Session,
    tiles: Tiles,
    textures: HashMap<timeline::TexKey, (egui::TextureHandle, u64, u64)>,
    frame_no: u64,
    pub(crate) drag: Option<timeline::Drag>,
    pub hover: Option<Readout>,
    /// A file dialog running on its own thread, and what its answer is for.
    dialog: Option<(Dialog, Receiver<Option<PathBuf>>)>,
    show_shortcuts: bool,
    show_about: bool,
    fonts_installed: bool,
    shown_track: Option<u64>,
    /// Spectrogram tiles drawn in the last frame.
    pub(crate) visible_tiles: Vec<timeline::TexKey>,
    pub(crate) images: HashMap<PathBuf, Option<egui::TextureHandle>>,
    /// The note the list last scrolled to while playing.
    pub(crate) scrolled_to: Option<usize>,
    /// An action waiting for "save the notes first?".
    pending: Option<Pending>,
    show_glossary: bool,
    glossary_filter: String,
    /// The lane edge being dragged: (note index at drag start, true = end edge).
    pub(crate) lane_drag: Option<bool>,
    /// The lens segment a context menu is open for: (lane, segment).
    pub(crate) lane_menu: Option<(usize, usize)>,
    /// Presentation mode (F5).
    pub present: present::Presenter,
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
            tiles: Tiles::new(),
            textures: HashMap::new(),
            frame_no: 0,
            drag: None,
            hover: None,
            dialog: None,
            show_shortcuts: false,
            show_about: false,
            fonts_installed: false,
            shown_track: None,
            visible_tiles: Vec::new(),
            images: HashMap::new(),
            scrolled_to: None,
            pending: None,
            show_glossary: false,
            glossary_filter: String::new(),
            lane_drag: None,
            lane_menu: None,
            present: present::Presenter::default(),
            applied_theme: None,
            export: None,
        }
    }

    /// Opens another track, asking first when the notes have unsaved edits.
    fn open_track(&mut self, cmd: Command) {
        if self.session.notes().is_dirty() && self.session.track().is_some() {
            self.pending = Some(Pending::Run(cmd));
        } else {
            self.session.apply(cmd);
        }
    }

    /// The "save first?", "reload?" and "restore?" questions.
    fn questions(&mut self, ctx: &egui::Context) {
        // Closing the window with unsaved notes asks first.
        if ctx.input(|i| i.viewport().close_requested())
            && self.session.notes().is_dirty()
            && self.pending.is_none()
        {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.pending = Some(Pending::Quit);
        }
        if let Some(p) = self.pending.clone() {
            let mut answer: Option<Option<bool>> = None; // Some(Some(save)) or Some(None) = cancel
            egui::Modal::new(egui::Id::unique("sori-unsaved")).show(ctx, |ui| {
                ui.heading("Save the notes first?");
                ui.label("The notes have changes that are not saved.");
                ui.horizontal(|ui| {
                    if ui.button("Save").clicked() {
                        answer = Some(Some(true));
                    }
                    if ui.button("Don't save").clicked() {
                        answer = Some(Some(false));
                    }
                    if ui.button("Cancel").clicked() {
                        answer = Some(None);
                    }
                });
            });
            match answer {
                Some(Some(save)) => {
                    if save {
                        self.session.apply(Command::Notes(NotesCmd::Save));
                        if self.session.notes().is_dirty() {
                            self.pending = None; // saving failed: the notice says why; stay
                            return;
                        }
                    } else {
                        // Not saved, not lost: the recovery copy keeps them for next time.
                        self.session.apply(Command::Notes(NotesCmd::Discard));
                    }
                    self.pending = None;
                    match p {
                        Pending::Quit => ctx.send_viewport_cmd(egui::ViewportCommand::Close),
                        Pending::Run(cmd) => self.session.apply(cmd),
                    }
                }
                Some(None) => self.pending = None,
                None => {}
            }
        }
        if self.session.notes().changed_on_disk
            && self.pending.is_none()
            && let Some(a) = ask(
                ctx,
                "sori-reload",
                "The notes file changed on disk",
                "Another program changed it. Reload it, or keep the notes as they are here?",
                ["Reload", "Keep mine"],
            )
        {
            self.session.apply(Command::Notes(NotesCmd::Reload(a)));
        }
        if self.session.notes().pending_recovery.is_some()
            && let Some(a) = ask(
                ctx,
                "sori-restore",
                "Restore unsaved notes?",
                "Sori found notes edits that were not saved when it last closed.",
                ["Restore them", "Discard them"],
            )
        {
            self.session.apply(Command::Notes(NotesCmd::Restore(a)));
        }
    }

    fn glossary_window(&mut self, ctx: &egui::Context) {
        let glossary = crate::notes::glossary::Glossary::bundled();
        let filter = &mut self.glossary_filter;
        egui::Window::new("Glossary")
            .open(&mut self.show_glossary)
            .default_width(460.0)
            .show(ctx, |ui| {
                ui.horizontal(|ui| {
                    ui.label("Search");
                    ui.text_edit_singleline(filter);
                });
                let f = filter.to_lowercase();
                let hit =
                    |s: &[&str]| f.is_empty() || s.iter().any(|x| x.to_lowercase().contains(&f));
                egui::ScrollArea::vertical().show(ui, |ui| {
                    ui.heading("Instruments");
                    for i in glossary.instruments.iter().filter(|i| {
                        hit(&[&i.id, &i.hangul, &i.romanization, &i.family, &i.description])
                    }) {
                        ui.label(
                            RichText::new(format!(
                                "{} ({}) — {}",
                                i.hangul, i.romanization, i.family
                            ))
                            .strong(),
                        );
                        ui.label(&i.description);
                        ui.label(RichText::new(format!("Range: {}", i.range)).small());
                        ui.label(
                            RichText::new(format!("Lane: {}  ·  Source: {}", i.lane, i.source))
                                .small()
                                .weak(),
                        );
                        ui.separator();
                    }
                    ui.heading("Terms");
                    for t in glossary
                        .terms
                        .iter()
                        .filter(|t| hit(&[&t.id, &t.hangul, &t.romanization, &t.description]))
                    {
                        ui.label(
                            RichText::new(format!("{} ({})", t.hangul, t.romanization)).strong(),
                        );
                        ui.label(&t.description);
                        ui.label(
                            RichText::new(format!("Source: {}", t.source))
                                .small()
                                .weak(),
                        );
                        ui.separator();
                    }
                });
            });
    }

    /// True when every spectrogram tile on screen is drawn from the finished analysis (its
    /// texture shows the latest computation of a complete tile).
    pub fn spectrogram_settled(&self) -> bool {
        !self.visible_tiles.is_empty()
            && self.visible_tiles.iter().all(|k| {
                match (self.tiles.peek(&k.0), self.textures.get(k)) {
                    (Some(tile), Some((_, _, serial))) => tile.complete && tile.serial == *serial,
                    _ => false,
                }
            })
    }

    /// Asks for an image file for note `i`.
    pub(crate) fn pick_note_image(&mut self, i: usize) {
        self.file_dialog(Dialog::NoteImage(i));
    }

    /// Shows a file dialog; its answer is acted on by [`Self::dialog_answer`].
    fn file_dialog(&mut self, kind: Dialog) {
        if self.dialog.is_some() {
            return;
        }
        let notes_filter = &crate::notes::interchange::Format::extensions();
        let dlg = rfd::FileDialog::new();
        let dlg = match kind {
            Dialog::OpenAudio => dlg
                .set_title("Open audio file")
                .add_filter("Audio", AUDIO_EXTENSIONS)
                .add_filter("All files", &["*"]),
            Dialog::OpenNotes => dlg
                .set_title("Open or import notes")
                .add_filter("Notes", notes_filter),
            Dialog::SaveNotesAs => dlg
                .set_title("Save notes as")
                .add_filter("Notes", notes_filter)
                .set_file_name("notes.sori.toml"),
            Dialog::ExportNotes => dlg
                .set_title("Export notes (format by extension)")
                .add_filter("Notes", notes_filter),
            Dialog::ExportPicture(_) => dlg
                .set_title("Export picture")
                .add_filter("PNG image", &["png"])
                .set_file_name(format!(
                    "{}.png",
                    self.session
                        .track()
                        .map(|t| t.title())
                        .unwrap_or_else(|| "sori".into())
                )),
            Dialog::NoteImage(_) => dlg
                .set_title("Choose an image for the note")
                .add_filter("Images", &["png", "jpg", "jpeg"]),
        };
        let folder = match kind {
            Dialog::OpenAudio => self.session.settings().last_folder.clone(),
            _ => self.session.notes().base_dir(),
        };
        let dlg = match folder {
            Some(dir) => dlg.set_directory(dir),
            None => dlg,
        };
        let run = move || match kind {
            Dialog::OpenAudio | Dialog::OpenNotes | Dialog::NoteImage(_) => dlg.pick_file(),
            Dialog::SaveNotesAs | Dialog::ExportNotes | Dialog::ExportPicture(_) => dlg.save_file(),
        };
        // macOS needs dialogs on the main thread; elsewhere keep the UI responsive.
        if cfg!(target_os = "macos") {
            if let Some(p) = run() {
                self.dialog_answer(kind, p);
            }
            return;
        }
        let (tx, rx) = channel();
        if std::thread::Builder::new()
            .name("sori-dialog".into())
            .spawn(move || {
                let _ = tx.send(run());
            })
            .is_ok()
        {
            self.dialog = Some((kind, rx));
        } else {
            self.session.apply(Command::Notify {
                text: "The file dialog could not be opened.".into(),
                error: true,
            });
        }
    }

    fn dialog_answer(&mut self, kind: Dialog, p: PathBuf) {
        match kind {
            Dialog::OpenAudio => self.open_track(Command::Open(p)),
            Dialog::OpenNotes => self.session.apply(Command::Notes(NotesCmd::Open(p))),
            Dialog::NoteImage(index) => self
                .session
                .apply(Command::Notes(NotesCmd::SetImage { index, picked: p })),
            Dialog::SaveNotesAs => self.session.apply(Command::Notes(NotesCmd::SaveAs(p))),
            Dialog::ExportNotes => self.session.apply(Command::Notes(NotesCmd::Export(p))),
            Dialog::ExportPicture(o) => self.export_picture(o, p),
        }
    }

    /// Draws the picture on a worker thread with the same code as `sori render`; the notice
    /// says when it is written.
    fn export_picture(&mut self, o: ExportOptions, path: PathBuf) {
        let Some(track) = self.session.track().cloned() else {
            return;
        };
        let path = if path.extension().is_none() {
            path.with_extension("png")
        } else {
            path
        };
        let (from, to) = if o.whole_track {
            (0.0, None)
        } else {
            let v = self.session.view();
            (v.start_s.max(0.0), Some(v.start_s + v.len_s))
        };
        let s = &self.session.settings();
        let opts = crate::render::picture::PictureOptions {
            width: o.size.0,
            height: o.size.1,
            from_s: from,
            to_s: to,
            colormap: s.colormap,
            db: s.db,
            params: s.spec_params(),
            title: track.title(),
            notes: self.session.notes().doc().notes.clone(),
            lanes: track.lens().map(|l| l.lanes.clone()).unwrap_or_default(),
        };
        let done = self.session.background_notices();
        let spawned = std::thread::Builder::new()
            .name("sori-export-picture".into())
            .spawn(move || {
                let msg = (|| {
                    let peaks = track
                        .peaks
                        .read()
                        .map_err(|_| "the waveform is unavailable".to_string())?;
                    let ov = track
                        .overview
                        .read()
                        .map_err(|_| "the spectrogram is unavailable".to_string())?;
                    let img = crate::render::picture::render_picture(
                        &track.store,
                        &peaks,
                        Some(&ov),
                        &opts,
                    );
                    crate::render::save_png(&path, &img).map_err(|e| e.to_string())?;
                    Ok::<_, String>(())
                })();
                let _ = done.send(match msg {
                    Ok(()) => (format!("Picture exported to {}.", path.display()), false),
                    Err(e) => (
                        format!(
                            "The picture could not be exported to {} ({e}).",
                            path.display()
                        ),
                        true,
                    ),
                });
            });
        if spawned.is_err() {
            self.session.apply(Command::Notify {
                text: "The picture could not be exported (no worker thread).".into(),
                error: true,
            });
        }
    }

    fn export_window(&mut self, ctx: &egui::Context) {
        let Some(mut o) = self.export else { return };
        let mut open = true;
        let mut go = false;
        egui::Window::new("Export picture")
            .open(&mut open)
            .collapsible(false)
            .show(ctx, |ui| {
                ui.label("Waveform, spectrogram, lens lanes and note regions with their titles.");
                ui.radio_value(&mut o.whole_track, false, "The current view");
                ui.radio_value(&mut o.whole_track, true, "The whole track");
                ui.separator();
                for sz in EXPORT_SIZES {
                    let label = match sz.0 {
                        3840 => format!("{} × {} (4K)", sz.0, sz.1),
                        _ => format!("{} × {}", sz.0, sz.1),
                    };
                    ui.radio_value(&mut o.size, sz, label);
                }
                ui.separator();
                go = ui.button("Export…").clicked();
            });
        self.export = if open && !go { Some(o) } else { None };
        if go {
            self.file_dialog(Dialog::ExportPicture(o));
        }
    }

    /// Theme and text scale from the settings (applied when they change).
    fn apply_look(&mut self, ctx: &egui::Context) {
        let theme = self.session.settings().theme;
        if self.applied_theme != Some(theme) {
            ctx.set_visuals(visuals(theme));
            self.applied_theme = Some(theme);
        }
        let scale = self.session.settings().text_scale;
        if (ctx.zoom_factor() - scale).abs() > 1e-3 {
            ctx.set_zoom_factor(scale);
        }
    }

    /// Ctrl+= / Ctrl+− / Ctrl+0: text and controls larger, smaller, normal (remembered).
    fn scale_keys(&mut self, ctx: &egui::Context) {
        let (up, down, reset) = ctx.input_mut(|i| {
            (
                i.consume_key(Modifiers::COMMAND, Key::Equals)
                    || i.consume_key(Modifiers::COMMAND, Key::Plus),
                i.consume_key(Modifiers::COMMAND, Key::Minus),
                i.consume_key(Modifiers::COMMAND, Key::Num0),
            )
        });
        if up {
            self.session.apply(Command::ScaleText(TEXT_SCALE_STEP));
        }
        if down {
            self.session
                .apply(Command::ScaleText(1.0 / TEXT_SCALE_STEP));
        }
        if reset {
            self.session.apply(Command::ScaleText(1.0));
        }
    }

    fn handle_input(&mut self, ctx: &egui::Context) {
        // Dropped files.
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if let Some(p) = dropped.into_iter().next() {
            self.open_track(Command::Open(p));
        }
        if let Some((kind, rx)) = &self.dialog
            && let Ok(res) = rx.try_recv()
        {
            let kind = *kind;
            self.dialog = None;
            if let Some(p) = res {
                self.dialog_answer(kind, p);
            }
        }
        // Save, undo and redo work even while typing in a note.
        let (save, undo, redo) = ctx.input_mut(|i| {
            // Redo first: Ctrl+Z would also match Ctrl+Shift+Z.
            let redo = i.consume_key(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z)
                || i.consume_key(Modifiers::COMMAND, Key::Y);
            (
                i.consume_key(Modifiers::COMMAND, Key::S),
                i.consume_key(Modifiers::COMMAND, Key::Z),
                redo,
            )
        });
        if save {
            self.session.apply(Command::Notes(NotesCmd::Save));
        }
        if redo {
            self.session.apply(Command::Notes(NotesCmd::Redo));
        } else if undo {
            self.session.apply(Command::Notes(NotesCmd::Undo));
        }
        // Other keyboard shortcuts only when no text field has focus.
        if ctx.egui_wants_keyboard_input() {
            return;
        }
        let mut cmds = Vec::new();
        let view = self.session.view();
        ctx.input_mut(|i| {
            if i.consume_key(Modifiers::NONE, Key::Space) {
                cmds.push(Command::TogglePlay);
            }
            if i.consume_key(Modifiers::NONE, Key::Home) {
                cmds.push(Command::Seek(0.0));
                cmds.push(Command::ScrollTo(0.0));
            }
            if i.consume_key(Modifiers::NONE, Key::End) {
                cmds.push(Command::Seek(f64::MAX));
            }
            // Shift+arrows first: a plain-arrow match would also take them.
            if i.consume_key(Modifiers::SHIFT, Key::ArrowRight) {
                cmds.push(Command::Notes(NotesCmd::Next));
            }
            if i.consume_key(Modifiers::SHIFT, Key::ArrowLeft) {
                cmds.push(Command::Notes(NotesCmd::Prev));
            }
            if i.consume_key(Modifiers::NONE, Key::ArrowLeft) {
                cmds.push(Command::Nudge(-(view.len_s / 20.0).max(0.001)));
            }
            if i.consume_key(Modifiers::NONE, Key::ArrowRight) {
                cmds.push(Command::Nudge((view.len_s / 20.0).max(0.001)));
            }
            if i.consume_key(Modifiers::NONE, Key::L) {
                cmds.push(Command::ToggleLoop);
            }
            if i.consume_key(Modifiers::NONE, Key::M) {
                cmds.push(Command::Notes(NotesCmd::Add));
            }
            if i.consume_key(Modifiers::NONE, Key::N) {
                cmds.push(Command::LoopNote);
            }
            if (i.consume_key(Modifiers::NONE, Key::Delete)
                || i.consume_key(Modifiers::NONE, Key::Backspace))
                && let Some(sel) = self.session.notes().selected
            {
                cmds.push(Command::Notes(NotesCmd::Delete(sel)));
            }
            if i.consume_key(Modifiers::NONE, Key::Escape) {
                cmds.push(Command::SetSelection(None));
            }
            let zoom_anchor = self
                .session
                .position_s()
                .clamp(view.start_s, view.start_s + view.len_s);
            if i.consume_key(Modifiers::NONE, Key::Plus)
                || i.consume_key(Modifiers::NONE, Key::Equals)
            {
                cmds.push(Command::Zoom {
                    factor: 2.0,
                    anchor_s: zoom_anchor,
                });
            }
            if i.consume_key(Modifiers::NONE, Key::Minus) {
                cmds.push(Command::Zoom {
                    factor: 0.5,
                    anchor_s: zoom_anchor,
                });
            }
            if i.consume_key(Modifiers::NONE, Key::F) {
                cmds.push(Command::ZoomToFit);
            }
            if i.consume_key(Modifiers::NONE, Key::Z) {
                cmds.push(Command::ZoomToSelection);
            }
        });
        if ctx.input_mut(|i| i.consume_key(Modifiers::COMMAND, Key::O)) {
            self.file_dialog(Dialog::OpenAudio);
        }
        if ctx.input_mut(|i| i.consume_key(Modifiers::COMMAND, Key::F)) {
            cmds.push(if self.session.similar().is_empty() {
                Command::FindSimilar
            } else {
                Command::ClearSimilar
            });
        }
        for c in cmds {
            self.session.apply(c);
        }
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
        self.frame_no += 1;
        self.session.poll();
        let track_id = self.session.track().map(|t| t.id);
        if track_id != self.shown_track {
            // Another track: drop the old one's queued tiles and textures.
            self.tiles.clear_queue();
            self.textures.clear();
            self.drag = None;
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
            if !present::keys(self, &ctx) {
                present::show(self, ui);
                self.request_repaints(&ctx);
                return;
            }
        } else if ctx.input_mut(|i| {
            i.consume_key(Modifiers::NONE, Key::F5) || i.consume_key(Modifiers::NONE, Key::F11)
        }) {
            present::enter(self, &ctx);
            ctx.request_repaint();
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
            timeline::show(self, ui);
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
        } else if self.session.busy() || self.tiles.pending() || self.dialog.is_some() {
            ctx.request_repaint_after(std::time::Duration::from_millis(50));
        }
    }

    fn menu_bar(&mut self, ui: &mut egui::Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Open…  (Ctrl+O)").clicked() {
                    self.file_dialog(Dialog::OpenAudio);
                    ui.close();
                }
                ui.menu_button("Open recent", |ui| {
                    if self.session.settings().recent.is_empty() {
                        ui.label("No recent files");
                    }
                    let mut pick = None;
                    for p in &self.session.settings().recent {
                        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                        if ui.button(name).on_hover_text(p.display().to_string()).clicked() {
                            pick = Some(p.clone());
                        }
                    }
                    if let Some(p) = pick {
                        self.open_track(Command::Open(p));
                        ui.close();
                    }
                    if !self.session.settings().recent.is_empty() && ui.button("Clear list").clicked() {
                        self.session.apply(Command::ClearRecent);
                    }
                });
                if ui.button("Open demo").clicked() {
                    self.open_track(Command::OpenDemo);
                    ui.close();
                }
                ui.separator();
                if ui.button("Open or import notes…").clicked() {
                    self.file_dialog(Dialog::OpenNotes);
                    ui.close();
                }
                if ui.button("Save notes  (Ctrl+S)").clicked() {
                    self.session.apply(Command::Notes(NotesCmd::Save));
                    ui.close();
                }
                if ui.button("Save notes as…").clicked() {
                    self.file_dialog(Dialog::SaveNotesAs);
                    ui.close();
                }
                if ui.button("Export notes… (Audacity .txt, Sonic Visualiser .csv, .vtt, .srt, .jams, .TextGrid)").clicked() {
                    self.file_dialog(Dialog::ExportNotes);
                    ui.close();
                }
                if ui.add_enabled(self.session.track().is_some(), egui::Button::new("Export picture…")).clicked() {
                    self.export = Some(ExportOptions { whole_track: false, size: (1920, 1080) });
                    ui.close();
                }
                ui.separator();
                if ui.button("Quit").clicked() {
                    ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                }
            });
            ui.menu_button("View", |ui| {
                ui.label("Colour map");
                for m in ColorMap::ALL {
                    if ui.radio(self.session.settings().colormap == m, m.label()).clicked() {
                        self.session.apply(Command::SetColorMap(m));
                    }
                }
                ui.separator();
                ui.label("FFT window");
                for w in WINDOW_SIZES {
                    if ui.radio(self.session.settings().window == w, format!("{w} samples")).clicked() {
                        self.session.apply(Command::SetWindow(w));
                    }
                }
                ui.separator();
                let mut db = self.session.settings().db;
                ui.add(egui::Slider::new(&mut db.floor, -127.0..=-20.0).text("dB floor"));
                ui.add(egui::Slider::new(&mut db.ceiling, -40.0..=20.0).text("dB ceiling"));
                if db != self.session.settings().db {
                    self.session.apply(Command::SetDbRange(db));
                }
                if ui.button("Reset dB range").clicked() {
                    self.session.apply(Command::SetDbRange(DbRange::default()));
                }
                ui.separator();
                if ui.button("Zoom to fit  (F)").clicked() {
                    self.session.apply(Command::ZoomToFit);
                }
                if ui.button("Zoom to selection  (Z)").clicked() {
                    self.session.apply(Command::ZoomToSelection);
                }
                let mut follow = self.session.follow();
                if ui.checkbox(&mut follow, "Follow playhead").changed() {
                    self.session.apply(Command::SetFollow(follow));
                }
                ui.separator();
                ui.label("Theme");
                for t in Theme::ALL {
                    if ui.radio(self.session.settings().theme == t, t.label()).clicked() {
                        self.session.apply(Command::SetTheme(t));
                    }
                }
                ui.horizontal(|ui| {
                    ui.label(format!("Text size {:.0} %", self.session.settings().text_scale * 100.0));
                    if ui.button("Larger").on_hover_text("Ctrl+=").clicked() {
                        self.session.apply(Command::ScaleText(TEXT_SCALE_STEP));
                    }
                    if ui.button("Smaller").on_hover_text("Ctrl+−").clicked() {
                        self.session.apply(Command::ScaleText(1.0 / TEXT_SCALE_STEP));
                    }
                    if ui.button("Reset").on_hover_text("Ctrl+0").clicked() {
                        self.session.apply(Command::ScaleText(1.0));
                    }
                });
                ui.separator();
                if ui.button("Presentation  (F5)").clicked() {
                    ui.close();
                    present::enter(self, ui.ctx());
                }
            });
            ui.menu_button("Playback", |ui| {
                if ui.button("Play / pause  (Space)").clicked() {
                    self.session.apply(Command::TogglePlay);
                }
                if ui.button("Stop").clicked() {
                    self.session.apply(Command::Stop);
                }
                if ui.button("Loop selection  (L)").clicked() {
                    self.session.apply(Command::ToggleLoop);
                }
                if ui.button("Loop the current note  (N)").clicked() {
                    self.session.apply(Command::LoopNote);
                }
                let mut pause = self.session.settings().pause_at_note_end;
                if ui.checkbox(&mut pause, "Presentation: pause at the end of each note").changed() {
                    self.session.apply(Command::SetPauseAtNoteEnd(pause));
                }
                if ui.button("Retry audio device").clicked() {
                    self.session.apply(Command::RetryAudio);
                }
            });
            ui.menu_button("Lens", |ui| {
                let mut on = self.session.settings().tagger;
                if ui
                    .checkbox(&mut on, "Second opinion from the AudioSet tagger")
                    .on_hover_text(
                        "CED-Tiny listens to the track in 10-second windows in the background; the lanes \
                         weigh its classes with the signal measurements. Off: signal measurements alone.",
                    )
                    .changed()
                {
                    self.session.apply(Command::SetTagger(on));
                }
                ui.separator();
                if ui.button("Find similar to the selection  (Ctrl+F)").clicked() {
                    self.session.apply(Command::FindSimilar);
                }
                if ui.button("Clear similar").clicked() {
                    self.session.apply(Command::ClearSimilar);
                }
                ui.separator();
                ui.label("Tint the spectrogram with");
                let mut tint = self.session.tint();
                ui.radio_value(&mut tint, None, "no lane");
                for (k, l) in crate::analysis::lens::LANES.iter().enumerate() {
                    ui.radio_value(&mut tint, Some(k), l.label);
                }
                if tint != self.session.tint() {
                    self.session.apply(Command::SetTint(tint));
                }
            });
            ui.menu_button("Help", |ui| {
                if ui.button("Glossary of instruments and terms").clicked() {
                    self.show_glossary = true;
                }
                if ui.button("Keyboard shortcuts").clicked() {
                    self.show_shortcuts = true;
                }
                if ui.button("About Sori").clicked() {
                    self.show_about = true;
                }
            });
        });
    }

    fn transport_bar(&mut self, ui: &mut egui::Ui) {
        // wraps onto a second row in a narrow window rather than cutting controls off
        ui.horizontal_wrapped(|ui| {
            let playing = self.session.is_playing();
            let has_track = self.session.track().is_some();
            let label = if playing { "Pause" } else { "Play" };
            if ui
                .add_enabled(has_track, egui::Button::new(label))
                .on_hover_text("Space")
                .clicked()
            {
                self.session.apply(Command::TogglePlay);
            }
            if ui
                .add_enabled(has_track, egui::Button::new("Stop"))
                .clicked()
            {
                self.session.apply(Command::Stop);
            }
            let loop_on = self.session.loop_on();
            if ui
                .add_enabled(has_track, egui::Button::new("Loop").selected(loop_on))
                .on_hover_text("L: loop the selection (or the whole track)")
                .clicked()
            {
                self.session.apply(Command::ToggleLoop);
            }
            if ui
                .add_enabled(has_track, egui::Button::new("Loop note"))
                .on_hover_text("N: loop the current note")
                .clicked()
            {
                self.session.apply(Command::LoopNote);
            }
            if loop_on {
                ui.label(format!(
                    "pass {}",
                    self.session.player().transport.loop_passes() + 1
                ))
                .on_hover_text("Times through the loop so far");
            }
            ui.separator();
            self.practice_controls(ui);
            ui.separator();
            let pos = self.session.position_s();
            let dur = self.session.duration_s();
            ui.label(
                RichText::new(format!(
                    "{} / {}",
                    format_time(pos, 0.01),
                    format_time(dur, 0.01)
                ))
                .monospace()
                .size(16.0),
            )
            .on_hover_text("Playhead / length");
            ui.label(if playing { "Playing" } else { "Paused" });
            ui.separator();
            let mut vol = self.session.player().transport.volume();
            ui.label("Volume");
            if ui
                .add(egui::Slider::new(&mut vol, 0.0..=1.5).show_value(false))
                .changed()
            {
                self.session.apply(Command::SetVolume(vol));
            }
            ui.separator();
            if ui.button(" + ").on_hover_text("Zoom in (+)").clicked() {
                let v = self.session.view();
                self.session.apply(Command::Zoom {
                    factor: 2.0,
                    anchor_s: v.start_s + v.len_s / 2.0,
                });
            }
            if ui.button(" - ").on_hover_text("Zoom out (-)").clicked() {
                let v = self.session.view();
                self.session.apply(Command::Zoom {
                    factor: 0.5,
                    anchor_s: v.start_s + v.len_s / 2.0,
                });
            }
            if ui.button("Fit").on_hover_text("Whole track (F)").clicked() {
                self.session.apply(Command::ZoomToFit);
            }
            if let Some(job) = &self.session.job() {
                ui.separator();
                let frac = job.progress.fraction();
                ui.add(
                    egui::ProgressBar::new(frac)
                        .desired_width(180.0)
                        .show_percentage(),
                )
                .on_hover_text(format!("Opening {}", job.source.title()));
                ui.label(format!("Opening {}…", job.source.title()));
            }
        });
    }

    /// Speed (pitch held), transposition and varispeed, changeable while playing.
    fn practice_controls(&mut self, ui: &mut egui::Ui) {
        let t = &self.session.player().transport;
        let mut p = t.practice();
        let before = p;
        ui.label("Speed");
        ui.add(
            egui::Slider::new(
                &mut p.speed,
                crate::audio::stretch::SPEED_MIN..=crate::audio::stretch::SPEED_MAX,
            )
            .logarithmic(true)
            .fixed_decimals(2)
            .suffix("×"),
        )
        .on_hover_text("Playback speed; the pitch stays unless Varispeed is on");
        ui.add_enabled_ui(!p.varispeed, |ui| {
            ui.label("Transpose");
            ui.add(
                egui::Slider::new(
                    &mut p.semitones,
                    -crate::audio::stretch::SEMITONES_MAX..=crate::audio::stretch::SEMITONES_MAX,
                )
                .step_by(1.0)
                .suffix(" st"),
            )
            .on_hover_text("Semitones up or down, at the same speed");
        });
        ui.checkbox(&mut p.varispeed, "Varispeed")
            .on_hover_text("Pitch follows speed, as on a tape machine");
        if p != crate::audio::stretch::Practice::default()
            && ui
                .small_button("Reset")
                .on_hover_text("Normal speed and pitch")
                .clicked()
        {
            p = crate::audio::stretch::Practice::default();
        }
        if p != before {
            self.session.apply(Command::SetPractice(p));
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
            match &self.hover {
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
        notes_view::panel(self, ui);
    }
}

/// The look of a theme. High contrast: black ground, white text, strong outlines, for a
/// washed-out projector.
pub fn visuals(theme: Theme) -> egui::Visuals {
    match theme {
        Theme::Dark => egui::Visuals::dark(),
        Theme::Light => egui::Visuals::light(),
        Theme::HighContrast => {
            let mut v = egui::Visuals::dark();
            v.override_text_color = Some(Color32::WHITE);
            v.panel_fill = Color32::BLACK;
            v.window_fill = Color32::BLACK;
            v.extreme_bg_color = Color32::BLACK;
            v.faint_bg_color = Color32::from_gray(24);
            v.window_stroke = egui::Stroke::new(2.0, Color32::WHITE);
            v.selection.bg_fill = Color32::from_rgb(0, 90, 200);
            v.selection.stroke = egui::Stroke::new(2.0, Color32::WHITE);
            v.hyperlink_color = Color32::from_rgb(120, 200, 255);
            for w in [
                &mut v.widgets.noninteractive,
                &mut v.widgets.inactive,
                &mut v.widgets.hovered,
                &mut v.widgets.active,
                &mut v.widgets.open,
            ] {
                w.fg_stroke = egui::Stroke::new(2.0, Color32::WHITE);
                w.bg_stroke = egui::Stroke::new(1.5, Color32::WHITE);
            }
            v.widgets.noninteractive.bg_stroke = egui::Stroke::new(1.0, Color32::from_gray(160));
            v
        }
    }
}

/// A modal question with two answers: `Some(true)` for the first, `Some(false)` for the
/// second, `None` while unanswered.
fn ask(
    ctx: &egui::Context,
    id: &str,
    heading: &str,
    text: &str,
    answers: [&str; 2],
) -> Option<bool> {
    let mut answer = None;
    egui::Modal::new(egui::Id::unique(id)).show(ctx, |ui| {
        ui.heading(heading);
        ui.label(text);
        ui.horizontal(|ui| {
            if ui.button(answers[0]).clicked() {
                answer = Some(true);
            }
            if ui.button(answers[1]).clicked() {
                answer = Some(false);
            }
        });
    });
    answer
}

const SHORTCUTS: &[(&str, &str)] = &[
    ("Space", "Play / pause"),
    ("Home / End", "Go to start / end"),
    ("← / →", "Step back / forward (1/20 of the view)"),
    ("+ / -, Ctrl+wheel, pinch", "Zoom in / out"),
    ("Wheel, Shift+wheel", "Scroll in time"),
    ("F", "Zoom to fit the whole track"),
    ("Z", "Zoom to the selection"),
    ("Drag on the view", "Select a region"),
    ("Click on the view", "Move the playhead"),
    ("L", "Loop the selection (the counter shows the pass)"),
    ("N", "Loop the current note"),
    ("F5 or F11", "Presentation: full screen, large note cards"),
    (
        "PageDown / PageUp (presenting)",
        "Next / previous note, played from its start",
    ),
    ("B (presenting)", "Blank the screen, and back"),
    ("Esc (presenting)", "Leave presentation"),
    ("Ctrl+= / Ctrl+− / Ctrl+0", "Text larger / smaller / normal"),
    ("Esc", "Clear the selection"),
    ("Ctrl+O", "Open a file (or drop one on the window)"),
    ("M", "Add a note at the playhead (or over the selection)"),
    ("Shift+← / Shift+→", "Previous / next note"),
    ("Delete", "Delete the selected note"),
    ("Ctrl+Z, Ctrl+Shift+Z / Ctrl+Y", "Undo, redo"),
    ("Ctrl+S", "Save the notes"),
    (
        "Ctrl+F",
        "Find regions of similar timbre to the selection (again: clear)",
    ),
    (
        "Click a lens lane",
        "Tint the spectrogram in that lane's band",
    ),
    ("Right-click a lens segment", "Draft a note from it"),
];

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
