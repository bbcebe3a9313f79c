//! The embedded provider (`embedded`, `embedded/<file>.gguf`): a GGUF model run in-process
//! by llama.cpp through the `llama-cpp-2` crate.
//!
//! llama.cpp was chosen over pure-Rust engines because it was measured fastest on this
//! class of machine (see `docs/models.md`): its Q4_1 SIMD kernels are ~2.5× candle's.
//! The model's own GGUF metadata supplies the tokenizer and chat template (ChatML for the
//! default SmolLM2), so any llama-architecture GGUF works without extra files.
//!
//! [`EmbeddedModel`] is a handle to one engine thread (see [`engine`]); it is cheap to
//! share behind `Arc<dyn ModelApi>` and concurrent calls are batched together. Dropping the
//! last handle lets the thread finish its work and exit.

mod engine;
mod jobs;
mod prefix;
mod text;

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::mpsc::{self, Sender};
use std::thread::JoinHandle;
use std::time::Instant;

use async_trait::async_trait;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatTemplate, LlamaModel};
use tokio::sync::oneshot;

use self::engine::{Command, Engine, EngineConfig};
use self::jobs::Sink;
use crate::{
    CallMeta, Capabilities, Error, GenerateConfig, Generation, GenerationStream, Message, ModelApi,
    ScoreRequest, Scores,
};

/// File name of the default embedded model in the model cache.
pub const DEFAULT_MODEL_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// What went wrong inside llama.cpp.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The llama.cpp backend could not be initialised (another library in this process
    /// initialised it without going through this crate).
    #[error("the llama.cpp backend could not be initialised")]
    Backend,
    /// The GGUF could not be loaded.
    #[error("could not load the GGUF file")]
    Load(#[source] llama_cpp_2::LlamaModelLoadError),
    /// llama.cpp refused to create a context with the requested sizes.
    #[error("could not create a llama.cpp context")]
    Context(#[source] llama_cpp_2::LlamaContextLoadError),
    /// The chat template could not be applied to the messages.
    #[error("could not apply the model's chat template")]
    ApplyTemplate(#[source] llama_cpp_2::ApplyChatTemplateError),
    /// A forward pass failed.
    #[error("llama_decode failed")]
    Decode(#[source] llama_cpp_2::DecodeError),
    /// A batch could not be filled.
    #[error("could not fill the decode batch")]
    Batch(#[source] llama_cpp_2::llama_batch::BatchAddError),
    /// The engine thread could not be started.
    #[error("could not start the engine thread")]
    Spawn(#[source] std::io::Error),
}

/// How to run the embedded engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedOptions {
    /// CPU threads for llama.cpp; `None` means all cores. Keep this low when other work
    /// shares the machine: llama.cpp's throughput collapses under CPU contention.
    pub threads: Option<usize>,
    /// KV cache size in tokens, shared by all concurrent sequences (capped at the model's
    /// training context).
    pub context_size: u32,
    /// Most tokens per forward pass (prompt chunks plus one token per decoding sequence).
    pub batch_size: u32,
    /// Most sequences in flight at once: choices of concurrent generate calls plus
    /// continuations of concurrent score calls. Later requests queue.
    pub max_sequences: u32,
    /// Keep the last evaluated prompt's KV cache and skip the prefix a new prompt shares
    /// with it (system messages, few-shot examples). About 25% faster on eval-shaped
    /// work, but a prompt's logits then depend in the last bits on what ran before it
    /// (llama.cpp's kernels round differently by batch size and cache layout), so a
    /// resumed run could answer a near-tie differently. Off by default: an audit tool's
    /// runs must repeat bit for bit at concurrency 1; `RSP_PREFIX_CACHE=on` opts in.
    pub prefix_cache: bool,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        Self {
            threads: None,
            context_size: 8192,
            batch_size: 512,
            max_sequences: 16,
            prefix_cache: false,
        }
    }
}

/// Finds the GGUF for an embedded spec.
///
/// Order: the path or file name in the spec (a bare file name is looked up in the model
/// cache), then `model_path_env` (`RSP_MODEL_PATH`), then the default model in the cache
/// (`<cache_dir>/models/SmolLM2-135M-Instruct.Q4_1.gguf`). A missing file is
/// [`Error::ModelNotFound`], whose message says how to fetch the model.
pub fn resolve_model_path(
    spec_path: Option<&str>,
    model_path_env: Option<&Path>,
    cache_dir: Option<&Path>,
) -> Result<PathBuf, Error> {
    let in_cache = |file: &str| match cache_dir {
        Some(dir) => dir.join("models").join(file),
        None => PathBuf::from("~/.cache/rsp/models").join(file),
    };
    let path = match (spec_path, model_path_env) {
        (Some(p), _) => {
            let given = Path::new(p);
            if given.components().count() > 1 || given.is_file() {
                given.to_path_buf()
            } else {
                in_cache(p)
            }
        }
        (None, Some(env)) => env.to_path_buf(),
        (None, None) => in_cache(DEFAULT_MODEL_FILE),
    };
    if path.is_file() {
        Ok(path)
    } else {
        Err(Error::ModelNotFound { path })
    }
}

/// llama.cpp's backend is process-global (initialising it twice is an error), so the one
/// handle lives here and every engine borrows it; it is never freed, like the library's
/// own global state.
fn backend() -> Result<&'static LlamaBackend, EngineError> {
    static BACKEND: OnceLock<Option<LlamaBackend>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            // Route llama.cpp's stderr chatter into `tracing` (target `llama-cpp-2`).
            llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
            LlamaBackend::init().ok()
        })
        .as_ref()
        .ok_or(EngineError::Backend)
}

