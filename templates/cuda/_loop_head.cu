    for (int64_t _idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; _idx < _N; _idx += (int64_t)gridDim.x * blockDim.x)
