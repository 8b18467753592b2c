//! The fusion-lens lanes under the spectrogram: one row per timbre family (warm colours
//! for Korean families, cool for pop), the score over time, segments where a lane is
//! judged present, the evidence on hover, tinting of the spectrogram, draft notes, and the
//! regions Find similar lit up.

use eframe::egui::{self, Color32, Rect, Sense, Stroke, pos2, vec2};

use crate::analysis::lens::{Analysis, Family, LANES, N_LANES};
use crate::analysis::spectrum::LogAxis;
use crate::render::format_time;
use crate::session::{Command, NotesCmd, Session, Track};

/// Lane colours: warm for the Korean families, cool for pop (shared with the pictures).
pub const COLORS: [Color32; N_LANES] = {
    let mut c = [Color32::BLACK; N_LANES];
    let mut i = 0;
    while i < N_LANES {
        let [r, g, b] = LANES[i].rgb;
        c[i] = Color32::from_rgb(r, g, b);
        i += 1;
    }
    c
};

const SIMILAR: Color32 = Color32::from_rgb(120, 230, 120);

/// Height the lanes want in a timeline of height `h`.
pub fn height_for(h: f32) -> f32 {
    header_h() + LANES.len() as f32 * row_h(h)
}
fn header_h() -> f32 {
    18.0
}
fn row_h(h: f32) -> f32 {
    (h * 0.22 / LANES.len() as f32).clamp(9.0, 15.0)
}

/// Tints the spectrogram with lane `k`, or removes the tint if it is already lane `k`'s.
fn toggle_tint(session: &Session, k: usize) -> Command {
    Command::SetTint((session.tint() != Some(k)).then_some(k))
}

/// Which lane and segment (if any) lie under `p`.
fn hit(lens: &Analysis, rows: Rect, row: f32, t: f64, y: f32) -> Option<(usize, Option<usize>)> {
    if y < rows.top() || y >= rows.bottom() {
        return None;
    }
    let k = ((y - rows.top()) / row) as usize;
    let lane = lens.lanes.get(k)?;
    let seg = lane
        .segments
        .iter()
        .position(|s| t >= s.start_s && t < s.end_s);
    Some((k, seg))
}

/// The lanes' own state: the segment a context menu is open for.
#[derive(Debug, Default)]
pub(crate) struct LanesView {
    /// (lane, segment) under the last right click.
    menu: Option<(usize, usize)>,
}

