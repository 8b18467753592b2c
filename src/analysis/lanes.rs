//! The lanes of the fusion lens: five Korean instrument families and five pop production
//! techniques (DESIGN.md section 4), each a [`LaneId`] that carries everything the rest of
//! Sori knows per lane.

use serde::Serialize;

use super::tagger;

/// Which side of the lens a lane is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Korean,
    Pop,
}

/// The fixed lanes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LaneInfo {
    pub id: &'static str,
    pub family: Family,
    pub label: &'static str,
    /// The lane's row name where room is short (the gutter); the tooltip gives the label.
    pub short: &'static str,
    /// Instrument (glossary id) a draft note names.
    pub instrument: &'static str,
    /// Frequency band the lane's evidence lives in (for tinting the spectrogram), Hz.
    pub band_hz: (f32, f32),
    /// Colour (sRGB) in the app and the pictures: warm for the Korean families, cool for pop.
    pub rgb: [u8; 3],
}

/// Number of lanes, and of Korean ones (the Korean lanes come first: [`LaneId::KOREAN`]).
pub const N_LANES: usize = 10;
pub const N_KOREAN: usize = 5;

/// One lane of the lens. Everything that has one value per lane (its id and label, the
/// model's class, the tagger's group, its colour, its score) is found from here, by name,
/// so no list has to be kept in the same order as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LaneId {
    /// Plucked silk strings.
    SilkPlucked,
    /// Bowed strings.
    Bowed,
    /// Winds.
    Wind,
    /// Korean drums.
    Drum,
    /// Korean metal percussion.
    Metal,
    /// Sub-bass.
    SubBass,
    /// Programmed drums.
    DrumMachine,
    /// Synth pads, leads, arps.
    Synth,
    /// Pitch-corrected vocal.
    TunedVocal,
    /// Sidechain pumping.
    Pumping,
}

impl LaneId {
    /// Every lane, in the order of its discriminant (scores and [`LANES`] are indexed by it).
    pub const ALL: [LaneId; N_LANES] = [
        LaneId::SilkPlucked,
        LaneId::Bowed,
        LaneId::Wind,
        LaneId::Drum,
        LaneId::Metal,
        LaneId::SubBass,
        LaneId::DrumMachine,
        LaneId::Synth,
        LaneId::TunedVocal,
        LaneId::Pumping,
    ];
    /// The Korean lanes: the first [`N_KOREAN`] of [`LaneId::ALL`].
    pub const KOREAN: [LaneId; N_KOREAN] = [
        LaneId::SilkPlucked,
        LaneId::Bowed,
        LaneId::Wind,
        LaneId::Drum,
        LaneId::Metal,
    ];

    /// Position in [`LaneId::ALL`], [`LANES`] and every per-lane score array.
    pub const fn index(self) -> usize {
        self as usize
    }

    pub const fn info(self) -> LaneInfo {
        match self {
            LaneId::SilkPlucked => LaneInfo {
                id: "korean.silk_plucked",
                family: Family::Korean,
                label: "Plucked silk strings (gayageum, geomungo, bipa)",
                short: "Plucked",
                instrument: "gayageum",
                band_hz: (80.0, 2500.0),
                rgb: [240, 120, 40], // orange
            },
            LaneId::Bowed => LaneInfo {
                id: "korean.bowed",
                family: Family::Korean,
                label: "Bowed strings (haegeum, ajaeng)",
                short: "Bowed",
                instrument: "haegeum",
                band_hz: (150.0, 4000.0),
                rgb: [220, 50, 50], // red
            },
            LaneId::Wind => LaneInfo {
                id: "korean.wind",
                family: Family::Korean,
                label: "Winds (daegeum, danso, piri, taepyeongso)",
                short: "Wind",
                instrument: "daegeum",
                band_hz: (250.0, 8000.0),
                rgb: [250, 190, 30], // amber
            },
            LaneId::Drum => LaneInfo {
                id: "korean.drum",
                family: Family::Korean,
                label: "Drums (janggu, buk, sogo)",
                short: "Drum",
                instrument: "janggu",
                band_hz: (60.0, 6000.0),
                rgb: [170, 110, 70], // brown
            },
            LaneId::Metal => LaneInfo {
                id: "korean.metal",
                family: Family::Korean,
                label: "Metal (kkwaenggwari, jing)",
                short: "Metal",
                instrument: "kkwaenggwari",
                band_hz: (100.0, 8000.0),
                rgb: [235, 120, 190], // rose
            },
            LaneId::SubBass => LaneInfo {
                id: "pop.sub_bass",
                family: Family::Pop,
                label: "Sub-bass (808, synth bass)",
                short: "Sub-bass",
                instrument: "",
                band_hz: (25.0, 120.0),
                rgb: [60, 120, 220], // blue
            },
            LaneId::DrumMachine => LaneInfo {
                id: "pop.drum_machine",
                family: Family::Pop,
                label: "Drum machine (programmed kit)",
                short: "Drum mach.",
                instrument: "",
                band_hz: (40.0, 10000.0),
                rgb: [40, 190, 210], // cyan
            },
            LaneId::Synth => LaneInfo {
                id: "pop.synth",
                family: Family::Pop,
                label: "Synth (pads, leads, arps)",
                short: "Synth",
                instrument: "",
                band_hz: (100.0, 6000.0),
                rgb: [140, 110, 230], // violet
            },
            LaneId::TunedVocal => LaneInfo {
                id: "pop.tuned_vocal",
                family: Family::Pop,
                label: "Pitch-corrected vocal",
                short: "Tuned vox",
                instrument: "",
                band_hz: (100.0, 4000.0),
                rgb: [60, 170, 140], // teal
            },
            LaneId::Pumping => LaneInfo {
                id: "pop.pumping",
                family: Family::Pop,
                label: "Sidechain pumping",
                short: "Pumping",
                instrument: "",
                band_hz: (200.0, 4000.0),
                rgb: [120, 150, 255], // periwinkle
            },
        }
    }

