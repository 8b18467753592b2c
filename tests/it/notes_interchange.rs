//! Notes travel to and from other tools: round trips keep times to the millisecond and text
//! exactly; files in the shape other tools write are read correctly.

use sori::notes::interchange::{Format, export, import};
use sori::notes::{Category, Document, Note};

fn sample() -> Document {
    let mut a = Note::region(61.2, 68.9, "해금 counter-line, \"quoted\", with, commas");
    a.body = "Two lines:\n해금 (haegeum) bows here.\n\nA new paragraph & <angle> --> arrow.".into();
    a.category = Category::Traditional;
    a.instruments = vec!["haegeum".into()];
    a.sources = vec!["National Gugak Center".into()];
    a.image = Some("images/haegeum.png".into());
    let mut b = Note::region(65.0, 80.125, "Overlapping pop layer");
    b.category = Category::Pop;
    let c = Note::point(12.345, "장구 enters");
    let mut d = Note::point(3723.5, "Discussion: what changes here?");
    d.category = Category::Discussion;
    let mut doc = Document {
        title: "골든 — tradition and production".into(),
        notes: vec![a, b, c, d],
    };
    doc.sort();
    doc
}

fn same_times(a: &Document, b: &Document, what: &str) {
    assert_eq!(a.notes.len(), b.notes.len(), "{what}: note count");
    for (x, y) in a.notes.iter().zip(&b.notes) {
        assert!(
            (x.start - y.start).abs() <= 0.0005,
            "{what}: start {} vs {}",
            x.start,
            y.start
        );
        match (x.end, y.end) {
            (Some(e1), Some(e2)) => assert!((e1 - e2).abs() <= 0.0005, "{what}: end {e1} vs {e2}"),
            (None, None) => {}
            other => panic!("{what}: point/region changed: {other:?}"),
        }
    }
}

#[test]
fn every_format_round_trips_times_and_what_it_can_hold() {
    let doc = sample();
    for f in Format::ALL {
        let (text, warnings) = export(&doc, f);
        let (back, _) = import(&text, f)
            .unwrap_or_else(|e| panic!("{f:?}: own output does not import: {e}\n{text}"));
        same_times(&doc, &back, f.name());
        for (x, y) in doc.notes.iter().zip(&back.notes) {
            assert_eq!(x.title, y.title, "{f:?}: title");
            match f {
                Format::Native | Format::Jams => assert_eq!(x, y, "{f:?}: everything survives"),
                Format::Vtt | Format::Srt => {
                    assert_eq!(x.body, y.body, "{f:?}: body with several lines")
                }
                _ => {}
            }
        }
        match f {
            Format::Native | Format::Jams => assert!(warnings.is_empty(), "{f:?}: {warnings:?}"),
            _ => assert!(
                !warnings.is_empty(),
                "{f:?} cannot hold bodies or categories and must say so"
            ),
        }
        if matches!(f, Format::Native | Format::Jams) {
            assert_eq!(back.title, doc.title, "{f:?}: document title");
        }
    }
}

#[test]
fn audacity_label_export_with_a_frequency_line() {
    // As Audacity writes it: a spectral selection adds a "\" line after its label.
    let text = "1.500000\t3.250000\tgayageum 가야금\n\\\t220.000000\t880.000000\n10.000000\t10.000000\tpoint\n";
    let (d, _) = import(text, Format::Audacity).expect("imports");
    assert_eq!(d.notes.len(), 2);
    assert_eq!((d.notes[0].start, d.notes[0].end), (1.5, Some(3.25)));
    assert_eq!(d.notes[0].title, "gayageum 가야금");
    assert_eq!((d.notes[1].start, d.notes[1].end), (10.0, None));
}

#[test]
fn sonic_visualiser_csv_with_a_header_row() {
    let text = "time,value,duration,label\n0.500000000,0,2.000000000,\"Intro, with comma\"\n4.25,1,0,\"He said \"\"아리랑\"\"\"\n";
    let (d, _) = import(text, Format::SvCsv).expect("imports");
    assert_eq!(d.notes.len(), 2);
    assert_eq!(d.notes[0].title, "Intro, with comma");
    assert_eq!(d.notes[0].end, Some(2.5));
    assert_eq!(d.notes[1].title, "He said \"아리랑\"");
    assert_eq!(d.notes[1].end, None);
    // and without a header: time,label
    let (d, _) = import("1.0,first\n2.5,second\n", Format::SvCsv).expect("imports");
    assert_eq!(d.notes[1].start, 2.5);
    assert_eq!(d.notes[1].title, "second");
}

#[test]
fn webvtt_with_multi_line_cues_and_a_note_block() {
    let text = "WEBVTT - lesson\n\nNOTE\nThis comment block\nis not a cue.\n\nintro\n00:01.000 --> 00:04.500 align:start\nGayageum enters\nthe left hand bends the string\n\n00:01:05.250 --> 00:01:10.000\nJanggu &amp; kick\n";
    let (d, _) = import(text, Format::Vtt).expect("imports");
    assert_eq!(d.notes.len(), 2);
    assert_eq!((d.notes[0].start, d.notes[0].end), (1.0, Some(4.5)));
    assert_eq!(d.notes[0].title, "Gayageum enters");
    assert_eq!(d.notes[0].body, "the left hand bends the string");
    assert_eq!(d.notes[1].start, 65.25);
    assert_eq!(d.notes[1].title, "Janggu & kick");
}

