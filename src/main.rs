//! The `brisk` command: `run`, `convert` and `inspect` an export; `cache`
//! shows or empties the compile cache.
//!
//! In: command-line arguments. Out: results, generated sources or a dump;
//! errors as a readable message plus one `brisk-error-json:` line on stderr,
//! exit status 1. Never panics on bad input.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use brisk::codegen::{self, Target};
use brisk::diag::{Error, Result};
use brisk::pipeline::{self, Backend};
use brisk::plan::Delivery;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "brisk",
    version,
    about = "Run Brian2 simulations as generated CUDA or C++"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate, compile and run an export or a bundle; write Brian's results folder.
    Run {
        /// The export folder (holding manifest.json), or a bundle (`brisk convert`).
        export: PathBuf,
        #[arg(long, value_enum, default_value = "auto")]
        backend: Backend,
        /// Results folder (default: `results` beside the export folder, or in the bundle).
        #[arg(long)]
        results: Option<PathBuf>,
        /// Print stage timings as JSON on stderr.
        #[arg(long)]
        timings: bool,
        /// Generate and compile (filling the cache) but do not run.
        #[arg(long)]
        compile_only: bool,
        /// Brian's run_args: `group.variable=value` or `group.variable=file`
        /// (a raw array, relative to the project folder); `timedarray.values=...`.
        #[arg(long = "run-arg", value_name = "NAME=VALUE")]
        run_args: Vec<String>,
        /// Draw from random stream K (0: an ordinary run's numbers): what copy K
        /// of a sweep draws.
        #[arg(long, value_name = "K", default_value_t = 0)]
        random_stream: u64,
        /// Run a sweep: the JSON file lists the copies, each with its results
        /// folder, run_args and random stream (`{"copies": [{"results": DIR,
        /// "run_args": [...], "random_stream": K}, ...]}`); replaces --results,
        /// --run-arg and --random-stream.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["results", "run_args", "random_stream"])]
        sweep: Option<PathBuf>,
    },
    /// Write a portable bundle: the export, the generated CUDA and C++ and the run plan.
    Convert {
        export: PathBuf,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Print the parsed IR, the schedule and the plan's choices (CUDA delivery, fused kernels).
    Inspect { export: PathBuf },
    /// Show or empty the compile cache (`BRISK_CACHE_DIR`, else ~/.cache/brisk), shared by all projects.
    Cache {
        #[command(subcommand)]
        action: CacheAction,
    },
    /// A live session for the Python device (Brian's runtime mode): requests on
    /// standard input, replies on the pipe `--reply-fd`; see `src/session.rs`.
    #[command(hide = true)]
    Session {
        #[arg(long, value_enum, default_value = "auto")]
        backend: Backend,
        /// The file descriptor (inherited from the parent) that replies go to.
        #[arg(long)]
        reply_fd: u32,
    },
}

#[derive(Subcommand)]
enum CacheAction {
    /// Print the cache folder, its entries and their size, and the size limit (BRISK_CACHE_MAX_BYTES).
    Info,
    /// Delete every entry (entries a running build is loading stay).
    Clear,
}

/// Ends this process when its parent (the Python device, which sets
/// `BRISK_PARENT_PID`) dies, so that a killed Python leaves no binary running.
fn die_with_parent() {
    let Some(parent) = std::env::var("BRISK_PARENT_PID")
        .ok()
        .and_then(|p| p.parse::<i32>().ok())
    else {
        return;
    };
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{getppid, set_parent_process_death_signal, Signal};
        let _ = set_parent_process_death_signal(Some(Signal::KILL));
        // the parent may have died before the line above
        if getppid().map(|p| p.as_raw_nonzero().get()) != Some(parent) {
            std::process::exit(1);
        }
    }
    let _ = parent;
}

fn main() -> ExitCode {
    die_with_parent();
    let cli = Cli::parse();
    match dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("brisk: error: {e}");
            eprintln!("{}", e.to_json_line());
            ExitCode::FAILURE
        }
    }
}

