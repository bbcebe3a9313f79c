//! The slice of the OpenAI chat-completions wire format the proxy reads and writes.
//!
//! Requests are forwarded as the client sent them (unknown fields included), so the proxy
//! parses only what the guard needs: the messages, `stream` and `model`. Responses are read
//! for their text and rewritten only when blocked; a refusal is a normal `chat.completion`
//! (or chunk stream) with `finish_reason: "content_filter"`, which every OpenAI client
//! already handles.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use rsp_model::{Message, Role};
use serde_json::{Value, json};

/// The final SSE frame of every OpenAI stream.
pub(crate) const DONE_FRAME: &str = "data: [DONE]\n\n";

/// The finish reason of a blocked choice (OpenAI's own value for filtered content).
pub(crate) const CONTENT_FILTER: &str = "content_filter";

/// A parsed chat-completions request.
#[derive(Debug, Clone)]
pub(crate) struct ChatRequest {
    /// The body as received, forwarded verbatim.
    pub body: Bytes,
    /// The conversation as the guard sees it.
    pub messages: Vec<Message>,
    /// Whether the client asked for a stream.
    pub stream: bool,
    /// The requested model (echoed in refusals).
    pub model: String,
}

/// Parses a request body. With `model_override`, the body's `model` is replaced before it is
/// forwarded (the body is re-serialised only then). The error is a client-facing message.
pub(crate) fn parse_request(
    body: Bytes,
    model_override: Option<&str>,
) -> Result<ChatRequest, String> {
    let mut v: Value =
        serde_json::from_slice(&body).map_err(|e| format!("request body is not JSON: {e}"))?;
    let obj = v
        .as_object_mut()
        .ok_or("request body must be a JSON object")?;
    let body = match model_override {
        Some(model) => {
            obj.insert("model".into(), Value::String(model.to_owned()));
            Bytes::from(v.to_string())
        }
        None => body,
    };
    let obj = v.as_object().ok_or("request body must be a JSON object")?;
    let raw = obj
        .get("messages")
        .and_then(Value::as_array)
        .ok_or("`messages` must be an array")?;
    let messages = raw
        .iter()
        .map(guard_message)
        .collect::<Result<Vec<_>, _>>()?;
    if messages.is_empty() {
        return Err("`messages` must not be empty".into());
    }
    let stream = obj.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let model = obj
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Ok(ChatRequest {
        body,
        messages,
        stream,
        model,
    })
}

/// One wire message as the guard sees it. Roles the guard's three do not cover map to the
/// closest: `developer` is a system message; `tool`/`function` results are untrusted input,
/// so they are user turns marked as tool output. Non-text parts (images, audio) cannot be
/// read by a text guard and appear as a placeholder naming their type.
fn guard_message(m: &Value) -> Result<Message, String> {
    let role = m
        .get("role")
        .and_then(Value::as_str)
        .ok_or("every message needs a `role`")?;
    let mut text = content_text(m.get("content"));
    if let Some(calls) = m.get("tool_calls").and_then(Value::as_array) {
        for call in calls {
            push_tool_call(&mut text, call);
        }
    }
    let (role, text) = match role {
        "system" | "developer" => (Role::System, text),
        "assistant" => (Role::Assistant, text),
        "tool" | "function" => (Role::User, format!("[tool result] {text}")),
        _ => (Role::User, text),
    };
    Ok(Message {
        role,
        content: text,
    })
}

fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => {
            let mut out = String::new();
            for p in parts {
                if !out.is_empty() {
                    out.push('\n');
                }
                match p.get("text").and_then(Value::as_str) {
                    Some(t) => out.push_str(t),
                    None => {
                        let kind = p.get("type").and_then(Value::as_str).unwrap_or("unknown");
                        out.push_str(&format!("[{kind} omitted]"));
                    }
                }
            }
            out
        }
        _ => String::new(),
    }
}

