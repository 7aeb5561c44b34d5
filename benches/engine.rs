//! Engine throughput on the reference scenario (MODEL.md defaults; 1 PCN of 5 practices ×
//! 9,600 patients; 52 warm-up + 260 service weeks; the four arms no_sp, bolted_on, fitting_in,
//! belonging).
//!
//! Throughput is in **population patient-weeks**: one patient simulated for one week, all arms
//! together (48,000 × 312 = 15.0 million per replicate). ns per population patient-week is
//! 1e9 / throughput.
//!
//! Groups (`cargo bench --bench engine`):
//! - `reference_1_thread`: one replicate, four arms, one thread: the headline figure;
//! - `reference_2_threads`: two replicates on two threads (speed-up over replicates);
//! - `pcns_of_one_replicate`: one replicate of two reference PCNs on one and on two threads
//!   (speed-up over the PCNs of a replicate);
//! - `arm_cost`: the shared population alone (no_sp) and no_sp with one service arm each: the
//!   difference is what that arm costs on top of the population;
//! - `engines`: one replicate, four arms, one thread, with the fast engine (the default, as in
//!   every other group) and with `--engine reference`;
//! - `cpu_reference_1_thread` and `cpu_arm_cost`: `reference_1_thread` and `arm_cost` measured
//!   in the process's CPU time instead of wall-clock time ([`cpu_time`]): on a shared virtual
//!   machine, where other guests take the cores now and then, the way to compare two versions.

#[path = "support/cpu_time.rs"]
mod cpu_time;

use cpu_time::ProcessCpuTime;
use criterion::measurement::Measurement;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sprx::engine::runner::{run_replicates, with_threads};
use sprx::engine::{Engine, Plan};
use sprx::model::pcn::Layout;

/// Population patient-weeks of one replicate: every patient for every week, once whatever the
/// number of arms.
fn population_weeks(plan: &Plan) -> u64 {
    u64::from(plan.weeks + plan.warmup_weeks) * plan.patients()
}

fn run(plan: &Plan, threads: usize, replicates: &[u32]) {
    with_threads(Some(threads), || run_replicates(plan, replicates, &|_| {}))
        .expect("pool")
        .expect("runs");
}

/// One replicate of the reference scenario, four arms, one thread, as group `name`.
fn one_thread<M: Measurement>(c: &mut Criterion<M>, name: &str) {
    let plan = Plan::reference(1);
    let mut one = c.benchmark_group(name);
    one.sample_size(10);
    one.throughput(Throughput::Elements(population_weeks(&plan)));
    one.bench_function("replicate", |b| b.iter(|| run(&plan, 1, &[0])));
    one.finish();
}

fn reference(c: &mut Criterion) {
    let plan = Plan::reference(2);
    let per_replicate = population_weeks(&plan);
    one_thread(c, "reference_1_thread");

    let mut two = c.benchmark_group("reference_2_threads");
    two.sample_size(10);
    two.throughput(Throughput::Elements(2 * per_replicate));
    two.bench_function("two_replicates", |b| b.iter(|| run(&plan, 2, &[0, 1])));
    two.finish();
}

fn pcns_of_one_replicate(c: &mut Criterion) {
    let mut plan = Plan::reference(1);
    plan.pcns = Plan::synthetic_pcns(2, &Layout::uniform(5, 9_600));
    let mut group = c.benchmark_group("pcns_of_one_replicate");
    group.sample_size(10);
    group.throughput(Throughput::Elements(population_weeks(&plan)));
    for threads in [1, 2] {
        group.bench_function(format!("two_pcns_{threads}_threads"), |b| {
            b.iter(|| run(&plan, threads, &[0]))
        });
    }
    group.finish();
}

fn arm_cost(c: &mut Criterion) {
    arm_cost_as(c, "arm_cost");
}

/// The shared population alone and with each service arm, as group `name`.
fn arm_cost_as<M: Measurement>(c: &mut Criterion<M>, name: &str) {
    let reference = Plan::reference(1);
    let mut group = c.benchmark_group(name);
    group.sample_size(10);
    group.throughput(Throughput::Elements(population_weeks(&reference)));
    let with_arms = |names: &[&str]| {
        let mut plan = reference.clone();
        plan.arms.retain(|a| names.contains(&a.name.as_str()));
        plan
    };
    for names in [
        &["no_sp"][..],
        &["no_sp", "bolted_on"],
        &["no_sp", "fitting_in"],
        &["no_sp", "belonging"],
    ] {
        let plan = with_arms(names);
        group.bench_function(names.join("+"), |b| b.iter(|| run(&plan, 1, &[0])));
    }
    group.finish();
}

fn engines(c: &mut Criterion) {
    let plan = Plan::reference(1);
    let mut group = c.benchmark_group("engines");
    group.sample_size(10);
    group.throughput(Throughput::Elements(population_weeks(&plan)));
    for engine in Engine::ALL {
        let mut plan = plan.clone();
        plan.engine = engine;
        group.bench_function(engine.name(), |b| b.iter(|| run(&plan, 1, &[0])));
    }
    group.finish();
}

fn cpu_reference(c: &mut Criterion<ProcessCpuTime>) {
    one_thread(c, "cpu_reference_1_thread");
}

fn cpu_arm_cost(c: &mut Criterion<ProcessCpuTime>) {
    arm_cost_as(c, "cpu_arm_cost");
}

criterion_group!(benches, reference, pcns_of_one_replicate, arm_cost, engines);
criterion_group! {
    name = cpu;
    config = Criterion::default().with_measurement(ProcessCpuTime::default());
    targets = cpu_reference, cpu_arm_cost
}
criterion_main!(benches, cpu);
