//! Opus decoding with `opus-pure` (pure Rust; symphonia has no Opus decoder).

use std::io::Read;

use opus_pure::{MAX_PACKET_SAMPLES, OggOpusReader, OpusDecoder, OpusMSDecoder, Trim};

/// Why an Opus stream could not be opened or a packet not decoded (the decoder's words).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OpusError(String);

fn opus_err(e: impl std::fmt::Display) -> OpusError {
    OpusError(e.to_string())
}

/// Opus always decodes at 48 kHz here (its native rate).
pub const RATE: u32 = 48_000;

enum Dec {
    Mono(OpusDecoder),
    Multi(OpusMSDecoder),
}

impl Dec {
    fn new(channels: usize, family: u8, gain_q8: i16) -> Result<Self, OpusError> {
        if channels == 0 {
            return Err(OpusError("the Opus header announces 0 channels".into()));
        }
        if family == 0 && channels <= 2 {
            let mut d = OpusDecoder::new(RATE as i32, channels).map_err(opus_err)?;
            d.gain_q8 = i32::from(gain_q8);
            Ok(Dec::Mono(d))
        } else {
            OpusMSDecoder::new(RATE as i32, channels, family)
                .map(Dec::Multi)
                .map_err(opus_err)
        }
    }
    fn decode(&mut self, packet: &[u8], out: &mut [f32]) -> Result<usize, OpusError> {
        match self {
            Dec::Mono(d) => d.decode(packet, MAX_PACKET_SAMPLES, out).map_err(opus_err),
            Dec::Multi(d) => d.decode(packet, MAX_PACKET_SAMPLES, out).map_err(opus_err),
        }
    }
}

/// An Ogg Opus stream (`.opus`), read with its own pre-skip and end trim (RFC 7845).
pub struct OggOpus {
    reader: OggOpusReader<Box<dyn Read + Send + Sync>>,
    dec: Dec,
    trim: Trim,
    channels: usize,
    block: Vec<f32>,
}

impl OggOpus {
    pub fn open(source: Box<dyn Read + Send + Sync>) -> Result<Self, OpusError> {
        let reader = OggOpusReader::new(source).map_err(opus_err)?;
        let head = reader.head().clone();
        let channels = head.channel_count as usize;
        let dec = Dec::new(channels, head.mapping_family, head.output_gain_q8)?;
        let trim = Trim::new(&head, RATE as i32, channels).map_err(opus_err)?;
        Ok(Self {
            reader,
            dec,
            trim,
            channels,
            block: vec![0.0; MAX_PACKET_SAMPLES * channels],
        })
    }
    pub fn channels(&self) -> usize {
        self.channels
    }
    /// Decodes the next packet into `out` (interleaved). `Ok(false)` at the end of the stream.
    pub fn next(&mut self, out: &mut Vec<f32>) -> Result<bool, OpusError> {
        out.clear();
        let Some(packet) = self.reader.read_packet().map_err(opus_err)? else {
            return Ok(false);
        };
        // A damaged packet decodes as silence of one frame rather than ending the stream.
        let n = match self.dec.decode(&packet.data, &mut self.block) {
            Ok(n) => n,
            Err(_) => 0,
        };
        out.extend_from_slice(self.trim.keep(&packet, &self.block[..n * self.channels]));
        Ok(true)
    }
}

/// Opus packets from another container (Matroska/WebM), with the OpusHead from CodecPrivate.
pub struct PacketDecoder {
    dec: Dec,
    channels: usize,
    pre_skip: usize,
    block: Vec<f32>,
}

impl PacketDecoder {
    pub fn new(head: Option<&[u8]>, container_channels: Option<usize>) -> Result<Self, OpusError> {
        // OpusHead: magic(8) version(1) channels(1) pre_skip(2) rate(4) gain(2) family(1) ...
        let (channels, pre_skip, gain, family) = match head {
            Some(h) if h.len() >= 19 && &h[..8] == b"OpusHead" => (
                h[9] as usize,
                u16::from_le_bytes([h[10], h[11]]) as usize,
                i16::from_le_bytes([h[16], h[17]]),
                h[18],
            ),
            _ => (container_channels.unwrap_or(2), 0, 0, 0),
        };
        let dec = Dec::new(channels, family, gain)?;
        Ok(Self {
            dec,
            channels,
            pre_skip,
            block: vec![0.0; MAX_PACKET_SAMPLES * channels.max(1)],
        })
    }
    pub fn channels(&self) -> usize {
        self.channels
    }
    pub fn decode(&mut self, packet: &[u8], out: &mut Vec<f32>) -> Result<(), OpusError> {
        out.clear();
        let n = self.dec.decode(packet, &mut self.block)?;
        let skip = self.pre_skip.min(n);
        self.pre_skip -= skip;
        out.extend_from_slice(&self.block[skip * self.channels..n * self.channels]);
        Ok(())
    }
}
