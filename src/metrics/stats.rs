//! Statistics across replicates: mean, standard deviation and the 95% confidence interval of
//! the mean (Student's t), for a metric and for paired differences between arms.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// A metric summarised over replicates. `n` counts the replicates where the metric is defined
/// (e.g. waits need at least one referral); the other fields are `None` when it is undefined
/// everywhere (and `sd`, `ci95` when n < 2).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Estimate {
    pub mean: Option<f64>,
    pub sd: Option<f64>,
    pub ci95: [Option<f64>; 2],
    pub n: usize,
}

/// The 97.5% quantile of Student's t with `df` degrees of freedom.
pub fn t_975(df: usize) -> f64 {
    StudentsT::new(0.0, 1.0, df as f64)
        .map(|t| t.inverse_cdf(0.975))
        .unwrap_or(f64::NAN)
}

impl Estimate {
    /// Summarises the defined (non-NaN) values.
    pub fn from_samples(values: impl IntoIterator<Item = f64>) -> Estimate {
        let xs: Vec<f64> = values.into_iter().filter(|v| !v.is_nan()).collect();
        let n = xs.len();
        if n == 0 {
            return Estimate {
                mean: None,
                sd: None,
                ci95: [None, None],
                n,
            };
        }
        let mean = xs.iter().sum::<f64>() / n as f64;
        if n < 2 {
            return Estimate {
                mean: Some(mean),
                sd: None,
                ci95: [None, None],
                n,
            };
        }
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let sd = var.sqrt();
        let half = t_975(n - 1) * sd / (n as f64).sqrt();
        Estimate {
            mean: Some(mean),
            sd: Some(sd),
            ci95: [Some(mean - half), Some(mean + half)],
            n,
        }
    }

    /// Paired differences `a_i − b_i` over replicates where both are defined.
    pub fn paired(a: &[f64], b: &[f64]) -> Estimate {
        Estimate::from_samples(a.iter().zip(b).map(|(x, y)| x - y))
    }

    /// Half-width of the interval, if defined.
    pub fn half_width(&self) -> Option<f64> {
        match self.ci95 {
            [Some(lo), Some(hi)] => Some((hi - lo) / 2.0),
            _ => None,
        }
    }

    /// Standard error of the mean, if defined.
    pub fn se(&self) -> Option<f64> {
        self.sd.map(|sd| sd / (self.n as f64).sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_interval() {
        let e = Estimate::from_samples([1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(e.mean, Some(3.0));
        let sd = 2.5f64.sqrt();
        assert!((e.sd.unwrap_or(0.0) - sd).abs() < 1e-12);
        // t(4, 0.975) = 2.776445...
        let half = 2.776_445_105 * sd / 5f64.sqrt();
        assert!((e.half_width().unwrap_or(0.0) - half).abs() < 1e-6);
    }

    #[test]
    fn undefined_values_are_left_out() {
        let e = Estimate::from_samples([f64::NAN, 2.0]);
        assert_eq!(e.n, 1);
        assert_eq!(e.mean, Some(2.0));
        assert_eq!(e.sd, None);
        assert_eq!(Estimate::from_samples([f64::NAN]).mean, None);
    }

    #[test]
    fn paired_differences() {
        let e = Estimate::paired(&[3.0, 5.0, 7.0], &[1.0, 3.0, 5.0]);
        assert_eq!(e.mean, Some(2.0));
        assert_eq!(e.sd, Some(0.0));
    }
}
