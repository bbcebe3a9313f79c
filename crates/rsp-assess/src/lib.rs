//! Assessments under a responsible scaling policy (work in progress).
#![deny(missing_docs)]
