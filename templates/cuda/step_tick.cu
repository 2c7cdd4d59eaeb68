// the end of a step replayed as a CUDA graph: the clocks that ticked (mask _a.n) advance,
// with Brian's t and timestep arrays, and the random-number stream moves past the step's
// launches; in a batched graph, each copy (blockIdx.y) its own, in its own step state
extern "C" __global__ void brisk_step_tick(const BriskArgs _a0)
{
    BriskArgs _a = _a0;
    if (_a0.batch) {
        const BriskCopy c = _a0.batch[blockIdx.y];
        _a.arrays = c.arrays;
        _a.sizes = c.sizes;
        _a.step = c.step;
    }
    if (blockIdx.x != 0 || threadIdx.x != 0 || !_a.step) return;
    uint64_t* _state = (uint64_t*)_a.step;
    _state[0] += _a.stream;
{%- for c in clocks %}
    if (_a.n & (1ll << {{ c.index }}))
    {
        const int64_t _ts = (int64_t)_state[{{ 1 + 2 * c.index }}] + 1;
        _state[{{ 1 + 2 * c.index }}] = (uint64_t)_ts;
        {{ c.timestep }}[0] = _ts;
        {{ c.t }}[0] = (double)_ts * __longlong_as_double((long long)_state[{{ 2 + 2 * c.index }}]);
    }
{%- endfor %}
}
