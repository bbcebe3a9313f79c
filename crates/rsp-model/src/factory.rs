//! From a `provider/model` spec string to an `Arc<dyn ModelApi>`.
//!
//! Specs follow Inspect's convention:
//!
//! | spec | provider |
//! |---|---|
//! | `embedded` | the default GGUF from the model cache (or `RSP_MODEL_PATH`) |
//! | `embedded/<file>.gguf`, `embedded/<path>` | a GGUF by cache file name or path |
//! | `openai/<model>` | OpenAI-compatible server at the configured base URL or `OPENAI_BASE_URL` |
//! | `anthropic/<model>` | Anthropic Messages API |
//! | `mock/<script>` | deterministic mock, for tests |
//!
//! The environment is read once, into [`ProviderEnv`], by the caller (normally `main`), so
//! tests can build providers from explicit values. [`ProviderFactory`] owns the one shared
//! HTTP client and caches embedded engines by path, so asking twice for the same GGUF does
//! not start two engines competing for the same cores.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use crate::anthropic::{AnthropicModel, DEFAULT_ANTHROPIC_BASE_URL};
use crate::embedded::{EmbeddedModel, EmbeddedOptions, resolve_model_path};
use crate::http::Transport;
use crate::limiter::AdaptiveLimiter;
use crate::mock::MockModel;
use crate::openai::{DEFAULT_OPENAI_BASE_URL, OpenAiModel};
use crate::{Error, ModelApi, RetryPolicy, SecretString};

/// A parsed model spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSpec {
    /// In-process GGUF; `None` means the default model.
    Embedded(Option<String>),
    /// OpenAI-compatible API, with the model name.
    OpenAi(String),
    /// Anthropic Messages API, with the model name.
    Anthropic(String),
    /// Deterministic mock, with its script.
    Mock(String),
}

impl ModelSpec {
    /// Parses `provider/model`; `embedded` alone is also accepted.
    pub fn parse(spec: &str) -> Result<Self, Error> {
        let spec = spec.trim();
        let (provider, rest) = match spec.split_once('/') {
            Some((p, r)) => (p, Some(r)),
            None => (spec, None),
        };
        let need = |rest: Option<&str>, reason| match rest {
            Some(r) if !r.is_empty() => Ok(r.to_owned()),
            _ => Err(Error::InvalidSpec {
                spec: spec.to_owned(),
                reason,
            }),
        };
        match provider {
            "embedded" => Ok(ModelSpec::Embedded(
                rest.filter(|r| !r.is_empty()).map(str::to_owned),
            )),
            "openai" => need(rest, "expected openai/<model>").map(ModelSpec::OpenAi),
            "anthropic" => need(rest, "expected anthropic/<model>").map(ModelSpec::Anthropic),
            "mock" => need(rest, "expected mock/<script>").map(ModelSpec::Mock),
            "" => Err(Error::InvalidSpec {
                spec: spec.to_owned(),
                reason: "empty provider",
            }),
            other => Err(Error::UnknownProvider {
                spec: spec.to_owned(),
                provider: other.to_owned(),
            }),
        }
    }
}

/// The environment variables providers read, captured once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderEnv {
    /// `OPENAI_API_KEY`.
    pub openai_api_key: Option<SecretString>,
    /// `OPENAI_BASE_URL`.
    pub openai_base_url: Option<String>,
    /// `ANTHROPIC_API_KEY`.
    pub anthropic_api_key: Option<SecretString>,
    /// `ANTHROPIC_BASE_URL`.
    pub anthropic_base_url: Option<String>,
    /// `RSP_MODEL_PATH`: the GGUF for a bare `embedded` spec.
    pub model_path: Option<PathBuf>,
    /// `RSP_PREFIX_CACHE`: `off`, `0` or `false` switches the embedded engine's prompt
    /// prefix cache off (see [`EmbeddedOptions::prefix_cache`]); anything else non-empty
    /// turns it on; unset means off.
    pub prefix_cache: Option<bool>,
    /// rsp's cache directory: `RSP_CACHE_DIR`, else `$XDG_CACHE_HOME/rsp`, else
    /// `$HOME/.cache/rsp` (models live in its `models/` folder).
    pub cache_dir: Option<PathBuf>,
}

impl ProviderEnv {
    /// Reads the process environment (empty values count as unset).
    pub fn from_process() -> Self {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads variables through `lookup` (for tests and embedding).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |k: &str| lookup(k).filter(|v| !v.trim().is_empty());
        let cache_dir = get("RSP_CACHE_DIR")
            .map(PathBuf::from)
            .or_else(|| get("XDG_CACHE_HOME").map(|x| PathBuf::from(x).join("rsp")))
            .or_else(|| get("HOME").map(|h| PathBuf::from(h).join(".cache").join("rsp")));
        Self {
            openai_api_key: get("OPENAI_API_KEY").map(SecretString::new),
            openai_base_url: get("OPENAI_BASE_URL"),
            anthropic_api_key: get("ANTHROPIC_API_KEY").map(SecretString::new),
            anthropic_base_url: get("ANTHROPIC_BASE_URL"),
            model_path: get("RSP_MODEL_PATH").map(PathBuf::from),
            prefix_cache: get("RSP_PREFIX_CACHE").map(|v| {
                !matches!(
                    v.trim().to_ascii_lowercase().as_str(),
                    "off" | "0" | "false" | "no"
                )
            }),
            cache_dir,
        }
    }
}

