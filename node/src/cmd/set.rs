//! The set commands (Redis's t_set.c).

use crate::dispatch::Registry;

pub fn register(_r: &mut Registry) {}
