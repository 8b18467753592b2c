//! Presentation mode for a classroom: full screen, a large card for the current note, the
//! spectrogram with the lens lanes and the playhead, a progress strip with the note regions,
//! and "coming up". Clicker keys: PageDown/→ next note (plays from its start), PageUp/←
//! previous, B blanks the screen, Esc leaves; playback pauses at the end of each note.

use eframe::egui::{self, Color32, Key, Modifiers, RichText, Sense, Stroke, pos2};

use super::notes_view::Images;
use super::notes_view::category_color;
use super::timeline::Timeline;
use crate::notes::glossary::Glossary;
use crate::notes::{Document, Note};
use crate::session::{Command, Session};

/// Smallest body text on the card, in physical pixels (readable from the back of a room).
pub const MIN_BODY_PX: f32 = 28.0;

/// The presentation's own state: which note is presented, and whether the screen is blank.
#[derive(Debug, Default)]
pub(crate) struct Presenter {
    /// B: the screen is blanked.
    blank: bool,
    /// Index (into the notes) of the note being presented.
    index: Option<usize>,
}

/// Note indices in time order.
fn order(notes: &[Note]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..notes.len()).collect();
    idx.sort_by(|&a, &b| notes[a].start.total_cmp(&notes[b].start));
    idx
}

/// Where the presented note ends: its region's end, else the next note's start.
fn end_of(doc: &Document, i: usize) -> Option<f64> {
    let n = doc.notes.get(i)?;
    n.end.or_else(|| doc.next_start(n.start))
}

