//! Engine throughput on the reference scenario (MODEL.md defaults; 1 PCN of 5 practices ×
//! 9,600 patients; 52 warm-up + 260 service weeks; the four arms no_sp, bolted_on, fitting_in,
//! belonging), in patient-weeks: 4 arms × 312 weeks × 48,000 patients per replicate.
//!
//! `cargo bench --bench engine` reports time per replicate and throughput in patient-weeks per
//! second; ns per patient-week is 1e9 / throughput. The two-thread group runs two replicates on
//! two threads: compare its time per replicate with the one-thread group for the speed-up.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sprx::engine::Plan;
use sprx::engine::runner::{run_replicates, with_threads};

fn patient_weeks_per_replicate(plan: &Plan) -> u64 {
    plan.arms.len() as u64 * u64::from(plan.weeks + plan.warmup_weeks) * plan.patients()
}

fn engine(c: &mut Criterion) {
    let plan = Plan::reference(2);
    let per_replicate = patient_weeks_per_replicate(&plan);

    let mut one = c.benchmark_group("reference_1_thread");
    one.sample_size(10);
    one.throughput(Throughput::Elements(per_replicate));
    one.bench_function("replicate", |b| {
        b.iter(|| {
            with_threads(Some(1), || run_replicates(&plan, &[0], &|| {}))
                .expect("pool")
                .expect("runs")
        })
    });
    one.finish();

    let mut two = c.benchmark_group("reference_2_threads");
    two.sample_size(10);
    two.throughput(Throughput::Elements(2 * per_replicate));
    two.bench_function("two_replicates", |b| {
        b.iter(|| {
            with_threads(Some(2), || run_replicates(&plan, &[0, 1], &|| {}))
                .expect("pool")
                .expect("runs")
        })
    });
    two.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
