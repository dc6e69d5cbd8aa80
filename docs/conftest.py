"""The pictures in plots.md need matplotlib (the [plot] extra): without it that page's
examples are skipped, as the tests that need it are."""

import importlib.util


def pytest_ignore_collect(collection_path, config):
    if collection_path.name == "plots.md" and importlib.util.find_spec("matplotlib") is None:
        return True
    return None