impl LanesView {
    /// Draws the lanes in `rect`; `x`/`t` map between time and x. Returns the commands the
    /// clicks asked for.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn show(
        &mut self,
        ui: &mut egui::Ui,
        session: &Session,
        track: &Track,
        rect: Rect,
        gutter_left: f32,
        x: &dyn Fn(f64) -> f32,
        t: &dyn Fn(f32) -> f64,
    ) -> Vec<Command> {
        let mut cmds = Vec::new();
        let painter = ui.painter_at(rect.with_min_x(gutter_left));
        let text = ui.visuals().text_color();
        let weak = ui.visuals().weak_text_color();
        let header = Rect::from_min_size(rect.min, vec2(rect.width(), header_h()));
        let rows = Rect::from_min_max(pos2(rect.left(), header.bottom()), rect.max);
        let row = rows.height() / LANES.len() as f32;
        let font = egui::FontId::proportional((row - 1.0).clamp(9.0, 12.0));

        // Header: Find similar, and the regions it found.
        if let Some((a, b)) = session.similar_query() {
            let r = Rect::from_x_y_ranges(x(a)..=x(b), header.y_range().shrink(2.0));
            painter.rect_stroke(r, 2.0, Stroke::new(1.5, text), egui::StrokeKind::Inside);
        }
        let mut chosen = None;
        for (i, m) in session.similar().iter().enumerate() {
            let r = Rect::from_x_y_ranges(x(m.start_s)..=x(m.end_s), header.y_range().shrink(2.0));
            painter.rect_filled(r, 2.0, SIMILAR.gamma_multiply(0.35 + 0.6 * m.score));
            let text = format!("{} · {:.2}", i + 1, m.score);
            painter.text(
                r.left_center() + vec2(3.0, 0.0),
                egui::Align2::LEFT_CENTER,
                &text,
                egui::FontId::proportional(10.0),
                Color32::BLACK,
            );
            // Each match is a widget: named for screen readers, a click selects it.
            let resp = ui
                .interact(r, ui.scope_id().with(("similar", i)), Sense::click())
                .on_hover_text(format!(
                    "Similar timbre, rank {}: {} – {}, similarity {:.2}. Click to select it.",
                    i + 1,
                    format_time(m.start_s, 0.1),
                    format_time(m.end_s, 0.1),
                    m.score
                ));
            resp.widget_info(|| {
                egui::WidgetInfo::labeled(
                    egui::Role::Button,
                    true,
                    format!("Similar region {text}"),
                )
            });
            if resp.clicked() {
                chosen = Some((m.start_s, m.end_s));
            }
        }
        if let Some((a, b)) = chosen {
            cmds.push(Command::SetSelection(Some((a, b))));
            cmds.push(Command::Seek(a));
        }
        let lens = track.lens();
        let busy = track.lens_busy();
        // The row's name in the gutter is its button.
        let btn_rect = Rect::from_min_max(
            pos2(gutter_left, header.top() + 1.0),
            pos2(rect.left() - 2.0, header.bottom() - 1.0),
        );
        let clear = !session.similar().is_empty();
        let btn = ui
            .put(
                btn_rect,
                egui::Button::new(egui::RichText::new(if clear { "Clear ≈" } else { "Similar" }).size(11.0))
                    .small(),
            )
            .on_hover_text(if clear {
                "Clear the similar regions (Ctrl+F)"
            } else {
                "Find similar (Ctrl+F): select a region, then light up the regions whose timbre is closest"
            });
        if btn.clicked() {
            cmds.push(if clear {
                Command::ClearSimilar
            } else {
                Command::FindSimilar
            });
        }

        // Lane rows.
        for (k, info) in LANES.iter().enumerate() {
            let r = Rect::from_min_size(
                pos2(rows.left(), rows.top() + k as f32 * row),
                vec2(rows.width(), row),
            );
            let bg = if k % 2 == 0 {
                ui.visuals().faint_bg_color
            } else {
                ui.visuals().extreme_bg_color
            };
            painter.rect_filled(r, 0.0, bg);
            if info.family == Family::Pop && LANES[k - 1].family == Family::Korean {
                painter.line_segment(
                    [r.left_top(), r.right_top()],
                    Stroke::new(1.0, ui.visuals().widgets.noninteractive.bg_stroke.color),
                );
            }
            let tinted = session.tint() == Some(k);
            // Gutter label: click to tint.
            let label_rect =
                Rect::from_min_max(pos2(gutter_left, r.top()), pos2(r.left() - 2.0, r.bottom()));
            let lr = ui.interact(
                label_rect,
                ui.scope_id().with(("lane-label", k)),
                Sense::click(),
            );
            lr.widget_info(|| {
                egui::WidgetInfo::labeled(
                    egui::Role::Button,
                    true,
                    format!("Tint the spectrogram with lane {}", info.label),
                )
            });
            if lr.clicked() {
                cmds.push(toggle_tint(session, k));
            }
            painter.rect_filled(
                Rect::from_min_size(pos2(gutter_left + 1.0, r.center().y - 3.0), vec2(6.0, 6.0)),
                1.0,
                COLORS[k],
            );
            painter.text(
                pos2(gutter_left + 10.0, r.center().y),
                egui::Align2::LEFT_CENTER,
                LANES[k].short,
                font.clone(),
                if tinted || lr.hovered() { text } else { weak },
            );
            if tinted {
                painter.rect_stroke(
                    r,
                    0.0,
                    Stroke::new(1.0, COLORS[k]),
                    egui::StrokeKind::Inside,
                );
            }
            let Some(lens) = &lens else { continue };
            let Some(lane) = lens.lanes.get(k) else {
                continue;
            };
            // Score, one column per pixel (the largest score under it).
            let n = lane.scores.len();
            let mut px = r.left();
            while px < r.right() {
                let (t0, t1) = (t(px), t(px + 1.0));
                let (i0, i1) = (
                    ((t0 / lane.hop_s).floor().max(0.0) as usize).min(n),
                    ((t1 / lane.hop_s).ceil().max(0.0) as usize).min(n),
                );
                let v = lane.scores[i0..i1.max(i0)]
                    .iter()
                    .copied()
                    .fold(0.0f32, f32::max);
                if v > 0.03 {
                    let h = (r.height() - 2.0) * v;
                    painter.line_segment(
                        [
                            pos2(px + 0.5, r.bottom() - 1.0),
                            pos2(px + 0.5, r.bottom() - 1.0 - h),
                        ],
                        Stroke::new(1.0, COLORS[k].gamma_multiply(0.25 + 0.35 * v)),
                    );
                }
                px += 1.0;
            }
            for s in &lane.segments {
                let sr = Rect::from_x_y_ranges(
                    x(s.start_s).max(r.left())..=x(s.end_s).min(r.right()),
                    r.y_range(),
                );
                if sr.width() <= 0.0 {
                    continue;
                }
                painter.rect_stroke(
                    sr,
                    1.0,
                    Stroke::new(1.0, COLORS[k]),
                    egui::StrokeKind::Inside,
                );
                painter.rect_filled(
                    Rect::from_min_max(pos2(sr.left(), sr.bottom() - 3.0), sr.max),
                    0.0,
                    COLORS[k],
                );
            }
        }
        if lens.is_none() {
            painter.text(
                rows.center(),
                egui::Align2::CENTER_CENTER,
                if busy {
                    "Measuring timbres for the fusion lens…"
                } else {
                    "The fusion lens could not be measured for this track."
                },
                egui::FontId::proportional(13.0),
                text,
            );
            if busy {
                ui.ctx()
                    .request_repaint_after(std::time::Duration::from_millis(100));
            }
            return cmds;
        }
        let Some(lens) = lens else { return cmds };

        // Hover: the evidence; right click: a draft note; click: tint.
        let resp = ui.interact(rows, ui.scope_id().with("lanes"), Sense::click());
        resp.widget_info(|| {
            egui::WidgetInfo::labeled(egui::Role::Group, true, "Fusion lens lanes")
        });
        if let Some(p) = resp.hover_pos()
            && let Some((k, seg)) = hit(&lens, rows, row, t(p.x), p.y)
        {
            let info = &LANES[k];
            let lane = &lens.lanes[k];
            let time = t(p.x);
            let at = ((time / lane.hop_s) as usize).min(lane.scores.len().saturating_sub(1));
            let score = lane.scores.get(at).copied().unwrap_or(0.0);
            let resp = resp.clone();
            resp.on_hover_ui_at_pointer(|ui| {
                ui.set_max_width(420.0);
                ui.label(egui::RichText::new(info.label).strong().color(COLORS[k]));
                match seg.and_then(|s| lane.segments.get(s)) {
                    Some(s) => {
                        ui.label(format!(
                            "{} – {} · score {:.2}",
                            format_time(s.start_s, 0.1),
                            format_time(s.end_s, 0.1),
                            s.score
                        ));
                        ui.label(&s.evidence);
                        if !s.closest.is_empty() {
                            ui.label(
                                egui::RichText::new(
                                    "Sounds closest to (reference library; similarity 1 = same timbre):",
                                )
                                .strong(),
                            );
                            for c in &s.closest {
                                ui.label(format!(
                                    "• {} · similarity {:.2}",
                                    c.describe(),
                                    c.similarity
                                ));
                            }
                        }
                        ui.label(
                            egui::RichText::new(
                                "Right-click: draft a note · click: tint the spectrogram",
                            )
                            .weak()
                            .small(),
                        );
                    }
                    None => {
                        ui.label(format!(
                            "{} · score {score:.2} (not judged present here)",
                            format_time(time, 0.1)
                        ));
                    }
                }
            });
        }
        if resp.clicked()
            && let Some(p) = resp.interact_pointer_pos()
            && let Some((k, _)) = hit(&lens, rows, row, t(p.x), p.y)
        {
            cmds.push(toggle_tint(session, k));
        }
        if resp.secondary_clicked()
            && let Some(p) = resp.interact_pointer_pos()
        {
            self.menu = hit(&lens, rows, row, t(p.x), p.y).and_then(|(k, s)| s.map(|s| (k, s)));
        }
        resp.context_menu(|ui| match self.menu {
            Some((k, s)) => {
                let seg = lens.lanes.get(k).and_then(|l| l.segments.get(s));
                if ui.button("Draft a note from this segment").clicked() {
                    cmds.push(Command::Notes(NotesCmd::DraftFromSegment {
                        lane: k,
                        segment: s,
                    }));
                    ui.close();
                }
                if let Some(seg) = seg
                    && ui.button("Select this segment").clicked()
                {
                    cmds.push(Command::SetSelection(Some((seg.start_s, seg.end_s))));
                    ui.close();
                }
                if ui.button("Tint the spectrogram with this lane").clicked() {
                    cmds.push(Command::SetTint(Some(k)));
                    ui.close();
                }
            }
            None => {
                ui.label("No segment here: right-click a marked segment.");
            }
        });
        cmds
    }
}

