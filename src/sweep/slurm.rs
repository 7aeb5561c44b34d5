//! Slurm job scripts for a sharded sweep: `sweep.sbatch` (a job array, one task per shard, each
//! `sprx sweep … --shard $SLURM_ARRAY_TASK_ID/N --resume`), `merge.sbatch` (`sprx sweep merge`),
//! and `submit.sh`, which submits the array and then the merge with
//! `--dependency=afterok:<array job>`. Every path is absolute, so the scripts run from anywhere;
//! logs go to `DIR/logs`.
//!
//! A task that failed (node failure, time limit) is re-run alone with
//! `sbatch --array=4,8 DIR/sweep.sbatch`: `--resume` keeps the points it had finished. Then
//! submit `DIR/merge.sbatch` (or run `sprx sweep merge DIR`).

use std::path::{Path, PathBuf};

use super::SweepError;

/// What the scripts ask Slurm for.
#[derive(Clone, Debug)]
pub struct SlurmOptions {
    /// The sprx binary, absolute.
    pub sprx: PathBuf,
    /// The sweep file, absolute.
    pub sweep: PathBuf,
    /// The output directory, absolute.
    pub out: PathBuf,
    pub shards: u32,
    pub partition: Option<String>,
    pub time: Option<String>,
    pub mem: Option<String>,
    /// Array tasks running at once (`%J`).
    pub max_parallel: Option<u32>,
    pub cpus_per_task: u32,
}

/// Quotes a string for a POSIX shell.
fn sh(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn path(p: &Path) -> String {
    sh(&p.display().to_string())
}

fn header(o: &SlurmOptions, name: &str, logs: &str) -> String {
    let logs_dir = o.out.join("logs");
    let mut s = String::from("#!/bin/bash\n");
    s.push_str(&format!("#SBATCH --job-name={name}\n"));
    s.push_str(&format!(
        "#SBATCH --output={}\n#SBATCH --error={}\n",
        logs_dir.join(format!("{logs}.out")).display(),
        logs_dir.join(format!("{logs}.err")).display()
    ));
    if let Some(p) = &o.partition {
        s.push_str(&format!("#SBATCH --partition={p}\n"));
    }
    if let Some(t) = &o.time {
        s.push_str(&format!("#SBATCH --time={t}\n"));
    }
    if let Some(m) = &o.mem {
        s.push_str(&format!("#SBATCH --mem={m}\n"));
    }
    s
}

/// The three scripts' text: (`sweep.sbatch`, `merge.sbatch`, `submit.sh`).
pub fn scripts(o: &SlurmOptions) -> (String, String, String) {
    let last = o.shards.saturating_sub(1);
    let mut sweep = header(o, "sprx-sweep", "sweep-%A_%a");
    match o.max_parallel {
        Some(j) => sweep.push_str(&format!("#SBATCH --array=0-{last}%{j}\n")),
        None => sweep.push_str(&format!("#SBATCH --array=0-{last}\n")),
    }
    sweep.push_str(&format!("#SBATCH --cpus-per-task={}\n", o.cpus_per_task));
    sweep.push_str(&format!(
        "# One task per shard; re-run failed tasks alone with: sbatch --array=4,8 {}\n\
         # (--resume keeps the points a task had finished), then sbatch {}\n\
         set -euo pipefail\n\
         exec {} sweep {} --out {} --shard \"$SLURM_ARRAY_TASK_ID/{}\" --resume --threads \"${{SLURM_CPUS_PER_TASK:-{}}}\"\n",
        o.out.join("sweep.sbatch").display(),
        o.out.join("merge.sbatch").display(),
        path(&o.sprx),
        path(&o.sweep),
        path(&o.out),
        o.shards,
        o.cpus_per_task
    ));
    let mut merge = header(o, "sprx-sweep-merge", "merge-%j");
    merge.push_str(&format!(
        "set -euo pipefail\nexec {} sweep merge {}\n",
        path(&o.sprx),
        path(&o.out)
    ));
    let submit = format!(
        "#!/bin/bash\n\
         # Submits the sweep's job array, then its merge, which runs once every task succeeded.\n\
         set -euo pipefail\n\
         mkdir -p {logs}\n\
         array=$(sbatch --parsable {sweep})\n\
         array=${{array%%;*}}\n\
         merge=$(sbatch --parsable --dependency=afterok:\"$array\" {merge})\n\
         merge=${{merge%%;*}}\n\
         echo \"ARRAY_JOB_ID=$array\"\n\
         echo \"MERGE_JOB_ID=$merge\"\n\
         echo \"sweep array job $array ({shards} tasks), merge job $merge; logs in {logs_plain}\" >&2\n",
        logs = path(&o.out.join("logs")),
        sweep = path(&o.out.join("sweep.sbatch")),
        merge = path(&o.out.join("merge.sbatch")),
        shards = o.shards,
        logs_plain = o.out.join("logs").display(),
    );
    (sweep, merge, submit)
}

/// Writes the scripts into `o.out` (and creates `o.out/logs`).
pub fn write_scripts(o: &SlurmOptions) -> Result<(), SweepError> {
    let (sweep, merge, submit) = scripts(o);
    std::fs::create_dir_all(o.out.join("logs"))
        .map_err(|e| SweepError::io(format!("cannot create {}", o.out.display()), e))?;
    for (name, text, exec) in [
        ("sweep.sbatch", sweep, false),
        ("merge.sbatch", merge, false),
        ("submit.sh", submit, true),
    ] {
        let p = o.out.join(name);
        std::fs::write(&p, text)
            .map_err(|e| SweepError::io(format!("cannot write {}", p.display()), e))?;
        #[cfg(unix)]
        if exec {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| SweepError::io(format!("cannot chmod {}", p.display()), e))?;
        }
        #[cfg(not(unix))]
        let _ = exec;
    }
    Ok(())
}
