"""The check behind every table of bad inputs: the call raises the expected exception, its
message holds each of the given words (the argument's name, what was expected, what was
given), and no Numba text reaches the user."""

import pytest


def assert_clear_error(call, exception, words):
    with pytest.raises(exception) as info:
        call()
    message = str(info.value)
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
    assert "numba" not in message.lower()
