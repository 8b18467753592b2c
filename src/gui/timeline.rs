//! The time views: overview strip, ruler, waveform and spectrogram, with hover readouts,
//! click-to-seek, drag-to-select, zoom and scroll.

use std::collections::HashMap;
use std::sync::Arc;

use eframe::egui::{self, Color32, Pos2, Rect, Sense, Stroke, pos2, vec2};

use super::lanes_view::LanesView;
use super::notes_view::NotesLane;
use super::tiles::Tiles;
use super::tiles::{TILE_COLS, Tile, TileKey};
use crate::analysis::spectrum::{LogAxis, u8_to_db};
use crate::render::{ColorMap, colorize, format_time, freq_ticks, time_tick_step};
use crate::session::{Command, Session, Track};

const GUTTER: f32 = 60.0;
const OVERVIEW_H: f32 = 38.0;
const RULER_H: f32 = 22.0;
const LANE_H: f32 = 30.0;
const PLAYHEAD: Color32 = Color32::from_rgb(255, 214, 10);
const WAVE: Color32 = Color32::from_rgb(96, 196, 238);
const SELECTION: Color32 = Color32::from_rgba_unmultiplied_const(70, 130, 230, 60);
const LOOP_SEL: Color32 = Color32::from_rgba_unmultiplied_const(40, 190, 100, 60);

/// What the pointer is over, for the status bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Readout {
    pub time_s: f64,
    pub freq_hz: Option<f32>,
    pub db: Option<f32>,
    pub amplitude: Option<f32>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Drag {
    anchor_s: f64,
    moved: bool,
}

pub(crate) type TexKey = (TileKey, ColorMap, [u32; 2]);

/// Maps between time and x inside the plot area.
#[derive(Clone, Copy)]
struct XMap {
    left: f32,
    width: f32,
    start: f64,
    len: f64,
}

impl XMap {
    fn x(&self, t: f64) -> f32 {
        self.left + ((t - self.start) / self.len * self.width as f64) as f32
    }
    fn t(&self, x: f32) -> f64 {
        self.start + (x - self.left) as f64 / self.width as f64 * self.len
    }
}

/// The time views' own state: the tile worker and the textures made from its tiles, the drag
/// in progress, the readout under the pointer, and the two lanes drawn with them.
pub(crate) struct Timeline {
    tiles: Tiles,
    textures: HashMap<TexKey, (egui::TextureHandle, u64, u64)>,
    /// Frames drawn (textures not used for a while are dropped).
    frame_no: u64,
    /// Spectrogram tiles drawn in the last frame.
    visible_tiles: Vec<TexKey>,
    drag: Option<Drag>,
    /// What the pointer is over, for the status bar.
    pub(crate) hover: Option<Readout>,
    /// The notes lane above the waveform.
    notes_lane: NotesLane,
    /// The fusion-lens lanes under the spectrogram.
    lanes: LanesView,
}

impl Default for Timeline {
    fn default() -> Self {
        Self {
            tiles: Tiles::new(),
            textures: HashMap::new(),
            frame_no: 0,
            visible_tiles: Vec::new(),
            drag: None,
            hover: None,
            notes_lane: NotesLane::default(),
            lanes: LanesView::default(),
        }
    }
}

impl Timeline {
    /// Another track is shown: its queued tiles and textures go, with any drag.
    pub(crate) fn forget_track(&mut self) {
        self.tiles.clear_queue();
        self.textures.clear();
        self.drag = None;
    }

    /// True while tiles are queued or being computed.
    pub(crate) fn tiles_pending(&self) -> bool {
        self.tiles.pending()
    }

    /// True when every spectrogram tile on screen is drawn from the finished analysis (its
    /// texture shows the latest computation of a complete tile).
    pub(crate) fn spectrogram_settled(&self) -> bool {
        !self.visible_tiles.is_empty()
            && self.visible_tiles.iter().all(|k| {
                match (self.tiles.peek(&k.0), self.textures.get(k)) {
                    (Some(tile), Some((_, _, serial))) => tile.complete && tile.serial == *serial,
                    _ => false,
                }
            })
    }

