//! The zset commands (Redis's t_zset.c).

use crate::dispatch::Registry;

pub fn register(_r: &mut Registry) {}
