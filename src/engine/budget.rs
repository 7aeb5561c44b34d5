//! What this machine can give a run: memory and output space, and the checks that refuse a run
//! (exit 2, nothing written) whose estimated [`Cost`] exceeds them. Refusing up front with the
//! estimate is the point: without it an oversized scenario aborts with `memory allocation of …
//! bytes failed` (exit 134) after minutes, or fills the disk.
//!
//! The memory budget is, in order: `--max-memory SIZE` (or the `SPRX_MAX_MEMORY` environment
//! variable); else the memory available now, the smaller of `MemAvailable` in `/proc/meminfo`
//! and what the process's cgroup still allows (a Slurm job's `--mem`); else [`FALLBACK_MEMORY`].
//! Output files are refused above [`MAX_OUTPUT_BYTES`] or the free space of their file system.

use std::path::Path;

use crate::engine::cost::Cost;

/// The memory budget where the system does not say what is available (not Linux): 4 GiB.
pub const FALLBACK_MEMORY: u64 = 4 << 30;

/// The largest output sprx writes in one run or sweep: 50 GiB. Beyond it, results are better
/// cut down (fewer replicates or weeks) than written; a spreadsheet opens about a million rows.
pub const MAX_OUTPUT_BYTES: u64 = 50 << 30;

/// Average bytes of a `weekly.csv` row: 102 numbers in shortest round-trip form (measured on the
/// default scenario: about 560 in v1.0; MODEL.md §9's 40 columns add about 80 bytes when its
/// mechanisms are off, mostly zeros, and about 140 when they are on), rounded up.
pub const WEEKLY_ROW_BYTES: u64 = 768;

/// Average bytes of a `replicates.csv` row: 100 metrics, most of them 17-digit fractions (about
/// 1,300 bytes with MODEL.md §9 off, 1,700 with it on).
pub const REPLICATE_ROW_BYTES: u64 = 2048;

/// Memory of a `weekly.csv` row read back for the report (`sprx run --report`): 102 f64s and a
/// vector header.
pub const REPORT_ROW_BYTES: u64 = 1024;

/// Average bytes of a `pcns.csv` row: 13 place columns and 114 metric cells (measured on runs
/// over one ICB: about 1,400 to 1,800), rounded up.
pub const PLACE_ROW_BYTES: u64 = 2048;

/// Estimated bytes of a run directory: `weekly.csv` dominates, then `replicates.csv`, then
/// for several PCNs `pcns.csv` (a row per arm and PCN; `icbs.csv` is smaller).
pub fn run_dir_bytes(cost: &Cost) -> f64 {
    let place_rows = if cost.pcns > 1 {
        2 * cost.arms * cost.pcns
    } else {
        0
    };
    cost.weekly_rows as f64 * WEEKLY_ROW_BYTES as f64
        + (cost.arms * cost.replicates) as f64 * REPLICATE_ROW_BYTES as f64
        + place_rows as f64 * PLACE_ROW_BYTES as f64
        + (1 << 20) as f64
}

/// Refuses a run directory that would exceed [`output_limit`].
pub fn check_run_dir(cost: &Cost, dir: &Path) -> Result<(), String> {
    check_output(
        run_dir_bytes(cost),
        dir,
        &format!(
            "the run directory (weekly.csv: {} rows = {} arms × {} replicates × {} weeks)",
            thousands(cost.weekly_rows),
            cost.arms,
            thousands(cost.replicates),
            thousands(cost.weeks)
        ),
        "Reduce run.replicates or run.weeks (weekly.csv has a row per arm, replicate and week)",
    )
}

/// Average bytes of a cell of a sweep's `runs.csv` and shard files (numbers in shortest
/// round-trip form, a comma).
pub const SWEEP_CELL_BYTES: u64 = 20;

/// Refuses sweep outputs that would exceed [`output_limit`]: `runs.csv` and the shard files
/// each hold a row of `columns` cells per point and replicate.
pub fn check_sweep_outputs(
    points: usize,
    replicates: u32,
    columns: usize,
    dir: &Path,
) -> Result<(), String> {
    let rows = (points as u64).saturating_mul(u64::from(replicates));
    let bytes = 2.0 * rows as f64 * (columns as u64 * SWEEP_CELL_BYTES) as f64;
    check_output(
        bytes,
        dir,
        &format!(
            "the sweep's runs.csv and shard files ({} rows each = {} points × {} replicates)",
            thousands(rows),
            thousands(points as u64),
            thousands(u64::from(replicates))
        ),
        "Reduce the design's points or replicates",
    )
}

