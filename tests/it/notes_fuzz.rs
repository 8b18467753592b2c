//! No notes parser panics: random bytes and mutated valid files for every format.
//! 14,000 random and 14,000 mutated cases, formats drawn at random (about 2,000 of each per
//! format): 28,000 cases per run.

use proptest::prelude::*;
use sori::notes::interchange::{Format, export, import};
use sori::notes::{Category, Document, Note};

fn valid(format: Format) -> String {
    let mut a = Note::region(1.5, 4.25, "해금 \"line\", with comma");
    a.body = "two\nlines\n\nand a paragraph --> & <b>".into();
    a.category = Category::Pop;
    a.instruments = vec!["haegeum".into()];
    let b = Note::point(2.0, "point");
    export(
        &Document {
            title: "t".into(),
            notes: vec![a, b, Note::region(3.0, 9.0, "overlap")],
        },
        format,
    )
    .0
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize, usize),
    Truncate(usize),
}

fn mutate(text: &str, muts: &[Mutation]) -> String {
    let mut b = text.as_bytes().to_vec();
    for m in muts {
        let len = b.len().max(1);
        match *m {
            Mutation::Flip(i, x) => {
                if !b.is_empty() {
                    let i = i % len;
                    b[i] ^= x;
                }
            }
            Mutation::Insert(i, x) => b.insert(i % (b.len() + 1), x),
            Mutation::Delete(i, n) => {
                if !b.is_empty() {
                    let i = i % len;
                    let end = (i + n % 16).min(b.len());
                    b.drain(i..end);
                }
            }
            Mutation::Truncate(i) => b.truncate(i % (b.len() + 1)),
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(i, x)| Mutation::Flip(i, x)),
        (
            any::<usize>(),
            prop::sample::select(b"\"\n\t,:[]{}<>-=0123456789.\\ ".to_vec())
        )
            .prop_map(|(i, x)| Mutation::Insert(i, x)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 14_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600), which in 0usize..Format::ALL.len()) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = import(&text, Format::ALL[which]);
    }

    #[test]
    fn mutated_valid_files_never_panic(which in 0usize..Format::ALL.len(), muts in prop::collection::vec(mutation(), 1..8)) {
        let f = Format::ALL[which];
        let text = mutate(&valid(f), &muts);
        if let Ok((doc, _)) = import(&text, f) {
            // Whatever imports is sane: finite, non-negative times, ends after starts.
            for n in &doc.notes {
                prop_assert!(n.start.is_finite() && n.start >= 0.0);
                if let Some(e) = n.end { prop_assert!(e.is_finite() && e >= n.start); }
            }
            // and can be written back out.
            let _ = export(&doc, f);
        }
    }
}
