//! A small L-BFGS minimiser with a strong-Wolfe line search.
//!
//! Why not `argmin`: the Chinchilla fit runs ~4,500 starts plus thousands of
//! bootstrap refits of a 5-parameter objective, so the per-iteration overhead
//! matters more than generality, and we want one allocation per run. The
//! algorithm is the textbook one (Nocedal & Wright, *Numerical Optimization*,
//! Alg. 7.4 for the two-loop recursion, Alg. 3.5/3.6 for the line search with
//! safeguarded cubic interpolation).
//!
//! Line search: the first trial step is 1; while it is too short the step
//! is multiplied by 10 (plateaus far from the optimum need steps of 10⁶ and
//! more); once a bracket is found, each trial is the minimiser of the cubic
//! through the bracket's ends, clamped to stay a tenth of the bracket away
//! from them, so a step that must shrink by many orders of magnitude gets
//! there in a few trials rather than by bisection.
//!
//! Robustness choices:
//! - a trial point whose objective or gradient is not finite is treated as
//!   "too far" and the step is shrunk, so overflowing starts do not poison the
//!   run;
//! - a curvature pair with `sᵀy ≤ 0` is skipped rather than stored, keeping the
//!   inverse-Hessian approximation positive definite;
//! - when the quasi-Newton direction is not a descent direction or its line
//!   search fails, the memory is cleared and steepest descent is tried once
//!   before giving up.
//!
//! Cost: the curvature pairs live in flat ring buffers and the line search
//! writes into preallocated scratch, so a run allocates once; the gradient
//! of the accepted trial point is reused as the next iterate's gradient.

/// A differentiable objective: returns f(x) and writes ∇f(x) into `grad`.
pub(crate) trait Objective {
    fn value_grad(&self, x: &[f64], grad: &mut [f64]) -> f64;
}

/// Stopping rules and memory size.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Config {
    /// Number of stored curvature pairs.
    pub memory: usize,
    /// Maximum number of quasi-Newton iterations.
    pub max_iters: usize,
    /// Stop when the largest gradient component is at most this.
    pub grad_tol: f64,
    /// Stop when an iteration lowers f by at most this fraction of |f|.
    pub f_rel_tol: f64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            memory: 10,
            max_iters: 1000,
            grad_tol: 1e-9,
            f_rel_tol: 1e-13,
        }
    }
}

/// Why the minimiser stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    GradientTolerance,
    FunctionTolerance,
    MaxIterations,
    LineSearchFailed,
    NonFiniteStart,
}

impl Status {
    /// Whether the run stopped because a convergence test passed.
    pub fn converged(self) -> bool {
        matches!(self, Status::GradientTolerance | Status::FunctionTolerance)
    }
}