/// How much memory a run may use, and where that number comes from.
#[derive(Clone, Debug, PartialEq)]
pub struct MemoryBudget {
    pub bytes: u64,
    /// For messages: `--max-memory`, `MemAvailable in /proc/meminfo`, …
    pub source: String,
}

impl MemoryBudget {
    /// `explicit` (from `--max-memory`) if given, else what the system has available.
    pub fn new(explicit: Option<u64>) -> MemoryBudget {
        if let Some(bytes) = explicit {
            return MemoryBudget {
                bytes,
                source: "--max-memory or SPRX_MAX_MEMORY".to_string(),
            };
        }
        let meminfo = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|text| mem_available(&text));
        match (meminfo, cgroup_headroom()) {
            (Some(m), Some(c)) if c < m => MemoryBudget {
                bytes: c,
                source: "this process's cgroup memory limit".to_string(),
            },
            (Some(m), _) => MemoryBudget {
                bytes: m,
                source: "MemAvailable in /proc/meminfo".to_string(),
            },
            (None, Some(c)) => MemoryBudget {
                bytes: c,
                source: "this process's cgroup memory limit".to_string(),
            },
            (None, None) => MemoryBudget {
                bytes: FALLBACK_MEMORY,
                source: "a fallback, as this system does not report available memory".to_string(),
            },
        }
    }
}

/// `MemAvailable` of a `/proc/meminfo` text, in bytes.
fn mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// What the process's cgroup (v2 or v1) still allows: its limit minus its usage, if it has one.
fn cgroup_headroom() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let (root, limit, usage) = match controllers {
            "" => ("/sys/fs/cgroup", "memory.max", "memory.current"),
            c if c.split(',').any(|c| c == "memory") => (
                "/sys/fs/cgroup/memory",
                "memory.limit_in_bytes",
                "memory.usage_in_bytes",
            ),
            _ => continue,
        };
        // Inside a container the process's cgroup is often mounted as the root itself.
        for dir in [format!("{root}{path}"), root.to_string()] {
            let read = |name: &str| {
                std::fs::read_to_string(Path::new(&dir).join(name))
                    .ok()
                    .and_then(|t| t.trim().parse::<u64>().ok())
            };
            if let (Some(limit), Some(usage)) = (read(limit), read(usage)) {
                // cgroup v1 reports "no limit" as a huge number.
                if limit < 1 << 60 {
                    return Some(limit.saturating_sub(usage));
                }
                break;
            }
        }
    }
    None
}

/// A size such as `512M`, `16G`, `1.5T` or `2000000`: K, M, G and T (optionally followed by
/// `B` or `iB`, any case) are powers of 1024, as in Slurm's `--mem`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    let digits = lower.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &lower[digits.len()..];
    let shift = match unit {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => {
            return Err(format!(
                "`{t}` is not a size: expected a number with K, M, G or T (e.g. 16G)"
            ));
        }
    };
    let number: f64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("`{t}` is not a size: expected a number such as 16G or 512M"))?;
    let bytes = number * (1u64 << shift) as f64;
    if !(bytes.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(format!("`{t}` is not a usable size"));
    }
    Ok(bytes as u64)
}

/// `4.1 TiB`, `22 GiB`, `310 MiB`: two or three significant digits, binary units.
pub fn human_bytes(bytes: f64) -> String {
    const UNITS: [&str; 7] = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes.max(0.0);
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} bytes")
    } else if value < 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

/// `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What is being checked, for messages: `this run`, `each point of this sweep`, …
pub struct Job<'a> {
    pub what: &'a str,
    pub threads: u64,
    /// Plans running at once (sweep points), 1 for a run.
    pub runs: u64,
}

/// The peak memory a job is estimated to need: its units and results, `extra_bytes`, and the
/// process itself ([`PROCESS_BYTES`]).
pub fn memory_estimate(cost: &Cost, job: &Job, extra_bytes: f64) -> f64 {
    cost.units_memory(job.threads, job.runs)
        + cost.results_memory(job.threads, job.runs)
        + extra_bytes
        + PROCESS_BYTES
}

/// Resident memory of an sprx process before it simulates anything: code, libraries, the
/// thread pool's stacks and the parsed scenario (measured: 5.5 MB for a run of 100 patients).
pub const PROCESS_BYTES: f64 = 6.0 * 1024.0 * 1024.0;

