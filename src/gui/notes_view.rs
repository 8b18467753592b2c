//! The notes panel (list, editor, card with glossary and image) and the notes lane.

use std::collections::HashMap;
use std::path::PathBuf;

use eframe::egui::{self, Color32, RichText, Sense, Stroke, pos2};

use crate::notes::glossary::Glossary;
use crate::notes::{Category, Note, time};
use crate::session::{Command, NotesCmd, Session};

/// Category colours (Okabe–Ito, shared with the pictures: [`crate::render::category_rgb`]).
pub fn category_color(c: Category) -> Color32 {
    let [r, g, b] = crate::render::category_rgb(c);
    Color32::from_rgb(r, g, b)
}

pub(crate) fn when(n: &Note) -> String {
    match n.end {
        Some(e) => format!("{} – {}", time::format(n.start), time::format(e)),
        None => time::format(n.start),
    }
}

/// The notes panel's own state: the note the list last scrolled to while playing.
#[derive(Debug, Default)]
pub(crate) struct NotesPanel {
    scrolled_to: Option<usize>,
}

impl NotesPanel {
    /// The list of notes, the editor of the selected one, and the card of the current one.
    /// Returns the commands to apply, and the note whose image the user asked to pick.
    pub(crate) fn show(
        &mut self,
        ui: &mut egui::Ui,
        session: &Session,
        images: &mut Images,
    ) -> (Vec<Command>, Option<usize>) {
        let mut pick_image = None;
        let s = session;
        let dirty = s.notes().is_dirty();
        ui.horizontal(|ui| {
            ui.heading("Notes");
            if dirty {
                ui.label(
                    RichText::new("unsaved")
                        .italics()
                        .color(Color32::from_rgb(250, 200, 90)),
                );
            }
        });
        let mut cmds = Vec::new();
        ui.horizontal_wrapped(|ui| {
            if ui.button("Add note (M)").clicked() {
                cmds.push(Command::Notes(NotesCmd::Add));
            }
            if ui
                .add_enabled(dirty, egui::Button::new("Save (Ctrl+S)"))
                .clicked()
            {
                cmds.push(Command::Notes(NotesCmd::Save));
            }
            if ui
                .add_enabled(s.notes().editor.can_undo(), egui::Button::new("Undo"))
                .on_hover_text("Ctrl+Z")
                .clicked()
            {
                cmds.push(Command::Notes(NotesCmd::Undo));
            }
            if ui
                .add_enabled(s.notes().editor.can_redo(), egui::Button::new("Redo"))
                .on_hover_text("Ctrl+Shift+Z or Ctrl+Y")
                .clicked()
            {
                cmds.push(Command::Notes(NotesCmd::Redo));
            }
        });
        ui.separator();

        let current = s.current_note();
        let playing = s.is_playing();
        let selected = s.notes().selected;
        let list_h = (ui.available_height() * 0.35).max(120.0);
        // One line a note, so only the rows in view are laid out: a long recording may carry
        // thousands of notes.
        const MARGIN: f32 = 4.0;
        let row_h = ui.text_style_height(&egui::TextStyle::Body).max(16.0) + 2.0 * MARGIN;
        let pitch = row_h + ui.spacing().item_spacing.y;
        let mut area = egui::ScrollArea::vertical()
            .id_salt("notes-list")
            .max_height(list_h)
            .auto_shrink([false, true]);
        if let Some(i) = current.filter(|_| playing)
            && self.scrolled_to != Some(i)
        {
            // The note being played comes to the middle of the list.
            area =
                area.vertical_scroll_offset((i as f32 * pitch - (list_h - row_h) / 2.0).max(0.0));
            self.scrolled_to = Some(i);
        }
        let notes = &session.notes().doc().notes;
        if notes.is_empty() {
            ui.label("No notes yet: press M to add one at the playhead, or select a region first.");
        }
        area.show_rows(ui, row_h, notes.len(), |ui, rows| {
            for i in rows {
                let Some(n) = notes.get(i) else { break };
                let is_current = current == Some(i);
                let fill = if is_current {
                    ui.visuals().selection.bg_fill.gamma_multiply(0.6)
                } else if selected == Some(i) {
                    ui.visuals().faint_bg_color
                } else {
                    Color32::TRANSPARENT
                };
                let resp = egui::Frame::new()
                    .fill(fill)
                    .inner_margin(MARGIN)
                    .show(ui, |ui| {
                        ui.set_width(ui.available_width());
                        ui.set_height(row_h - 2.0 * MARGIN);
                        ui.horizontal(|ui| {
                            let (r, _) =
                                ui.allocate_exact_size(egui::vec2(6.0, 16.0), Sense::hover());
                            ui.painter().rect_filled(r, 1.0, category_color(n.category));
                            ui.label(RichText::new(when(n)).monospace().small());
                            ui.add(egui::Label::new(RichText::new(&n.title).strong()).truncate());
                        });
                    });
                let resp = ui.interact(
                    resp.response.rect,
                    ui.scope_id().with(("note", i)),
                    Sense::click(),
                );
                let resp = resp
                    .on_hover_text(format!("{} — click to play from here", n.category.as_str()));
                resp.widget_info(|| {
                    egui::WidgetInfo::labeled(
                        egui::Role::ListItem,
                        true,
                        format!("Note {}", n.title),
                    )
                });
                if resp.clicked() {
                    cmds.push(Command::Notes(NotesCmd::Seek(i)));
                }
            }
        });
        ui.separator();

        // The card: the note at the playhead while playing, otherwise the selected one.
        let shown = if playing {
            current.or(selected)
        } else {
            selected.or(current)
        };
        let shown = shown.and_then(|i| Some((i, session.notes().doc().notes.get(i)?.clone())));
        egui::ScrollArea::vertical()
            .id_salt("notes-card")
            .show(ui, |ui| {
                if let Some((i, n)) = &shown {
                    if selected == Some(*i) && !playing {
                        editor(ui, *i, n, &mut cmds, &mut pick_image);
                        ui.separator();
                    }
                    card(ui, session, images, n);
                }
            });
        (cmds, pick_image)
    }
}

