//! Checks on safeguard standards: references, bounds, and include cycles.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::SafeguardEvidence;

use super::{Validator, root};

impl Validator<'_> {
    pub(super) fn standards(&mut self) {
        let p = self.p;
        let ids: BTreeSet<&str> = p.standards.iter().map(|s| s.id.as_str()).collect();
        for (i, s) in p.standards.iter().enumerate() {
            let base = root().key("standard").idx(i);
            for (j, inc) in s.includes.iter().enumerate() {
                if !ids.contains(inc.as_str()) {
                    self.err(
                        "policy::unknown-standard",
                        format!("standard `{}` includes unknown standard `{inc}`", s.id),
                        &base.key("includes").idx(j),
                        "no [[standard]] has this id",
                    );
                }
            }
            if s.safeguards.is_empty() && s.includes.is_empty() {
                self.err(
                    "policy::empty-list",
                    format!(
                        "standard `{}` has no safeguards and includes no other standard",
                        s.id
                    ),
                    &base.key("id"),
                    "empty standard",
                )
                .help = Some("add [[standard.safeguard]] tables".into());
            }
            for (j, g) in s.safeguards.iter().enumerate() {
                let gp = base.key("safeguard").idx(j).key("evidence");
                self.at_least_one(
                    "policy::validity",
                    Some(g.evidence.valid_days()),
                    &gp.key("valid_days"),
                );
                match &g.evidence {
                    SafeguardEvidence::Attestation { by, .. } => {
                        self.role_ref(&by.clone(), &gp.key("by"));
                    }
                    SafeguardEvidence::Metric {
                        suite,
                        max,
                        min,
                        confidence,
                        ..
                    } => {
                        self.suite_ref(&suite.clone(), &gp.key("suite"));
                        if let Some(c) = confidence {
                            self.confidence(*c, &gp.key("confidence"));
                        }
                        match (max, min) {
                            (None, None) => {
                                self.err(
                                    "policy::no-bound",
                                    format!(
                                        "safeguard `{}` measures a metric but sets no bound",
                                        g.id
                                    ),
                                    &gp,
                                    "needs max or min",
                                )
                                .help = Some(
                                    "add max = 0.05 (upper bound must not exceed) or min = ..."
                                        .into(),
                                );
                            }
                            (Some(hi), Some(lo)) if lo > hi => {
                                self.err(
                                    "policy::no-bound",
                                    format!("safeguard `{}`: min {lo} is above max {hi}", g.id),
                                    &gp.key("min"),
                                    "min > max",
                                );
                            }
                            _ => {}
                        }
                        for (k, b) in [("max", max), ("min", min)] {
                            if b.is_some_and(|b| !b.is_finite()) {
                                self.err(
                                    "policy::not-finite",
                                    format!("{k} must be a finite number"),
                                    &gp.key(k),
                                    "not finite",
                                );
                            }
                        }
                    }
                }
            }
        }
        self.cycles();
    }

    fn cycles(&mut self) {
        let p = self.p;
        // Depth-first search with colours; report each cycle once, at the
        // standard where it is first closed.
        let index: BTreeMap<&str, usize> = p
            .standards
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.as_str(), i))
            .collect();
        let mut colour = vec![0u8; p.standards.len()];
        let mut reported = BTreeSet::new();
        for start in 0..p.standards.len() {
            let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
            let mut trail: Vec<usize> = vec![start];
            if colour[start] != 0 {
                continue;
            }
            colour[start] = 1;
            while let Some((node, next)) = stack.last_mut() {
                let node = *node;
                let includes = &p.standards[node].includes;
                if *next >= includes.len() {
                    colour[node] = 2;
                    stack.pop();
                    trail.pop();
                    continue;
                }
                let inc_pos = *next;
                *next += 1;
                let Some(&child) = index.get(includes[inc_pos].as_str()) else {
                    continue;
                };
                match colour[child] {
                    0 => {
                        colour[child] = 1;
                        stack.push((child, 0));
                        trail.push(child);
                    }
                    1 => {
                        let from = trail.iter().position(|&t| t == child).unwrap_or(0);
                        let mut cyc: Vec<&str> = trail[from..]
                            .iter()
                            .map(|&t| p.standards[t].id.as_str())
                            .collect();
                        cyc.push(&p.standards[child].id);
                        let key: BTreeSet<&str> = cyc.iter().copied().collect();
                        if reported.insert(key.into_iter().collect::<Vec<_>>().join(",")) {
                            let path = root()
                                .key("standard")
                                .idx(node)
                                .key("includes")
                                .idx(inc_pos);
                            self.err(
                                "policy::cyclic-include",
                                format!(
                                    "standards include each other in a cycle: {}",
                                    cyc.join(" → ")
                                ),
                                &path,
                                "closes the cycle",
                            );
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}
