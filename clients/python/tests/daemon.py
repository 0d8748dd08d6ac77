"""A real overseerd on 127.0.0.1 for the tests.

The binary comes from $OVERSEERD. The first start asks for port 0 and reads
the port from the daemon's "listening" line; `restart_after_kill()` reuses
the port and the data directory, so a client's URL stays valid. Every start
is stopped by PID: by the test's cleanup (`remove`, or leaving `with`), and
by SIGKILL at interpreter exit for any still running.
"""
from __future__ import annotations

import atexit
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time

_LISTENING = re.compile(r"overseerd listening on http://127\.0\.0\.1:(\d+)")
_running: set[subprocess.Popen[str]] = set()


@atexit.register
def _kill_leftovers() -> None:
    for proc in _running:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)


def binary() -> str:
    path = os.environ.get("OVERSEERD")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("set OVERSEERD to the path of an overseerd binary")
    return path


class Daemon:
    def __init__(self, tokens: tuple[str, ...] = (), args: tuple[str, ...] = ()):
        self.tokens = tokens
        self.args = args  # more flags, after the defaults (a later --max-concurrent wins)
        self.data_dir = tempfile.mkdtemp(prefix="overseer-client-test-")
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Daemon:
        args = [binary(), "--data-dir", self.data_dir, "--listen", f"127.0.0.1:{self.port}",
                "--max-concurrent", "4"]
        for token in self.tokens:
            args += ["--token", token]
        args += self.args
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        _running.add(self.proc)
        deadline = time.monotonic() + 20
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], deadline - time.monotonic())
            if not ready:
                break
            line = self.proc.stdout.readline()
            if not line:
                break
            match = _LISTENING.search(line)
            if match:
                self.port = int(match.group(1))
                return self
        self.kill()
        raise RuntimeError(f"overseerd did not report a listening port (args {args})")

    def _end(self, sig: int) -> int | None:
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            os.kill(proc.pid, sig)
            if sig == signal.SIGTERM:
                # A SIGTERM drains (running jobs get up to --drain-timeout); a
                # second one after a moment stops at once.
                try:
                    proc.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    os.kill(proc.pid, signal.SIGTERM)
        try:
            code = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            code = proc.wait()
        if proc.stdout:
            proc.stdout.close()
        _running.discard(proc)
        return code

    def stop(self) -> int | None:
        """SIGTERM; returns the exit status."""
        return self._end(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL: a crash, as far as the store knows."""
        self._end(signal.SIGKILL)

    def restart_after_kill(self) -> None:
        self.kill()
        self.start()

    def remove(self) -> None:
        self.kill()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> Daemon:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.remove()


def eventually(predicate, timeout: float = 20.0, interval: float = 0.02):
    """Polls `predicate` until it returns a truthy value, or fails at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)
