// pool kernels (being written)
