//! No audio device at all when Sori starts: the window opens, the notice says so in one
//! sentence, and everything but sound works (the demo loads and is analysed, the playhead can
//! be moved). ALSA is pointed at a configuration whose default device does not exist, so this
//! holds on a machine with a sound card too.

mod support;

use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use sori::audio::playback::{DeviceState, Player};
use sori::gui::SoriApp;
use sori::session::{Command, Settings};

#[test]
fn without_an_audio_device_everything_but_sound_works() {
    // A folder for the whole process, not a guard dropped at the end of the test: the app's
    // background threads (the demo's picture, recovery copies) may still write into its data
    // folder after the last assertion, and would make it again after a guard removed it.
    let dir = support::process_dir("no-device");
    let conf = dir.join("asound.conf");
    std::fs::write(&conf, "pcm.!default { type hw card 99 device 0 }\n").expect("write conf");
    // SAFETY: this binary's only test sets these before any thread reads them.
    unsafe {
        std::env::set_var("ALSA_CONFIG_PATH", &conf);
        std::env::set_var(
            "PULSE_SERVER",
            format!("unix:{}", dir.join("none").display()),
        );
        std::env::set_var("SORI_DATA_DIR", &dir);
    }
    let app = SoriApp::new(Settings::default(), Player::start(), None);
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_ui_state(|ui, app: &mut SoriApp| app.show(ui), app);
    let start = Instant::now();
    loop {
        h.step();
        let s = &h.state().session;
        let loaded = s.track().is_some_and(|t| t.analysis_done()) && !s.is_loading();
        if loaded && matches!(s.player().device_state(), DeviceState::Unavailable(_)) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "demo {loaded}, device {:?}",
            s.player().device_state()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    h.step();
    let DeviceState::Unavailable(msg) = h.state().session.player().device_state() else {
        unreachable!("checked above");
    };
    assert!(
        msg.starts_with("No audio output device could be opened"),
        "{msg}"
    );
    assert!(msg.ends_with("everything but sound still works."), "{msg}");
    // The notice is on screen.
    h.get_by_label_contains("No audio output device could be opened");
    // Seeking works without a device.
    h.state_mut().session.apply(Command::Seek(2.0));
    h.step();
    assert!((h.state().session.position_s() - 2.0).abs() < 1e-3);
}
