"""`make run`'s process runner: the Procfile's web, worker and beat together; a program that dies is
started again; Ctrl-C stops all three.

Why not honcho: it sends SIGTERM to each whole process group, so Celery's pool children die
under the running tasks (the worker logs "exited with signal 15"), and it SIGKILLs whatever
is still up after 5 s, before a worker in warm shutdown has finished its deliveries. Here the
main process of each program gets SIGTERM and is given time to shut down its own children; only
what outlives it (e.g. runserver's autoreload child) is killed, so nothing is left behind.
A second Ctrl-C kills at once.

    python config/devrun.py [Procfile.dev] [--ready-url URL --ready-message TEXT]
        (a path, not -m: importing the config package would set DJANGO_SETTINGS_MODULE for the children)

`--ready-url`: once it answers 200, TEXT is printed, so the way in stays in view after the programs'
start-up lines have pushed `make run`'s banner up the terminal.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

STOP_TIMEOUT = 30.0  # seconds a program may take to stop before it is killed
_POLL = 0.1
# A program that dies is started again, like systemd's Restart=always and compose's restart policy;
# one that dies this many times within RESTART_WINDOW seconds is broken (a bad setting, a port in
# use), and the runner stops everything with its exit code instead of looping.
RESTART_LIMIT = 5
RESTART_WINDOW = 60.0


@dataclass
class Program:
    name: str
    command: str
    proc: subprocess.Popen | None = None
    pumps: list[threading.Thread] = field(default_factory=list)
    exits: list[float] = field(default_factory=list)  # when it died, for the crash-loop limit


def parse_procfile(text: str) -> list[Program]:
    """`name: command` lines; blank lines and `#` comments are skipped."""
    programs = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, command = line.partition(":")
        if not sep or not name.strip() or not command.strip():
            raise ValueError(f"Procfile line {number} is not 'name: command': {line!r}")
        programs.append(Program(name.strip(), command.strip()))
    if not programs:
        raise ValueError("the Procfile names no program")
    return programs


class Runner:
    def __init__(self, programs: list[Program], out=sys.stdout, stop_timeout: float = STOP_TIMEOUT):
        self.programs = programs
        self.out = out
        self.stop_timeout = stop_timeout
        self.width = max(len(p.name) for p in programs)
        self.lock = threading.Lock()
        self.stop_requests = 0

    def say(self, name: str, text: str) -> None:
        with self.lock:
            self.out.write(f"{time.strftime('%H:%M:%S')} {name:<{self.width}} | {text}\n")
            self.out.flush()

    def _pump(self, program: Program) -> None:
        for raw in iter(program.proc.stdout.readline, b""):
            self.say(program.name, raw.decode(errors="replace").rstrip("\n"))

    def start(self) -> None:
        for program in self.programs:
            self._launch(program)

    def _launch(self, program: Program) -> None:
        # exec: the program itself gets our signals, not a shell in front of it.
        # start_new_session: the terminal's Ctrl-C reaches only us; we stop them in order.
        program.proc = subprocess.Popen(
            ["/bin/sh", "-c", f"exec {program.command}"], stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        pump = threading.Thread(target=self._pump, args=(program,), daemon=True)
        pump.start()
        program.pumps.append(pump)
        self.say("system", f"{program.name} started (pid={program.proc.pid}): {program.command}")

    def _restart_or_give_up(self, program: Program) -> int | None:
        """Start a program that died again; its exit code when it keeps dying (then everything stops)."""
        now = time.monotonic()
        program.exits = [t for t in program.exits if now - t < RESTART_WINDOW] + [now]
        code = program.proc.returncode
        _reap_group(program)
        if len(program.exits) >= RESTART_LIMIT:
            self.say("system", f"{program.name} exited with code {code} {len(program.exits)} times in "
                               f"{RESTART_WINDOW:.0f}s; stopping the others")
            return code or 1
        self.say("system", f"{program.name} exited with code {code}; restarting it")
        self._launch(program)
        return None

    def request_stop(self, signum, frame) -> None:
        self.stop_requests += 1
        if self.stop_requests > 1:
            self.say("system", "second interrupt: killing everything now")
            for program in self.programs:
                _signal_group(program, signal.SIGKILL)

    def running(self) -> list[Program]:
        return [p for p in self.programs if p.proc.poll() is None]

    def run(self) -> int:
        """Start every program; return when all have stopped, with the first failure's code (or 0)."""
        previous = {signum: signal.signal(signum, self.request_stop) for signum in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.start()
            code = 0
            while not self.stop_requests and not code:
                for program in [p for p in self.programs if p.proc.poll() is not None]:
                    code = self._restart_or_give_up(program) or 0
                    if code:
                        break
                time.sleep(_POLL)
            self.stop()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return code

    def stop(self) -> None:
        alive = self.running()
        if alive:
            names = ", ".join(p.name for p in alive)
            self.say("system", f"stopping {names} (Ctrl-C again to kill at once)")
        for program in alive:
            _signal_main(program, signal.SIGTERM)
        pending = list(self.programs)
        deadline = time.monotonic() + self.stop_timeout
        while pending:
            if time.monotonic() > deadline:
                for program in pending:
                    self.say("system", f"{program.name} did not stop within {self.stop_timeout:.0f}s; killing it")
                    _signal_group(program, signal.SIGKILL)
                deadline = float("inf")
            for program in [p for p in pending if p.proc.poll() is not None]:
                pending.remove(program)
                _reap_group(program)
                for pump in program.pumps:
                    pump.join(timeout=2)
                self.say("system", f"{program.name} stopped (rc={program.proc.returncode})")
            time.sleep(_POLL)


def _signal_main(program: Program, signum: int) -> None:
    try:
        program.proc.send_signal(signum)
    except ProcessLookupError:
        pass


def _signal_group(program: Program, signum: int) -> None:
    try:
        os.killpg(program.proc.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _reap_group(program: Program) -> None:
    """Whatever the program left in its process group (an orphaned child) is stopped too."""
    _signal_group(program, signal.SIGTERM)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and _group_alive(program.proc.pid):
        time.sleep(_POLL)
    _signal_group(program, signal.SIGKILL)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def announce_when_ready(runner: Runner, url: str, message: str, timeout: float = 180.0) -> bool:
    """Print `message` once `url` answers 200 (the web program is up); say so if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and runner.stop_requests == 0:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (a URL `make run` built)
                if response.status == 200:
                    for line in message.splitlines():
                        runner.say("system", line)
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    if runner.stop_requests == 0:
        runner.say("system", f"{url} did not answer within {timeout:.0f}s; the lines above say why")
    return False


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="devrun", description="Run a Procfile's programs together.")
    parser.add_argument("procfile", nargs="?", default="Procfile.dev")
    parser.add_argument("--ready-url", help="print --ready-message once this URL answers 200")
    parser.add_argument("--ready-message", default="")
    args = parser.parse_args(argv[1:])
    procfile = Path(args.procfile)
    try:
        programs = parse_procfile(procfile.read_text())
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"{procfile}: {exc}\n")
        return 2
    runner = Runner(programs)
    if args.ready_url:
        threading.Thread(target=announce_when_ready, args=(runner, args.ready_url, args.ready_message),
                         daemon=True).start()
    return runner.run()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
