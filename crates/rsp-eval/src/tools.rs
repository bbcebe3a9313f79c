//! Tools for agents, and the text protocol models without native tool calling use.
//!
//! No provider exposes native tool calls yet ([`rsp_model::Capabilities::tools`] is false
//! everywhere), so the agent loop ([`crate::solver::React`]) speaks a plain-text protocol
//! that small models can follow. In each reply the model gives **one action**, either as a
//! fenced block named after the tool
//!
//! ````text
//! ```bash
//! grep -l MARKER notes/*
//! ```
//! ````
//!
//! (`bash`, `python`, `read_file`, `write_file`, `list_files`; for the file tools the path
//! goes after the tool name or on the first line, and `write_file`'s remaining lines are
//! the contents), or as a JSON object `{"tool": "bash", "input": "ls"}` (also accepted:
//! `name`/`action` for the tool, `arguments`/`args`/`parameters` holding `command`, `code`,
//! `path`, `content`). It ends the episode with a line `SUBMIT: <answer>` (or
//! `FINAL ANSWER:`, or a fenced `submit` block). Whichever comes first in the reply wins;
//! anything the model writes after its action (a made-up "observation") is ignored.
//!
//! Tool output returns as a user message headed `[<tool> …]`. Everything runs in the
//! sample's [`rsp_sandbox::Workspace`]: commands sandboxed, file tools confined to the
//! working directory.

use std::sync::{Arc, LazyLock};

use regex::Regex;
use rsp_sandbox::{EntryKind, Program, Workspace};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::Error;
use crate::scorer::end_state::run_blocking;

/// A tool group a task can enable with `use_tools`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tool {
    /// Run a bash script.
    Bash,
    /// Run Python 3 code.
    Python,
    /// `read_file`, `write_file`, `list_files`.
    Files,
}

impl Tool {
    /// The action names the tool provides.
    pub fn actions(self) -> &'static [&'static str] {
        match self {
            Tool::Bash => &["bash"],
            Tool::Python => &["python"],
            Tool::Files => &["read_file", "write_file", "list_files"],
        }
    }
}

/// The protocol, as explained to the model (the list of enabled actions is appended).
pub const PROTOCOL: &str = "You are working in a directory on a Linux machine without network access. Work step by step. In each reply, think briefly, then give exactly one action as a fenced code block named after the tool, for example:\n\n```bash\nls -la\n```\n\nTools:\n- bash: a bash script, run in the working directory.\n- python: Python 3 code, run in the working directory.\n- read_file: the path after the tool name, for example ```read_file notes.txt```.\n- write_file: the path after the tool name, then the full file contents on the following lines.\n- list_files: a directory (empty for the working directory).\n\nAfter each action you will see its output. Use only the tools listed as available. When the task is done, reply with one line:\nSUBMIT: <your final answer>";

/// The system message `use_tools` adds.
pub fn instructions(tools: &[Tool]) -> String {
    let names: Vec<&str> = tools
        .iter()
        .flat_map(|t| t.actions().iter().copied())
        .collect();
    format!("{PROTOCOL}\n\nAvailable tools: {}.", names.join(", "))
}

/// One tool call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "tool", rename_all = "snake_case")]
pub enum Action {
    /// A bash script.
    Bash {
        /// The script.
        command: String,
    },
    /// Python code.
    Python {
        /// The code.
        code: String,
    },
    /// Read a file.
    ReadFile {
        /// Relative path.
        path: String,
    },
    /// Write a file.
    WriteFile {
        /// Relative path.
        path: String,
        /// New contents.
        content: String,
    },
    /// List a directory recursively.
    ListFiles {
        /// Relative path (`.` for the working directory).
        path: String,
    },
}

impl Action {
    /// The tool group it belongs to.
    pub fn tool(&self) -> Tool {
        match self {
            Action::Bash { .. } => Tool::Bash,
            Action::Python { .. } => Tool::Python,
            _ => Tool::Files,
        }
    }

    /// The action's name.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Bash { .. } => "bash",
            Action::Python { .. } => "python",
            Action::ReadFile { .. } => "read_file",
            Action::WriteFile { .. } => "write_file",
            Action::ListFiles { .. } => "list_files",
        }
    }
}

/// What a model's reply asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Run a tool.
    Act(Action),
    /// The episode is over; this is the final answer.
    Submit(String),
    /// A tool the task does not enable (or does not exist) was named.
    Unavailable(String),
    /// Neither an action nor an answer.
    Nothing,
}

