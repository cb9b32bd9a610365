//! The hash commands (Redis's t_hash.c).

use crate::dispatch::Registry;

pub fn register(_r: &mut Registry) {}
