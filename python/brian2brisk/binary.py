"""Finds the ``brisk`` binary this package was installed with."""

import os
import shutil
import sys
import sysconfig


def find_brisk_binary():
    """Path of the ``brisk`` executable.

    Order: ``$BRISK_BINARY``; the scripts folder of this Python environment
    (where ``pip install`` puts the binary built by maturin); ``PATH``.
    """
    explicit = os.environ.get("BRISK_BINARY")
    if explicit:
        return explicit
    exe = "brisk.exe" if sys.platform == "win32" else "brisk"
    candidates = [
        os.path.join(sysconfig.get_path("scripts"), exe),
        os.path.join(os.path.dirname(sys.executable), exe),
    ]
    user_scripts = sysconfig.get_path("scripts", f"{os.name}_user")
    if user_scripts:
        candidates.append(os.path.join(user_scripts, exe))
    for path in candidates:
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    found = shutil.which(exe)
    if found:
        return found
    raise FileNotFoundError(
        "Cannot find the 'brisk' binary. Install brian2brisk with pip "
        "(it builds and installs the binary) or set $BRISK_BINARY."
    )
