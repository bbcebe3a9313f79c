//! Input checks shared by every model, run before any arithmetic so that
//! degenerate data becomes a typed error instead of NaN parameters.

use crate::error::{Error, Result};

pub(crate) fn same_len(left: &'static str, l: usize, right: &'static str, r: usize) -> Result<()> {
    if l == r {
        Ok(())
    } else {
        Err(Error::LengthMismatch {
            left,
            left_len: l,
            right,
            right_len: r,
        })
    }
}

pub(crate) fn enough(model: &'static str, needed: usize, got: usize) -> Result<()> {
    if got >= needed {
        Ok(())
    } else {
        Err(Error::TooFewPoints { model, needed, got })
    }
}

pub(crate) fn finite(what: &'static str, v: &[f64]) -> Result<()> {
    match v.iter().position(|x| !x.is_finite()) {
        Some(index) => Err(Error::NonFinite {
            what,
            index,
            value: v[index],
        }),
        None => Ok(()),
    }
}

/// Finite and strictly positive; returns the natural logarithms.
pub(crate) fn positive_logs(what: &'static str, v: &[f64]) -> Result<Vec<f64>> {
    finite(what, v)?;
    match v.iter().position(|&x| x <= 0.0) {
        Some(index) => Err(Error::NonPositive {
            what,
            index,
            value: v[index],
        }),
        None => Ok(v.iter().map(|x| x.ln()).collect()),
    }
}

pub(crate) fn not_constant(what: &'static str, v: &[f64]) -> Result<()> {
    match v.first() {
        Some(&first) if v.iter().all(|&x| x == first) => {
            Err(Error::Constant { what, value: first })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_check_names_the_fault() {
        assert!(matches!(
            same_len("x", 2, "y", 3),
            Err(Error::LengthMismatch { right_len: 3, .. })
        ));
        assert!(matches!(
            enough("m", 4, 3),
            Err(Error::TooFewPoints {
                needed: 4,
                got: 3,
                ..
            })
        ));
        assert!(matches!(
            finite("x", &[1.0, f64::NAN]),
            Err(Error::NonFinite { index: 1, .. })
        ));
        assert!(matches!(
            positive_logs("x", &[1.0, 0.0]),
            Err(Error::NonPositive { index: 1, .. })
        ));
        assert!(matches!(
            not_constant("y", &[2.0, 2.0]),
            Err(Error::Constant { .. })
        ));
        assert!(not_constant("y", &[2.0, 3.0]).is_ok());
        assert_eq!(positive_logs("x", &[1.0]).unwrap(), vec![0.0]);
    }
}
