//! The glossary of instruments and terms (`assets/glossary.toml`, bundled in the binary).

use serde::Deserialize;

pub static GLOSSARY_TOML: &str = include_str!("../../assets/glossary.toml");

/// Lane ids of the fusion lens (DESIGN.md section 4).
pub const LANES: [&str; 10] = [
    "korean.silk_plucked",
    "korean.bowed",
    "korean.wind",
    "korean.drum",
    "korean.metal",
    "pop.sub_bass",
    "pop.drum_machine",
    "pop.synth",
    "pop.tuned_vocal",
    "pop.pumping",
];

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Instrument {
    pub id: String,
    pub hangul: String,
    pub romanization: String,
    pub family: String,
    pub lane: String,
    pub range: String,
    pub description: String,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Term {
    pub id: String,
    pub hangul: String,
    pub romanization: String,
    pub description: String,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct Glossary {
    #[serde(default, rename = "instrument")]
    pub instruments: Vec<Instrument>,
    #[serde(default, rename = "term")]
    pub terms: Vec<Term>,
}

impl Glossary {
    /// The bundled glossary, parsed on first use (empty if it were ever malformed; a test
    /// guards that).
    pub fn bundled() -> &'static Glossary {
        static G: std::sync::OnceLock<Glossary> = std::sync::OnceLock::new();
        G.get_or_init(|| toml::from_str(GLOSSARY_TOML).unwrap_or_default())
    }
    pub fn instrument(&self, id: &str) -> Option<&Instrument> {
        self.instruments
            .iter()
            .find(|i| i.id.eq_ignore_ascii_case(id))
    }
    pub fn term(&self, id: &str) -> Option<&Term> {
        self.terms.iter().find(|t| t.id.eq_ignore_ascii_case(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_glossary_is_complete() {
        let g: Glossary = toml::from_str(GLOSSARY_TOML).expect("glossary parses");
        assert!(
            g.instruments.len() >= 15,
            "{} instruments",
            g.instruments.len()
        );
        for id in [
            "gayageum",
            "geomungo",
            "haegeum",
            "ajaeng",
            "daegeum",
            "danso",
            "piri",
            "taepyeongso",
            "saenghwang",
            "janggu",
            "buk",
            "sogo",
            "kkwaenggwari",
            "jing",
        ] {
            assert!(g.instrument(id).is_some(), "missing instrument {id}");
        }
        for id in [
            "nonghyeon",
            "sigimsae",
            "chuseong",
            "toeseong",
            "jangdan",
            "pyeongjo",
            "gyemyeonjo",
        ] {
            assert!(g.term(id).is_some(), "missing term {id}");
        }
        for i in &g.instruments {
            assert!(
                LANES.contains(&i.lane.as_str()),
                "{}: unknown lane {}",
                i.id,
                i.lane
            );
            assert!(
                i.hangul
                    .chars()
                    .any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c)),
                "{}: no Hangul",
                i.id
            );
            assert!(
                !i.source.trim().is_empty()
                    && !i.description.trim().is_empty()
                    && !i.range.trim().is_empty(),
                "{}",
                i.id
            );
        }
        for t in &g.terms {
            assert!(
                t.hangul
                    .chars()
                    .any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c)),
                "{}: no Hangul",
                t.id
            );
            assert!(!t.source.trim().is_empty(), "{}", t.id);
        }
        let mut ids: Vec<&str> = g
            .instruments
            .iter()
            .map(|i| i.id.as_str())
            .chain(g.terms.iter().map(|t| t.id.as_str()))
            .collect();
        ids.sort_unstable();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate ids");
    }
}
