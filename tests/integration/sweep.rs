//! `sprx sweep`: outputs byte-identical across shard layouts and thread counts, resume after
//! SIGKILL and SIGINT, a corpus of bad sweep files, merge errors and the Slurm scripts.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{ok, read, sprx, stderr, tempdir};

/// Files that depend only on the sweep, not on how it ran.
const DETERMINISTIC: [&str; 4] = ["runs.csv", "points.csv", "sensitivity.csv", "ranking.txt"];

/// A small Morris sweep: 2 arms on 1 practice, 3 parameters, 3 trajectories = 12 points.
fn small_sweep(patients: u32, weeks: u32) -> String {
    format!(
        r#"metrics = ["belonging - no_sp : gp_consults_per_1000_per_year", "belonging : wellbeing_mean"]

[base]
baseline = "no_sp"
[base.run]
seed = 7
weeks = {weeks}
warmup_weeks = 10
[base.population]
pcns = 1
practices_per_pcn = 1
patients_per_practice = {patients}
[[base.arm]]
name = "no_sp"
[[base.arm]]
name = "belonging"

[design]
kind = "morris"
trajectories = 3
replicates = 2
seed = 11
bootstrap = 200

[[parameter]]
name = "arm.belonging.lw_per_pcn"
range = [0, 3]

[[parameter]]
name = "need_prevalence.money"
range = [0.05, 0.3]

[[parameter]]
name = "arm.belonging.buy_in0"
range = [0.01, 0.2]
"#
    )
}

fn write_sweep(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("sweep.toml");
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write the sweep: {e}"));
    path
}

fn s(p: &Path) -> &str {
    p.to_str()
        .unwrap_or_else(|| panic!("non-UTF-8 path {}", p.display()))
}

fn run_ok(args: &[&str]) {
    let out = sprx(args);
    assert!(
        out.status.success(),
        "sprx {args:?} failed ({:?}):\n{}",
        out.status.code(),
        stderr(&out)
    );
}

