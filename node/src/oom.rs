//! `oom-score-adj`: the kernel's OOM-killer preference for this process,
//! by role, as Redis's setOOMScoreAdj sets it in /proc/self/oom_score_adj.
//!
//! `oom-score-adj-values` holds a score for a master, a replica and a
//! background child (`crate::child`, which the node sets as it starts
//! one). `relative` adds the score to the one the
//! process had when Corvid first took control, `absolute` writes it as is;
//! `no` gives that first score back.

use crate::server::Server;

const PATH: &str = "/proc/self/oom_score_adj";

/// The score the process had before Corvid first changed it (None: not
/// changed, or changed back).
#[derive(Debug, Default)]
pub struct OomState {
    base: Option<i32>,
}

/// Why the score could not be set.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OomError(String);

/// The class of a background child in `oom-score-adj-values`.
const BGCHILD: usize = 2;

/// The score a background child takes (None: `oom-score-adj no`, it keeps
/// the node's), relative to the score the node started with as the node's
/// own is.
pub fn child_score(srv: &mut Server) -> Option<i32> {
    let mode = srv.config.get_i64("oom-score-adj");
    if mode == 0 {
        return None;
    }
    let value = srv.config.oom_score_adj_values()[BGCHILD];
    let base = if mode == RELATIVE { base(srv).ok()? } else { 0 };
    Some((value + base).clamp(-1000, 1000))
}

/// The score the process had before Corvid first changed it, read once.
fn base(srv: &mut Server) -> Result<i32, OomError> {
    if let Some(b) = srv.oom_score.base {
        return Ok(b);
    }
    let b = read().map_err(|e| {
        tracing::warn!("Unable to read oom_score_adj: {e}");
        OomError(e.to_string())
    })?;
    srv.oom_score.base = Some(b);
    Ok(b)
}

/// Set the score for the current role and configuration.
pub fn apply(srv: &mut Server) -> Result<(), OomError> {
    let mode = srv.config.get_i64("oom-score-adj");
    let class = usize::from(srv.master.is_some());
    let value = srv.config.oom_score_adj_values()[class];
    let val = match (mode, srv.oom_score.base) {
        (0, None) => return Ok(()),
        (0, Some(base)) => {
            srv.oom_score.base = None;
            base
        }
        (mode, _) => {
            let base = base(srv)?;
            let v = if mode == RELATIVE { value + base } else { value };
            v.clamp(-1000, 1000)
        }
    };
    std::fs::write(PATH, format!("{val}\n")).map_err(|e| {
        tracing::warn!("Unable to write oom_score_adj: {e}");
        OomError(e.to_string())
    })
}

/// `oom-score-adj relative` (and `yes`), as the config stores it.
const RELATIVE: i64 = 1;

fn read() -> std::io::Result<i32> {
    let text = std::fs::read_to_string(PATH)?;
    text.trim().parse().map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("bad {PATH}: {text:?}")))
}

/// After a role change: the other class's score (failures are logged).
pub fn role_changed(srv: &mut Server) {
    let _ = apply(srv);
}