/// The notes lane's own state: the edge being dragged.
#[derive(Debug, Default)]
pub(crate) struct NotesLane {
    /// The edge being dragged (true = the end edge).
    drag: Option<bool>,
}

impl NotesLane {
    /// The notes lane above the waveform: regions and points in category colours; drag an
    /// edge to move it, click to select and seek. Returns the commands to apply.
    pub(crate) fn show(
        &mut self,
        ui: &egui::Ui,
        session: &Session,
        rect: egui::Rect,
        x_of: &dyn Fn(f64) -> f32,
        t_of: &dyn Fn(f32) -> f64,
    ) -> Vec<Command> {
        let mut cmds = Vec::new();
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 0.0, ui.visuals().extreme_bg_color);
        let notes = session.notes().doc().notes.clone();
        let selected = session.notes().selected;
        let mut hovered: Option<usize> = None;
        let pointer = ui
            .input(|i| i.pointer.hover_pos())
            .filter(|p| rect.contains(*p));
        // Overlapping regions get their own rows so none hides another.
        let (rows, n_rows) = crate::notes::lane_rows(&notes);
        let row_h = (rect.height() - 4.0) / n_rows as f32;
        for (i, n) in notes.iter().enumerate() {
            let c = category_color(n.category);
            let x0 = x_of(n.start);
            let top = rect.top() + 2.0 + rows[i] as f32 * row_h;
            let shape_rect = match n.end {
                Some(e) => {
                    egui::Rect::from_x_y_ranges(x0..=x_of(e).max(x0 + 2.0), top..=top + row_h - 1.0)
                }
                None => egui::Rect::from_x_y_ranges(x0 - 5.0..=x0 + 5.0, rect.y_range()),
            };
            if shape_rect.right() < rect.left() || shape_rect.left() > rect.right() {
                continue;
            }
            match n.end {
                Some(_) => {
                    painter.rect_filled(shape_rect, 2.0, c.gamma_multiply(0.55));
                    painter.rect_stroke(
                        shape_rect,
                        2.0,
                        Stroke::new(if selected == Some(i) { 2.0 } else { 1.0 }, c),
                        egui::StrokeKind::Inside,
                    );
                }
                None => {
                    let pts = vec![
                        pos2(x0 - 5.0, rect.top() + 2.0),
                        pos2(x0 + 5.0, rect.top() + 2.0),
                        pos2(x0, rect.bottom() - 2.0),
                    ];
                    painter.add(egui::Shape::convex_polygon(
                        pts,
                        c,
                        Stroke::new(if selected == Some(i) { 2.0 } else { 0.0 }, Color32::WHITE),
                    ));
                }
            }
            if pointer.is_some_and(|p| shape_rect.contains(p)) {
                hovered = Some(i);
            }
        }
        // A region edge under the pointer: (note, is_end).
        let edge_at = |p: egui::Pos2| {
            notes.iter().enumerate().find_map(|(i, n)| {
                let e = n.end?;
                if (x_of(n.start) - p.x).abs() <= 4.0 {
                    Some((i, false))
                } else if (x_of(e) - p.x).abs() <= 4.0 {
                    Some((i, true))
                } else {
                    None
                }
            })
        };
        let edge = pointer.and_then(edge_at);
        let resp = ui.interact(
            rect,
            ui.scope_id().with("notes-lane"),
            Sense::click_and_drag(),
        );
        resp.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Canvas, true, "Notes lane"));
        if edge.is_some() || self.drag.is_some() {
            ui.ctx().set_cursor_icon(egui::CursorIcon::ResizeHorizontal);
        }
        // Dragging a region's edge changes its start or end; the whole drag undoes as one step.
        // The edge is picked where the button went down, not where the drag was recognised.
        if resp.drag_started()
            && let Some((i, is_end)) = ui.input(|i| i.pointer.press_origin()).and_then(edge_at)
        {
            cmds.push(Command::Notes(NotesCmd::Select(Some(i))));
            self.drag = Some(is_end);
        }
        if let (Some(is_end), Some(i), Some(p)) = (
            self.drag,
            session.notes().selected,
            resp.interact_pointer_pos(),
        ) && resp.dragged()
            && let Some(n) = session.notes().doc().notes.get(i)
        {
            let t = (t_of(p.x).max(0.0) * 1000.0).round() / 1000.0;
            let mut note = n.clone();
            match (is_end, note.end) {
                (true, Some(_)) => note.end = Some(t.max(note.start)),
                (false, Some(e)) => note.start = t.min(e),
                _ => {}
            }
            cmds.push(Command::Notes(NotesCmd::Update {
                index: i,
                note,
                coalesce: true,
            }));
        }
        if resp.drag_stopped() && self.drag.take().is_some() {
            cmds.push(Command::Notes(NotesCmd::EndEdit));
        }
        if let Some(i) = hovered {
            let n = &notes[i];
            resp.clone()
                .on_hover_text(format!("{}  ({})", n.title, when(n)));
            if resp.clicked() {
                cmds.push(Command::Notes(NotesCmd::Seek(i)));
            }
        } else if resp.clicked()
            && let Some(p) = resp.interact_pointer_pos()
        {
            cmds.push(Command::Seek(t_of(p.x)));
        }
        cmds
    }
}