fn push_tool_call(text: &mut String, call: &Value) {
    let f = call.get("function");
    let name = f
        .and_then(|f| f.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let args = f
        .and_then(|f| f.get("arguments"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(&format!("[tool call {name}] {args}"));
}

/// The parts of one streamed chunk the proxy needs.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct ChunkInfo {
    /// `id`, `created`, `model` of the chunk, reused for a cut-off chunk.
    pub id: Option<Value>,
    pub created: Option<Value>,
    pub model: Option<Value>,
    /// Per choice: index, new text (content, refusal and tool-call arguments), finished.
    pub choices: Vec<(u32, String, bool)>,
}

/// Reads a `chat.completion.chunk`. `None` when the data is not a JSON object.
pub(crate) fn parse_chunk(data: &str) -> Option<ChunkInfo> {
    let v: Value = serde_json::from_str(data).ok()?;
    let obj = v.as_object()?;
    let mut info = ChunkInfo {
        id: obj.get("id").cloned(),
        created: obj.get("created").cloned(),
        model: obj.get("model").cloned(),
        choices: Vec::new(),
    };
    for c in obj
        .get("choices")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let index = c
            .get("index")
            .and_then(Value::as_u64)
            .and_then(|i| u32::try_from(i).ok())
            .unwrap_or(0);
        let delta = c.get("delta");
        let mut text = String::new();
        for key in ["content", "refusal"] {
            if let Some(t) = delta.and_then(|d| d.get(key)).and_then(Value::as_str) {
                text.push_str(t);
            }
        }
        for call in delta
            .and_then(|d| d.get("tool_calls"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let args = call.get("function").and_then(|f| f.get("arguments"));
            if let Some(a) = args.and_then(Value::as_str) {
                text.push_str(a);
            }
        }
        let finished = c.get("finish_reason").is_some_and(|f| !f.is_null());
        info.choices.push((index, text, finished));
    }
    Some(info)
}

/// The text of every choice of a non-streamed `chat.completion`, by position in `choices`.
pub(crate) fn completion_texts(v: &Value) -> Vec<String> {
    let choices = v.get("choices").and_then(Value::as_array);
    choices
        .into_iter()
        .flatten()
        .map(|c| {
            let msg = c.get("message");
            let mut text = content_text(msg.and_then(|m| m.get("content")));
            if let Some(r) = msg.and_then(|m| m.get("refusal")).and_then(Value::as_str) {
                text.push_str(r);
            }
            for call in msg
                .and_then(|m| m.get("tool_calls"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                push_tool_call(&mut text, call);
            }
            text
        })
        .collect()
}

/// Replaces choice `pos` of a completion with a refusal.
pub(crate) fn refuse_choice(v: &mut Value, pos: usize, refusal: &str) {
    if let Some(c) = v
        .get_mut("choices")
        .and_then(Value::as_array_mut)
        .and_then(|cs| cs.get_mut(pos))
    {
        c["message"] = json!({"role": "assistant", "content": refusal, "refusal": null});
        c["finish_reason"] = json!(CONTENT_FILTER);
        if let Some(obj) = c.as_object_mut() {
            obj.remove("logprobs");
        }
    }
}

/// Seconds since the epoch, for `created`.
pub(crate) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A whole `chat.completion` refusing the request.
pub(crate) fn refusal_completion(id: &str, model: &str, refusal: &str) -> Value {
    json!({
        "id": id,
        "object": "chat.completion",
        "created": now_unix(),
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": refusal, "refusal": null},
            "logprobs": null,
            "finish_reason": CONTENT_FILTER,
        }],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    })
}

/// A whole stream refusing the request: the refusal text, a `content_filter` finish, `[DONE]`.
pub(crate) fn refusal_stream(id: &str, model: &str, refusal: &str) -> String {
    let created = now_unix();
    let first = json!({
        "id": id, "object": "chat.completion.chunk", "created": created, "model": model,
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": refusal},
                     "logprobs": null, "finish_reason": null}],
    });
    let last = json!({
        "id": id, "object": "chat.completion.chunk", "created": created, "model": model,
        "choices": [{"index": 0, "delta": {}, "logprobs": null, "finish_reason": CONTENT_FILTER}],
    });
    format!(
        "{}{}{DONE_FRAME}",
        frame(&first.to_string()),
        frame(&last.to_string())
    )
}

/// The chunk that ends a stream cut off by an output check: an empty delta with
/// `finish_reason: "content_filter"` for every choice seen, under the stream's own id.
pub(crate) fn cut_chunk(last: &ChunkInfo, fallback_id: &str, choices: &[u32]) -> String {
    let choices: Vec<Value> = choices
        .iter()
        .map(
            |i| json!({"index": i, "delta": {}, "logprobs": null, "finish_reason": CONTENT_FILTER}),
        )
        .collect();
    let v = json!({
        "id": last.id.clone().unwrap_or_else(|| json!(fallback_id)),
        "object": "chat.completion.chunk",
        "created": last.created.clone().unwrap_or_else(|| json!(now_unix())),
        "model": last.model.clone().unwrap_or_else(|| json!("")),
        "choices": choices,
    });
    frame(&v.to_string())
}