impl Presenter {
    /// Presentation on: full screen, the current (or selected) note framed.
    pub(crate) fn enter(&mut self, ctx: &egui::Context, session: &Session) -> Vec<Command> {
        let mut cmds = Vec::new();
        cmds.push(Command::SetPresenting(true));
        self.blank = false;
        self.index = session.current_note().or(session.notes().selected);
        ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(true));
        self.frame_note(session, &mut cmds);
        cmds
    }

    /// Presentation off, out of full screen.
    pub(crate) fn leave(&mut self, ctx: &egui::Context) -> Vec<Command> {
        let mut cmds = Vec::new();
        cmds.push(Command::SetPresenting(false));
        self.blank = false;
        ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(false));
        cmds
    }

    /// Goes to the note `step` places after (or before) the presented one and plays it.
    pub(crate) fn go(&mut self, session: &Session, step: i64) -> Vec<Command> {
        let mut cmds = Vec::new();
        let notes = session.notes().doc().notes.clone();
        if notes.is_empty() {
            return cmds;
        }
        let ord = order(&notes);
        let cur = self.index.and_then(|i| ord.iter().position(|&k| k == i));
        let pos = match cur {
            Some(p) => (p as i64 + step).clamp(0, ord.len() as i64 - 1) as usize,
            None if step >= 0 => {
                // nothing presented yet: the first note after the playhead
                let t = session.position_s();
                ord.iter()
                    .position(|&k| notes[k].start >= t - 1e-6)
                    .unwrap_or(ord.len() - 1)
            }
            None => 0,
        };
        let i = ord[pos];
        self.index = Some(i);
        self.blank = false;
        cmds.push(Command::PlayNote(i));
        self.frame_note(session, &mut cmds);
        cmds
    }

    /// Shows the presented note's region (with some context) in the view.
    fn frame_note(&self, session: &Session, cmds: &mut Vec<Command>) {
        let Some(n) = self.index.and_then(|i| session.notes().doc().notes.get(i)) else {
            return;
        };
        let (from, to) = crate::render::slide::slide_range(n, session.total_s());
        cmds.push(Command::ShowRange {
            from_s: from,
            to_s: to.max(from + 1.0),
        });
    }

    /// Keys in presentation mode. Returns whether the mode was left, and the commands to apply.
    pub(crate) fn keys(&mut self, ctx: &egui::Context, session: &Session) -> (bool, Vec<Command>) {
        let mut cmds = Vec::new();
        let mut next = 0i64;
        let (mut blank, mut esc, mut toggle, mut space) = (false, false, false, false);
        ctx.input_mut(|i| {
            for k in [Key::PageDown, Key::ArrowRight, Key::ArrowDown] {
                if i.consume_key(Modifiers::NONE, k) {
                    next += 1;
                }
            }
            for k in [Key::PageUp, Key::ArrowLeft, Key::ArrowUp] {
                if i.consume_key(Modifiers::NONE, k) {
                    next -= 1;
                }
            }
            blank = i.consume_key(Modifiers::NONE, Key::B)
                || i.consume_key(Modifiers::NONE, Key::Period);
            esc = i.consume_key(Modifiers::NONE, Key::Escape);
            toggle =
                i.consume_key(Modifiers::NONE, Key::F5) || i.consume_key(Modifiers::NONE, Key::F11);
            space = i.consume_key(Modifiers::NONE, Key::Space);
        });
        if esc || toggle {
            return (true, self.leave(ctx));
        }
        if blank {
            self.blank = !self.blank;
        }
        if next != 0 {
            cmds.extend(self.go(session, next));
        }
        if space {
            // Space resumes after a pause at a note's end (and plays on past it).
            cmds.push(Command::TogglePlay);
        }
        (false, cmds)
    }

    /// The presentation screen: the card, the progress strip and "coming up", the time views.
    /// Returns the commands to apply.
    pub(crate) fn show(
        &mut self,
        ui: &mut egui::Ui,
        session: &Session,
        images: &mut Images,
        timeline: &mut Timeline,
    ) -> Vec<Command> {
        let mut cmds = Vec::new();
        let ctx = ui.ctx().clone();
        if self.blank {
            egui::CentralPanel::default()
                .frame(egui::Frame::new().fill(Color32::BLACK))
                .show(ui, |ui| {
                    let r = ui.max_rect();
                    ui.allocate_rect(r, Sense::hover()).widget_info(|| {
                        egui::WidgetInfo::labeled(egui::Role::Pane, true, "Blank screen")
                    });
                });
            return cmds;
        }
        let ppp = ctx.pixels_per_point();
        let body = (30.0f32).max(MIN_BODY_PX / ppp);
        let notes = session.notes().doc().notes.clone();
        // follow the playhead when the teacher lets it play on past a note's end
        let cur = session.current_note();
        if session.is_playing()
            && cur.is_some()
            && cur != self.index
            && session.pause_at().is_none()
        {
            self.index = cur;
        }
        let note = self.index.and_then(|i| notes.get(i)).cloned();
        let coming = {
            let ord = order(&notes);
            let p = self.index.and_then(|i| ord.iter().position(|&k| k == i));
            match p {
                Some(p) => ord.get(p + 1).map(|&k| notes[k].title.clone()),
                None => ord.first().map(|&k| notes[k].title.clone()),
            }
        };
        egui::Panel::bottom("present-strip")
            .frame(egui::Frame::new().inner_margin(egui::Margin::symmetric(16, 8)))
            .show(ui, |ui| {
                self.progress_strip(ui, session, body, &mut cmds);
                ui.horizontal(|ui| {
                    if let Some(t) = &coming {
                        ui.label(RichText::new(format!("Coming up: {t}")).size(body * 0.8));
                    } else {
                        ui.label(RichText::new("Last note").size(body * 0.8));
                    }
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        ui.label(
                            RichText::new("PageDown next · PageUp previous · B blank · Space play/pause · Esc leave")
                                .size(body * 0.5)
                                .weak(),
                        );
                    });
                });
            });
        // the card takes what it needs (a picture: more), the spectrogram and lanes the rest
        let has_image = note.as_ref().is_some_and(|n| n.image.is_some());
        let card_h = ui.available_height() * if has_image { 0.46 } else { 0.34 };
        egui::Panel::top("present-card")
            .exact_size(card_h)
            .frame(egui::Frame::new().inner_margin(egui::Margin::symmetric(24, 16)))
            .show(ui, |ui| match &note {
                Some(n) => card(ui, session, images, n, body),
                None => {
                    ui.label(
                        RichText::new(session.notes().doc().title.clone())
                            .size(body * 1.6)
                            .strong(),
                    );
                    ui.label(RichText::new("Press PageDown for the first note.").size(body));
                }
            });
        egui::CentralPanel::default().show(ui, |ui| cmds.extend(timeline.show(ui, session)));
        cmds
    }

    /// The whole track with the note regions and the playhead; a click seeks.
    fn progress_strip(
        &self,
        ui: &mut egui::Ui,
        session: &Session,
        body: f32,
        cmds: &mut Vec<Command>,
    ) {
        let doc = session.notes().doc();
        let h = (body * 0.6).max(14.0);
        let (rect, resp) =
            ui.allocate_exact_size(egui::vec2(ui.available_width(), h), Sense::click());
        resp.widget_info(|| {
            egui::WidgetInfo::labeled(egui::Role::ProgressIndicator, true, "Progress")
        });
        let total = session.total_s().max(1e-6);
        let x = |t: f64| rect.left() + (t / total) as f32 * rect.width();
        let p = ui.painter_at(rect);
        p.rect_filled(rect, 3.0, ui.visuals().extreme_bg_color);
        for (i, n) in doc.notes.iter().enumerate() {
            let c = category_color(n.category);
            let x0 = x(n.start);
            let x1 = x(end_of(doc, i).unwrap_or(total)).max(x0 + 3.0);
            let r =
                egui::Rect::from_x_y_ranges(x0..=x1, rect.y_range()).shrink2(egui::vec2(0.5, 2.0));
            let strong = self.index == Some(i);
            p.rect_filled(r, 2.0, c.gamma_multiply(if strong { 1.0 } else { 0.45 }));
        }
        let px = x(session.position_s());
        p.line_segment(
            [pos2(px, rect.top()), pos2(px, rect.bottom())],
            Stroke::new(3.0, ui.visuals().strong_text_color()),
        );
        if resp.clicked()
            && let Some(pt) = resp.interact_pointer_pos()
        {
            let t = ((pt.x - rect.left()) / rect.width()) as f64 * total;
            cmds.push(Command::PlayOnPastNoteEnd);
            cmds.push(Command::Seek(t));
        }
    }
}