/// The end point of one run.
#[derive(Debug, Clone)]
pub(crate) struct Minimum {
    pub x: Vec<f64>,
    pub f: f64,
    pub status: Status,
    #[allow(dead_code)] // read by tests and handy when debugging convergence
    pub evaluations: usize,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn inf_norm(a: &[f64]) -> f64 {
    a.iter().fold(0.0_f64, |m, v| m.max(v.abs()))
}

fn all_finite(a: &[f64]) -> bool {
    a.iter().all(|v| v.is_finite())
}

/// Minimise `obj` from `x0`.
pub(crate) fn minimize<O: Objective + ?Sized>(obj: &O, x0: &[f64], cfg: &Config) -> Minimum {
    let n = x0.len();
    let mut x = x0.to_vec();
    let mut g = vec![0.0; n];
    let mut f = obj.value_grad(&x, &mut g);
    let mut evals = 1;
    if !f.is_finite() || !all_finite(&g) {
        return Minimum {
            x,
            f: f64::INFINITY,
            status: Status::NonFiniteStart,
            evaluations: evals,
        };
    }
    let mut hist = History::new(n, cfg.memory);
    let mut alpha_buf = vec![0.0; cfg.memory];
    let mut d = vec![0.0; n];
    let mut ls = LineSearch {
        xn: vec![0.0; n],
        gn: vec![0.0; n],
        evals: 0,
    };
    let mut status = Status::MaxIterations;
    for _ in 0..cfg.max_iters {
        if inf_norm(&g) <= cfg.grad_tol {
            status = Status::GradientTolerance;
            break;
        }
        // Two-loop recursion: d = -H g.
        for (di, gi) in d.iter_mut().zip(&g) {
            *di = -gi;
        }
        let m = hist.len;
        for i in (0..m).rev() {
            let a = hist.rho(i) * dot(hist.s(i), &d);
            alpha_buf[i] = a;
            for (dj, yj) in d.iter_mut().zip(hist.y(i)) {
                *dj -= a * yj;
            }
        }
        if m > 0 {
            let (s_new, y_new) = (hist.s(m - 1), hist.y(m - 1));
            let gamma = dot(s_new, y_new) / dot(y_new, y_new);
            for dj in &mut d {
                *dj *= gamma;
            }
        }
        for (i, &a) in alpha_buf.iter().enumerate().take(m) {
            let b = hist.rho(i) * dot(hist.y(i), &d);
            for (dj, sj) in d.iter_mut().zip(hist.s(i)) {
                *dj += (a - b) * sj;
            }
        }
        let mut dg = dot(&d, &g);
        let mut fresh = m == 0;
        if fresh || dg.is_nan() || dg >= 0.0 || dg.is_infinite() {
            // Steepest descent, scaled so the unit step moves no parameter by
            // more than one: without curvature information the raw gradient
            // has no meaningful length, and huge gradients would overflow dᵀg.
            hist.clear();
            let scale = inf_norm(&g);
            for (di, gi) in d.iter_mut().zip(&g) {
                *di = -gi / scale;
            }
            dg = dot(&d, &g);
            fresh = true;
        }
        let step0 = 1.0;
        let found = ls.search(obj, &x, f, &d, dg, step0);
        evals += std::mem::take(&mut ls.evals);
        let Some((f_new, step)) = found else {
            if fresh {
                status = Status::LineSearchFailed;
                break;
            }
            hist.clear();
            continue;
        };
        hist.push(step, &d, &ls.gn, &g);
        std::mem::swap(&mut x, &mut ls.xn);
        std::mem::swap(&mut g, &mut ls.gn);
        let f_old = f;
        f = f_new;
        if (f_old - f).abs() <= cfg.f_rel_tol * f_old.abs().max(f.abs()) {
            status = Status::FunctionTolerance;
            break;
        }
    }
    Minimum {
        x,
        f,
        status,
        evaluations: evals,
    }
}

/// The last `cap` curvature pairs (s, y) and ρ = 1/sᵀy, oldest first, in
/// flat ring buffers.
struct History {
    n: usize,
    cap: usize,
    s: Vec<f64>,
    y: Vec<f64>,
    rho: Vec<f64>,
    /// Slot of the oldest pair.
    start: usize,
    len: usize,
}

impl History {
    fn new(n: usize, cap: usize) -> Self {
        Self {
            n,
            cap,
            s: vec![0.0; n * cap],
            y: vec![0.0; n * cap],
            rho: vec![0.0; cap],
            start: 0,
            len: 0,
        }
    }

    fn slot(&self, i: usize) -> usize {
        (self.start + i) % self.cap
    }

    /// s of the i-th oldest pair.
    fn s(&self, i: usize) -> &[f64] {
        let at = self.slot(i) * self.n;
        &self.s[at..at + self.n]
    }

    /// y of the i-th oldest pair.
    fn y(&self, i: usize) -> &[f64] {
        let at = self.slot(i) * self.n;
        &self.y[at..at + self.n]
    }

    fn rho(&self, i: usize) -> f64 {
        self.rho[self.slot(i)]
    }

    fn clear(&mut self) {
        self.start = 0;
        self.len = 0;
    }

