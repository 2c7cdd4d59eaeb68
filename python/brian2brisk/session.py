"""A live Brisk session: the ``brisk session`` process that keeps a simulation
resident between the calls of a runtime-mode script (``run()``, reads, writes,
``run()`` again).

The device writes the export as the script stands and asks the session to
``sync``: it runs the main-queue entries added since the last call. Reads ask
for one Brian array at a time; its bytes come back over a pipe. The process
is started with the first call, in its own process group (a Ctrl-C at the
terminal reaches Python only: Brian's handler turns it into "stop
requested", which the session gets as ``SIGUSR1`` and honours after the
current step), ends with this process (``BRISK_PARENT_PID``, and ``close`` at
exit), and a crash, kill or out-of-memory of it is a `BriskError` naming the
cause at the next call. ``docs/ARCHITECTURE.md`` ("Live sessions") says why a
process and not an extension module.
"""

import atexit
import json
import os
import select
import signal
import subprocess
import sys
import threading
import weakref

from .binary import find_brisk_binary
from .errors import BriskError

_INTERNAL = ("brisk-error-json: ", "brisk-timings: ")

#: sessions alive in this process, closed at exit
_open = weakref.WeakSet()


@atexit.register
def _close_all():
    for session in list(_open):
        session.close()


class Session:
    """One ``brisk session`` process."""

    def __init__(self, backend="auto", live_output=True, env=None):
        env = dict(os.environ if env is None else env)
        env["BRISK_PARENT_PID"] = str(os.getpid())
        if live_output and sys.stderr.isatty():
            env.setdefault("BRISK_PROGRESS", "1")
        read_fd, write_fd = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [find_brisk_binary(), "session", "--backend", backend, "--reply-fd", str(write_fd)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(write_fd,),
                env=env,
                start_new_session=True,
            )
        finally:
            os.close(write_fd)
        self._reply_fd = read_fd
        self._buf = bytearray()
        self._err_lines = []
        self.live_output = live_output
        self._pumps = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, sys.stdout, False), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, sys.stderr, True), daemon=True),
        ]
        for pump in self._pumps:
            pump.start()
        self.dead = None
        _open.add(self)

    def _pump(self, stream, sink, internal):
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace")
            if internal:
                self._err_lines.append(line)
                del self._err_lines[:-200]
            if self.live_output and not (internal and line.startswith(_INTERNAL)):
                try:
                    sink.write(line)
                    sink.flush()
                except ValueError:  # the sink was closed (interpreter exit)
                    return

    # -- requests ---------------------------------------------------------------
    def sync(self, export_dir, stop_requested=None, on_message=None, reload=(), check=()):
        """Runs the main-queue entries of the export in `export_dir` that have not
        run yet; returns the session's report (backend, network times, timings).
        While it runs, `on_message` gets the session's ``network_operation`` and
        ``report`` messages. The answer's ``invalid`` names those of the arrays
        `check` that hold NaN or huge values."""
        request = {"op": "sync", "export": os.path.abspath(export_dir), "check": list(check)}
        if reload:
            request["reload"] = sorted(reload)
        return self._request(request, stop_requested, on_message=on_message)

    def run(self, entries, stop_requested=None, on_message=None, check=(), static_arrays=None):
        """Runs main-queue `entries` (as the export writes them) that need no new
        code or arrays: a repeated ``run()``, values set from Python (as `sync`,
        without writing or reading an export); `static_arrays` declares the files
        written for them (name -> dtype and size)."""
        request = {"op": "run", "entries": entries, "check": list(check), "static_arrays": static_arrays or {}}
        return self._request(request, stop_requested, on_message=on_message)

    def resume(self, stop):
        """Ends a ``network_operation`` call (`stop`: it called ``Network.stop()``)."""
        self._send({"op": "resume", "stop": bool(stop)})

    def read(self, array):
        """The raw bytes of the Brian array `array` now."""
        head = self._request({"op": "read", "array": array})
        return self._read_exactly(head["bytes"])

    def random_state(self):
        """The random-number key and stream position now."""
        head = self._request({"op": "random_state"})
        return {"seed": head["seed"], "stream": head["stream"]}

    def save_state(self, network, name):
        """The state `store(name)` kept for `network`, as bytes."""
        head = self._request({"op": "save_state", "network": network, "name": name})
        return self._read_exactly(head["bytes"])

    def load_state(self, network, name, data):
        """Keeps a state from `save_state` (of any process) for a ``restore(name)``."""
        self._request({"op": "load_state", "network": network, "name": name, "bytes": len(data)}, payload=data)

    def close(self):
        """Ends the session (its memory, device memory included, is freed)."""
        _open.discard(self)
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b'{"op": "close"}\n')
                self.proc.stdin.flush()
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        if self._reply_fd is not None:
            os.close(self._reply_fd)
            self._reply_fd = None
        if self.dead is None:
            self.dead = "the session was closed"

    # -- plumbing ------------------------------------------------------------------
    def _send(self, request, payload=b""):
        if self.dead is not None:
            raise BriskError(f"the Brisk session is not running: {self.dead}", kind="runtime")
        try:
            self.proc.stdin.write(json.dumps(request).encode() + b"\n" + payload)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._died() from None

    def _request(self, request, stop_requested=None, payload=b"", on_message=None):
        self._send(request, payload)
        while True:
            head = self._read_line(stop_requested)
            if "ok" in head:
                break
            if on_message is None:
                raise BriskError(f"the Brisk session sent an unexpected message: {head}", kind="internal")
            on_message(head)
        if not head.get("ok"):
            raise BriskError.from_info(head.get("error") or {})
        return head

    def _fill(self, timeout):
        """Reads what the reply pipe holds (waiting up to `timeout` s); False if nothing came."""
        ready, _, _ = select.select([self._reply_fd], [], [], timeout)
        if not ready:
            return False
        chunk = os.read(self._reply_fd, 1 << 20)
        if not chunk:
            raise self._died()
        self._buf += chunk
        return True

    def _read_line(self, stop_requested):
        """One reply line; while waiting, a stop request becomes SIGUSR1 (once)."""
        stop_sent = False
        while b"\n" not in self._buf:
            if self._fill(0.05):
                continue
            if self.proc.poll() is not None:
                self._fill(0)  # a last reply written before it ended
                if b"\n" not in self._buf:
                    raise self._died()
            elif not stop_sent and stop_requested is not None and stop_requested():
                stop_sent = True
                try:
                    os.kill(self.proc.pid, signal.SIGUSR1)
                except ProcessLookupError:
                    pass
        line, _, rest = self._buf.partition(b"\n")
        self._buf = bytearray(rest)
        return json.loads(line)

    def _read_exactly(self, n):
        while len(self._buf) < n:
            if not self._fill(1.0) and self.proc.poll() is not None:
                raise self._died()
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def _died(self):
        """The error for a session process that is gone."""
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        for pump in self._pumps:
            pump.join(timeout=1)
        stderr = "".join(self._err_lines)
        error = BriskError.from_output(stderr, code)
        message = str(error)
        if code < 0:
            message = message.replace("the brisk binary", "the Brisk session")
        else:
            message = f"the Brisk session ended (exit status {code}): {message}"
        self.dead = message
        _open.discard(self)
        return BriskError(message, kind="runtime")
