//! batchnorm (being written)