    /// Store s = step·d, y = g_new − g, dropping the oldest pair when full,
    /// unless sᵀy is not safely positive (see the module docs).
    fn push(&mut self, step: f64, d: &[f64], g_new: &[f64], g: &[f64]) {
        if self.cap == 0 {
            return;
        }
        let (mut sy, mut yy) = (0.0, 0.0);
        for ((di, gn), go) in d.iter().zip(g_new).zip(g) {
            let (si, yi) = (step * di, gn - go);
            sy += si * yi;
            yy += yi * yi;
        }
        if !(sy > f64::EPSILON * yy && sy.is_finite()) {
            return;
        }
        let slot = if self.len == self.cap {
            let oldest = self.start;
            self.start = (self.start + 1) % self.cap;
            oldest
        } else {
            self.len += 1;
            self.slot(self.len - 1)
        };
        let at = slot * self.n;
        for (((sj, yj), di), (gn, go)) in self.s[at..at + self.n]
            .iter_mut()
            .zip(&mut self.y[at..at + self.n])
            .zip(d)
            .zip(g_new.iter().zip(g))
        {
            *sj = step * di;
            *yj = gn - go;
        }
        self.rho[slot] = 1.0 / sy;
    }
}

/// The best of several runs, and how many of them converged.
#[derive(Debug, Clone)]
pub(crate) struct Best {
    pub min: Minimum,
    pub converged: usize,
}

/// Run from every start (in parallel when `parallel`) and keep the lowest
/// finite objective; ties go to the earliest start so the answer does not
/// depend on thread scheduling.
pub(crate) fn best_of<O: Objective + Sync + ?Sized>(
    obj: &O,
    starts: &[Vec<f64>],
    cfg: &Config,
    parallel: bool,
) -> Option<Best> {
    use rayon::prelude::*;
    let run = |(i, s): (usize, &Vec<f64>)| (i, minimize(obj, s, cfg));
    let results: Vec<(usize, Minimum)> = if parallel {
        starts.par_iter().enumerate().map(run).collect()
    } else {
        starts.iter().enumerate().map(run).collect()
    };
    let converged = results.iter().filter(|(_, m)| m.status.converged()).count();
    results
        .into_iter()
        .filter(|(_, m)| m.f.is_finite() && m.x.iter().all(|v| v.is_finite()))
        .min_by(|(i, a), (j, b)| a.f.total_cmp(&b.f).then(i.cmp(j)))
        .map(|(_, min)| Best { min, converged })
}

/// Scratch space for the line search; `xn`/`gn` hold the accepted point.
struct LineSearch {
    xn: Vec<f64>,
    gn: Vec<f64>,
    evals: usize,
}

const C1: f64 = 1e-4;
const C2: f64 = 0.9;
const MAX_BRACKET: usize = 40;
const MAX_ZOOM: usize = 40;

/// One evaluation along the ray: (step, f, directional derivative).
#[derive(Clone, Copy)]
struct Probe {
    a: f64,
    f: f64,
    dg: f64,
}

impl LineSearch {
    fn eval<O: Objective + ?Sized>(&mut self, obj: &O, x: &[f64], d: &[f64], a: f64) -> Probe {
        for ((xn, xi), di) in self.xn.iter_mut().zip(x).zip(d) {
            *xn = xi + a * di;
        }
        let f = obj.value_grad(&self.xn, &mut self.gn);
        self.evals += 1;
        let dg = dot(&self.gn, d);
        if f.is_finite() && dg.is_finite() && all_finite(&self.gn) {
            Probe { a, f, dg }
        } else {
            Probe {
                a,
                f: f64::INFINITY,
                dg: f64::NAN,
            }
        }
    }

    /// Find a step satisfying the strong Wolfe conditions; on success `xn`,
    /// `gn` hold the new point.
    fn search<O: Objective + ?Sized>(
        &mut self,
        obj: &O,
        x: &[f64],
        f0: f64,
        d: &[f64],
        dg0: f64,
        step0: f64,
    ) -> Option<(f64, f64)> {
        let origin = Probe {
            a: 0.0,
            f: f0,
            dg: dg0,
        };
        let mut prev = origin;
        let mut a = step0;
        for i in 0..MAX_BRACKET {
            let p = self.eval(obj, x, d, a);
            if !p.f.is_finite() {
                // Overflow: treat as a step that is too long.
                return self.zoom(obj, x, d, origin, prev, p);
            }
            if p.f > f0 + C1 * a * dg0 || (i > 0 && p.f >= prev.f) {
                return self.zoom(obj, x, d, origin, prev, p);
            }
            if p.dg.abs() <= -C2 * dg0 {
                return Some((p.f, a));
            }
            if p.dg >= 0.0 {
                return self.zoom(obj, x, d, origin, p, prev);
            }
            prev = p;
            a *= 10.0;
        }
        None
    }