static SUBMIT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?im)^[ \t>*_#-]*(?:submit|final answer)[*_]*[ \t]*:[ \t]*(.*)$")
        .unwrap_or_else(|_| unreachable_regex())
});
static JSON_CALL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\{\s*"(?:tool|name|action)"\s*:"#).unwrap_or_else(|_| unreachable_regex())
});

/// A regex that never matches, for the impossible case that a constant pattern fails to
/// compile (keeps the statics free of `unwrap`).
fn unreachable_regex() -> Regex {
    Regex::new(r"[^\s\S]").unwrap_or_else(|_| unreachable!("constant regex"))
}

/// Parses a reply under the protocol; `tools` are the enabled groups.
pub fn parse_reply(text: &str, tools: &[Tool]) -> Reply {
    let mut found: Vec<(usize, Reply)> = Vec::new();
    if let Some((at, r)) = fenced(text) {
        found.push((at, r));
    }
    if let Some(c) = SUBMIT.captures(text) {
        let at = c.get(0).map_or(0, |m| m.start());
        let mut answer = c.get(1).map_or("", |m| m.as_str()).trim().to_owned();
        if answer.is_empty() {
            let rest = &text[c.get(0).map_or(text.len(), |m| m.end())..];
            answer = rest
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.starts_with("```"))
                .unwrap_or("")
                .to_owned();
        }
        found.push((at, Reply::Submit(clean_answer(&answer))));
    }
    if let Some((at, r)) = json_call(text) {
        found.push((at, r));
    }
    let Some((_, reply)) = found.into_iter().min_by_key(|(at, _)| *at) else {
        return Reply::Nothing;
    };
    match reply {
        Reply::Act(a) if !tools.contains(&a.tool()) => Reply::Unavailable(a.name().to_owned()),
        r => r,
    }
}

fn clean_answer(s: &str) -> String {
    s.trim()
        .trim_matches(|c| c == '`' || c == '*' || c == '"')
        .trim()
        .to_owned()
}

/// The first fenced block whose info string names a tool (or `submit`).
fn fenced(text: &str) -> Option<(usize, Reply)> {
    let mut offset = 0;
    let mut lines = text.split_inclusive('\n');
    while let Some(line) = lines.next() {
        let at = offset;
        offset += line.len();
        let Some(info) = line.trim_start().strip_prefix("```") else {
            continue;
        };
        let raw = info.trim();
        // A one-line block: ```read_file notes.txt```
        let one_line = raw.len() > 3 && raw.ends_with("```");
        let info = raw.trim_end_matches("```").trim();
        let (word, arg) = info.split_once(char::is_whitespace).unwrap_or((info, ""));
        let word = word.to_ascii_lowercase();
        let arg = arg.trim().to_owned();
        let mut body = String::new();
        if !one_line {
            for l in lines.by_ref() {
                offset += l.len();
                if l.trim_start().starts_with("```") {
                    break;
                }
                body.push_str(l);
            }
        }
        let first_line_path = |arg: &str, body: &str| -> (String, String) {
            if arg.is_empty() {
                let mut it = body.splitn(2, '\n');
                let p = it.next().unwrap_or("").trim().to_owned();
                (p, it.next().unwrap_or("").to_owned())
            } else {
                (arg.to_owned(), body.to_owned())
            }
        };
        let reply = match word.as_str() {
            "bash" | "sh" | "shell" | "console" => Reply::Act(Action::Bash { command: body }),
            "python" | "python3" | "py" => Reply::Act(Action::Python { code: body }),
            "read_file" => Reply::Act(Action::ReadFile {
                path: first_line_path(&arg, &body).0,
            }),
            "list_files" => {
                let p = first_line_path(&arg, &body).0;
                Reply::Act(Action::ListFiles {
                    path: if p.is_empty() { ".".into() } else { p },
                })
            }
            "write_file" => {
                let (path, content) = first_line_path(&arg, &body);
                Reply::Act(Action::WriteFile { path, content })
            }
            "submit" | "answer" => {
                Reply::Submit(clean_answer(if arg.is_empty() { &body } else { &arg }))
            }
            _ => continue,
        };
        return Some((at, reply));
    }
    None
}