fn card(ui: &mut egui::Ui, session: &Session, images: &mut Images, n: &Note, body: f32) {
    let color = category_color(n.category);
    let image = n.image.as_ref().and_then(|img| {
        let base = session.notes().base_dir()?;
        let path = crate::notes::links::resolve_image(&base, img).ok()?;
        match images.texture(ui, path) {
            super::notes_view::Picture::Ready(t) => Some(t),
            _ => None,
        }
    });
    ui.horizontal_top(|ui| {
        let text_w = if image.is_some() {
            ui.available_width() * 0.62
        } else {
            ui.available_width()
        };
        ui.vertical(|ui| {
            ui.set_width(text_w);
            ui.painter().rect_filled(
                egui::Rect::from_min_size(
                    ui.cursor().min - egui::vec2(14.0, 0.0),
                    egui::vec2(6.0, body * 2.0),
                ),
                2.0,
                color,
            );
            ui.label(RichText::new(&n.title).size(body * 1.6).strong());
            ui.label(
                RichText::new(format!(
                    "{}  ·  {}",
                    super::notes_view::when(n),
                    n.category.as_str()
                ))
                .size(body * 0.8)
                .color(color),
            );
            egui::ScrollArea::vertical()
                .auto_shrink([false, true])
                .show(ui, |ui| {
                    if !n.body.is_empty() {
                        ui.label(RichText::new(&n.body).size(body));
                    }
                    for id in &n.instruments {
                        if let Some(g) = Glossary::bundled().instrument(id) {
                            ui.add_space(body * 0.3);
                            ui.label(
                                RichText::new(format!(
                                    "{} ({}) — {}",
                                    g.hangul, g.romanization, g.family
                                ))
                                .size(body * 0.8)
                                .strong(),
                            );
                            ui.label(RichText::new(&g.description).size(body * 0.7));
                        }
                    }
                });
        });
        if let Some(tex) = image {
            let size = tex.size_vec2();
            let w = ui.available_width();
            let h = ui.available_height();
            let scale = (w / size.x.max(1.0)).min(h / size.y.max(1.0));
            ui.add(egui::Image::new(&tex).fit_to_exact_size(size * scale));
        }
    });
}
