//! The psql-compatible script engine (in progress).