/// Settings for building providers. Configuration values (`openai_base_url`, …) win over
/// the environment.
#[derive(Debug, Clone)]
pub struct ProviderOptions {
    /// Environment captured at start-up.
    pub env: ProviderEnv,
    /// Base URL for `openai/` from configuration (before `OPENAI_BASE_URL`).
    pub openai_base_url: Option<String>,
    /// Base URL for `anthropic/` from configuration (before `ANTHROPIC_BASE_URL`).
    pub anthropic_base_url: Option<String>,
    /// Whole-request timeout for non-streaming calls; per-read timeout for streams.
    pub request_timeout: Duration,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Retry policy for hosted providers.
    pub retry: RetryPolicy,
    /// Starting concurrency per hosted provider.
    pub initial_concurrency: usize,
    /// Ceiling the adaptive limit may grow to.
    pub max_concurrency: usize,
    /// Embedded engine settings.
    pub embedded: EmbeddedOptions,
}

impl ProviderOptions {
    /// Defaults around `env`.
    pub fn new(env: ProviderEnv) -> Self {
        let prefix_cache = env.prefix_cache.unwrap_or(false);
        Self {
            env,
            openai_base_url: None,
            anthropic_base_url: None,
            request_timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            initial_concurrency: 8,
            max_concurrency: 64,
            embedded: EmbeddedOptions {
                prefix_cache,
                ..EmbeddedOptions::default()
            },
        }
    }
}

/// Builds providers from spec strings, sharing one HTTP client and one engine per GGUF.
#[derive(Debug)]
pub struct ProviderFactory {
    options: ProviderOptions,
    client: reqwest::Client,
    engines: Mutex<HashMap<PathBuf, Weak<EmbeddedModel>>>,
}