fn dispatch(command: Command) -> Result<()> {
    match command {
        Command::Run {
            export,
            backend,
            results,
            timings,
            compile_only,
            run_args,
            random_stream,
            sweep,
        } => {
            let copies = match sweep {
                Some(file) => Copies::Sweep(read_sweep(&file)?),
                None => Copies::One {
                    results,
                    run_args,
                    random_stream,
                },
            };
            run(&export, backend, copies, timings, compile_only)
        }
        Command::Convert { export, output } => convert(&export, &output),
        Command::Inspect { export } => inspect(&export),
        Command::Cache { action } => cache(action),
        Command::Session { backend, reply_fd } => session(backend, reply_fd),
    }
}

/// What `brisk run` runs: one copy (its results folder defaults to the
/// export's or the bundle's), or a sweep's.
enum Copies {
    One {
        results: Option<PathBuf>,
        run_args: Vec<String>,
        random_stream: u64,
    },
    Sweep(Vec<pipeline::RunCopy>),
}

/// The sweep file of `brisk run --sweep`.
fn read_sweep(file: &Path) -> Result<Vec<pipeline::RunCopy>> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Sweep {
        copies: Vec<pipeline::RunCopy>,
    }
    let text = std::fs::read_to_string(file)
        .map_err(|e| Error::runtime(format!("cannot read the sweep file {}: {e}", file.display())))?;
    let sweep: Sweep = serde_json::from_str(&text)
        .map_err(|e| Error::runtime(format!("the sweep file {} is not valid: {e}", file.display())))?;
    Ok(sweep.copies)
}

