// spikegenerator: one thread; the spikes of this time bin (sorted by time, then index) into the event space
{% include "cuda/_head.cu" %}
    if (threadIdx.x != 0) return;
{% include "common/_spikegenerator_body.txt" %}
