//! The command line: `sori [FILE]` opens the GUI; subcommands work headless.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};

mod analyze;
mod eval;

pub use analyze::AnalyzeArgs;
pub use eval::{EvalArgs, TrainArgs};

use crate::analysis::peaks::PeakPyramid;
use crate::analysis::spectrum::{Overview, SpecParams};
use crate::audio::{PcmStore, decode_file};
use crate::render::picture::{PictureOptions, render_picture};
use crate::render::{ColorMap, DbRange};

#[derive(Debug, Parser)]
#[command(
    name = "sori",
    version,
    about = "Sori (소리): explore how traditional Korean instruments are woven into modern pop tracks."
)]
pub struct Cli {
    /// Audio file to open (no file: the built-in demo).
    pub file: Option<PathBuf>,
    /// Notes file to open with it.
    #[arg(long)]
    pub notes: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Write waveform + spectrogram with axes to a PNG.
    Render(RenderArgs),
    /// Work with notes files.
    #[command(subcommand)]
    Notes(NotesCmd),
    /// Measure features and the fusion-lens lanes (JSON, or CSV of lane segments).
    Analyze(AnalyzeArgs),
    /// Measure the fusion lens against a labelled manifest (columns of labels.csv).
    Eval(EvalArgs),
    /// Fit the Korean lanes' weights to a labelled manifest (writes a model JSON).
    Train(TrainArgs),
}

#[derive(Debug, Subcommand)]
pub enum NotesCmd {
    /// Convert between notes formats, chosen by extension: .sori.toml, .txt (Audacity),
    /// .csv (Sonic Visualiser), .vtt, .srt, .jams, .TextGrid.
    Convert { input: PathBuf, output: PathBuf },
}

/// `sori notes convert IN OUT`: what OUT's format cannot hold is named on stderr.
pub fn notes_convert(input: &Path, output: &Path) -> Result<()> {
    use crate::notes::interchange::{Format, export, read};
    let out_format = Format::from_path(output).ok_or_else(|| {
        anyhow::anyhow!(
            "{}: unknown notes format ({})",
            output.display(),
            Format::known_list()
        )
    })?;
    let (doc, warnings) = read(input)?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    let (text, warnings) = export(&doc, out_format);
    for w in warnings {
        eprintln!("warning: {w}");
    }
    crate::notes::save::atomic_write(output, text.as_bytes())
        .with_context(|| format!("could not write {}", output.display()))?;
    Ok(())
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Audio file to draw.
    #[arg(required_unless_present = "demo")]
    pub file: Option<PathBuf>,
    /// Draw the built-in demo instead of a file.
    #[arg(long, conflicts_with = "file")]
    pub demo: bool,
    /// The PNG to write (not needed with --per-note alone).
    #[arg(short, long, required_unless_present = "per_note")]
    pub output: Option<PathBuf>,
    #[arg(long, default_value_t = 1600)]
    pub width: u32,
    #[arg(long, default_value_t = 900)]
    pub height: u32,
    /// Start of the range, seconds.
    #[arg(long)]
    pub from: Option<f64>,
    /// End of the range, seconds.
    #[arg(long)]
    pub to: Option<f64>,
    /// Notes file (any format Sori reads) drawn as a lane of regions and titles.
    #[arg(long)]
    pub notes: Option<PathBuf>,
    /// Also draw the fusion-lens lanes (analyses the track first).
    #[arg(long)]
    pub lanes: bool,
    /// Write one PNG slide per note into this folder (title, body, the spectrogram of its
    /// region). Notes come from --notes, else the file's own notes, else the demo's.
    #[arg(long, value_name = "DIR")]
    pub per_note: Option<PathBuf>,
    /// Colour map: magma, viridis, cividis, inferno, grey.
    #[arg(long, default_value = "magma")]
    pub colormap: String,
    /// FFT window: 1024, 2048 or 4096.
    #[arg(long, default_value_t = 2048)]
    pub window: usize,
}

/// Loads a file (or the demo) with its peaks and overview, on the calling thread.
pub fn load_all(
    file: Option<&Path>,
    params: SpecParams,
) -> Result<(Arc<PcmStore>, PeakPyramid, Overview, Option<String>)> {
    let (store, notice) = match file {
        Some(p) => {
            let (s, o) = decode_file(p)?;
            (s, o.notice)
        }
        None => (
            Arc::new(PcmStore::from_interleaved(
                crate::demo::SAMPLE_RATE,
                2,
                &crate::demo::render(),
            )),
            None,
        ),
    };
    let mut peaks = PeakPyramid::new(store.channels());
    peaks.update(&store);
    let mut ov = Overview::new(params, store.sample_rate());
    ov.update(&store);
    Ok((store, peaks, ov, notice))
}

