"""A deterministic network with two runs and build_on_run=False."""
from brian2 import *
set_device('cpp_standalone', build_on_run=False)
G = NeuronGroup(50, 'dv/dt = (1.1 + 0.5*i/50 - v)/(10*ms) : 1', threshold='v > 1', reset='v = 0', method='exact', name='grp')
S = Synapses(G, G, 'w : 1', on_pre='v_post += w', name='syn')
S.connect(j='(i + 1) % 50')
S.w = 'i * 0.001'
M = SpikeMonitor(G, name='spikes')
V = StateMonitor(G, 'v', record=[0, 10], name='trace')
R = PopulationRateMonitor(G, name='rate')
run(50*ms)
G.v = 0.5
run(50*ms)
device.build()