#[test]
fn srt_as_subtitle_tools_write_it() {
    let text = "1\r\n00:00:01,000 --> 00:00:02,500\r\n첫째 줄\r\nsecond line\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\nnext\r\n";
    let (d, _) = import(text, Format::Srt).expect("imports");
    assert_eq!(d.notes.len(), 2);
    assert_eq!(d.notes[0].title, "첫째 줄");
    assert_eq!(d.notes[0].body, "second line");
    assert_eq!(d.notes[1].end, Some(4.0));
}

#[test]
fn jams_with_segment_open_and_tag_open() {
    let text = r#"{
      "file_metadata": {"title": "Arirang", "duration": 30.0, "identifiers": {}, "jams_version": "0.3.4"},
      "annotations": [
        {"namespace": "segment_open", "annotation_metadata": {}, "sandbox": {}, "time": 0, "duration": null,
         "data": [{"time": 0.0, "duration": 10.5, "value": "verse", "confidence": null},
                  {"time": 10.5, "duration": 5.0, "value": "chorus", "confidence": 1.0}]},
        {"namespace": "tag_open", "annotation_metadata": {}, "sandbox": {}, "time": 0, "duration": null,
         "data": {"time": [2.0], "duration": [0.0], "value": ["traditional"], "confidence": [null]}},
        {"namespace": "beat", "data": [], "annotation_metadata": {}, "sandbox": {}}
      ],
      "sandbox": {}
    }"#;
    let (d, warnings) = import(text, Format::Jams).expect("imports");
    assert_eq!(d.title, "Arirang");
    assert_eq!(d.notes.len(), 3);
    assert_eq!(d.notes[0].title, "verse");
    assert_eq!(d.notes[0].end, Some(10.5));
    assert_eq!(d.notes[1].title, "traditional");
    assert_eq!(d.notes[1].category, Category::Traditional);
    assert_eq!(d.notes[2].title, "chorus");
    assert!(
        warnings.iter().any(|w| w.contains("beat")),
        "skipped namespaces are named: {warnings:?}"
    );
}

#[test]
fn textgrid_with_two_interval_tiers() {
    let text = r#"File type = "ooTextFile"
Object class = "TextGrid"

xmin = 0
xmax = 12.5
tiers? <exists>
size = 2
item []:
    item [1]:
        class = "IntervalTier"
        name = "traditional"
        xmin = 0
        xmax = 12.5
        intervals: size = 3
        intervals [1]:
            xmin = 0
            xmax = 2.25
            text = ""
        intervals [2]:
            xmin = 2.25
            xmax = 7
            text = "해금 ""solo"""
        intervals [3]:
            xmin = 7
            xmax = 12.5
            text = ""
    item [2]:
        class = "IntervalTier"
        name = "words"
        xmin = 0
        xmax = 12.5
        intervals: size = 1
        intervals [1]:
            xmin = 0
            xmax = 12.5
            text = "whole take"
"#;
    let (d, warnings) = import(text, Format::TextGrid).expect("imports");
    assert_eq!(d.notes.len(), 2);
    assert_eq!(d.notes[0].title, "whole take");
    assert_eq!(d.notes[1].title, "해금 \"solo\"");
    assert_eq!((d.notes[1].start, d.notes[1].end), (2.25, Some(7.0)));
    assert_eq!(
        d.notes[1].category,
        Category::Traditional,
        "a tier named after a category sets it"
    );
    assert!(warnings.iter().any(|w| w.contains("words")));
    // Praat's short text format holds the same values without labels.
    let short = "File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n\n0\n12.5\n<exists>\n1\n\"IntervalTier\"\n\"x\"\n0\n12.5\n1\n0\n12.5\n\"short\"\n";
    let (d, _) = import(short, Format::TextGrid).expect("short format imports");
    assert_eq!(d.notes[0].title, "short");
}

#[test]
fn broken_files_give_an_error_with_a_line() {
    let cases = [
        (Format::Audacity, "1.0\t2.0\tok\nabc\t3\tbad\n", 2),
        (
            Format::Vtt,
            "WEBVTT\n\n00:01.000 --> 00:00.500\nbackwards\n",
            3,
        ),
        (
            Format::Srt,
            "1\n00:00:01,000 -> 00:00:02,000\nno arrow\n",
            1,
        ),
        (Format::Jams, "{ \"annotations\": [ }", 1),
        (Format::SvCsv, "1.0,\"never closed\n", 1),
    ];
    for (f, text, line) in cases {
        let e = import(text, f).expect_err("broken");
        assert_eq!(e.line, line, "{f:?}: {e}");
    }
}
