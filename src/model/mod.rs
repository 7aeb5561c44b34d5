//! The model's domain (MODEL.md §2, §5, §6): patients and their needs, GP practices, link
//! workers, community assets, referrals, and the PCN that holds them and runs the weekly
//! schedule, and what it records as it runs ([`observe`]). A rule of the model lives in the module named after the entity it concerns.

pub mod access;
pub mod asset;
pub mod link_worker;
pub mod needs;
pub mod observe;
pub mod patient;
pub mod pcn;
pub mod population;
pub mod practice;
pub mod referral;

/// Asks the processor to bring `x` into cache, without waiting for it: a hint, with no
/// effect on results. The weekly loops visit patients' records in an order the hardware
/// cannot guess (the week's due, consulting or touched patients); asking for the next ones
/// early lets their cache misses overlap instead of following one another.
#[inline(always)]
pub(crate) fn prefetch<T>(x: &T) {
    prefetch_bytes(x, size_of::<T>());
}

/// [`prefetch`] of the first `size` bytes of `x` only (at most its size): for a record of
/// which a loop reads only the head.
#[inline(always)]
pub(crate) fn prefetch_bytes<T>(x: &T, size: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // Every cache line the bytes touch: one a line apart from the first byte, and the
        // line of the last byte (bytes not aligned to lines span one more line than their size).
        const LINE: usize = 64;
        let first = std::ptr::from_ref(x).cast::<i8>();
        let size = size.min(size_of::<T>());
        let mut at = 0;
        while at < size {
            // SAFETY: SSE, which has the prefetch instruction, is part of every x86-64
            // processor; a prefetch reads nothing the program sees and cannot fault, so
            // `wrapping_add` within the value is enough.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(first.wrapping_add(at)) };
            at += LINE;
        }
        // SAFETY: as above.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(first.wrapping_add(size.saturating_sub(1))) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (x, size);
}

/// Why the model could not set up a population from a parameter set.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// Validated parameters still describe a distribution that cannot be drawn from (for
    /// example a Beta whose shape parameters round to zero).
    #[error("{parameter}: cannot build {distribution}: {detail}")]
    Distribution {
        parameter: &'static str,
        distribution: String,
        detail: String,
    },
}