impl ProviderFactory {
    /// Creates the factory and its HTTP client.
    pub fn new(options: ProviderOptions) -> Result<Self, Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .read_timeout(options.request_timeout)
            .user_agent(concat!("rsp/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(Error::Client)?;
        Ok(Self {
            options,
            client,
            engines: Mutex::new(HashMap::new()),
        })
    }

    /// The options this factory was built with.
    pub fn options(&self) -> &ProviderOptions {
        &self.options
    }

    /// Builds (or, for embedded models, reuses) the provider for `spec`.
    pub fn build(&self, spec: &str) -> Result<Arc<dyn ModelApi>, Error> {
        match ModelSpec::parse(spec)? {
            ModelSpec::Embedded(path) => Ok(self.embedded(path.as_deref())?),
            ModelSpec::OpenAi(model) => Ok(Arc::new(self.openai(&model)?)),
            ModelSpec::Anthropic(model) => Ok(Arc::new(self.anthropic(&model)?)),
            ModelSpec::Mock(script) => Ok(Arc::new(MockModel::from_script(&script)?)),
        }
    }

    /// The embedded engine for a spec path (`None`: default model), started on first use.
    pub fn embedded(&self, spec_path: Option<&str>) -> Result<Arc<EmbeddedModel>, Error> {
        let env = &self.options.env;
        let path = resolve_model_path(
            spec_path,
            env.model_path.as_deref(),
            env.cache_dir.as_deref(),
        )?;
        let mut engines = self.engines.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(existing) = engines.get(&path).and_then(Weak::upgrade) {
            return Ok(existing);
        }
        let model = Arc::new(EmbeddedModel::load(&path, &self.options.embedded)?);
        engines.insert(path, Arc::downgrade(&model));
        Ok(model)
    }

    /// An OpenAI-compatible provider for `model`.
    pub fn openai(&self, model: &str) -> Result<OpenAiModel, Error> {
        let o = &self.options;
        let base_url = o
            .openai_base_url
            .clone()
            .or_else(|| o.env.openai_base_url.clone())
            .unwrap_or_else(|| DEFAULT_OPENAI_BASE_URL.to_owned());
        // Local servers (vLLM, llama.cpp, Ollama) usually need no key; OpenAI itself does.
        if o.env.openai_api_key.is_none() && base_url.starts_with(DEFAULT_OPENAI_BASE_URL) {
            return Err(Error::MissingApiKey {
                provider: "openai",
                var: "OPENAI_API_KEY",
            });
        }
        OpenAiModel::new(
            model,
            &base_url,
            self.transport("openai", o.env.openai_api_key.clone()),
        )
    }

    /// An Anthropic provider for `model`.
    pub fn anthropic(&self, model: &str) -> Result<AnthropicModel, Error> {
        let o = &self.options;
        let base_url = o
            .anthropic_base_url
            .clone()
            .or_else(|| o.env.anthropic_base_url.clone())
            .unwrap_or_else(|| DEFAULT_ANTHROPIC_BASE_URL.to_owned());
        AnthropicModel::new(
            model,
            &base_url,
            self.transport("anthropic", o.env.anthropic_api_key.clone()),
        )
    }

    fn transport(&self, provider: &'static str, secret: Option<SecretString>) -> Transport {
        let o = &self.options;
        Transport {
            client: self.client.clone(),
            provider,
            retry: o.retry.clone(),
            limiter: AdaptiveLimiter::new(o.initial_concurrency, o.max_concurrency),
            secret,
            timeout: o.request_timeout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs() {
        assert_eq!(
            ModelSpec::parse("embedded").unwrap(),
            ModelSpec::Embedded(None)
        );
        assert_eq!(
            ModelSpec::parse("embedded/x.gguf").unwrap(),
            ModelSpec::Embedded(Some("x.gguf".into()))
        );
        assert_eq!(
            ModelSpec::parse("embedded//abs/x.gguf").unwrap(),
            ModelSpec::Embedded(Some("/abs/x.gguf".into()))
        );
        assert_eq!(
            ModelSpec::parse("openai/gpt-4o-mini").unwrap(),
            ModelSpec::OpenAi("gpt-4o-mini".into())
        );
        assert_eq!(
            ModelSpec::parse("openai/meta-llama/Llama-3-8B").unwrap(),
            ModelSpec::OpenAi("meta-llama/Llama-3-8B".into())
        );
        assert_eq!(
            ModelSpec::parse("anthropic/claude-x").unwrap(),
            ModelSpec::Anthropic("claude-x".into())
        );
        assert_eq!(
            ModelSpec::parse("mock/echo").unwrap(),
            ModelSpec::Mock("echo".into())
        );
        assert!(matches!(
            ModelSpec::parse("openai"),
            Err(Error::InvalidSpec { .. })
        ));
        assert!(matches!(
            ModelSpec::parse("openai/"),
            Err(Error::InvalidSpec { .. })
        ));
        assert!(matches!(
            ModelSpec::parse("foo/bar"),
            Err(Error::UnknownProvider { .. })
        ));
    }

    #[test]
    fn env_lookup_resolves_cache_dir_in_order() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            ProviderEnv::from_lookup(move |k| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            })
        };
        assert_eq!(
            vars(&[("HOME", "/h")]).cache_dir,
            Some(PathBuf::from("/h/.cache/rsp"))
        );
        assert_eq!(
            vars(&[("HOME", "/h"), ("XDG_CACHE_HOME", "/x")]).cache_dir,
            Some(PathBuf::from("/x/rsp"))
        );
        assert_eq!(
            vars(&[
                ("HOME", "/h"),
                ("XDG_CACHE_HOME", "/x"),
                ("RSP_CACHE_DIR", "/r")
            ])
            .cache_dir,
            Some(PathBuf::from("/r"))
        );
        let e = vars(&[("OPENAI_API_KEY", "sk-zzz"), ("OPENAI_BASE_URL", "")]);
        assert_eq!(e.openai_base_url, None, "empty counts as unset");
        assert!(!format!("{e:?}").contains("sk-zzz"));
    }

    #[test]
    fn prefix_cache_is_off_unless_switched_on() {
        let with = |v: &'static str| {
            ProviderOptions::new(ProviderEnv::from_lookup(move |k| {
                (k == "RSP_PREFIX_CACHE").then(|| v.to_owned())
            }))
            .embedded
            .prefix_cache
        };
        assert!(
            !ProviderOptions::new(ProviderEnv::default())
                .embedded
                .prefix_cache
        );
        assert!(with("on") && with("1"));
        assert!(!with(""), "empty counts as unset");
        assert!(!with("off") && !with("0") && !with("FALSE") && !with("no"));
    }

    #[test]
    fn builds_mock_and_requires_keys_where_needed() {
        let factory = ProviderFactory::new(ProviderOptions::new(ProviderEnv::default())).unwrap();
        assert_eq!(factory.build("mock/echo").unwrap().name(), "mock/echo");
        assert!(matches!(
            factory.build("openai/gpt-x"),
            Err(Error::MissingApiKey {
                var: "OPENAI_API_KEY",
                ..
            })
        ));
        assert!(matches!(
            factory.build("anthropic/c"),
            Err(Error::MissingApiKey {
                var: "ANTHROPIC_API_KEY",
                ..
            })
        ));
        let local = ProviderFactory::new(ProviderOptions {
            openai_base_url: Some("http://127.0.0.1:9/v1".into()),
            ..ProviderOptions::new(ProviderEnv::default())
        })
        .unwrap();
        let m = local.build("openai/local").unwrap();
        assert_eq!(m.endpoint(), Some("http://127.0.0.1:9/v1"));
        assert!(
            m.capabilities().scoring,
            "local OpenAI-compatible servers can score"
        );
    }
}
