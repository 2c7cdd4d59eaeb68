"""Brisk: run unchanged Brian2 scripts as generated CUDA (or C++ without a GPU).

Usage::

    import brian2brisk
    set_device('brisk')
"""

from brian2.devices.device import all_devices

from . import binomial  # noqa: F401  (records n and p of BinomialFunctions)

from .device import BriskDevice, brisk_device
from .errors import BriskError

__all__ = ["BriskDevice", "BriskError", "brisk_device"]

all_devices["brisk"] = brisk_device
