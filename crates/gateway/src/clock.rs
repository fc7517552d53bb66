//! The wall clock as the gateway reads it: whole seconds since the Unix epoch, the unit bearer
//! tokens' `exp` and `nbf` use.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}
