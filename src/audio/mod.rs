//! Audio: decoding into a PCM store, and playback from it. No GUI code here.

pub mod decode;
pub mod opus;
pub mod playback;
pub(crate) mod repair;
pub mod store;
pub mod stretch;

pub use decode::{
    AudioError, Decoder, Outcome, Progress, StreamInfo, decode_file, decode_following,
};
pub use store::{PcmStore, StoreWriter};

/// Extensions of the audio files Sori opens (File → Open's filter, the desktop entry's
/// types, a notes file's recording).
pub const AUDIO_EXTENSIONS: &[&str] = &[
    "wav", "wave", "flac", "mp3", "ogg", "oga", "opus", "webm", "mka", "mkv", "m4a", "mp4", "aac",
    "alac", "aif", "aiff", "aifc", "caf",
];
