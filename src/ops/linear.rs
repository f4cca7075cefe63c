//! linear (being written)