    fn zoom<O: Objective + ?Sized>(
        &mut self,
        obj: &O,
        x: &[f64],
        d: &[f64],
        origin: Probe,
        mut lo: Probe,
        mut hi: Probe,
    ) -> Option<(f64, f64)> {
        for _ in 0..MAX_ZOOM {
            let width = (hi.a - lo.a).abs();
            if width <= 1e-15 * lo.a.abs().max(1e-300) {
                break;
            }
            let (left, right) = if lo.a < hi.a {
                (lo.a, hi.a)
            } else {
                (hi.a, lo.a)
            };
            let guard = 0.1 * width;
            // The cubic's minimiser, kept a tenth of the interval away from
            // its ends (so the interval shrinks by at least that much);
            // bisection only when there is no cubic (an end is not finite).
            let t = match cubic_min(lo, hi) {
                Some(t) => t.clamp(left + guard, right - guard),
                None => 0.5 * (lo.a + hi.a),
            };
            let p = self.eval(obj, x, d, t);
            if !p.f.is_finite() || p.f > origin.f + C1 * t * origin.dg || p.f >= lo.f {
                hi = p;
            } else {
                if p.dg.abs() <= -C2 * origin.dg {
                    return Some((p.f, t));
                }
                if p.dg * (hi.a - lo.a) >= 0.0 {
                    hi = lo;
                }
                lo = p;
            }
        }
        // The interval collapsed without meeting the curvature condition. The
        // low end still satisfies sufficient decrease, so take it if it moved.
        if lo.a > 0.0 && lo.f < origin.f {
            let p = self.eval(obj, x, d, lo.a);
            if p.f.is_finite() {
                return Some((p.f, lo.a));
            }
        }
        None
    }
}

/// Minimiser of the cubic interpolating two probes (value and slope), if any.
fn cubic_min(p: Probe, q: Probe) -> Option<f64> {
    if !(p.f.is_finite() && q.f.is_finite() && p.dg.is_finite() && q.dg.is_finite()) {
        return None;
    }
    let d1 = p.dg + q.dg - 3.0 * (p.f - q.f) / (p.a - q.a);
    let disc = d1 * d1 - p.dg * q.dg;
    if disc < 0.0 {
        return None;
    }
    let d2 = (q.a - p.a).signum() * disc.sqrt();
    let denom = q.dg - p.dg + 2.0 * d2;
    if denom == 0.0 {
        return None;
    }
    let t = q.a - (q.a - p.a) * (q.dg + d2 - d1) / denom;
    t.is_finite().then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Rosenbrock;
    impl Objective for Rosenbrock {
        fn value_grad(&self, x: &[f64], g: &mut [f64]) -> f64 {
            let (a, b) = (x[0], x[1]);
            g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
            g[1] = 200.0 * (b - a * a);
            (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
        }
    }

    #[test]
    fn rosenbrock_converges_to_one_one() {
        let m = minimize(&Rosenbrock, &[-1.2, 1.0], &Config::default());
        assert!(m.status.converged(), "{:?}", m.status);
        assert!(
            (m.x[0] - 1.0).abs() < 1e-6 && (m.x[1] - 1.0).abs() < 1e-6,
            "{:?}",
            m.x
        );
        assert!(m.evaluations < 200, "{}", m.evaluations);
    }

    /// Overflows to +inf away from the origin: the line search must shrink.
    struct Steep;
    impl Objective for Steep {
        fn value_grad(&self, x: &[f64], g: &mut [f64]) -> f64 {
            let e = (x[0] * 300.0).exp();
            g[0] = 300.0 * e - 300.0;
            e - 300.0 * x[0]
        }
    }

    #[test]
    fn non_finite_trial_points_are_survived() {
        let m = minimize(&Steep, &[2.0], &Config::default());
        assert!(m.f.is_finite());
        assert!(m.x[0].abs() < 1e-6, "{:?}", m.x);
    }

    struct Nan;
    impl Objective for Nan {
        fn value_grad(&self, _x: &[f64], g: &mut [f64]) -> f64 {
            g[0] = f64::NAN;
            f64::NAN
        }
    }

    #[test]
    fn non_finite_start_is_reported() {
        let m = minimize(&Nan, &[0.0], &Config::default());
        assert_eq!(m.status, Status::NonFiniteStart);
        assert!(!m.status.converged());
    }
}
