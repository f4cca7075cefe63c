//! sgd (being written)