fn editor(
    ui: &mut egui::Ui,
    i: usize,
    n: &Note,
    cmds: &mut Vec<Command>,
    pick_image: &mut Option<usize>,
) {
    let mut note = n.clone();
    let mut changed = false;
    let mut lost_focus = false;
    egui::Grid::new("note-editor")
        .num_columns(2)
        .show(ui, |ui| {
            ui.label("Title");
            let r =
                ui.add(egui::TextEdit::singleline(&mut note.title).desired_width(f32::INFINITY));
            changed |= r.changed();
            lost_focus |= r.lost_focus();
            ui.end_row();
            ui.label("Start");
            let mut start = time::format(note.start);
            let r = ui.add(egui::TextEdit::singleline(&mut start).desired_width(100.0));
            if r.lost_focus()
                && let Some(t) = time::parse(&start)
            {
                note.start = t;
                changed = true;
            }
            ui.end_row();
            ui.label("End");
            let mut end = note.end.map(time::format).unwrap_or_default();
            let r = ui.add(
                egui::TextEdit::singleline(&mut end)
                    .desired_width(100.0)
                    .hint_text("point"),
            );
            if r.lost_focus() {
                if end.trim().is_empty() {
                    note.end = None;
                    changed = true;
                } else if let Some(t) = time::parse(&end) {
                    note.end = Some(t);
                    changed = true;
                }
            }
            ui.end_row();
            ui.label("Category");
            egui::ComboBox::from_id_salt("note-category")
                .selected_text(note.category.as_str())
                .show_ui(ui, |ui| {
                    for c in Category::ALL {
                        if ui
                            .selectable_label(note.category == c, c.as_str())
                            .clicked()
                        {
                            note.category = c;
                            changed = true;
                        }
                    }
                });
            ui.end_row();
            ui.label("Instruments");
            let mut inst = note.instruments.join(", ");
            let r = ui.add(
                egui::TextEdit::singleline(&mut inst)
                    .desired_width(f32::INFINITY)
                    .hint_text("glossary ids, e.g. haegeum"),
            );
            if r.changed() {
                note.instruments = inst
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect();
                changed = true;
            }
            lost_focus |= r.lost_focus();
            ui.end_row();
            ui.label("Image");
            let mut img = note.image.clone().unwrap_or_default();
            ui.horizontal(|ui| {
                // A picked file from elsewhere is copied next to the notes (see adopt_image).
                let pick = ui
                    .button("Choose…")
                    .on_hover_text("Pick an image; one from another folder is copied into the notes folder's images/");
                let r = ui.add(
                    egui::TextEdit::singleline(&mut img)
                        .desired_width(f32::INFINITY)
                        .hint_text("path relative to the notes file"),
                );
                if r.changed() {
                    note.image = Some(img.trim().to_string()).filter(|s| !s.is_empty());
                    changed = true;
                }
                lost_focus |= r.lost_focus();
                if pick.clicked() {
                    *pick_image = Some(i);
                }
            });
            ui.end_row();
        });
    ui.label("Text");
    let r = ui.add(
        egui::TextEdit::multiline(&mut note.body)
            .desired_rows(5)
            .desired_width(f32::INFINITY),
    );
    changed |= r.changed();
    lost_focus |= r.lost_focus();
    ui.label("Sources (one per line)");
    let mut src = note.sources.join("\n");
    let r = ui.add(
        egui::TextEdit::multiline(&mut src)
            .desired_rows(2)
            .desired_width(f32::INFINITY),
    );
    if r.changed() {
        note.sources = src
            .lines()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        changed = true;
    }
    lost_focus |= r.lost_focus();
    ui.horizontal(|ui| {
        if ui.button("Delete note").clicked() {
            cmds.push(Command::Notes(NotesCmd::Delete(i)));
        }
    });
    if changed {
        // Typing in one field undoes as one step.
        cmds.push(Command::Notes(NotesCmd::Update {
            index: i,
            note,
            coalesce: true,
        }));
    }
    if lost_focus {
        cmds.push(Command::Notes(NotesCmd::EndEdit));
    }
}

