//! Errors of setting the proxy up and running it. Per-request failures never surface here:
//! they become HTTP responses (see `handlers`).

use std::net::SocketAddr;

/// Why the proxy could not start or stopped serving.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The upstream base URL does not parse.
    #[error("invalid upstream base URL {url:?}")]
    InvalidUpstreamUrl {
        /// The URL as given.
        url: String,
        /// The parser's complaint.
        #[source]
        source: <reqwest::Url as std::str::FromStr>::Err,
    },
    /// The upstream base URL is not http or https.
    #[error("upstream base URL {url:?} must use http or https")]
    UnsupportedScheme {
        /// The URL as given.
        url: String,
    },
    /// The HTTP client for the upstream could not be built (TLS setup).
    #[error("could not build the upstream HTTP client")]
    Client(#[source] reqwest::Error),
    /// The listen address could not be bound.
    #[error("could not bind {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The server loop failed.
    #[error("the proxy server failed")]
    Serve(#[source] std::io::Error),
}
