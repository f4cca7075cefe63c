// sgd kernels (being written)
