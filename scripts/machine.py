"""What CPU the benchmark scripts ran on, for the line every figure is quoted with."""

import platform
from pathlib import Path


def cpu_info():
    """(model name, set of flags) from /proc/cpuinfo (Linux); elsewhere what the platform
    says and no flags."""
    model, flags = None, set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and model is None:
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    return model or platform.processor() or platform.machine() or "unknown CPU", flags


def cpu_model():
    """The CPU's model name, e.g. "Intel(R) Xeon(R) Processor"."""
    return cpu_info()[0]
