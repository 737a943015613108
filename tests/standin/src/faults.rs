//! Fault injection, settable at run time: drop port-forward tunnels after N
//! forwarded bytes, delay every forwarded data frame, and answer chosen HTTP
//! statuses for path prefixes (optionally only for one method).

use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
struct FailRule {
    method: Option<String>,
    prefix: String,
    status: u16,
}

#[derive(Debug, Default)]
struct State {
    drop_after: Option<u64>,
    latency: Duration,
    api_latency: Duration,
    fails: Vec<FailRule>,
}

/// Handle to the stand-in's faults; cheap to clone, thread-safe.
#[derive(Debug, Clone, Default)]
pub struct Faults(Arc<Mutex<State>>);

impl Faults {
    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut g)
    }
    /// Drop every port-forward tunnel (abruptly, no Close frame) once it
    /// has forwarded this many bytes in total (both directions); None = off.
    pub fn set_drop_tunnel_after(&self, bytes: Option<u64>) {
        self.with(|s| s.drop_after = bytes)
    }
    /// Delay applied to each forwarded data frame, both directions.
    pub fn set_frame_latency(&self, d: Duration) {
        self.with(|s| s.latency = d)
    }
    /// Answer `status` (with a Status body) for requests whose path starts
    /// with `path_prefix` (and whose method is `method`, when given). A later
    /// rule for the same method and prefix replaces the earlier one.
    pub fn set_fail(&self, method: Option<&str>, path_prefix: &str, status: u16) {
        let method = method.map(str::to_ascii_uppercase);
        self.with(|s| {
            s.fails
                .retain(|r| !(r.method == method && r.prefix == path_prefix));
            s.fails.push(FailRule {
                method,
                prefix: path_prefix.to_string(),
                status,
            });
        })
    }
    /// Delay before answering each API request (not `/version` and the
    /// health endpoints, not the stand-in's own `/standin/` paths).
    pub fn set_api_latency(&self, d: Duration) {
        self.with(|s| s.api_latency = d)
    }
    /// The current API latency.
    pub fn api_latency(&self) -> Duration {
        self.with(|s| s.api_latency)
    }
    /// Remove every fault.
    pub fn clear(&self) {
        self.with(|s| *s = State::default())
    }
    /// The current drop threshold.
    pub fn drop_tunnel_after(&self) -> Option<u64> {
        self.with(|s| s.drop_after)
    }
    /// The current per-frame latency.
    pub fn frame_latency(&self) -> Duration {
        self.with(|s| s.latency)
    }
    /// The status to answer for this request, if a rule matches.
    pub fn fail_for(&self, method: &str, path: &str) -> Option<u16> {
        self.with(|s| {
            s.fails
                .iter()
                .rev()
                .find(|r| {
                    path.starts_with(&r.prefix) && r.method.as_deref().is_none_or(|m| m == method)
                })
                .map(|r| r.status)
        })
    }
}
