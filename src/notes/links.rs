//! What a notes file may point at. A notes file from elsewhere is data, never a way to reach
//! other files or programs: its images resolve only inside its own folder, and only http(s)
//! addresses among its sources become links (opened on an explicit click, by the GUI).

use std::path::{Component, Path, PathBuf};

/// Why a note's image is not shown: one sentence for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImagePathError {
    #[error("the image path {0:?} is absolute; images must sit in the notes file's folder")]
    Absolute(String),
    #[error("the image path {0:?} leads out of the notes file's folder")]
    OutsideFolder(String),
    #[error("the image path is empty")]
    Empty,
}

/// The file `image` (as written in a notes file) names inside `base`, the notes file's
/// folder. Absolute paths, drive or UNC prefixes and `..` that would climb out of `base` are
/// refused; so is a path that only escapes through a symbolic link, when the file exists.
pub fn resolve_image(base: &Path, image: &str) -> Result<PathBuf, ImagePathError> {
    let image = image.trim();
    if image.is_empty() {
        return Err(ImagePathError::Empty);
    }
    // Either separator, whatever system wrote the file.
    let rel = image.replace('\\', "/");
    let rel_path = Path::new(&rel);
    let mut inside = PathBuf::new();
    for c in rel_path.components() {
        match c {
            Component::Normal(part) => inside.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                if !inside.pop() {
                    return Err(ImagePathError::OutsideFolder(image.to_string()));
                }
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(ImagePathError::Absolute(image.to_string()));
            }
        }
    }
    // "C:" style prefixes are plain names on Unix; refuse them everywhere.
    if rel.len() >= 2 && rel.as_bytes()[1] == b':' && rel.as_bytes()[0].is_ascii_alphabetic() {
        return Err(ImagePathError::Absolute(image.to_string()));
    }
    if inside.as_os_str().is_empty() {
        return Err(ImagePathError::Empty);
    }
    let path = base.join(&inside);
    if let (Ok(real), Ok(real_base)) = (path.canonicalize(), base.canonicalize())
        && !real.starts_with(&real_base)
    {
        return Err(ImagePathError::OutsideFolder(image.to_string()));
    }
    Ok(path)
}

/// An image the user picked in a file dialog, made usable by the notes file in `base`: a file
/// inside `base` is named by its path from there; a file elsewhere is copied into
/// `base/images/` (under a new name if another file has its name), so the notes and their
/// images travel together. Returns the path to write in the note (with `/` separators).
pub fn adopt_image(base: &Path, picked: &Path) -> std::io::Result<String> {
    let real_base = base.canonicalize()?;
    let real = picked.canonicalize()?;
    if let Ok(rel) = real.strip_prefix(&real_base) {
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        return Ok(parts.join("/"));
    }
    let name = real
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| std::io::Error::other("the picked path has no file name"))?;
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_string(), format!(".{e}")),
        _ => (name.clone(), String::new()),
    };
    let images = real_base.join("images");
    std::fs::create_dir_all(&images)?;
    let bytes = std::fs::read(&real)?;
    for k in 1..1000 {
        let candidate = if k == 1 {
            name.clone()
        } else {
            format!("{stem}-{k}{ext}")
        };
        let target = images.join(&candidate);
        match std::fs::read(&target) {
            // The same image is there already (picked before): use it.
            Ok(existing) if existing == bytes => return Ok(format!("images/{candidate}")),
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                super::save::atomic_write(&target, &bytes)?;
                return Ok(format!("images/{candidate}"));
            }
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("too many images of that name"))
}