/// The first JSON object that looks like a tool call.
fn json_call(text: &str) -> Option<(usize, Reply)> {
    let at = JSON_CALL.find(text)?.start();
    let v: Value = serde_json::Deserializer::from_str(&text[at..])
        .into_iter::<Value>()
        .next()?
        .ok()?;
    let name = ["tool", "name", "action"]
        .iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))?
        .to_ascii_lowercase();
    let args = ["arguments", "args", "parameters", "input"]
        .iter()
        .find_map(|k| v.get(*k))
        .cloned()
        .unwrap_or_else(|| v.clone());
    let field = |keys: &[&str]| -> Option<String> {
        if let Value::String(s) = &args {
            return Some(s.clone());
        }
        keys.iter()
            .find_map(|k| args.get(*k).and_then(Value::as_str))
            .map(str::to_owned)
    };
    let reply = match name.as_str() {
        "bash" | "sh" | "shell" => Reply::Act(Action::Bash {
            command: field(&["command", "script", "cmd", "code"])?,
        }),
        "python" | "python3" => Reply::Act(Action::Python {
            code: field(&["code", "script", "source"])?,
        }),
        "read_file" => Reply::Act(Action::ReadFile {
            path: field(&["path", "file"])?,
        }),
        "list_files" => Reply::Act(Action::ListFiles {
            path: field(&["path", "dir", "directory"]).unwrap_or_else(|| ".".into()),
        }),
        "write_file" => Reply::Act(Action::WriteFile {
            path: args.get("path").and_then(Value::as_str)?.to_owned(),
            content: args
                .get("content")
                .or_else(|| args.get("text"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        }),
        "submit" | "answer" | "final_answer" => Reply::Submit(clean_answer(
            &field(&["answer", "text", "value"]).unwrap_or_default(),
        )),
        other => Reply::Unavailable(other.to_owned()),
    };
    Some((at, reply))
}

/// A tool call's result: the text shown to the model and the record kept with the sample.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolResult {
    /// The observation (before truncation for the prompt).
    pub observation: String,
    /// The full record (action, exit code, output, timing) for the transcript.
    pub record: Value,
}

/// Runs an action in the workspace. Problems the agent caused (a bad path, a failing
/// command) are observations; only a sandbox that cannot start a command is an error.
pub async fn execute(ws: &Arc<Workspace>, action: &Action) -> Result<ToolResult, Error> {
    let program = match action {
        Action::Bash { command } => Some(Program::Bash(command.clone())),
        Action::Python { code } => Some(Program::Python(code.clone())),
        _ => None,
    };
    if let Some(program) = program {
        let out = run_blocking(Arc::clone(ws), program, *ws.limits()).await?;
        let mut obs = match (out.timed_out, out.exit_code) {
            (true, _) => format!("[{} killed: timed out]\n", action.name()),
            (false, Some(c)) => format!("[{} exit code {c}]\n", action.name()),
            (false, None) => format!("[{} killed]\n", action.name()),
        };
        obs.push_str(&out.stdout);
        if !out.stderr.is_empty() {
            obs.push_str("\n[stderr]\n");
            obs.push_str(&out.stderr);
        }
        if out.truncated() {
            obs.push_str("\n[output truncated]");
        }
        let record = json!({"action": action, "output": out});
        return Ok(ToolResult {
            observation: obs,
            record,
        });
    }
    let (ok, obs) = match action {
        Action::ReadFile { path } => match ws.read_file(path, 64 * 1024) {
            Ok((text, cut)) => (
                true,
                format!(
                    "[read_file {path}]\n{text}{}",
                    if cut { "\n[file truncated]" } else { "" }
                ),
            ),
            Err(e) => (
                false,
                format!("[read_file error] {}", crate::error::chain(&e)),
            ),
        },
        Action::WriteFile { path, content } => match ws.write_file(path, content) {
            Ok(()) => (
                true,
                format!("[write_file {path}] wrote {} bytes", content.len()),
            ),
            Err(e) => (
                false,
                format!("[write_file error] {}", crate::error::chain(&e)),
            ),
        },
        Action::ListFiles { path } => match ws.list_files(path) {
            Ok(entries) => {
                let mut s = format!("[list_files {path}]\n");
                for e in &entries {
                    let suffix = match e.kind {
                        EntryKind::Dir => "/".to_owned(),
                        EntryKind::Symlink => " (symlink)".to_owned(),
                        EntryKind::File => format!(" ({} bytes)", e.size),
                    };
                    s.push_str(&format!("{}{suffix}\n", e.path));
                }
                if entries.is_empty() {
                    s.push_str("(empty)\n");
                }
                (true, s)
            }
            Err(e) => (
                false,
                format!("[list_files error] {}", crate::error::chain(&e)),
            ),
        },
        Action::Bash { .. } | Action::Python { .. } => (false, String::new()),
    };
    Ok(ToolResult {
        record: json!({"action": action, "ok": ok, "observation": obs}),
        observation: obs,
    })
}