/// Tints the spectrogram in the tinted lane's band over its segments, and outlines the
/// regions Find similar lit up.
pub(crate) fn overlay(
    session: &Session,
    painter: &egui::Painter,
    track: &Track,
    spec: Rect,
    x: &dyn Fn(f64) -> f32,
) {
    for m in session.similar() {
        let r = Rect::from_x_y_ranges(x(m.start_s)..=x(m.end_s), spec.y_range());
        painter.rect_stroke(r, 0.0, Stroke::new(1.5, SIMILAR), egui::StrokeKind::Inside);
    }
    let (Some(k), Some(lens)) = (session.tint(), track.lens()) else {
        return;
    };
    let (Some(info), Some(lane)) = (LANES.get(k), lens.lanes.get(k)) else {
        return;
    };
    let rows = session.settings().spec_params().rows;
    let axis = LogAxis::for_rate(track.store.sample_rate(), rows);
    let y = |f: f32| spec.top() + axis.row_of(f) / rows as f32 * spec.height();
    let (y_hi, y_lo) = (
        y(info.band_hz.1).clamp(spec.top(), spec.bottom()),
        y(info.band_hz.0).clamp(spec.top(), spec.bottom()),
    );
    for s in &lane.segments {
        let r = Rect::from_min_max(pos2(x(s.start_s), y_hi), pos2(x(s.end_s), y_lo));
        painter.rect_filled(r, 0.0, COLORS[k].gamma_multiply(0.28));
        painter.rect_stroke(
            r,
            0.0,
            Stroke::new(1.5, COLORS[k]),
            egui::StrokeKind::Inside,
        );
    }
}
