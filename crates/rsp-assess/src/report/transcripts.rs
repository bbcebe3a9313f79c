//! Sampled transcripts, as the EU Code of Practice asks ("at least 5
//! random input/output samples per evaluation").
//!
//! A run may log thousands of samples; the report shows
//! [`TRANSCRIPTS_PER_RUN`] of them. The choice must be random (no
//! cherry-picking) yet reproducible (re-rendering the same assessment gives
//! the same report), so samples are ranked by a hash of the assessment id
//! and their own id: a seeded draw without replacement that needs no RNG
//! and does not depend on the order the caller passes them in.

use super::ReportExtras;
use super::Transcript;
use super::doc::{Doc, Line, Tone};
use super::numbers::short;

/// Transcripts shown per evaluation run (the Code of Practice's minimum).
pub const TRANSCRIPTS_PER_RUN: usize = 5;

/// Longest text (in characters) shown for one field of a transcript; the
/// rest is cut with a visible marker. The full text stays in the run log.
pub const TRANSCRIPT_TEXT_LIMIT: usize = 2_000;

/// A run whose transcripts a report shows, and what it was evidence for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RunRef {
    /// Run id.
    pub(crate) run_id: String,
    /// What the report used it for (`KNOW-1 rule 1`).
    pub(crate) used_for: Vec<String>,
}

/// Add `run_id` with its use to `refs`, keeping first-seen order.
pub(crate) fn note_run(refs: &mut Vec<RunRef>, run_id: &str, used_for: String) {
    match refs.iter_mut().find(|r| r.run_id == run_id) {
        Some(r) => r.used_for.push(used_for),
        None => refs.push(RunRef {
            run_id: run_id.to_owned(),
            used_for: vec![used_for],
        }),
    }
}

/// Draw `k` of `all` without replacement, seeded by `seed`; the result
/// keeps the order of `all`. All of them when there are at most `k`.
#[must_use]
pub fn sample_transcripts<'a>(all: &'a [Transcript], k: usize, seed: &str) -> Vec<&'a Transcript> {
    if all.len() <= k {
        return all.iter().collect();
    }
    let mut ranked: Vec<(u64, usize)> = all
        .iter()
        .enumerate()
        .map(|(i, t)| (rank(seed, t), i))
        .collect();
    ranked.sort_unstable();
    let mut chosen: Vec<usize> = ranked.into_iter().take(k).map(|(_, i)| i).collect();
    chosen.sort_unstable();
    chosen.into_iter().map(|i| &all[i]).collect()
}

/// FNV-1a over seed, sample id and epoch, then a SplitMix64 finaliser so
/// that similar ids get unrelated ranks.
fn rank(seed: &str, t: &Transcript) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let bytes = seed
        .bytes()
        .chain([0])
        .chain(t.sample_id.bytes())
        .chain([0])
        .chain(t.epoch.to_le_bytes());
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// Cut `s` after `limit` characters, saying how much was cut.
pub(crate) fn truncate(s: &str, limit: usize) -> String {
    match s.char_indices().nth(limit) {
        None => s.to_owned(),
        Some((at, _)) => {
            let rest = s[at..].chars().count();
            format!("{}\n… [truncated: {rest} more characters]", &s[..at])
        }
    }
}

/// The "Sampled transcripts" section for `runs`.
pub(crate) fn section(d: &mut Doc, runs: &[RunRef], seed: &str, x: &ReportExtras) {
    d.heading(2, "Sampled transcripts");
    if runs.is_empty() {
        d.para("No evaluation run was used as evidence, so there are no transcripts to show.");
        return;
    }
    d.para(format!(
        "For each evaluation run used as evidence, {TRANSCRIPTS_PER_RUN} samples are shown (all of them when a run has fewer), drawn at random without replacement, seeded by the assessment id so the draw is reproducible. Texts longer than {TRANSCRIPT_TEXT_LIMIT} characters are cut, with a marker; the run log holds them in full."
    ));
    for run in runs {
        d.heading_id(
            3,
            format!("run-{}", run.run_id),
            Line::new().text("Run ").code(&run.run_id),
        );
        d.para(format!("Evidence for: {}.", run.used_for.join("; ")));
        let all = x
            .transcripts
            .get(&run.run_id)
            .map_or(&[][..], Vec::as_slice);
        if all.is_empty() {
            d.callout(
                Tone::Caution,
                "No transcripts",
                "none were supplied for this run, so this report does not show the samples the Code of Practice asks for.",
            );
            continue;
        }
        let shown = sample_transcripts(all, TRANSCRIPTS_PER_RUN, seed);
        d.para(if all.len() < TRANSCRIPTS_PER_RUN {
            format!(
                "Only {} samples exist for this run, fewer than {TRANSCRIPTS_PER_RUN}: all are shown.",
                all.len()
            )
        } else {
            format!("{} of {} samples.", shown.len(), all.len())
        });
        for t in shown {
            transcript(d, t);
        }
    }
}

