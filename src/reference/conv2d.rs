//! conv2d (being written)
