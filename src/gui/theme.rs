//! The app's look: the bundled Korean font, the three colour themes, and the text scale.

use super::*;

impl SoriApp {
    /// Theme and text scale from the settings (applied when they change).
    pub(super) fn apply_look(&mut self, ctx: &egui::Context) {
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
}

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
