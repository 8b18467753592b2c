//! Subtitle cues: WebVTT (`.vtt`) and SRT (`.srt`), a title and text per note.

use super::{Format, ImportError, err, one_line};
use crate::notes::{Document, Note};

pub(super) fn cue_time(t: f64, vtt: bool) -> String {
    let ms = (t.max(0.0) * 1000.0).round() as u64;
    let (h, m, s, f) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    if vtt {
        format!("{h:02}:{m:02}:{s:02}.{f:03}")
    } else {
        format!("{h:02}:{m:02}:{s:02},{f:03}")
    }
}

pub(super) fn parse_cue_time(s: &str) -> Option<f64> {
    let s = s.trim().replace(',', ".");
    let parts: Vec<&str> = s.split(':').collect();
    let (h, m, sec) = match parts.as_slice() {
        [m, s] => (0.0, m.parse::<f64>().ok()?, s.parse::<f64>().ok()?),
        [h, m, s] => (
            h.parse::<f64>().ok()?,
            m.parse::<f64>().ok()?,
            s.parse::<f64>().ok()?,
        ),
        _ => return None,
    };
    let t = h * 3600.0 + m * 60.0 + sec;
    (t.is_finite() && t >= 0.0 && m < 60.0 && sec < 60.0).then_some(t)
}

/// Cue text cannot hold a blank line (it ends the cue): blank lines travel as a lone NBSP.
pub(super) const BLANK: &str = "\u{00A0}";

pub(super) fn vtt_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
pub(super) fn vtt_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", "\u{00A0}")
        .replace("&amp;", "&")
}

pub(super) fn export_cues(doc: &Document, vtt: bool) -> String {
    let mut out = if vtt {
        String::from("WEBVTT\n\n")
    } else {
        String::new()
    };
    for (i, n) in doc.notes.iter().enumerate() {
        let end = n.end.unwrap_or(n.start);
        out.push_str(&format!(
            "{}\n{} --> {}\n",
            i + 1,
            cue_time(n.start, vtt),
            cue_time(end, vtt)
        ));
        let mut lines = vec![one_line(&n.title)];
        if !n.body.is_empty() {
            lines.extend(
                n.body
                    .split('\n')
                    .map(|l| l.trim_end_matches('\r'))
                    .map(|l| {
                        if l.trim_matches([' ', '\t']).is_empty() {
                            BLANK.to_string()
                        } else {
                            l.to_string()
                        }
                    }),
            );
        }
        for l in lines {
            out.push_str(&if vtt { vtt_escape(&l) } else { l });
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

pub(super) fn import_cues(text: &str, vtt: bool) -> Result<Document, ImportError> {
    let f = if vtt { Format::Vtt } else { Format::Srt };
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let mut i = 0;
    if vtt {
        if !lines.first().is_some_and(|l| l.starts_with("WEBVTT")) {
            return Err(err(f, 1, "a WebVTT file starts with WEBVTT"));
        }
        i = 1;
    }
    // Blank means spaces and tabs only: a lone NBSP is a blank line inside a cue's text.
    let blank = |l: &str| l.trim_matches([' ', '\t']).is_empty();
    let mut doc = Document::default();
    while i < lines.len() {
        // Skip blank lines between blocks.
        if blank(lines[i]) {
            i += 1;
            continue;
        }
        // A block runs to the next blank line.
        let start = i;
        while i < lines.len() && !blank(lines[i]) {
            i += 1;
        }
        let block = &lines[start..i];
        if vtt
            && (block[0].starts_with("NOTE")
                || block[0].starts_with("STYLE")
                || block[0].starts_with("REGION"))
        {
            continue;
        }
        let Some(ti) = block.iter().position(|l| l.contains("-->")) else {
            return Err(err(
                f,
                start + 1,
                "expected a timing line (00:00:01.000 --> 00:00:02.000)",
            ));
        };
        if ti > 1 {
            return Err(err(
                f,
                start + 1,
                "a cue has at most one identifier line before its timing",
            ));
        }
        let timing = block[ti];
        let (a, rest) = timing.split_once("-->").unwrap_or((timing, ""));
        let b = rest.split_whitespace().next().unwrap_or_default();
        let line_no = start + ti + 1;
        let t0 = parse_cue_time(a)
            .ok_or_else(|| err(f, line_no, format!("{:?} is not a cue time", a.trim())))?;
        let t1 =
            parse_cue_time(b).ok_or_else(|| err(f, line_no, format!("{b:?} is not a cue time")))?;
        if t1 < t0 {
            return Err(err(f, line_no, "the cue ends before it starts"));
        }
        let text_lines: Vec<String> = block[ti + 1..]
            .iter()
            .map(|l| if vtt { vtt_unescape(l) } else { l.to_string() })
            .map(|l| if l == BLANK { String::new() } else { l })
            .collect();
        let mut n = Note::point(t0, text_lines.first().cloned().unwrap_or_default());
        n.body = text_lines
            .get(1..)
            .map(|b| b.join("\n"))
            .unwrap_or_default();
        if t1 > t0 {
            n.end = Some(t1);
        }
        doc.notes.push(n);
    }
    Ok(doc)
}
