// linear kernels (being written)
