// threshold: spiking elements, in ascending order, into the event space
// (a chunk [lo, hi) of a split kernel: into its own range, then -1; runtime::cpu compacts)
// In blocks of BRISK_AHEAD elements: the conditions first, in a loop the
// compiler vectorises, then the block's events in order.
{% include "cpp/_head.cpp" %}
{% include "cpp/_threshold_loop.cpp" %}
