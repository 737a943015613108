//! The stand-in's tests: ONE test binary (`standin`), one module per client
//! (kube-rs, the real kubectl), as `tests/e2e/tests/tests.rs`. A new
//! `tests/standin/tests/NAME.rs` needs `mod NAME;` here (`autotests = false`
//! keeps cargo from building it alone).

mod kube_client;
mod kubectl;
