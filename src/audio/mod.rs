//! Audio: decoding into a PCM store, and playback from it. No GUI code here.

pub mod decode;
pub mod opus;
pub mod playback;
pub mod store;

pub use decode::{
    AudioError, Decoder, Outcome, Progress, StreamInfo, decode_file, decode_following,
};
pub use store::{PcmStore, StoreWriter};
