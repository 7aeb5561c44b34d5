use sprx::engine::{ArmPlan, Plan, runner};
use sprx::metrics::summary::{MetricContext, SUMMARY_METRICS, summarize};
use sprx::model::pcn::Layout;
use sprx::params::{Params, Preset};
fn main() {
    let reps: u32 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(4);
    let arms = Preset::ALL.iter().map(|p| { let mut params = Params::default(); p.apply(&mut params); ArmPlan { name: p.name().into(), service: p.has_service(), params } }).collect();
    let plan = Plan { seed: 1, replicates: reps, weeks: 260, warmup_weeks: 52, pcns: 1, layout: Layout { practices: 5, patients_per_practice: 9600 }, arms, baseline: 0 };
    let t = std::time::Instant::now();
    let reps_list: Vec<u32> = (0..reps).collect();
    let out = runner::run_replicates(&plan, &reps_list, &|| {}).unwrap();
    let el = t.elapsed().as_secs_f64();
    let pw = reps as f64 * 4.0 * 312.0 * 48000.0;
    eprintln!("{el:.2}s  {:.2} ns/patient-week (logical)", el * 1e9 / pw);
    for (mi, m) in SUMMARY_METRICS.iter().enumerate() {
        print!("{:40}", m.name);
        for (ai, a) in plan.arms.iter().enumerate() {
            let ctx = MetricContext { patients: plan.patients(), weeks: plan.weeks, gp_cost: a.params.gp_cost, lw_cost: a.params.lw_cost };
            let v: f64 = out.iter().map(|r| summarize(&r.arms[ai], &ctx)[mi]).sum::<f64>() / reps as f64;
            print!(" {:>12.4}", v);
        }
        println!();
    }
}