pub fn parse_colormap(s: &str) -> Result<ColorMap> {
    Ok(match s.to_ascii_lowercase().as_str() {
        "magma" => ColorMap::Magma,
        "viridis" => ColorMap::Viridis,
        "cividis" => ColorMap::Cividis,
        "inferno" => ColorMap::Inferno,
        "grey" | "gray" => ColorMap::Grey,
        other => {
            bail!("unknown colour map {other:?}; use magma, viridis, cividis, inferno or grey")
        }
    })
}

pub fn render(a: &RenderArgs) -> Result<()> {
    if !(1024..=8192).contains(&a.window) || !a.window.is_power_of_two() {
        bail!("--window must be 1024, 2048 or 4096");
    }
    if a.width < 64 || a.height < 64 || a.width > 16384 || a.height > 16384 {
        bail!("--width and --height must be between 64 and 16384 pixels");
    }
    for (name, v) in [("--from", a.from), ("--to", a.to)] {
        if let Some(v) = v
            && !(v.is_finite() && v >= 0.0)
        {
            bail!("{name} must be a time in seconds, 0 or more");
        }
    }
    if let (Some(f), Some(t)) = (a.from, a.to)
        && t <= f
    {
        bail!("--to must be later than --from");
    }
    let params = SpecParams {
        window: a.window,
        rows: 384,
    };
    let colormap = parse_colormap(&a.colormap)?;
    let file = if a.demo { None } else { a.file.as_deref() };
    let (store, peaks, ov, notice) = load_all(file, params)?;
    if let Some(n) = notice {
        eprintln!("warning: {n}");
    }
    if let Some(f) = a.from
        && f >= store.duration_s()
    {
        bail!(
            "--from {f} s is past the end of the track ({:.2} s)",
            store.duration_s()
        );
    }
    let title = match file {
        Some(p) => p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        None => "Sori demo".into(),
    };
    let read_notes = |p: &Path| -> Result<Vec<crate::notes::Note>> {
        let (doc, warnings) = crate::notes::interchange::read(p)
            .map_err(|e| anyhow::anyhow!("could not read the notes file {} ({e})", p.display()))?;
        for w in warnings {
            eprintln!("warning: {w}");
        }
        Ok(doc.notes)
    };
    let notes = match &a.notes {
        Some(p) => read_notes(p)?,
        None => Vec::new(),
    };
    let lanes = if a.lanes {
        crate::analysis::lens::analyze(&store).lanes
    } else {
        Vec::new()
    };
    let opts = PictureOptions {
        width: a.width,
        height: a.height,
        from_s: a.from.unwrap_or(0.0),
        to_s: a.to,
        colormap,
        db: DbRange::default(),
        params,
        title,
        notes,
        lanes,
    };
    if let Some(out) = &a.output {
        let img = render_picture(&store, &peaks, Some(&ov), &opts);
        crate::render::save_png(out, &img)
            .with_context(|| format!("could not write {}", out.display()))?;
    }
    if let Some(dir) = &a.per_note {
        let notes = if a.notes.is_some() {
            opts.notes.clone()
        } else {
            match file {
                Some(f) => {
                    let side = crate::notes::native::sidecar_for(f);
                    if !side.exists() {
                        bail!(
                            "--per-note needs notes: give --notes FILE (no {} next to the recording)",
                            side.display()
                        );
                    }
                    read_notes(&side)?
                }
                None => crate::notes::native::parse(crate::session::notes_state::DEMO_NOTES)
                    .map(|d| d.notes)
                    .map_err(|e| anyhow::anyhow!("the demo's notes could not be read ({e})"))?,
            }
        };
        if notes.is_empty() {
            bail!("the notes file has no notes: no slides written");
        }
        std::fs::create_dir_all(dir)
            .with_context(|| format!("could not create the folder {}", dir.display()))?;
        for (i, n) in notes.iter().enumerate() {
            let img = crate::render::slide::render_slide(&store, &peaks, Some(&ov), n, &opts);
            let out = dir.join(crate::render::slide::slide_file_name(i, &n.title));
            crate::render::save_png(&out, &img)
                .with_context(|| format!("could not write {}", out.display()))?;
        }
        eprintln!("{} slides written to {}", notes.len(), dir.display());
    }
    Ok(())
}

/// Runs a headless subcommand; `Ok(false)` means "no subcommand: open the GUI".
pub fn run_headless(cli: &Cli) -> Result<bool> {
    match &cli.command {
        Some(Cmd::Render(a)) => render(a).map(|_| true),
        Some(Cmd::Notes(NotesCmd::Convert { input, output })) => {
            notes_convert(input, output).map(|_| true)
        }
        Some(Cmd::Analyze(a)) => analyze::run(a).map(|_| true),
        Some(Cmd::Eval(a)) => eval::run(a).map(|_| true),
        Some(Cmd::Train(a)) => eval::train(a).map(|_| true),
        None => Ok(false),
    }
}
