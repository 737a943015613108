//! Kubernetes access as kubectl does it, for the suite: the client built
//! from the kubeconfig rules ([`cluster`]), where PostgreSQL runs and how to
//! become its superuser ([`locate`]), the port-forward to the database pod
//! ([`tunnel`]), the credential store Secrets ([`store`]) and the wait for a
//! Deployment's rollout ([`rollout`]).
//!
//! Knows no PostgreSQL protocol and no clap: it takes the plain settings in
//! [`cluster::ClusterConfig`] and [`locate::Locator`].

pub mod auth;
pub mod cluster;
pub mod exec;
pub mod locate;
pub mod provider;
pub mod proxy;
pub mod rollout;
pub mod socks;
pub mod store;
pub mod tunnel;

pub use cluster::{Cluster, ClusterConfig};