fn assert_same_outputs(a: &Path, b: &Path) {
    for f in DETERMINISTIC {
        assert_eq!(
            read(&a.join(f)),
            read(&b.join(f)),
            "{f} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

#[test]
fn shards_and_thread_counts_give_byte_identical_outputs() {
    let tmp = tempdir();
    let sweep = write_sweep(tmp.path(), &small_sweep(1500, 60));
    let whole = tmp.path().join("whole");
    run_ok(&["sweep", s(&sweep), "--out", s(&whole), "--threads", "2"]);
    let points = read(&whole.join("points.csv"));
    assert_eq!(points.lines().count(), 1 + 12, "{points}");
    assert!(read(&whole.join("ranking.txt")).contains("mu*="));

    let one_thread = tmp.path().join("one-thread");
    run_ok(&[
        "sweep",
        s(&sweep),
        "--out",
        s(&one_thread),
        "--threads",
        "1",
    ]);
    assert_same_outputs(&whole, &one_thread);

    for n in [1, 3, 4] {
        let dir = tmp.path().join(format!("shards-{n}"));
        for k in 0..n {
            let shard = format!("{k}/{n}");
            run_ok(&[
                "sweep",
                s(&sweep),
                "--out",
                s(&dir),
                "--shard",
                &shard,
                "--threads",
                "1",
            ]);
        }
        assert_eq!(
            std::fs::read_dir(dir.join("shards"))
                .map(|d| d.count())
                .unwrap_or(0),
            2 * n,
            "one csv and one json per shard"
        );
        run_ok(&["sweep", "merge", s(&dir)]);
        assert_same_outputs(&whole, &dir);
    }
}

/// Starts a sweep, waits until its shard file holds at least 2 points, then stops it with
/// `stop`; returns the directory. The sweep runs at the lowest priority (`nice` execs sprx in
/// the same process, so signals reach it): on a busy machine the test thread must see the
/// first points long before the sweep could finish, or there would be nothing to interrupt.
fn interrupted_run(sweep: &Path, dir: &Path, stop: impl FnOnce(&mut std::process::Child)) {
    let mut command = Command::new("nice");
    command
        .args(["-n", "19", env!("CARGO_BIN_EXE_sprx")])
        .args(["sweep", s(sweep), "--out", s(dir), "--threads", "1"]);
    // A process started in the background by a shell without job control (nohup, `cmd &` in a
    // script) inherits SIGINT as ignored; give the sweep the default disposition so that the
    // SIGINT case really interrupts it.
    // SAFETY: `signal` is async-signal-safe, as `pre_exec` requires.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            Ok(())
        });
    }
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start sprx: {e}"));
    let shard = dir.join("shards").join("shard-0000-of-0001.csv");
    let start = Instant::now();
    // Header + 2 points × 2 replicates.
    while std::fs::read_to_string(&shard).map_or(0, |t| t.lines().count()) < 5 {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the sweep wrote no points"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    stop(&mut child);
    let status = child.wait().unwrap_or_else(|e| panic!("wait: {e}"));
    assert!(
        !status.success(),
        "the sweep finished before it was stopped"
    );
    assert!(
        !dir.join("points.csv").exists(),
        "the sweep finished before it was stopped"
    );
    let done = read(&shard).lines().count();
    assert!(
        done < 1 + RESUME_POINTS * 2,
        "the shard file is complete: {done} lines"
    );
}

/// Points of the interrupted sweep: 8 Morris trajectories of 3 parameters.
const RESUME_POINTS: usize = 8 * 4;

#[test]
fn resume_after_sigkill_or_sigint_completes_without_losing_or_repeating_a_row() {
    let tmp = tempdir();
    // Big enough that a point takes a noticeable time on one thread, with many points.
    let text = small_sweep(24_000, 200).replace("trajectories = 3", "trajectories = 8");
    let sweep = write_sweep(tmp.path(), &text);
    let reference = tmp.path().join("reference");
    run_ok(&["sweep", s(&sweep), "--out", s(&reference), "--threads", "2"]);

    let killed = tmp.path().join("killed");
    interrupted_run(&sweep, &killed, |child| {
        // SIGKILL on Unix.
        child.kill().unwrap_or_else(|e| panic!("kill: {e}"));
    });
    let again = sprx(&["sweep", s(&sweep), "--out", s(&killed)]);
    assert_eq!(
        again.status.code(),
        Some(2),
        "a fresh run must refuse the data"
    );
    assert!(stderr(&again).contains("--resume"), "{}", stderr(&again));
    run_ok(&["sweep", s(&sweep), "--out", s(&killed), "--resume"]);
    assert_same_outputs(&reference, &killed);

    let interrupted = tmp.path().join("sigint");
    interrupted_run(&sweep, &interrupted, |child| {
        let ok = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -INT failed");
    });
    run_ok(&["sweep", s(&sweep), "--out", s(&interrupted), "--resume"]);
    assert_same_outputs(&reference, &interrupted);
}

#[test]
fn resume_cuts_a_partial_last_line_and_a_partial_last_point() {
    let tmp = tempdir();
    let sweep = write_sweep(tmp.path(), &small_sweep(1500, 60));
    let reference = tmp.path().join("reference");
    run_ok(&["sweep", s(&sweep), "--out", s(&reference)]);

    let dir = tmp.path().join("cut");
    run_ok(&["sweep", s(&sweep), "--out", s(&dir), "--shard", "0/1"]);
    let shard = dir.join("shards").join("shard-0000-of-0001.csv");
    let text = read(&shard);
    let lines: Vec<&str> = text.lines().collect();
    // Keep the header and 3 points, then one replicate of the 4th point and half a line.
    let mut cut: String = lines[..1 + 6].iter().map(|l| format!("{l}\n")).collect();
    cut.push_str(&format!("{}\n", lines[7]));
    cut.push_str(&lines[8][..lines[8].len() / 2]);
    std::fs::write(&shard, cut).unwrap_or_else(|e| panic!("{e}"));
    run_ok(&["sweep", s(&sweep), "--out", s(&dir), "--resume"]);
    assert_same_outputs(&reference, &dir);
    assert_eq!(read(&shard).lines().count(), 1 + 24);
}

#[test]
fn resume_refuses_a_changed_sweep_file() {
    let tmp = tempdir();
    let sweep = write_sweep(tmp.path(), &small_sweep(1500, 60));
    let dir = tmp.path().join("out");
    run_ok(&["sweep", s(&sweep), "--out", s(&dir), "--shard", "0/2"]);
    write_sweep(tmp.path(), &small_sweep(1500, 61));
    let out = sprx(&[
        "sweep",
        s(&sweep),
        "--out",
        s(&dir),
        "--shard",
        "1/2",
        "--resume",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("another sweep file"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn merge_lists_missing_points_and_duplicates() {
    let tmp = tempdir();
    let sweep = write_sweep(tmp.path(), &small_sweep(1500, 60));
    let dir = tmp.path().join("out");
    run_ok(&["sweep", s(&sweep), "--out", s(&dir), "--shard", "1/3"]);
    let out = sprx(&["sweep", "merge", s(&dir)]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("missing 8 of 12 points: 0, 2-3, 5-6, 8-9, 11"),
        "{err}"
    );
    assert!(err.contains("shard 0/3: 0, 3, 6, 9"), "{err}");
    assert!(err.contains("shard 2/3: 2, 5, 8, 11"), "{err}");

    run_ok(&[
        "sweep",
        s(&sweep),
        "--out",
        s(&dir),
        "--shard",
        "0/1",
        "--resume",
    ]);
    let out = sprx(&["sweep", "merge", s(&dir)]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("point 1 is in"), "{err}");
}

/// Bad sweep files: (file text, texts the error must contain).
const BAD: &[(&str, &[&str])] = &[
    (
        "base = \"BASE\"\nmetrics = [\"no_sp : wellbeing_mean\"]\n[design]\nkind = \"grd\"\n[[parameter]]\nname = \"lw_per_pcn\"\n",
        &["sweep.toml:4:8", "design.kind", "did you mean `grid`"],
    ),
    (
        "base = \"BASE\"\nmetrics = [\"no_sp : wellbeing_mean\"]\n[design]\nkind = \"lhs\"\npoints = 4\n[[parameter]]\nname = \"lw_per_pnc\"\n",
        &[
            "sweep.toml:7:8",
            "parameter[0].name",
            "did you mean `lw_per_pcn`",
        ],
    ),
    (
        "base = \"BASE\"\nmetrics = [\"belongin : wellbeing_mean\"]\n[design]\nkind = \"lhs\"\npoints = 4\n[[parameter]]\nname = \"lw_per_pcn\"\n",
        &["sweep.toml:2:12", "metrics[0]", "did you mean `belonging`"],
    ),
    (
        "base = \"BASE\"\nmetrics = [\"wellbeing_mean\"]\n[design]\nkind = \"morris\"\n[[parameter]]\nname = \"lw_per_pcn\"\nrange = [0, 1000]\n",
        &[
            "parameter[0].range: `lw_per_pcn`: 1000 is out of range: allowed 0 ..= 100",
            "design.trajectories",
            "missing key",
        ],
    ),
    (
        "base = \"BASE\"\nmetrics = [\"wellbeing_mean\"]\nseed = 3\n[design]\nkind = \"sobol\"\nbase_samples = 8\n[[parameter]]\nname = \"arm.belonging.need_prevalence.mony\"\n",
        &[
            "sweep.toml:3:1",
            "seed",
            "belongs in [design]",
            "did you mean `need_prevalence.money`",
        ],
    ),
    (
        "base = \"BASE\"\nmetrics = [\"wellbeing_mean\"]\n[design]\nkind = \"grid\"\n[[parameter]]\nname = \"buy_in0\"\nvalues = [0.5, 1.5]\n[[parameter]]\nname = \"arm.belonging.need_prevalence.money\"\nrange = [0.3, 0.1]\n",
        &[
            "sweep.toml:7:16: parameter[0].values: `buy_in0`: 1.5 is out of range: allowed 0 ..= 1",
            "parameter[1].range: `arm.belonging.need_prevalence.money`: expected [lo, hi] with lo <= hi inside 0 ..= 0.95",
        ],
    ),
];

#[test]
fn bad_sweep_files_exit_2_naming_the_key() {
    let tmp = tempdir();
    let base = super::repo("scenarios/default.toml");
    for (i, (text, expected)) in BAD.iter().enumerate() {
        let text = text.replace("BASE", s(&base));
        let sweep = write_sweep(tmp.path(), &text);
        let out = sprx(&["sweep", s(&sweep), "--out", s(&tmp.path().join("never"))]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "case {i}: {err}");
        for e in *expected {
            assert!(err.contains(e), "case {i}: expected `{e}` in:\n{err}");
        }
        assert!(!tmp.path().join("never").exists(), "case {i} wrote outputs");
    }
}

#[test]
fn inline_base_errors_point_into_the_sweep_file() {
    let tmp = tempdir();
    let text = small_sweep(1500, 60).replace("weeks = 60", "weeks = 0");
    let sweep = write_sweep(tmp.path(), &text);
    let out = sprx(&["sweep", s(&sweep), "--out", s(&tmp.path().join("o"))]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("sweep.toml:7:9: base.run.weeks"), "{err}");
}

#[test]
fn slurm_scripts_name_every_path_absolutely() {
    let tmp = tempdir();
    let sweep = write_sweep(tmp.path(), &small_sweep(1500, 60));
    let dir = tmp.path().join("cluster");
    run_ok(&[
        "sweep",
        "slurm",
        s(&sweep),
        "--shards",
        "5",
        "--out",
        s(&dir),
        "--max-parallel",
        "2",
        "--time",
        "01:00:00",
        "--mem",
        "2G",
    ]);
    let array = read(&dir.join("sweep.sbatch"));
    assert!(array.contains("#SBATCH --array=0-4%2"), "{array}");
    assert!(
        array.contains(&format!("#SBATCH --output={}/logs/", s(&dir))),
        "{array}"
    );
    assert!(array.contains("#SBATCH --error="), "{array}");
    assert!(
        array.contains("--shard \"$SLURM_ARRAY_TASK_ID/5\" --resume"),
        "{array}"
    );
    assert!(array.contains(env!("CARGO_BIN_EXE_sprx")), "{array}");
    assert!(array.contains("sbatch --array=4,8"), "{array}");
    let merge = read(&dir.join("merge.sbatch"));
    assert!(merge.contains("sweep merge"), "{merge}");
    let submit = read(&dir.join("submit.sh"));
    assert!(
        submit.contains("--dependency=afterok:\"$array\""),
        "{submit}"
    );
}

#[test]
fn shipped_sweep_files_are_valid() {
    // `sweep slurm` reads and checks the whole sweep file (and its base scenario) without
    // running anything, so it validates the examples users start from.
    let examples = std::fs::read_dir(super::repo("scenarios/sweeps")).expect("scenarios/sweeps");
    let mut checked = 0;
    for entry in examples {
        let path = entry.expect("directory entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            let out = tempdir();
            ok(&[
                "sweep",
                "slurm",
                &path.to_string_lossy(),
                "--shards",
                "2",
                "--out",
                &out.path().to_string_lossy(),
            ]);
            checked += 1;
        }
    }
    assert!(checked >= 2, "expected the example sweep files");
}

#[test]
fn quiet_sweeps_print_nothing_on_success() {
    let tmp = tempdir();
    let sweep = write_sweep(tmp.path(), &small_sweep(1500, 60));
    let dir = tmp.path().join("quiet");
    let out = sprx(&["sweep", s(&sweep), "--out", s(&dir), "--quiet"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    assert!(dir.join("points.csv").exists());
}