/// Cuts an observation to `max_chars` characters for the prompt, saying how much was cut.
pub fn truncate_observation(obs: &str, max_chars: usize) -> String {
    let n = obs.chars().count();
    if n <= max_chars {
        return obs.to_owned();
    }
    let kept: String = obs.chars().take(max_chars).collect();
    format!("{kept}\n[... {} more characters not shown]", n - max_chars)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Tool; 3] = [Tool::Bash, Tool::Python, Tool::Files];

    #[test]
    fn fenced_actions_and_submissions_parse() {
        let r = parse_reply(
            "Let me look.\n```bash\nls notes\n```\nObservation: fake",
            &ALL,
        );
        assert_eq!(
            r,
            Reply::Act(Action::Bash {
                command: "ls notes\n".into()
            })
        );
        let r = parse_reply("```write_file out/a.txt\nhello\nworld\n```", &ALL);
        assert_eq!(
            r,
            Reply::Act(Action::WriteFile {
                path: "out/a.txt".into(),
                content: "hello\nworld\n".into()
            })
        );
        let r = parse_reply("```read_file\nnotes/a.txt\n```", &ALL);
        assert_eq!(
            r,
            Reply::Act(Action::ReadFile {
                path: "notes/a.txt".into()
            })
        );
        let r = parse_reply("```list_files```", &ALL);
        assert_eq!(r, Reply::Act(Action::ListFiles { path: ".".into() }));
        // Unterminated block (the model ran out of tokens): the rest is the body.
        let r = parse_reply("```python\nprint(1)", &ALL);
        assert_eq!(
            r,
            Reply::Act(Action::Python {
                code: "print(1)".into()
            })
        );
        assert_eq!(
            parse_reply("Done.\nSUBMIT: `20`", &ALL),
            Reply::Submit("20".into())
        );
        assert_eq!(
            parse_reply("**Final Answer:** beta.txt", &ALL),
            Reply::Submit("beta.txt".into())
        );
        assert_eq!(parse_reply("I think we are done.", &ALL), Reply::Nothing);
        assert_eq!(parse_reply("```\nls\n```", &ALL), Reply::Nothing);
    }

    #[test]
    fn first_of_action_and_answer_wins_and_disabled_tools_are_refused() {
        let r = parse_reply("SUBMIT: 3\n```bash\nrm -rf x\n```", &ALL);
        assert_eq!(r, Reply::Submit("3".into()));
        let r = parse_reply("```bash\nwc -w essay.txt\n```\nSUBMIT: 20", &ALL);
        assert!(matches!(r, Reply::Act(Action::Bash { .. })));
        assert_eq!(
            parse_reply("```python\n1\n```", &[Tool::Bash]),
            Reply::Unavailable("python".into())
        );
    }

    #[test]
    fn json_tool_calls_parse() {
        let r = parse_reply(r#"Calling {"tool": "bash", "input": "ls"} now"#, &ALL);
        assert_eq!(
            r,
            Reply::Act(Action::Bash {
                command: "ls".into()
            })
        );
        let r = parse_reply(
            r#"{"name": "write_file", "arguments": {"path": "a.txt", "content": "x"}}"#,
            &ALL,
        );
        assert_eq!(
            r,
            Reply::Act(Action::WriteFile {
                path: "a.txt".into(),
                content: "x".into()
            })
        );
        let r = parse_reply(r#"{"tool": "submit", "answer": "42"}"#, &ALL);
        assert_eq!(r, Reply::Submit("42".into()));
        let r = parse_reply(r#"{"tool": "curl", "input": "x"}"#, &ALL);
        assert_eq!(r, Reply::Unavailable("curl".into()));
        assert_eq!(parse_reply(r#"{"tool": "bash", "#, &ALL), Reply::Nothing);
    }

    #[test]
    fn observations_are_truncated_with_a_note() {
        assert_eq!(truncate_observation("abc", 5), "abc");
        let t = truncate_observation("abcdefgh", 3);
        assert!(
            t.starts_with("abc\n") && t.contains("5 more characters"),
            "{t}"
        );
        assert!(instructions(&[Tool::Files]).ends_with("read_file, write_file, list_files."));
    }
}
