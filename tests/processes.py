"""Run Python in a fresh process, as a user would: for signals, kills, the compile cache
and thread counts, which can only be tested across processes."""

import os
import signal
import subprocess
import sys

import nbbackprop

# Where the nbbackprop under test was imported from (the source tree, or site-packages
# in CI): the child processes import that same copy.
PACKAGE = os.path.dirname(os.path.abspath(nbbackprop.__file__))
SITE = os.path.dirname(PACKAGE)


def environment(path=SITE, **changes):
    """os.environ with `path` first on sys.path (by default: where the nbbackprop under
    test lives), plus changes (None deletes a variable)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [
        path, os.environ.get("PYTHONPATH")]))}
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)
    return env


def _default_sigint():
    # A shell without job control starts background jobs with SIGINT ignored, and children
    # inherit that; Python then never raises KeyboardInterrupt. Ctrl-C must reach the child.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(args, env=None):
    """Popen of `python args...` with text pipes and SIGINT delivered as Ctrl-C would be."""
    return subprocess.Popen([sys.executable, *args], env=env or environment(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=_default_sigint)


def run(args, env=None, timeout=300):
    """Run `python args...` to the end; the CompletedProcess with text stdout and stderr."""
    return subprocess.run([sys.executable, *args], env=env or environment(), text=True,
                          capture_output=True, timeout=timeout)
