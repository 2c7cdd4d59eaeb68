// threshold fused with the group's stateupdate and reset (plan::fusion): per element, the
// state update, the threshold condition (and refractoriness) and, for an element that
// crossed, the reset; then the threshold's ordered compaction (threshold.cu). The parts'
// arrays are reached through their own functions' pointers only.
{% include "cuda/_head.cu" %}
{% include "cuda/_threshold_chunk.cu" %}    BriskArgs _a_stateupdate = _a, _a_threshold = _a, _a_reset = _a;
    _a_threshold.stream += {{ f.streams[1] }};
    _a_reset.stream += {{ f.streams[2] }};
{% include "cuda/_threshold_open.cu" %}            {{ f.stateupdate }}(_a_stateupdate, _idx);
            _flag = {{ f.threshold }}(_a_threshold, _idx);
{%- if !f.reset.is_empty() %}
            if (_flag) {{ f.reset }}(_a_reset, _idx);
{%- endif %}
{% include "cuda/_threshold_close.cu" %}