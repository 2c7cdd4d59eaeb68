"""Errors reported by the ``brisk`` binary, raised in Python.

``brisk`` ends a failed command with one line ``brisk-error-json: {...}`` on
stderr (see ``docs/export-format.md``). Unsupported features become
`NotImplementedError` (so Brian's test suite counts a skip); everything else a
`BriskError` carrying the Brian object, the code block, the line and, for
compiler failures, the compiler log.
"""

import json

MARKER = "brisk-error-json: "


class BriskError(RuntimeError):
    """A failure reported by ``brisk``: bad input, a failed compile or run."""

    def __init__(
        self, message, kind="error", obj=None, block=None, line=None, log=None, code_object=None,
        copy=None,
    ):
        super().__init__(message)
        #: the copy of a sweep it happened in (``device.run(run_args=[...])``), or None
        self.copy = copy
        self.kind = kind
        self.obj = obj
        self.block = block
        self.line = line
        self.log = log
        self.code_object = code_object

    @classmethod
    def from_info(cls, info):
        """The exception for an error as ``brisk`` reports it (the JSON of a
        ``brisk-error-json`` line, or of a live session's reply): `NotImplementedError`
        for an unsupported feature, else a `BriskError`."""
        message = describe(info)
        if info.get("kind") == "not_implemented":
            error = NotImplementedError(message)
            error.brisk_info = info
            return error
        if info.get("kind") == "index" and cls is BriskError:
            cls = BriskIndexError
        return cls(
            message,
            kind=info.get("kind", "error"),
            obj=info.get("object"),
            block=info.get("block"),
            line=info.get("line"),
            log=info.get("log"),
            code_object=info.get("code_object"),
            copy=info.get("copy"),
        )

    @classmethod
    def from_output(cls, stderr, returncode):
        """The exception for a failed ``brisk`` run, from its stderr."""
        for line in reversed(stderr.splitlines()):
            if line.startswith(MARKER):
                try:
                    info = json.loads(line[len(MARKER):])
                except json.JSONDecodeError:
                    break
                return cls.from_info(info)
        if returncode < 0:
            import signal

            try:
                name = signal.Signals(-returncode).name
            except ValueError:
                name = f"signal {-returncode}"
            text = f"the brisk binary was killed by {name}"
            if -returncode == signal.SIGKILL:
                text += " (by the out-of-memory killer or another process)"
            tail = stderr.strip().splitlines()[-5:]
            if tail:
                text += "; its last output:\n" + "\n".join(tail)
            return cls(text)
        text = stderr.strip() or f"brisk exited with status {returncode}"
        return cls(text)


#: the longest compiler log put into an exception's message (all of it is in ``.log``)
MAX_LOG = 6000


def describe(info):
    """The message of an error line, with the Brian object, code object, block and line."""
    message = info.get("message") or "brisk failed"
    obj = info.get("object")
    code_object = info.get("code_object")
    if obj or code_object:
        where = f"in Brian object '{obj}'" if obj else "in"
        if code_object:
            where += f" (code object '{code_object}'"
            if info.get("block"):
                where += f", block '{info['block']}'"
            where += ")"
        message = f"{where}: {message}"
    if info.get("copy") is not None:
        # (a sweep's copy: `brisk run --sweep`)
        message = f"in copy {info['copy']} of the sweep: {message}"
    if info.get("line"):
        message += f"\n  in: {info['line']}"
    if info.get("path"):
        message += f"\n  at: {info['path']} (export manifest)"
    log = info.get("log")
    if log:
        if len(log) > MAX_LOG:
            log = log[:MAX_LOG] + "\n[... compiler log truncated; see the exception's .log]"
        message += f"\n--- compiler log ---\n{log}"
    return message


class BriskIndexError(BriskError, IndexError):
    """An index out of range made while running (``connect()`` creating a synapse outside
    its groups): an `IndexError`, as Brian's runtime raises it."""
