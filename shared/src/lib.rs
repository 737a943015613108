//! The uis suite library.