/// `data: <data>\n\n`. Multi-line data becomes one `data:` line per line, as SSE requires.
pub(crate) fn frame(data: &str) -> String {
    let mut s = String::with_capacity(data.len() + 8);
    for line in data.split('\n') {
        s.push_str("data: ");
        s.push_str(line);
        s.push('\n');
    }
    s.push('\n');
    s
}

/// An OpenAI-style error body.
pub(crate) fn error_body(message: &str, kind: &str) -> Value {
    json!({"error": {"message": message, "type": kind, "param": null, "code": null}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_roles_and_parts_map_to_guard_messages() {
        let body = json!({
            "model": "m", "stream": true,
            "messages": [
                {"role": "developer", "content": "be nice"},
                {"role": "user", "content": [{"type": "text", "text": "look"},
                                             {"type": "image_url", "image_url": {"url": "x"}}]},
                {"role": "assistant", "content": null,
                 "tool_calls": [{"id": "1", "type": "function",
                                 "function": {"name": "f", "arguments": "{\"a\":1}"}}]},
                {"role": "tool", "tool_call_id": "1", "content": "42"},
            ]
        });
        let r = parse_request(Bytes::from(body.to_string()), None).unwrap();
        assert!(r.stream);
        assert_eq!(r.model, "m");
        let m = &r.messages;
        assert_eq!(m[0].role, Role::System);
        assert_eq!(m[1].content, "look\n[image_url omitted]");
        assert_eq!(m[2].content, "[tool call f] {\"a\":1}");
        assert_eq!(
            (m[3].role, m[3].content.as_str()),
            (Role::User, "[tool result] 42")
        );
    }

    #[test]
    fn model_override_rewrites_the_forwarded_body() {
        let body = json!({"model": "client-choice", "temperature": 0.3,
                          "messages": [{"role": "user", "content": "hi"}]});
        let r = parse_request(Bytes::from(body.to_string()), Some("gpt-x")).unwrap();
        assert_eq!(r.model, "gpt-x");
        let fwd: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(fwd["model"], "gpt-x");
        assert_eq!(fwd["temperature"], 0.3, "other fields survive");
        let raw = Bytes::from(body.to_string());
        let r = parse_request(raw.clone(), None).unwrap();
        assert_eq!(r.body, raw, "forwarded verbatim without an override");
    }

    #[test]
    fn bad_requests_are_rejected() {
        for body in [
            "nope",
            "[]",
            "{}",
            r#"{"messages": []}"#,
            r#"{"messages": [{}]}"#,
        ] {
            assert!(parse_request(Bytes::from(body), None).is_err(), "{body}");
        }
    }

    #[test]
    fn chunk_text_and_finish() {
        let c = parse_chunk(
            r#"{"id":"c1","created":5,"model":"m","choices":[
                {"index":1,"delta":{"content":"he"},"finish_reason":null},
                {"index":0,"delta":{"tool_calls":[{"function":{"arguments":"{x"}}]},"finish_reason":"stop"}]}"#,
        )
        .unwrap();
        assert_eq!(c.id, Some(json!("c1")));
        assert_eq!(c.choices, [(1, "he".into(), false), (0, "{x".into(), true)]);
        assert!(parse_chunk("not json").is_none());
    }

    #[test]
    fn refusals_are_well_formed() {
        let v = refusal_completion("chatcmpl-1", "m", "no");
        assert_eq!(v["object"], "chat.completion");
        assert_eq!(v["choices"][0]["finish_reason"], CONTENT_FILTER);
        assert_eq!(v["choices"][0]["message"]["content"], "no");
        let s = refusal_stream("chatcmpl-1", "m", "no");
        let datas: Vec<&str> = s.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
        assert_eq!(datas.len(), 3);
        assert_eq!(datas[2], "[DONE]");
        let last: Value = serde_json::from_str(datas[1]).unwrap();
        assert_eq!(last["choices"][0]["finish_reason"], CONTENT_FILTER);
        assert!(s.ends_with("\n\n"));
    }

    #[test]
    fn completion_choice_is_replaced() {
        let mut v = json!({"choices": [
            {"index": 0, "message": {"role": "assistant", "content": "bad"}, "finish_reason": "stop", "logprobs": {}},
        ]});
        assert_eq!(completion_texts(&v), ["bad"]);
        refuse_choice(&mut v, 0, "no");
        assert_eq!(v["choices"][0]["message"]["content"], "no");
        assert_eq!(v["choices"][0]["finish_reason"], CONTENT_FILTER);
        assert!(v["choices"][0].get("logprobs").is_none());
    }

    #[test]
    fn frame_splits_lines() {
        assert_eq!(frame("a\nb"), "data: a\ndata: b\n\n");
    }
}