fn card(ui: &mut egui::Ui, session: &Session, images: &mut Images, n: &Note) {
    egui::Frame::group(ui.style())
        .stroke(Stroke::new(2.0, category_color(n.category)))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(RichText::new(&n.title).heading());
            ui.label(
                RichText::new(format!("{}  ·  {}", when(n), n.category.as_str()))
                    .color(category_color(n.category)),
            );
            for id in &n.instruments {
                match Glossary::bundled().instrument(id) {
                    Some(g) => {
                        ui.label(
                            RichText::new(format!(
                                "{} ({}) — {}",
                                g.hangul, g.romanization, g.family
                            ))
                            .strong(),
                        );
                        ui.label(RichText::new(&g.description).small());
                    }
                    None => {
                        ui.label(RichText::new(id).strong());
                    }
                }
            }
            if !n.body.is_empty() {
                ui.add_space(4.0);
                ui.label(&n.body);
            }
            if let Some(img) = &n.image
                && let Some(base) = session.notes().base_dir()
            {
                match crate::notes::links::resolve_image(&base, img) {
                    Ok(path) => match images.texture(ui, path.clone()) {
                        Picture::Ready(tex) => {
                            let size = tex.size_vec2();
                            let w = ui.available_width().min(size.x);
                            ui.add(
                                egui::Image::new(&tex)
                                    .alt_text(format!("Picture: {img}"))
                                    .fit_to_exact_size(egui::vec2(w, size.y * w / size.x.max(1.0))),
                            );
                        }
                        Picture::Loading => {
                            ui.label(RichText::new("Loading the picture…").small().italics());
                        }
                        Picture::Missing => {
                            ui.label(
                                RichText::new(format!("Image not found: {}", path.display()))
                                    .small()
                                    .italics(),
                            );
                        }
                    },
                    Err(e) => {
                        ui.label(
                            RichText::new(format!("Image not shown: {e}."))
                                .small()
                                .italics(),
                        );
                    }
                }
            }
            if !n.sources.is_empty() {
                ui.add_space(4.0);
                ui.label(RichText::new("Sources").small().strong());
                for s in &n.sources {
                    // A web address opens in the browser on a click; nothing else is a link.
                    match crate::notes::links::web_link(s) {
                        Some(url) => {
                            ui.horizontal(|ui| {
                                ui.label(RichText::new("•").small());
                                ui.hyperlink_to(RichText::new(url).small(), url);
                            });
                        }
                        None => {
                            ui.label(RichText::new(format!("• {s}")).small());
                        }
                    }
                }
            }
        });
}