    pub const fn id(self) -> &'static str {
        self.info().id
    }

    pub fn from_id(id: &str) -> Option<LaneId> {
        LaneId::ALL.into_iter().find(|l| l.id() == id)
    }

    /// The lane's class in the fitted model ([`super::model::CLASSES`]), for a Korean lane.
    pub const fn class(self) -> Option<usize> {
        match self.info().family {
            Family::Korean => Some(self as usize + 1),
            Family::Pop => None,
        }
    }

    /// The name of the group of [`tagger::GROUPS`] that speaks to the lane's sound.
    pub const fn tagger_group_name(self) -> &'static str {
        match self {
            LaneId::SilkPlucked => "plucked strings",
            LaneId::Bowed => "bowed strings",
            LaneId::Wind => "winds and whistle-like tones",
            LaneId::Drum => "drums",
            LaneId::Metal => "gongs and bells",
            LaneId::SubBass => "bass guitar",
            LaneId::DrumMachine => "drum kit and drum machine",
            LaneId::Synth => "synthesizer and electronic music",
            LaneId::TunedVocal => "singing",
            LaneId::Pumping => "synthesizer and electronic music",
        }
    }

    /// That group's index in [`tagger::GROUPS`].
    pub fn tagger_group(self) -> Option<usize> {
        tagger::GROUPS
            .iter()
            .position(|g| g.name == self.tagger_group_name())
    }
}

/// Every lane's [`LaneInfo`], indexed by [`LaneId::index`].
pub const LANES: [LaneInfo; N_LANES] = {
    let mut out = [LaneId::SilkPlucked.info(); N_LANES];
    let mut i = 0;
    while i < N_LANES {
        out[i] = LaneId::ALL[i].info();
        i += 1;
    }
    out
};

pub fn lane_info(id: &str) -> Option<&'static LaneInfo> {
    LaneId::from_id(id).map(|l| &LANES[l.index()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_per_lane_fact_is_found_from_the_lane_itself() {
        for (i, lane) in LaneId::ALL.into_iter().enumerate() {
            // Scores and LANES are indexed by the discriminant.
            assert_eq!(lane.index(), i);
            assert_eq!(LANES[i], lane.info());
            assert_eq!(LaneId::from_id(lane.id()), Some(lane));
            assert!(
                lane.tagger_group().is_some(),
                "{lane:?} names no tagger group"
            );
            assert_eq!(lane.class().is_some(), lane.info().family == Family::Korean);
        }
        for (i, lane) in LaneId::KOREAN.into_iter().enumerate() {
            assert_eq!(lane.index(), i, "the Korean lanes come first");
            assert_eq!(
                super::super::model::CLASSES[lane.class().unwrap_or(0)],
                lane.id()
            );
        }
        // The notes layer's lane list (it may not import the analysis) says the same.
        assert_eq!(
            crate::notes::glossary::LANES,
            LaneId::ALL.map(|l| l.id()),
            "notes::glossary::LANES"
        );
        assert_eq!(LaneId::from_id("korean.gong"), None);
    }
}
