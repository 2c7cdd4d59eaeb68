extern "C" void {{ k.symbol }}(const BriskArgs* _ap)
{
    const BriskArgs& _a = *_ap;
{{ k.prologue|block(1) }}