/// `text` as a web link if it is one: an `http://` or `https://` address with a host and no
/// spaces or control characters. Anything else (`file:`, `javascript:`, a bare path, prose)
/// stays text.
pub fn web_link(text: &str) -> Option<&str> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let ok = !host.is_empty()
        && !host.starts_with('@')
        && !t.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_resolve_only_inside_the_notes_folder() {
        let base = Path::new("/lessons/golden");
        assert_eq!(
            resolve_image(base, "images/haegeum.png"),
            Ok(base.join("images/haegeum.png"))
        );
        assert_eq!(
            resolve_image(base, "./images/../haegeum.png"),
            Ok(base.join("haegeum.png"))
        );
        assert_eq!(
            resolve_image(base, r"images\janggu.png"),
            Ok(base.join("images/janggu.png"))
        );
        for escape in ["../secret.png", "images/../../x.png", r"..\..\x.png"] {
            assert!(
                matches!(
                    resolve_image(base, escape),
                    Err(ImagePathError::OutsideFolder(_))
                ),
                "{escape}"
            );
        }
        for absolute in [
            "/etc/passwd",
            r"C:\Windows\win.ini",
            "c:/x.png",
            r"\\server\share\x.png",
        ] {
            assert!(
                matches!(
                    resolve_image(base, absolute),
                    Err(ImagePathError::Absolute(_))
                ),
                "{absolute}"
            );
        }
        assert_eq!(resolve_image(base, "  "), Err(ImagePathError::Empty));
        assert_eq!(resolve_image(base, "images/.."), Err(ImagePathError::Empty));
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_out_of_the_folder_is_refused() {
        let dir = crate::testdir::TestDir::new("links");
        let (notes, outside) = (dir.join("notes"), dir.join("outside"));
        std::fs::create_dir_all(&notes).expect("dir");
        std::fs::create_dir_all(&outside).expect("dir");
        std::fs::write(outside.join("x.png"), b"x").expect("file");
        std::fs::write(notes.join("ok.png"), b"x").expect("file");
        let link = notes.join("door");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&outside, &link).expect("symlink");
        assert!(matches!(
            resolve_image(&notes, "door/x.png"),
            Err(ImagePathError::OutsideFolder(_))
        ));
        assert_eq!(resolve_image(&notes, "ok.png"), Ok(notes.join("ok.png")));
    }

    #[test]
    fn a_picked_image_is_named_from_the_notes_folder_or_copied_into_it() {
        let dir = crate::testdir::TestDir::new("adopt");
        let (notes, elsewhere) = (dir.join("lesson"), dir.join("Downloads"));
        std::fs::create_dir_all(notes.join("pics")).expect("dir");
        std::fs::create_dir_all(&elsewhere).expect("dir");
        std::fs::write(notes.join("pics/jing.png"), b"jing").expect("file");
        assert_eq!(
            adopt_image(&notes, &notes.join("pics/jing.png")).expect("inside"),
            "pics/jing.png"
        );
        // From elsewhere: copied in, and the path written resolves inside the folder.
        std::fs::write(elsewhere.join("buk.png"), b"buk").expect("file");
        let rel = adopt_image(&notes, &elsewhere.join("buk.png")).expect("copied");
        assert_eq!(rel, "images/buk.png");
        let resolved = resolve_image(&notes, &rel).expect("resolves");
        assert_eq!(std::fs::read(resolved).expect("copy"), b"buk");
        // Picked again: the copy is reused. Another picture of that name: a new name.
        assert_eq!(
            adopt_image(&notes, &elsewhere.join("buk.png")).expect("again"),
            "images/buk.png"
        );
        let other = dir.join("other");
        std::fs::create_dir_all(&other).expect("dir");
        std::fs::write(other.join("buk.png"), b"another drum").expect("file");
        assert_eq!(
            adopt_image(&notes, &other.join("buk.png")).expect("renamed"),
            "images/buk-2.png"
        );
        assert_eq!(
            std::fs::read(notes.join("images/buk.png")).expect("first"),
            b"buk",
            "the first copy is not overwritten"
        );
        assert!(adopt_image(&notes, &elsewhere.join("missing.png")).is_err());
    }

    #[test]
    fn only_http_addresses_become_links() {
        for url in [
            "https://www.gugak.go.kr/site/main/index001",
            "http://example.org/a?b=c#d",
            "  HTTPS://Example.org  ",
        ] {
            assert_eq!(web_link(url), Some(url.trim()), "{url}");
        }
        for text in [
            "National Gugak Center, instrument guide",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "https://",
            "https://@evil",
            "https://example.org/a b",
            "ftp://example.org/x",
            "/home/me/notes.html",
        ] {
            assert_eq!(web_link(text), None, "{text}");
        }
    }
}
