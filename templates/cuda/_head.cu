extern "C" __global__ void {{ k.symbol }}(const BriskArgs _a)
{
{{ k.prologue }}