    /// Draws the time views into the rest of the window; returns the commands the pointer asked
    /// for.
    pub(crate) fn show(&mut self, ui: &mut egui::Ui, session: &Session) -> Vec<Command> {
        self.frame_no += 1;
        let mut cmds = Vec::new();
        let Some(track) = session.track().cloned() else {
            ui.centered_and_justified(|ui| {
                if session.is_loading() {
                    ui.spinner();
                } else {
                    ui.label("Open an audio file (File → Open, Ctrl+O, or drop it here), or File → Open demo.");
                }
            });
            self.hover = None;
            return cmds;
        };
        let full = ui.available_rect_before_wrap();
        ui.allocate_rect(full, Sense::hover());

        // Overview strip over the whole track.
        let ov_rect = Rect::from_min_size(
            full.min + vec2(GUTTER, 0.0),
            vec2(full.width() - GUTTER, OVERVIEW_H),
        );
        self.overview(session, ui, &track, ov_rect, &mut cmds);

        let plot_left = full.left() + GUTTER;
        let plot_w = (full.width() - GUTTER).max(10.0);
        let top = ov_rect.bottom() + 6.0;
        let ruler = Rect::from_min_size(pos2(plot_left, top), vec2(plot_w, RULER_H));
        let notes_lane =
            Rect::from_min_size(pos2(plot_left, ruler.bottom() + 2.0), vec2(plot_w, LANE_H));
        let rest_h = (full.bottom() - notes_lane.bottom()).max(40.0);
        let nch = track.store.channels().min(8);
        let wave_h = (rest_h * 0.3).max(30.0 * nch.min(2) as f32);
        let wave = Rect::from_min_size(
            pos2(plot_left, notes_lane.bottom() + 2.0),
            vec2(plot_w, wave_h),
        );
        let lanes_h = super::lanes_view::height_for(full.height());
        let spec = Rect::from_min_max(
            pos2(plot_left, wave.bottom() + 4.0),
            pos2(
                full.right(),
                (full.bottom() - lanes_h - 4.0).max(wave.bottom() + 24.0),
            ),
        );
        let lanes = Rect::from_min_max(pos2(plot_left, spec.bottom() + 4.0), full.max);

        let view = session.view();
        let xm = XMap {
            left: plot_left,
            width: plot_w,
            start: view.start_s,
            len: view.len_s.max(1e-9),
        };
        let painter = ui.painter_at(full);

        // Interaction over ruler + waveform + spectrogram.
        let area = ruler.union(wave).union(spec);
        let resp = ui
            .interact(
                area,
                ui.scope_id().with("timeline"),
                Sense::click_and_drag(),
            )
            .on_hover_cursor(egui::CursorIcon::Text);
        resp.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Canvas, true, "Timeline"));
        // What the pointer asks for is applied after this frame, which is drawn in the view
        // as it was (the app draws the next frame at once).
        self.interact(session, ui, &resp, xm, &mut cmds);

        cmds.extend(
            self.notes_lane
                .show(ui, session, notes_lane, &|t| xm.x(t), &|x| xm.t(x)),
        );
        painter.text(
            pos2(full.left() + 2.0, notes_lane.center().y),
            egui::Align2::LEFT_CENTER,
            "Notes",
            egui::FontId::proportional(11.0),
            ui.visuals().weak_text_color(),
        );
        self.spectrogram(session, ui, &painter.with_clip_rect(spec), &track, spec, xm);
        super::lanes_view::overlay(session, &painter.with_clip_rect(spec), &track, spec, &|t| {
            xm.x(t)
        });
        cmds.extend(self.lanes.show(
            ui,
            session,
            &track,
            lanes,
            full.left(),
            &|t| xm.x(t),
            &|x| xm.t(x),
        ));
        waveform(&painter.with_clip_rect(wave), &track, wave, xm, nch);
        ruler_ticks(
            &painter.with_clip_rect(ruler.expand2(vec2(0.0, 1.0))),
            ui,
            ruler,
            xm,
        );
        freq_axis(&painter, ui, &track, spec, full.left());
        if let Some((a, b)) = session.selection() {
            let color = if session.loop_on() {
                LOOP_SEL
            } else {
                SELECTION
            };
            let r = Rect::from_x_y_ranges(
                xm.x(a).max(plot_left)..=xm.x(b).min(plot_left + plot_w),
                area.y_range(),
            );
            if r.width() > 0.0 {
                painter.rect_filled(r, 0.0, color);
            }
        }
        // Playhead, from the frame the audio callback consumed.
        let px = xm.x(session.position_s());
        if px >= plot_left && px <= plot_left + plot_w {
            painter.line_segment(
                [pos2(px, area.top()), pos2(px, lanes.bottom())],
                Stroke::new(1.5, PLAYHEAD),
            );
        }

        // Hover readout.
        self.hover = resp
            .hover_pos()
            .map(|p| self.readout(session, &track, p, xm, wave, spec, nch));
        cmds
    }

    #[allow(clippy::too_many_arguments)]
    fn interact(
        &mut self,
        session: &Session,
        ui: &egui::Ui,
        resp: &egui::Response,
        xm: XMap,
        cmds: &mut Vec<Command>,
    ) {
        let s = session;
        // The anchor is where the button went down, not where the drag was recognised.
        if resp.drag_started()
            && let Some(p) = ui
                .input(|i| i.pointer.press_origin())
                .or(resp.interact_pointer_pos())
        {
            self.drag = Some(Drag {
                anchor_s: xm.t(p.x),
                moved: false,
            });
        }
        if resp.dragged()
            && let (Some(d), Some(p)) = (self.drag.as_mut(), resp.interact_pointer_pos())
        {
            let t = xm.t(p.x);
            let px_moved = (xm.x(d.anchor_s) - p.x).abs();
            if px_moved > 3.0 || d.moved {
                d.moved = true;
                cmds.push(Command::SetSelection(Some((d.anchor_s, t))));
            }
        }
        if resp.drag_stopped() {
            if let Some(d) = self.drag.take()
                && !d.moved
            {
                cmds.push(Command::Seek(d.anchor_s));
            }
        }
        if resp.clicked()
            && let Some(p) = resp.interact_pointer_pos()
        {
            let t = xm.t(p.x);
            if ui.input(|i| i.modifiers.shift) {
                let anchor = s
                    .selection()
                    .map(|(a, _)| a)
                    .unwrap_or_else(|| s.position_s());
                cmds.push(Command::SetSelection(Some((anchor, t))));
            } else {
                cmds.push(Command::Seek(t));
            }
        }
        if resp.hovered() {
            let (zoom, scroll, pointer) = ui.input(|i| {
                (
                    i.zoom_delta(),
                    i.smooth_scroll_delta(),
                    i.pointer.hover_pos(),
                )
            });
            if (zoom - 1.0).abs() > 1e-4 {
                let anchor = pointer
                    .map(|p| xm.t(p.x))
                    .unwrap_or(xm.start + xm.len / 2.0);
                cmds.push(Command::Zoom {
                    factor: zoom as f64,
                    anchor_s: anchor,
                });
            } else {
                let d = if scroll.x.abs() > scroll.y.abs() {
                    scroll.x
                } else {
                    scroll.y
                };
                if d.abs() > 0.0 {
                    let dt = -(d as f64) / xm.width as f64 * xm.len;
                    let start = s.view().start_s + dt;
                    cmds.push(Command::ScrollTo(start));
                }
            }
        }
    }

    fn overview(
        &self,
        session: &Session,
        ui: &mut egui::Ui,
        track: &Arc<Track>,
        rect: Rect,
        cmds: &mut Vec<Command>,
    ) {
        let painter = ui.painter_at(rect.expand(1.0));
        painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
        let total = session.total_s().max(1e-9);
        let w = rect.width().max(1.0) as usize;
        let spp = total * track.store.sample_rate() as f64 / w as f64;
        if let Ok(peaks) = track.peaks.read() {
            let cols = peaks.columns(&track.store, 0, 0.0, spp, w);
            let mid = rect.center().y;
            let h = rect.height() / 2.0 - 2.0;
            for (i, mm) in cols.into_iter().enumerate() {
                let Some(mm) = mm else { continue };
                let x = rect.left() + i as f32 + 0.5;
                painter.line_segment(
                    [
                        pos2(x, mid - mm.max.clamp(-1.0, 1.0) * h),
                        pos2(x, mid - mm.min.clamp(-1.0, 1.0) * h + 0.5),
                    ],
                    Stroke::new(1.0, WAVE.gamma_multiply(0.7)),
                );
            }
        }
        let v = session.view();
        let x0 = rect.left() + (v.start_s / total) as f32 * rect.width();
        let x1 = rect.left() + ((v.start_s + v.len_s) / total) as f32 * rect.width();
        let vis = Rect::from_x_y_ranges(x0..=x1.max(x0 + 2.0), rect.y_range());
        painter.rect_filled(vis, 2.0, Color32::from_white_alpha(28));
        painter.rect_stroke(
            vis,
            2.0,
            Stroke::new(1.0, Color32::from_gray(200)),
            egui::StrokeKind::Inside,
        );
        let px = rect.left() + (session.position_s() / total) as f32 * rect.width();
        painter.line_segment(
            [pos2(px, rect.top()), pos2(px, rect.bottom())],
            Stroke::new(1.0, PLAYHEAD),
        );

        let resp = ui.interact(
            rect,
            ui.scope_id().with("overview"),
            Sense::click_and_drag(),
        );
        resp.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Canvas, true, "Overview"));
        if (resp.dragged() || resp.clicked())
            && let Some(p) = resp.interact_pointer_pos()
        {
            let t = (p.x - rect.left()) as f64 / rect.width() as f64 * total;
            cmds.push(Command::ScrollTo(t - v.len_s / 2.0));
        }
        resp.on_hover_text("Whole track: click or drag to move the visible range");
    }

    fn spectrogram(
        &mut self,
        session: &Session,
        ui: &egui::Ui,
        painter: &egui::Painter,
        track: &Arc<Track>,
        rect: Rect,
        xm: XMap,
    ) {
        painter.rect_filled(rect, 0.0, Color32::BLACK);
        let rate = track.store.sample_rate() as f64;
        let params = session.settings().spec_params();
        let spp = xm.len * rate / rect.width().max(1.0) as f64;
        let level = tile_level(spp);
        let tile_frames = TILE_COLS as f64 * 2f64.powi(level);
        let first = ((xm.start * rate) / tile_frames).floor() as i64;
        let last = (((xm.start + xm.len) * rate) / tile_frames).floor() as i64;
        let style = (session.settings().colormap, session.settings().db);
        let db_key = [style.1.floor.to_bits(), style.1.ceiling.to_bits()];
        let frame_no = self.frame_no;
        self.visible_tiles.clear();
        for index in first.max(0)..=last.max(0) {
            let key = TileKey {
                track: track.id,
                params,
                level,
                index,
            };
            self.visible_tiles.push((key, style.0, db_key));
            let (tile, uv) = match self.tiles.get(key, track) {
                Some(t) => (t, Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0))),
                None => match self.coarser(key) {
                    Some(found) => found,
                    None => continue,
                },
            };
            let tex_key = (tile.key, style.0, db_key);
            // A recomputed tile (more audio, finished overview) replaces its texture.
            if self
                .textures
                .get(&tex_key)
                .is_none_or(|(_, _, serial)| *serial != tile.serial)
            {
                let rows = params.rows;
                let rgba = colorize(&tile.data, TILE_COLS, rows, style.0, style.1);
                let img = egui::ColorImage::from_rgba_unmultiplied([TILE_COLS, rows], &rgba);
                let tex = ui.ctx().load_texture(
                    format!("spec-{:?}", tile.key),
                    img,
                    egui::TextureOptions::LINEAR,
                );
                self.textures.insert(tex_key, (tex, frame_no, tile.serial));
            }
            if let Some((tex, used, _)) = self.textures.get_mut(&tex_key) {
                *used = frame_no;
                let t0 = index as f64 * tile_frames / rate;
                let t1 = (index + 1) as f64 * tile_frames / rate;
                let r = Rect::from_x_y_ranges(xm.x(t0)..=xm.x(t1), rect.y_range());
                painter.image(tex.id(), r, uv, Color32::WHITE);
            }
        }
        // Textures of tiles refreshed since (a partial tile redone) or unused for a while go.
        self.textures
            .retain(|k, (_, used, _)| frame_no - *used < 90 && (k.1, k.2) == (style.0, db_key));
    }

    /// A coarser cached tile covering `key`'s range, with the sub-rectangle to show.
    fn coarser(&self, key: TileKey) -> Option<(Arc<Tile>, Rect)> {
        let mut k = key;
        let mut lo = key.index as f64;
        let mut span = 1.0;
        for _ in 0..6 {
            k.level += 1;
            lo /= 2.0;
            span /= 2.0;
            k.index = lo.floor() as i64;
            if let Some(t) = self.tiles.peek(&k) {
                let u0 = (lo - k.index as f64) as f32;
                return Some((
                    t,
                    Rect::from_min_max(pos2(u0, 0.0), pos2(u0 + span as f32, 1.0)),
                ));
            }
        }
        None
    }

    fn readout(
        &self,
        session: &Session,
        track: &Track,
        p: Pos2,
        xm: XMap,
        wave: Rect,
        spec: Rect,
        nch: usize,
    ) -> Readout {
        let time_s = xm.t(p.x).max(0.0);
        let rate = track.store.sample_rate() as f64;
        let mut r = Readout {
            time_s,
            freq_hz: None,
            db: None,
            amplitude: None,
        };
        if spec.contains(p) {
            let params = session.settings().spec_params();
            let axis = LogAxis::for_rate(track.store.sample_rate(), params.rows);
            let row_f = (p.y - spec.top()) / spec.height() * params.rows as f32;
            r.freq_hz = Some(axis.freq_of(row_f));
            let spp = xm.len * rate / spec.width().max(1.0) as f64;
            let level = tile_level(spp);
            let tile_frames = TILE_COLS as f64 * 2f64.powi(level);
            let frame = time_s * rate;
            let key = TileKey {
                track: track.id,
                params,
                level,
                index: (frame / tile_frames).floor() as i64,
            };
            if let Some(t) = self.tiles.peek(&key) {
                let col = (((frame - key.start_frame()) / key.spp()) as usize).min(TILE_COLS - 1);
                let row = (row_f as usize).min(params.rows - 1);
                r.db = Some(u8_to_db(t.data[col * params.rows + row]));
            }
        } else if wave.contains(p) {
            let lane_h = wave.height() / nch.max(1) as f32;
            let c = (((p.y - wave.top()) / lane_h) as usize).min(nch.saturating_sub(1));
            let f = (time_s * rate) as u64;
            let mut v = Vec::new();
            track.store.read_channel(c, f, f + 1, &mut v);
            r.amplitude = v.first().copied();
        }
        r
    }
}