/// A GGUF model served by an in-process llama.cpp engine thread.
#[derive(Debug)]
pub struct EmbeddedModel {
    name: String,
    path: PathBuf,
    context_size: u32,
    max_sequences: u32,
    tx: Option<Sender<Command>>,
    thread: Option<JoinHandle<()>>,
}

impl EmbeddedModel {
    /// Loads `path` and starts its engine thread; blocks until the model is loaded (well
    /// under a second for the default model).
    pub fn load(path: &Path, options: &EmbeddedOptions) -> Result<Self, Error> {
        if !path.is_file() {
            return Err(Error::ModelNotFound {
                path: path.to_path_buf(),
            });
        }
        let file = path.file_name().map_or_else(
            || path.display().to_string(),
            |f| f.to_string_lossy().into_owned(),
        );
        let name = format!("embedded/{file}");
        let threads = options
            .threads
            .unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
            })
            .max(1);
        let (tx, rx) = mpsc::channel::<Command>();
        let (ready_tx, ready_rx) = mpsc::sync_channel::<Result<u32, Error>>(1);
        let thread_path = path.to_path_buf();
        let thread_name = name.clone();
        let opts = options.clone();
        let thread = std::thread::Builder::new()
            .name("rsp-llama".into())
            .spawn(move || {
                let fail = |source| Error::Engine { path: thread_path.clone(), source };
                let backend = match backend() {
                    Ok(b) => b,
                    Err(e) => return drop(ready_tx.send(Err(fail(e)))),
                };
                let model = match LlamaModel::load_from_file(backend, &thread_path, &LlamaModelParams::default()) {
                    Ok(m) => m,
                    Err(e) => return drop(ready_tx.send(Err(fail(EngineError::Load(e))))),
                };
                let n_ctx = opts.context_size.min(model.n_ctx_train().max(1)).max(64);
                let n_batch = opts.batch_size.max(16);
                let max_seqs = opts.max_sequences.clamp(1, 256);
                let t = i32::try_from(threads).unwrap_or(1);
                let params = LlamaContextParams::default()
                    .with_n_ctx(NonZeroU32::new(n_ctx))
                    .with_n_batch(n_batch)
                    .with_n_ubatch(n_batch)
                    // One extra sequence id holds the retained prompt prefix.
                    .with_n_seq_max(max_seqs + 1)
                    .with_n_threads(t)
                    .with_n_threads_batch(t)
                    .with_kv_unified(true);
                let ctx = match model.new_context(backend, params) {
                    Ok(c) => c,
                    Err(e) => return drop(ready_tx.send(Err(fail(EngineError::Context(e))))),
                };
                // A GGUF without a template (a base model) gets ChatML, the most common one.
                let template = model.chat_template(None).or_else(|_| LlamaChatTemplate::new("chatml"));
                let Ok(template) = template else {
                    return drop(ready_tx.send(Err(Error::InvalidRequest("no usable chat template"))));
                };
                let config = EngineConfig { n_ctx, n_batch, max_seqs, prefix_cache: opts.prefix_cache };
                tracing::debug!(?config, threads = t, model = %thread_name, "embedded engine ready");
                let _ = ready_tx.send(Ok(n_ctx));
                Engine::new(&model, ctx, template, thread_name, thread_path, config).run(&rx);
            })
            .map_err(|e| Error::Engine { path: path.to_path_buf(), source: EngineError::Spawn(e) })?;
        let context_size = ready_rx.recv().map_err(|_| Error::EngineStopped)??;
        Ok(Self {
            name,
            path: path.to_path_buf(),
            context_size,
            max_sequences: options.max_sequences.clamp(1, 256),
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// The GGUF file this engine serves.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The KV cache size actually allocated (tokens).
    pub fn context_size(&self) -> u32 {
        self.context_size
    }

    fn send(&self, cmd: Command) -> Result<(), Error> {
        self.tx
            .as_ref()
            .ok_or(Error::EngineStopped)?
            .send(cmd)
            .map_err(|_| Error::EngineStopped)
    }
}

impl Drop for EmbeddedModel {
    fn drop(&mut self) {
        // Closing the channel lets the thread finish accepted work and exit.
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn validate(config: &GenerateConfig) -> Result<(), Error> {
    if config.n == 0 {
        return Err(Error::InvalidRequest("n must be at least 1"));
    }
    if config.max_tokens == 0 {
        return Err(Error::InvalidRequest("max_tokens must be at least 1"));
    }
    if !config.temperature.is_finite() || config.temperature < 0.0 {
        return Err(Error::InvalidRequest(
            "temperature must be a finite number >= 0",
        ));
    }
    if !(config.top_p > 0.0 && config.top_p <= 1.0) {
        return Err(Error::InvalidRequest("top_p must be in (0, 1]"));
    }
    Ok(())
}

#[async_trait]
impl ModelApi for EmbeddedModel {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            logprobs: true,
            scoring: true,
            tools: false,
            streaming: true,
            seed: true,
        }
    }

    async fn generate(
        &self,
        messages: &[Message],
        config: &GenerateConfig,
    ) -> Result<Generation, Error> {
        validate(config)?;
        let (tx, rx) = oneshot::channel();
        self.send(Command::Generate {
            messages: messages.to_vec(),
            config: config.clone(),
            sink: Sink::Once(tx),
            submitted: Instant::now(),
        })?;
        rx.await.map_err(|_| Error::EngineStopped)?
    }

    async fn generate_stream(
        &self,
        messages: &[Message],
        config: &GenerateConfig,
    ) -> Result<GenerationStream, Error> {
        validate(config)?;
        let (tx, rx) = futures::channel::mpsc::unbounded();
        self.send(Command::Generate {
            messages: messages.to_vec(),
            config: config.clone(),
            sink: Sink::Stream(tx),
            submitted: Instant::now(),
        })?;
        Ok(Box::pin(rx))
    }

    async fn score(&self, request: &ScoreRequest) -> Result<Scores, Error> {
        let started = Instant::now();
        // More continuations than sequence slots are scored in groups; each group reuses
        // the context's KV cache internally.
        let mut pending = Vec::new();
        for group in request.continuations.chunks(self.max_sequences as usize) {
            let (tx, rx) = oneshot::channel();
            self.send(Command::Score {
                context: request.context.clone(),
                continuations: group.to_vec(),
                reply: tx,
            })?;
            pending.push(rx);
        }
        let mut scores = Vec::with_capacity(request.continuations.len());
        for rx in pending {
            scores.extend(rx.await.map_err(|_| Error::EngineStopped)??);
        }
        Ok(Scores {
            model: self.name.clone(),
            scores,
            latency: started.elapsed(),
            meta: CallMeta {
                attempts: 1,
                ..CallMeta::default()
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_order_is_spec_then_env_then_cache() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        std::fs::create_dir_all(cache.join("models")).unwrap();
        let default = cache.join("models").join(DEFAULT_MODEL_FILE);
        let named = cache.join("models").join("other.gguf");
        let env = dir.path().join("env.gguf");
        let explicit = dir.path().join("explicit.gguf");
        for p in [&default, &named, &env, &explicit] {
            std::fs::write(p, b"gguf").unwrap();
        }
        let explicit_s = explicit.to_string_lossy().into_owned();
        assert_eq!(
            resolve_model_path(Some(&explicit_s), Some(&env), Some(&cache)).unwrap(),
            explicit
        );
        assert_eq!(
            resolve_model_path(Some("other.gguf"), Some(&env), Some(&cache)).unwrap(),
            named
        );
        assert_eq!(
            resolve_model_path(None, Some(&env), Some(&cache)).unwrap(),
            env
        );
        assert_eq!(
            resolve_model_path(None, None, Some(&cache)).unwrap(),
            default
        );
    }

    #[test]
    fn missing_model_error_names_the_path_and_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let err = resolve_model_path(None, None, Some(dir.path())).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::ModelNotFound { .. }));
        assert!(
            msg.contains(DEFAULT_MODEL_FILE) && msg.contains("scripts/fetch-model.sh"),
            "{msg}"
        );
    }

    #[test]
    fn invalid_configs_are_rejected_before_reaching_the_engine() {
        assert!(validate(&GenerateConfig::default()).is_ok());
        assert!(
            validate(&GenerateConfig {
                n: 0,
                ..GenerateConfig::default()
            })
            .is_err()
        );
        assert!(
            validate(&GenerateConfig {
                max_tokens: 0,
                ..GenerateConfig::default()
            })
            .is_err()
        );
        assert!(
            validate(&GenerateConfig {
                temperature: f32::NAN,
                ..GenerateConfig::default()
            })
            .is_err()
        );
        assert!(
            validate(&GenerateConfig {
                top_p: 0.0,
                ..GenerateConfig::default()
            })
            .is_err()
        );
    }
}
