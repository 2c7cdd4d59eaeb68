// spikegenerator: the spikes of this time bin (sorted by time, then index) into the event space
{% include "cpp/_head.cpp" %}
{% include "common/_spikegenerator_body.txt" %}