/// Refuses a job whose estimated peak memory exceeds the budget; the message gives the
/// estimate, where it goes and what to reduce.
pub fn check_memory(
    cost: &Cost,
    job: &Job,
    extra_bytes: f64,
    budget: &MemoryBudget,
) -> Result<(), String> {
    let units = cost.units_memory(job.threads, job.runs);
    let results = cost.results_memory(job.threads, job.runs) + extra_bytes;
    let total = memory_estimate(cost, job, extra_bytes);
    if total <= budget.bytes as f64 {
        return Ok(());
    }
    let at_once = cost.units_at_once(job.threads, job.runs);
    let fewer_threads = if job.threads > 1 {
        ", or use fewer --threads"
    } else {
        ""
    };
    let reduce = if units >= results {
        format!(
            "Reduce the patients per PCN (population.practices_per_pcn × \
             population.patients_per_practice) or run.weeks{fewer_threads}"
        )
    } else {
        "Reduce run.replicates, run.weeks or the number of arms (each replicate's weekly \
         records are kept until the outputs are written)"
            .to_string()
    };
    let replicates = cost.replicates.saturating_mul(job.runs.max(1));
    let merging = if cost.pcns > 1 {
        format!(
            ", counting the {} PCN outcomes of each replicate being merged",
            thousands(cost.pcns.min(super::runner::MERGE_CHUNK as u64))
        )
    } else {
        String::new()
    };
    Err(format!(
        "{} needs about {} of memory: {} PCN simulation{} at once, about {} (the largest PCN \
         has {} patients; with {} service weeks, about {} a simulation), and the results of {} \
         replicate{} ({}{merging}); the limit is {} ({}). {reduce}; or set --max-memory SIZE if \
         the estimate is wrong.",
        job.what,
        human_bytes(total),
        at_once,
        if at_once == 1 { "" } else { "s" },
        human_bytes(units),
        thousands(cost.patients_per_pcn),
        thousands(cost.weeks),
        human_bytes(cost.unit_bytes()),
        thousands(replicates),
        if replicates == 1 { "" } else { "s" },
        human_bytes(results),
        human_bytes(budget.bytes as f64),
        budget.source,
    ))
}

/// The space output files may take in `dir`'s file system: [`MAX_OUTPUT_BYTES`], or less if
/// the file system has less free space. `dir` may not exist yet: its nearest existing ancestor
/// is asked.
pub fn output_limit(dir: &Path) -> (u64, String) {
    let free = dir
        .ancestors()
        .find(|d| d.exists() || d.as_os_str().is_empty())
        .map(|d| {
            if d.as_os_str().is_empty() {
                Path::new(".")
            } else {
                d
            }
        })
        .and_then(|d| fs4::statvfs(d).ok())
        // Pseudo file systems (/proc) report no space at all: they say nothing about it.
        .filter(|stats| stats.total_space() > 0)
        .map(|stats| stats.available_space());
    match free {
        Some(free) if free < MAX_OUTPUT_BYTES => (
            free,
            format!("the free space on the file system of {}", dir.display()),
        ),
        _ => (
            MAX_OUTPUT_BYTES,
            "sprx's limit for the outputs of one run or sweep".to_string(),
        ),
    }
}

/// Refuses outputs whose estimated size exceeds [`output_limit`]. `what` describes the files
/// and their rows, `reduce` what to change.
pub fn check_output(bytes: f64, dir: &Path, what: &str, reduce: &str) -> Result<(), String> {
    let (limit, source) = output_limit(dir);
    if bytes <= limit as f64 {
        return Ok(());
    }
    Err(format!(
        "{what} would take about {} on disk; the limit is {} ({source}). {reduce}.",
        human_bytes(bytes),
        human_bytes(limit as f64),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_binary_units() {
        assert_eq!(parse_size("16G"), Ok(16 << 30));
        assert_eq!(parse_size("512m"), Ok(512 << 20));
        assert_eq!(parse_size("1.5TiB"), Ok(3 << 39));
        assert_eq!(parse_size("2000"), Ok(2000));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("0").is_err());
        assert!(parse_size("-3G").is_err());
        assert!(parse_size("4Q").is_err());
    }

    #[test]
    fn sizes_print_with_two_or_three_digits() {
        assert_eq!(human_bytes(512.0), "512 bytes");
        assert_eq!(human_bytes(4.1 * (1u64 << 40) as f64), "4.1 TiB");
        assert_eq!(human_bytes(22.0 * (1u64 << 30) as f64), "22 GiB");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn mem_available_is_read_in_bytes() {
        let text = "MemTotal:       24000000 kB\nMemAvailable:   23233988 kB\n";
        assert_eq!(mem_available(text), Some(23_233_988 * 1024));
        assert_eq!(mem_available("MemTotal: 1 kB\n"), None);
    }

    #[test]
    fn the_system_budget_is_positive() {
        assert!(MemoryBudget::new(None).bytes > 0);
        assert_eq!(MemoryBudget::new(Some(7)).bytes, 7);
    }
}