fn run(
    export: &Path,
    backend: Backend,
    copies: Copies,
    print_timings: bool,
    compile_only: bool,
) -> Result<()> {
    let start = Instant::now();
    let bundle = if brisk::bundle::is_bundle(export) {
        Some(brisk::bundle::Bundle::open(export)?)
    } else {
        None
    };
    let (export, default_results) = match &bundle {
        Some(b) => (b.export_dir(), b.dir.join("results")),
        None => (export.to_path_buf(), export.join("..").join("results")),
    };
    let export = export.as_path();
    let prepared = pipeline::prepare(export)?;
    let prepare_time = start.elapsed().as_secs_f64();
    let (target, why) = pipeline::choose_backend(backend)?;
    let backend_name = match target {
        Target::Cpp => "cpu",
        Target::Cuda => "cuda",
    };
    eprintln!("brisk: backend {backend_name} ({why})");
    if compile_only {
        let mut timings = pipeline::compile(&prepared, target)?;
        timings.prepare = prepare_time;
        if print_timings {
            eprintln!("brisk-timings: {}", timings_json(&timings, backend_name));
        }
        return Ok(());
    }
    let copies = match copies {
        Copies::One {
            results,
            run_args,
            random_stream,
        } => vec![pipeline::RunCopy {
            run_args,
            random_stream,
            results: results.unwrap_or(default_results),
        }],
        Copies::Sweep(copies) => copies,
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let edited = bundle
        .as_ref()
        .and_then(|b| b.edited_program(target))
        .map(|(program, note)| {
            eprintln!("brisk: {note}");
            program
        });
    let mut timings = brisk::sweep::run_copies(&prepared, target, &copies, edited, &mut out)?;
    timings.prepare = prepare_time;
    let _ = out.flush();
    if print_timings {
        eprintln!("brisk-timings: {}", timings_json(&timings, backend_name));
    }
    Ok(())
}

/// The `brisk-timings:` line's JSON (`--timings`, read by the Python device):
/// the backend that ran (with the C++ backend's threads) and the seconds of
/// each stage.
fn timings_json(timings: &pipeline::Timings, backend: &str) -> String {
    let mut json = serde_json::to_value(timings).unwrap_or_default();
    json["backend"] = serde_json::json!(backend);
    if backend == "cpu" {
        if let Ok(threads) = brisk::runtime::cpu::threads() {
            json["threads"] = serde_json::json!(threads);
        }
    }
    json.to_string()
}

fn session(backend: Backend, reply_fd: u32) -> Result<()> {
    // (the pipe is opened anew through /proc: no raw file descriptor is adopted)
    let path = format!("/proc/self/fd/{reply_fd}");
    let mut reply = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(|e| Error::runtime(format!("session: cannot open the reply pipe {path}: {e}")))?;
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    brisk::session::serve(backend, &mut input, &mut reply)
}

fn cache(action: CacheAction) -> Result<()> {
    use brisk::runtime::cache::{Cache, MAX_BYTES_ENV};
    let cache = Cache::from_env()?;
    let mib = |b: u64| b as f64 / f64::from(1u32 << 20);
    match action {
        CacheAction::Info => {
            let info = cache.info()?;
            println!("cache: {}", cache.root.display());
            let kinds: Vec<String> = info
                .kinds
                .iter()
                .map(|(k, n, b)| format!("{k}: {n}, {:.1} MiB", mib(*b)))
                .collect();
            let kinds = if kinds.is_empty() {
                String::new()
            } else {
                format!(" ({})", kinds.join("; "))
            };
            println!("entries: {}{kinds}", info.entries);
            println!("size: {:.1} MiB ({} bytes)", mib(info.bytes), info.bytes);
            println!(
                "limit: {:.1} MiB ({} bytes; {MAX_BYTES_ENV})",
                mib(cache.max_bytes),
                cache.max_bytes
            );
        }
        CacheAction::Clear => {
            let removed = cache.clear()?;
            let kept = if removed.in_use > 0 {
                format!("; {} in use kept", removed.in_use)
            } else {
                String::new()
            };
            println!(
                "removed {} entries ({:.1} MiB) from {}{kept}",
                removed.entries,
                mib(removed.bytes),
                cache.root.display()
            );
        }
    }
    Ok(())
}

fn convert(export: &Path, output: &Path) -> Result<()> {
    let export = if brisk::bundle::is_bundle(export) {
        brisk::bundle::Bundle::open(export)?.export_dir()
    } else {
        export.to_path_buf()
    };
    let prepared = pipeline::prepare(&export)?;
    let programs = [Target::Cpp, Target::Cuda]
        .into_iter()
        .map(|target| codegen::generate(&prepared.plan, &prepared.code_objects, target))
        .collect::<Result<Vec<_>>>()?;
    let plan = serde_json::json!({
        "schedules": prepared.schedules,
        "plan": *prepared.plan,
    });
    let text =
        serde_json::to_string_pretty(&plan).map_err(|e| Error::runtime(e.to_string()))? + "\n";
    brisk::bundle::write(&prepared, &programs, &text, output)?;
    println!(
        "wrote the bundle {} (run it with: brisk run {})",
        output.display(),
        output.display()
    );
    Ok(())
}

fn inspect(export: &Path) -> Result<()> {
    let prepared = pipeline::prepare(export)?;
    // How each synaptic pathway is delivered on CUDA (the plan's decision).
    let mut delivery = serde_json::Map::new();
    for co in &prepared.code_objects {
        let (Some(entry), Some(pathway)) = (prepared.plan.code_objects.get(&co.name), co.pathway())
        else {
            continue;
        };
        if co.template != brisk::ir::Template::Synapses {
            continue;
        }
        let grouped = prepared
            .plan
            .pathways
            .get(&pathway.name)
            .and_then(|p| p.by_target.as_ref());
        let mode = match (&entry.delivery, grouped) {
            (Some(Delivery::Atomic(vars)), _) => {
                serde_json::json!({"mode": "atomic", "atomic": vars})
            }
            (Some(Delivery::ByTarget), Some(g)) => {
                serde_json::json!({"mode": "by_target", "index": g.index_name, "targets": g.groups, "atomic": g.atomic})
            }
            _ => serde_json::json!({"mode": "serial"}),
        };
        delivery.insert(co.name.clone(), mode);
    }
    let dump = serde_json::json!({
        "code_objects": prepared.code_objects,
        "schedules": prepared.schedules,
        "delivery": delivery,
        // state updates, thresholds and resets run as one kernel (the plan's decision, both targets)
        "fused": prepared.plan.fusions.iter().map(|f| serde_json::json!({
            "stateupdate": f.stateupdate, "threshold": f.threshold, "reset": f.reset,
        })).collect::<Vec<_>>(),
    });
    let text = serde_json::to_string_pretty(&dump).map_err(|e| Error::runtime(e.to_string()))?;
    println!("{text}");
    Ok(())
}
