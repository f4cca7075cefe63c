//! loss (being written)
