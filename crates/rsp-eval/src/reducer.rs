//! Epoch reducers: one value per sample out of its epochs' values.
//!
//! Written in task files as strings: `"mean"`, `"median"`, `"max"`, `"mode"`,
//! `"at_least(k)"`, `"pass_at(k)"`. `at_least` and `pass_at` count an epoch as a success
//! when its value is at least 1 (correct), and use `rsp-stats` (pass@k is the unbiased
//! estimator of Chen et al. 2021).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// How a sample's epoch values become one value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Reducer {
    /// Arithmetic mean.
    #[default]
    Mean,
    /// Median.
    Median,
    /// Maximum.
    Max,
    /// Most frequent value (ties: the one seen first).
    Mode,
    /// 1 when at least `k` epochs succeeded, else 0.
    AtLeast(u64),
    /// Unbiased pass@k.
    PassAt(u64),
}

impl Reducer {
    /// The fewest epochs this reducer needs.
    pub fn min_epochs(self) -> u64 {
        match self {
            Reducer::AtLeast(k) | Reducer::PassAt(k) => k,
            _ => 1,
        }
    }

    /// Reduces one sample's epoch values (in epoch order).
    pub fn reduce(self, values: &[f64]) -> Result<f64, Error> {
        if values.is_empty() {
            return Err(Error::Stats(rsp_stats::Error::TooFewObservations {
                what: "an epoch reducer",
                needed: 1,
                got: 0,
            }));
        }
        Ok(match self {
            Reducer::Mean => values.iter().sum::<f64>() / values.len() as f64,
            Reducer::Median => {
                let mut v = values.to_vec();
                v.sort_by(f64::total_cmp);
                let m = v.len() / 2;
                if v.len().is_multiple_of(2) {
                    (v[m - 1] + v[m]) / 2.0
                } else {
                    v[m]
                }
            }
            Reducer::Max => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            Reducer::Mode => {
                let mut best = (values[0], 0usize);
                for &v in values {
                    let n = values.iter().filter(|&&x| x == v).count();
                    if n > best.1 {
                        best = (v, n);
                    }
                }
                best.0
            }
            Reducer::AtLeast(k) => rsp_stats::at_least(values, k, 1.0)?,
            Reducer::PassAt(k) => rsp_stats::pass_at(values, k, 1.0)?,
        })
    }

    /// True when the reduced value of 0/1 epoch values is itself 0/1 whatever the epochs,
    /// so the Wilson interval applies.
    pub fn keeps_binary(self, epochs: u32) -> bool {
        epochs == 1 || matches!(self, Reducer::Max | Reducer::Mode | Reducer::AtLeast(_))
    }
}

impl fmt::Display for Reducer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reducer::Mean => f.write_str("mean"),
            Reducer::Median => f.write_str("median"),
            Reducer::Max => f.write_str("max"),
            Reducer::Mode => f.write_str("mode"),
            Reducer::AtLeast(k) => write!(f, "at_least({k})"),
            Reducer::PassAt(k) => write!(f, "pass_at({k})"),
        }
    }
}

/// Why a reducer string did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown reducer {0:?}: expected mean, median, max, mode, at_least(k) or pass_at(k) with k >= 1"
)]
pub struct ReducerParseError(String);

impl FromStr for Reducer {
    type Err = ReducerParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let with_k = |name: &str| -> Option<u64> {
            t.strip_prefix(name)?
                .strip_prefix('(')?
                .strip_suffix(')')?
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|k| *k >= 1)
        };
        match t {
            "mean" => Ok(Reducer::Mean),
            "median" => Ok(Reducer::Median),
            "max" => Ok(Reducer::Max),
            "mode" => Ok(Reducer::Mode),
            _ => with_k("at_least")
                .map(Reducer::AtLeast)
                .or_else(|| with_k("pass_at").map(Reducer::PassAt))
                .ok_or_else(|| ReducerParseError(s.to_owned())),
        }
    }
}

impl TryFrom<String> for Reducer {
    type Error = ReducerParseError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Reducer> for String {
    fn from(r: Reducer) -> String {
        r.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        for s in ["mean", "median", "max", "mode", "at_least(2)", "pass_at(3)"] {
            assert_eq!(s.parse::<Reducer>().unwrap().to_string(), s);
        }
        assert_eq!(" pass_at( 1 ) ".parse::<Reducer>(), Ok(Reducer::PassAt(1)));
        for bad in ["avg", "pass_at(0)", "at_least()", "pass_at(x)"] {
            assert!(bad.parse::<Reducer>().is_err(), "{bad}");
        }
    }

    #[test]
    fn reduces() {
        let v = [1.0, 0.0, 1.0, 0.0, 0.0];
        assert_eq!(Reducer::Mean.reduce(&v).unwrap(), 0.4);
        assert_eq!(Reducer::Median.reduce(&[3.0, 1.0, 2.0, 10.0]).unwrap(), 2.5);
        assert_eq!(Reducer::Max.reduce(&v).unwrap(), 1.0);
        assert_eq!(Reducer::Mode.reduce(&v).unwrap(), 0.0);
        assert_eq!(
            Reducer::Mode.reduce(&[1.0, 0.0]).unwrap(),
            1.0,
            "tie: first seen"
        );
        assert_eq!(Reducer::AtLeast(2).reduce(&v).unwrap(), 1.0);
        assert_eq!(Reducer::AtLeast(3).reduce(&v).unwrap(), 0.0);
        // pass@1 with 2 of 5 is 0.4; pass@2 = 1 - C(3,2)/C(5,2) = 0.7.
        assert!((Reducer::PassAt(1).reduce(&v).unwrap() - 0.4).abs() < 1e-12);
        assert!((Reducer::PassAt(2).reduce(&v).unwrap() - 0.7).abs() < 1e-12);
        assert!(Reducer::PassAt(6).reduce(&v).is_err());
        assert!(Reducer::Mean.reduce(&[]).is_err());
        assert!(Reducer::Max.keeps_binary(5) && !Reducer::Mean.keeps_binary(5));
        assert!(Reducer::Mean.keeps_binary(1));
    }
}
