"""The pictures in plots.md need matplotlib (the [plot] extra): without it that page's
examples are skipped, as the tests that need it are."""

import importlib.util

import pytest


def pytest_collection_modifyitems(config, items):
    if importlib.util.find_spec("matplotlib") is not None:
        return
    for item in items:
        if item.path.name == "plots.md":
            item.add_marker(pytest.mark.skip(
                reason='docs/plots.md needs matplotlib: pip install "nbbackprop[plot]"'))