fn ruler_ticks(painter: &egui::Painter, ui: &egui::Ui, rect: Rect, xm: XMap) {
    painter.rect_filled(rect, 0.0, ui.visuals().faint_bg_color);
    let step = time_tick_step(xm.width as f64 / xm.len, 90.0);
    let mut t = (xm.start / step).ceil() * step;
    let color = ui.visuals().text_color();
    while t <= xm.start + xm.len {
        let x = xm.x(t);
        painter.line_segment(
            [pos2(x, rect.bottom() - 6.0), pos2(x, rect.bottom())],
            Stroke::new(1.0, color),
        );
        painter.text(
            pos2(x + 3.0, rect.top() + 2.0),
            egui::Align2::LEFT_TOP,
            format_time(t, step),
            egui::FontId::proportional(12.0),
            color,
        );
        t += step;
    }
}

fn waveform(painter: &egui::Painter, track: &Track, rect: Rect, xm: XMap, nch: usize) {
    painter.rect_filled(rect, 0.0, Color32::from_rgb(16, 18, 22));
    let rate = track.store.sample_rate() as f64;
    let w = rect.width().max(1.0) as usize;
    let spp = xm.len * rate / w as f64;
    let start = xm.start * rate;
    let lane_h = rect.height() / nch.max(1) as f32;
    let Ok(peaks) = track.peaks.read() else {
        return;
    };
    for c in 0..nch {
        let top = rect.top() + c as f32 * lane_h;
        let mid = top + lane_h / 2.0;
        let h = lane_h / 2.0 - 2.0;
        painter.line_segment(
            [pos2(rect.left(), mid), pos2(rect.right(), mid)],
            Stroke::new(1.0, Color32::from_gray(50)),
        );
        if spp >= 1.0 {
            let cols = peaks.columns(&track.store, c, start, spp, w);
            let mut mesh = egui::Mesh::default();
            for (i, mm) in cols.into_iter().enumerate() {
                let Some(mm) = mm else { continue };
                let x = rect.left() + i as f32;
                let y0 = mid - mm.max.clamp(-1.0, 1.0) * h;
                let y1 = (mid - mm.min.clamp(-1.0, 1.0) * h).max(y0 + 1.0);
                mesh.add_colored_rect(Rect::from_min_max(pos2(x, y0), pos2(x + 1.0, y1)), WAVE);
            }
            painter.add(mesh);
        } else {
            // Deeper than one sample per pixel: draw the samples themselves.
            let a = start.floor().max(0.0) as u64;
            let b = (start + xm.len * rate).ceil() as u64 + 1;
            let mut samples = Vec::new();
            track.store.read_channel(c, a, b, &mut samples);
            let pts: Vec<Pos2> = samples
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    pos2(
                        xm.x((a + i as u64) as f64 / rate),
                        mid - v.clamp(-1.0, 1.0) * h,
                    )
                })
                .collect();
            painter.add(egui::Shape::line(pts.clone(), Stroke::new(1.5, WAVE)));
            if spp < 0.25 {
                for p in pts {
                    painter.circle_filled(p, 2.5, WAVE);
                }
            }
        }
    }
}

fn tile_level(spp: f64) -> i32 {
    (spp.max(1e-6).log2().floor() as i32).clamp(-4, 40)
}

fn freq_axis(painter: &egui::Painter, ui: &egui::Ui, track: &Track, rect: Rect, left: f32) {
    let axis = LogAxis::for_rate(track.store.sample_rate(), 384);
    let color = ui.visuals().text_color();
    for (dy, label) in freq_ticks(&axis, rect.height(), 16.0) {
        let y = rect.top() + dy;
        painter.line_segment(
            [pos2(rect.left() - 5.0, y), pos2(rect.left(), y)],
            Stroke::new(1.0, color),
        );
        painter.text(
            pos2(rect.left() - 7.0, y),
            egui::Align2::RIGHT_CENTER,
            label,
            egui::FontId::proportional(11.0),
            color,
        );
    }
    painter.text(
        pos2(left + 2.0, rect.top()),
        egui::Align2::LEFT_TOP,
        "Hz",
        egui::FontId::proportional(11.0),
        color,
    );
}
