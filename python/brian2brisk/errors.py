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

    def __init__(self, message, kind="error", obj=None, block=None, line=None, log=None):
        super().__init__(message)
        self.kind = kind
        self.obj = obj
        self.block = block
        self.line = line
        self.log = log

    @classmethod
    def from_output(cls, stderr, returncode):
        """The exception for a failed ``brisk`` run, from its stderr."""
        for line in reversed(stderr.splitlines()):
            if line.startswith(MARKER):
                try:
                    info = json.loads(line[len(MARKER):])
                except json.JSONDecodeError:
                    break
                message = info.get("message", "brisk failed")
                if info.get("kind") == "not_implemented":
                    return NotImplementedError(message)
                return cls(
                    message,
                    kind=info.get("kind", "error"),
                    obj=info.get("object"),
                    block=info.get("block"),
                    line=info.get("line"),
                    log=info.get("log"),
                )
        text = stderr.strip() or f"brisk exited with status {returncode}"
        return cls(text)
