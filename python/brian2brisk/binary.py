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


#: stderr lines of ``brisk`` meant for the device, not for the user
_INTERNAL = ("brisk-error-json: ", "brisk-timings: ")


def run_brisk(args, live=True, env=None, stop_requested=None):
    """Runs ``brisk`` with `args`; returns ``(returncode, stdout, stderr)``.

    With `live`, its output appears while it runs (Brian's ``report=`` lines
    among it); the lines for the device (timings, the error line) and an
    error's message (raised by the caller) are not shown. The binary ends
    with this process (``BRISK_PARENT_PID``); Ctrl-C (``KeyboardInterrupt``)
    stops it and is raised again, also when the binary alone got the SIGINT,
    or when `stop_requested()` turns true (Brian's own SIGINT handler, active
    while a network runs, only sets a flag: "Simulation stop requested").
    """
    import signal
    import subprocess
    import threading

    env = dict(os.environ if env is None else env)
    env["BRISK_PARENT_PID"] = str(os.getpid())
    # progress lines of the long phases (compile, connect) when the user watches a terminal
    if live and sys.stderr.isatty():
        env.setdefault("BRISK_PROGRESS", "1")
    proc = subprocess.Popen([find_brisk_binary(), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, bufsize=1, env=env)
    out, err = [], []

    def pump(stream, lines, sink, internal):
        quiet = False
        for line in stream:
            lines.append(line)
            if internal and line.startswith("brisk: error: "):
                quiet = True
            if live and not quiet and not (internal and line.startswith(_INTERNAL)):
                sink.write(line)
                sink.flush()

    readers = [threading.Thread(target=pump, args=(proc.stderr, err, sys.stderr, True), daemon=True),
               threading.Thread(target=pump, args=(proc.stdout, out, sys.stdout, False), daemon=True)]
    for r in readers:
        r.start()
    try:
        while True:
            try:
                proc.wait(timeout=0.1)
                break
            except subprocess.TimeoutExpired:
                if stop_requested is not None and stop_requested():
                    raise KeyboardInterrupt from None
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise
    for r in readers:
        r.join()
    if proc.returncode == -signal.SIGINT:
        raise KeyboardInterrupt
    return proc.returncode, "".join(out), "".join(err)
