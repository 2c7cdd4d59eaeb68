// threshold, after a run: no events are left over
extern "C" void {{ k.symbol }}(const BriskArgs* _ap)
{
    const BriskArgs& _a = *_ap;
{{ k.prologue }}
    int32_t* _events = {{ k.events }};
    (void)_a;
    _events[{{ k.num_source }}] = 0;
}
