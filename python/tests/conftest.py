"""pytest setup for the end-to-end tests (see harness.py)."""

import os
import sys

# `import harness` / `import models` from the test modules
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
