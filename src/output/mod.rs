//! Output (placeholder)
