"""scripts/bench_gradcheck.py times the same function on both sides: torch's C (whole and on
a subset of the parameters) equals net.error, and its gradient net.gradient (no timing
asserted)."""

import numpy as np
import pytest

from test_bench import load_script

torch = pytest.importorskip("torch")
bench = load_script("bench_gradcheck")


@pytest.mark.parametrize("sizes", [(5, 4, 3), (6, 2), (5, 4, 4, 3)])
@pytest.mark.parametrize("classifier", [False, True])
def test_torch_cost_is_net_error_and_its_gradient_net_gradient(sizes, classifier):
    net, X, T = bench.problem(sizes, classifier)
    cost, params = bench.torch_problem(net, X, T)
    value = cost(*params)
    assert float(value.detach()) == pytest.approx(net.error(X, T), rel=1e-13)
    value.backward()
    gw, gb = net.gradient(X, T)
    for l, (w, b) in enumerate(zip(gw, gb)):
        np.testing.assert_allclose(params[2 * l].grad.numpy(), w, rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(params[2 * l + 1].grad.numpy(), b, rtol=1e-10, atol=1e-15)


def test_the_subset_function_is_the_same_c_of_fewer_inputs():
    net, X, T = bench.problem((5, 4, 3))
    cost, (values,) = bench.torch_subset_problem(net, X, T, 7)
    assert values.shape == (7,)
    assert float(cost(values).detach()) == pytest.approx(net.error(X, T), rel=1e-13)
    moved = values.detach().clone()
    moved[0] += 0.5  # moving a chosen entry moves C
    assert float(cost(moved).detach()) != pytest.approx(net.error(X, T), rel=1e-9)
