extern "C" __global__ void {{ k.symbol }}(const BriskArgs _ain)
{
    const BriskArgs _a = brisk_step_args(_ain);
{{ k.prologue|block(1) }}