fn transcript(d: &mut Doc, t: &Transcript) {
    let score = t.score.map_or_else(|| "not scored".to_owned(), short);
    d.heading(
        4,
        Line::new()
            .text("Sample ")
            .code(&t.sample_id)
            .text(format!(", epoch {}: score {score}", t.epoch)),
    );
    let target = if t.target.is_empty() {
        Line::from("none")
    } else {
        t.target.iter().enumerate().fold(Line::new(), |l, (i, s)| {
            let l = if i > 0 { l.text(", ") } else { l };
            l.code(truncate(s, TRANSCRIPT_TEXT_LIMIT))
        })
    };
    let mut rows = vec![("Target", target), ("Score", Line::from(score))];
    if let Some(e) = &t.error {
        rows.push((
            "Error",
            Line::new()
                .badge("error", Tone::Bad, "sample-error")
                .text(format!(" {}", truncate(e, TRANSCRIPT_TEXT_LIMIT))),
        ));
    }
    if !t.messages.is_empty() {
        rows.push((
            "Conversation",
            Line::from(format!("{} messages in the run log", t.messages.len())),
        ));
    }
    d.facts(rows);
    d.pre("Input", truncate(&t.input, TRANSCRIPT_TEXT_LIMIT));
    let output = t.output.as_deref().or_else(|| {
        t.messages
            .iter()
            .rev()
            .find(|(role, _)| role == "assistant")
            .map(|(_, c)| c.as_str())
    });
    d.pre(
        "Output",
        output.map_or_else(
            || "(no output)".to_owned(),
            |o| truncate(o, TRANSCRIPT_TEXT_LIMIT),
        ),
    );
    if let Some(e) = &t.explanation {
        d.pre("Scorer's explanation", truncate(e, TRANSCRIPT_TEXT_LIMIT));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: &str) -> Transcript {
        Transcript {
            sample_id: id.into(),
            epoch: 1,
            input: "q".into(),
            target: vec![],
            output: None,
            messages: vec![],
            score: None,
            explanation: None,
            error: None,
        }
    }

    #[test]
    fn sampling_is_reproducible_order_free_and_seed_dependent() {
        let all: Vec<Transcript> = (0..50).map(|i| t(&format!("s{i}"))).collect();
        let ids = |v: Vec<&Transcript>| v.iter().map(|t| t.sample_id.clone()).collect::<Vec<_>>();
        let a = ids(sample_transcripts(&all, 5, "A1"));
        assert_eq!(a.len(), 5);
        assert_eq!(a, ids(sample_transcripts(&all, 5, "A1")));
        let mut rev = all.clone();
        rev.reverse();
        let mut b = ids(sample_transcripts(&rev, 5, "A1"));
        b.reverse();
        assert_eq!(a, b, "the draw must not depend on input order");
        assert_ne!(a, ids(sample_transcripts(&all, 5, "A2")));
        assert_eq!(sample_transcripts(&all[..3], 5, "A1").len(), 3);
    }

    #[test]
    fn truncation_is_visible_and_char_safe() {
        assert_eq!(truncate("héllo", 10), "héllo");
        assert_eq!(truncate("héllo", 2), "hé\n… [truncated: 3 more characters]");
    }

    #[test]
    fn output_falls_back_to_last_assistant_message() {
        let mut s = t("x");
        s.messages = vec![
            ("user".into(), "q".into()),
            ("assistant".into(), "first".into()),
            ("assistant".into(), "last".into()),
        ];
        let mut d = Doc::new("t");
        transcript(&mut d, &s);
        let md = super::super::markdown::render(&d);
        assert!(md.contains("Output:\n\n```text\nlast\n```"), "{md}");
        assert!(md.contains("3 messages"));
    }
}
