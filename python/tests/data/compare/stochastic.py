"""A stochastic network (xi, rand() initial values, connect(p=...)); with
BRISK_COMPARE_TEST_CHANGE set, Brisk's side gets a stronger drive (a changed model)."""
import os
from brian2 import *
drive = 1.3 if os.environ.get("BRIAN2BRISK_COMPARE_DEVICE") == "brisk" and os.environ.get("BRISK_COMPARE_TEST_CHANGE") else 1.1
G = NeuronGroup(400, 'dv/dt = (%g - v)/(10*ms) + 0.3*xi/sqrt(ms) : 1' % drive, threshold='v > 1', reset='v = 0', method='euler', name='grp')
G.v = 'rand()'
S = Synapses(G, G, on_pre='v_post += 0.01', name='syn')
S.connect(p=0.05)
M = SpikeMonitor(G, name='spikes')
V = StateMonitor(G, 'v', record=range(20), name='trace')
run(200*ms)
