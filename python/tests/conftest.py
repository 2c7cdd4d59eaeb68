"""pytest setup for the end-to-end tests (see harness.py)."""

import os
import sys

# `import harness` / `import models` from the test modules
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


import pytest


def backend_label():
    """The backend the Brisk runs use, as test ids and reports name it:
    'cpu', 'cuda' (a GPU) or 'emulated-cuda' (the emulated CUDA driver)."""
    backend = os.environ.get("BRISK_E2E_BACKEND", "cpu")
    if backend == "cuda" and os.environ.get("BRISK_CUDA_EMULATION") == "1":
        return "emulated-cuda"
    return backend


def pytest_report_header(config):
    label = backend_label()
    text = {"emulated-cuda": "emulated CUDA (the emulated CUDA driver in emu/, not a GPU)",
            "cuda": "CUDA (a GPU)", "cpu": "C++ (CPU)"}.get(label, label)
    line = f"Brisk backend: {text}"
    if os.environ.get("BRISK_E2E_SCHEDULES"):
        line += f"; each model under the schedules {os.environ['BRISK_E2E_SCHEDULES']}"
    return line


@pytest.fixture(autouse=True)
def brisk_backend(request):
    """Puts the backend into every test id (``test_x[emulated-cuda]``)."""
    return request.param


def pytest_generate_tests(metafunc):
    if "brisk_backend" in metafunc.fixturenames:
        label = backend_label()
        metafunc.parametrize("brisk_backend", [label], ids=[label], indirect=True)