/// Note images, each loaded once (the panel's card and the presentation share them). A
/// picture is read and scaled on a thread of its own, never on the UI thread: a large
/// photo takes tens of milliseconds to decode, and a slow disk longer.
#[derive(Default)]
pub(crate) struct Images(HashMap<PathBuf, Entry>);

enum Entry {
    Loading(std::sync::mpsc::Receiver<Option<egui::ColorImage>>),
    Ready(egui::TextureHandle),
    /// Not found or not a picture, as of then (looked for again a second later: a picture
    /// may appear, e.g. the one the demo draws).
    Missing(std::time::Instant),
}

/// What a note's picture is, this frame.
pub(crate) enum Picture {
    Ready(egui::TextureHandle),
    Loading,
    Missing,
}

/// Files larger than this are not shown (a note's picture, not a poster).
const MAX_IMAGE_BYTES: u64 = 32 * 1024 * 1024;

/// Reads and scales the picture at `path` (at most 1024 px a side); `None` if it is missing,
/// too large or not a picture.
fn load_picture(path: &std::path::Path) -> Option<egui::ColorImage> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.len() >= MAX_IMAGE_BYTES {
        return None;
    }
    let img = image::open(path).ok()?.thumbnail(1024, 1024).to_rgba8();
    let size = [img.width() as usize, img.height() as usize];
    Some(egui::ColorImage::from_rgba_unmultiplied(size, img.as_raw()))
}

impl Images {
    /// The picture at `path`: its texture once loaded; the first call starts loading it.
    pub(crate) fn texture(&mut self, ui: &egui::Ui, path: PathBuf) -> Picture {
        let retry = match self.0.get(&path) {
            None => true,
            Some(Entry::Missing(since)) => since.elapsed() >= std::time::Duration::from_secs(1),
            _ => false,
        };
        if retry {
            let (tx, rx) = std::sync::mpsc::channel();
            let ctx = ui.ctx().clone();
            let at = path.clone();
            let spawned = std::thread::Builder::new()
                .name("sori-note-image".into())
                .spawn(move || {
                    let _ = tx.send(load_picture(&at));
                    ctx.request_repaint();
                });
            let e = match spawned {
                Ok(_) => Entry::Loading(rx),
                Err(_) => Entry::Missing(std::time::Instant::now()),
            };
            self.0.insert(path.clone(), e);
        }
        let Some(entry) = self.0.get_mut(&path) else {
            return Picture::Missing;
        };
        if let Entry::Loading(rx) = entry {
            use std::sync::mpsc::TryRecvError;
            match rx.try_recv() {
                Ok(Some(ci)) => {
                    let tex = ui.ctx().load_texture(
                        path.display().to_string(),
                        ci,
                        egui::TextureOptions::LINEAR,
                    );
                    *entry = Entry::Ready(tex);
                }
                Ok(None) | Err(TryRecvError::Disconnected) => {
                    *entry = Entry::Missing(std::time::Instant::now());
                }
                Err(TryRecvError::Empty) => {}
            }
        }
        match entry {
            Entry::Ready(t) => Picture::Ready(t.clone()),
            Entry::Loading(_) => Picture::Loading,
            Entry::Missing(_) => Picture::Missing,
        }
    }
}
