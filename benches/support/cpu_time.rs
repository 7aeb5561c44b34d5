//! A criterion measurement of the process's CPU time rather than wall-clock time.
//!
//! On a shared virtual machine the hypervisor may run other guests on our cores ("steal"), and
//! wall-clock medians of the same binary then move by tens of percent within the hour. The
//! kernel does not charge stolen time to a process's CPU clock, so a one-thread run measured
//! in CPU time moves far less, and two versions can be compared on such a machine. CPU time
//! sums every thread of the process: it measures work, not speed-up, so the multi-thread
//! groups stay on wall-clock time.

use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};

/// CPU time of the whole process (`CLOCK_PROCESS_CPUTIME_ID`), reported as durations.
pub struct ProcessCpuTime {
    /// Formats values as wall time does: both are durations in nanoseconds.
    wall: WallTime,
}

impl Default for ProcessCpuTime {
    fn default() -> ProcessCpuTime {
        ProcessCpuTime { wall: WallTime }
    }
}

/// The process's CPU time so far.
fn process_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec for the call to write; the clock id is a constant
    // every Linux and macOS kernel supports.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "the process CPU clock is unavailable");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

impl Measurement for ProcessCpuTime {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        process_cpu_time()
    }

    fn end(&self, start: Duration) -> Duration {
        process_cpu_time().saturating_sub(start)
    }

    fn add(&self, v1: &Duration, v2: &Duration) -> Duration {
        *v1 + *v2
    }

    fn zero(&self) -> Duration {
        Duration::ZERO
    }

    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        self.wall.formatter()
    }
}
