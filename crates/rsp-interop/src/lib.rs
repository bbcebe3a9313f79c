//! Interop with other eval harnesses (work in progress).
#![deny(missing_docs)]
