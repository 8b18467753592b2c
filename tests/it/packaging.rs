//! The files of `packaging/` agree with the app: the window manager and the desktop match
//! the running window to its desktop entry by the app id, the menu shows the icon, the file
//! manager offers Sori for every format it opens, and the software centre lists this version.

use std::path::Path;

use sori::audio::AUDIO_EXTENSIONS;
use sori::gui::{APP_ID, window_icon};

fn read(rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn desktop_value(entry: &str, key: &str) -> String {
    entry
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key}= in the desktop entry"))
        .to_string()
}

#[test]
fn the_window_icon_is_the_drawn_icon() {
    let icon = window_icon().expect("the bundled icon decodes");
    assert_eq!((icon.width, icon.height), (256, 256));
    let alpha = |x: u32, y: u32| icon.rgba[((y * icon.width + x) * 4 + 3) as usize];
    // A rounded square: transparent corners, an opaque middle.
    assert_eq!(alpha(0, 0), 0);
    assert_eq!(alpha(255, 255), 0);
    assert_eq!(alpha(128, 128), 255);
}

#[test]
fn the_desktop_entry_names_the_window_and_every_format_sori_opens() {
    let entry = read(&format!("packaging/linux/{APP_ID}.desktop"));
    assert_eq!(desktop_value(&entry, "Icon"), APP_ID);
    assert_eq!(desktop_value(&entry, "StartupWMClass"), APP_ID);
    assert_eq!(desktop_value(&entry, "Exec"), "sori %f");
    let types: Vec<String> = desktop_value(&entry, "MimeType")
        .split(';')
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    let mime_of = |ext: &str| -> &[&str] {
        match ext {
            "wav" | "wave" => &["audio/wav", "audio/x-wav", "audio/vnd.wave"],
            "flac" => &["audio/flac", "audio/x-flac"],
            "mp3" => &["audio/mpeg"],
            "ogg" | "oga" => &["audio/ogg", "audio/x-vorbis+ogg"],
            "opus" => &["audio/x-opus+ogg"],
            "webm" => &["audio/webm"],
            "mka" | "mkv" => &["audio/x-matroska"],
            "m4a" | "mp4" | "alac" => &["audio/mp4", "audio/x-m4a"],
            "aac" => &["audio/aac"],
            "aif" | "aiff" | "aifc" => &["audio/x-aiff"],
            "caf" => &["audio/x-caf"],
            other => {
                panic!("no MIME type known for .{other}: add it here and to the desktop entry")
            }
        }
    };
    for ext in AUDIO_EXTENSIONS {
        for t in mime_of(ext) {
            assert!(types.iter().any(|x| x == t), "{t} (for .{ext}) missing");
        }
    }
    assert!(types.iter().any(|t| t == "application/x-sori-notes"));
    let mime = read(&format!("packaging/linux/{APP_ID}.xml"));
    assert!(mime.contains(r#"<mime-type type="application/x-sori-notes">"#));
    assert!(mime.contains(r#"<glob pattern="*.sori.toml""#));
}

#[test]
fn the_metainfo_lists_this_version_and_launches_the_desktop_entry() {
    let meta = read(&format!("packaging/linux/{APP_ID}.metainfo.xml"));
    assert!(meta.contains(&format!("<id>{APP_ID}</id>")));
    assert!(meta.contains(&format!(
        r#"<launchable type="desktop-id">{APP_ID}.desktop</launchable>"#
    )));
    assert!(
        meta.contains(&format!(
            r#"<release version="{}""#,
            env!("CARGO_PKG_VERSION")
        )),
        "add a <release> for version {} to the metainfo",
        env!("CARGO_PKG_VERSION")
    );
}

#[test]
fn the_windows_and_macos_installers_associate_every_format_sori_opens() {
    let cargo: toml::Table = read("Cargo.toml").parse().expect("Cargo.toml parses");
    let assoc = &cargo["package"]["metadata"]["packager"]["fileAssociations"][0]["extensions"];
    let listed: Vec<&str> = assoc
        .as_array()
        .expect("a list of extensions")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    // Only `.alac` is left out: ALAC nearly always comes in .m4a or .caf, and the installers
    // list the extensions people's files carry.
    let want: Vec<&str> = AUDIO_EXTENSIONS
        .iter()
        .copied()
        .filter(|e| *e != "alac")
        .collect();
    assert_eq!(listed, want);
}
