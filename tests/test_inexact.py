"""``fit(..., exact=False)``: its kernels stay within their stated rounding bounds of the
exact kernels, and its training is the exact one wherever no sum can round.

The bounds are those of ``nbbackprop.inexact``'s docstring: a sum of n products in any
order, FMA or not, is within γ_{n+1} Σ |terms| of the true value (γ_n = n u / (1 − n u),
u = 2⁻⁵³), the exact path's too, so the two differ by at most twice that; underflow adds
at most 2⁻¹⁰⁷⁵ per rounding. Each test feeds both paths the same inputs.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import nbbackprop as nb
import processes
from nbbackprop import fast, inexact
from nbbackprop.activations import ACTIVATIONS, activate, fprime

U = 2.0**-53
HALF_SUBNORMAL = 2.0**-1075
values = st.floats(-2, 2, allow_nan=False, allow_infinity=False)


def gamma(n):
    return n * U / (1 - n * U)


def sum_bound(n, magnitudes):
    """2 γ_{n+1} Σ |terms| plus underflow's share, for sums of n products and a start."""
    return 2 * gamma(n + 1) * magnitudes + 2 * (2 * n + 1) * HALF_SUBNORMAL


@given(st.integers(1, 20), st.integers(1, 13), st.integers(1, 20), st.booleans(), st.data())
def test_add_products_is_within_twice_gamma_of_the_exact_sums(n_r, n_k, n_c, transposed, data):
    """Sizes past the eight-row, four-term tile and its remainders; A also as a transposed
    view (how the gradient passes its y_si)."""
    A = data.draw(arrays(np.float64, (n_k, n_r) if transposed else (n_r, n_k), elements=values))
    A = A.T if transposed else A
    B = data.draw(arrays(np.float64, (n_k, n_c), elements=values))
    C = data.draw(arrays(np.float64, (n_r, n_c), elements=values))
    exact, reordered = C.copy(), C.copy()
    fast.add_products(A, B, exact)
    inexact.add_products(A, B, reordered)
    bound = sum_bound(n_k, np.abs(C) + np.abs(A) @ np.abs(B))
    assert np.all(np.abs(reordered - exact) <= bound)


@st.composite
def layer_and_batch(draw):
    """(w, b, Y_below, code): widths 1–20, 1–20 samples (the tile and its remainders)."""
    n_i, n_j, m = draw(st.integers(1, 20)), draw(st.integers(1, 20)), draw(st.integers(1, 20))
    return (draw(arrays(np.float64, (n_i, n_j), elements=values)),
            draw(arrays(np.float64, (n_j,), elements=values)),
            draw(arrays(np.float64, (m, n_i), elements=values)),
            draw(st.integers(0, len(ACTIVATIONS) - 1)))


@given(layer_and_batch())
def test_forward_layer_batch_differs_only_through_its_sums(case):
    """|Δz_sj| ≤ 2 γ_{n_i+1} (Σ_i |w_ij y_si| + |b_j|), and y_s = f(z_s) of its own z."""
    w, b, Y_below, code = case
    m, n_j = Y_below.shape[0], w.shape[1]
    Z, Y, Z_exact, Y_exact = (np.empty((m, n_j)) for _ in range(4))
    fast.forward_layer_batch(w, b, Y_below, code, Z_exact, Y_exact)
    inexact.forward_layer_batch(w, b, Y_below, code, Z, Y)
    bound = sum_bound(w.shape[0], np.abs(Y_below) @ np.abs(w) + np.abs(b))
    assert np.all(np.abs(Z - Z_exact) <= bound)
    for s in range(m):
        y = np.empty(n_j)
        activate(code, Z[s], y)
        np.testing.assert_array_equal(Y[s], y)


@given(layer_and_batch(), st.data())
def test_hidden_delta_batch_differs_only_through_its_sums(case, data):
    """|Δδ_sj| ≤ 2 γ_{n_k+1} |f'(z_sj)| Σ_k |δ_sk w_jk|."""
    w, _, D_above, code = case  # D_above[s, k]: δ_k of sample s
    w_above = np.ascontiguousarray(w.T)  # w_above[j, k] = w_jk
    n_j, m = w_above.shape[0], D_above.shape[0]
    Z = data.draw(arrays(np.float64, (m, n_j), elements=values))
    Y = data.draw(arrays(np.float64, (m, n_j), elements=values))
    DT_above = np.ascontiguousarray(D_above.T)
    D, DT, D_exact, DT_exact = np.empty((m, n_j)), np.empty((n_j, m)), np.empty((m, n_j)), \
        np.empty((n_j, m))
    fast.hidden_delta_batch(w_above, DT_above, Z, Y, code, D_exact, DT_exact)
    inexact.hidden_delta_batch(w_above, DT_above, Z, Y, code, D, DT)
    np.testing.assert_array_equal(DT, D.T)
    slope = np.array([[abs(fprime(code, Z[s, j], Y[s, j])) for j in range(n_j)]
                      for s in range(m)])
    bound = slope * sum_bound(w_above.shape[1], np.abs(D_above) @ np.abs(w_above).T)
    assert np.all(np.abs(D - D_exact) <= bound)


@given(layer_and_batch(), st.data())
def test_accumulate_gradient_batch_differs_only_through_its_weight_sums(case, data):
    """|Δ∂E/∂w_ij| ≤ 2 γ_{m+1} (|g_ij| + Σ_s |δ_sj y_si|); the bias sums are the exact ones."""
    grad_w, grad_b, Y_below, _ = case  # start from any gradient so far
    D = data.draw(arrays(np.float64, (Y_below.shape[0], grad_w.shape[1]), elements=values))
    exact_w, exact_b = grad_w.copy(), grad_b.copy()
    fast.accumulate_gradient_batch(D, Y_below, exact_w, exact_b)
    inexact.accumulate_gradient_batch(D, Y_below, grad_w_after := grad_w.copy(),
                                      grad_b_after := grad_b.copy())
    bound = sum_bound(len(D), np.abs(grad_w) + np.abs(Y_below).T @ np.abs(D))
    assert np.all(np.abs(grad_w_after - exact_w) <= bound)
    np.testing.assert_array_equal(grad_b_after, exact_b)


def dyadic(draw, shape, eighths):
    """An array of multiples of 1/8 in [-eighths/8, eighths/8]."""
    return draw(arrays(np.float64, shape,
                       elements=st.integers(-eighths, eighths).map(lambda k: k / 8)))


@given(st.lists(st.integers(1, 12), min_size=2, max_size=4), st.integers(0, 7),
       st.integers(1, 2), st.sampled_from([0.0, 0.5]), st.booleans(), st.data())
def test_fit_is_the_exact_fit_where_no_sum_rounds(sizes, log_m, steps, momentum, shuffle,
                                                  data):
    """Linear units, multiples of 1/8, η and the batch size m powers of two: every product
    and sum of a step is exact in any order, so the inexact fit must give the exact fit's
    bits: the driver, the blocks (m up to 128: four of them), the layers and the step are
    the same. Two steps only for one layer of weights, where the second cannot round
    either (through more layers, the fractions' bits would outgrow 53)."""
    m = 2**log_m
    n = m * (steps if len(sizes) == 2 else 1)
    X, T = dyadic(data.draw, (n, sizes[0]), 8), dyadic(data.draw, (n, sizes[-1]), 8)
    net = nb.Network(sizes, "linear")
    for l in range(len(sizes) - 1):
        net.weights[l] = dyadic(data.draw, net.weights[l].shape, 4)
        net.biases[l] = dyadic(data.draw, net.biases[l].shape, 4)
    fits = []
    for exact in (True, False):
        trained = net.copy()
        history = trained.fit(X, T, epochs=1, eta=1 / 64, batch_size=m,
                              momentum=momentum, shuffle=shuffle, seed=3,
                              on_divergence="stop", exact=exact)
        fits.append((trained.parameters, history.errors))
    np.testing.assert_array_equal(fits[0][0], fits[1][0])
    np.testing.assert_array_equal(fits[0][1], fits[1][1])


def test_online_sgd_without_momentum_stays_exact():
    X, T = nb.xor()
    nets = [nb.Network([2, 3, 1], seed=1) for _ in range(2)]
    for net, exact in zip(nets, (True, False)):
        net.fit(X, T, epochs=50, eta=0.5, exact=exact)
    np.testing.assert_array_equal(nets[0].parameters, nets[1].parameters)


def test_sigmoid_mini_batches_take_the_inexact_path_and_stay_close():
    """A case whose sums do round: after 20 epochs of batch 8 the weights differ from the
    exact fit's (so the inexact kernels ran), by less than 10⁻¹² of their size: a drift of
    a few units in the last place per step, not a different training (docs/training.md
    measures longer runs)."""
    rng = np.random.default_rng(0)
    X = rng.random((64, 30))
    T = np.eye(5)[rng.integers(5, size=64)]
    nets = [nb.Network([30, 16, 5], "sigmoid", output_activation="softmax",
                       loss="cross_entropy", seed=2) for _ in range(2)]
    for net, exact in zip(nets, (True, False)):
        net.fit(X, T, epochs=20, eta=0.1, batch_size=8, exact=exact)
    exact_theta, theta = nets[0].parameters, nets[1].parameters
    assert not np.array_equal(theta, exact_theta)
    assert np.max(np.abs(theta - exact_theta)) <= 1e-12 * np.max(np.abs(exact_theta))


DEFAULT_FITS = """
import numba, numpy as np, nbbackprop as nb
from nbbackprop import inexact
X, T = nb.xor()
for kwargs in ({}, {"batch_size": 2}, {"momentum": 0.5}):
    nb.Network([2, 2, 1], seed=0).fit(X, T, epochs=2, **kwargs)
kernels = [v for v in vars(inexact).values() if isinstance(v, numba.core.dispatcher.Dispatcher)
           and v.py_func.__module__ == inexact.__name__]
print(len(kernels), sum(len(kernel.overloads) for kernel in kernels))
"""


def test_a_default_fit_neither_compiles_nor_loads_an_inexact_kernel():
    """In a fresh process (so no other test's call counts): online, mini-batch and momentum
    fits with the default exact=True leave every kernel of nbbackprop.inexact untouched."""
    kernels, specialisations = processes.run(["-c", DEFAULT_FITS]).stdout.split()
    assert int(kernels) >= 7 and int(specialisations) == 0  # found them all, none compiled


def test_divergence_is_caught_on_the_inexact_path():
    """Divergence detection works with exact=False too: an error that overflows in the
    first epoch is caught, and the starting weights come back."""
    net = nb.Network.from_weights([[[0.5]]], [[0.0]], ["linear"])
    start = net.parameters.copy()
    X, T = np.full((2, 1), 1e150), np.ones((2, 1))
    with pytest.raises(nb.TrainingDiverged, match="at epoch 1: the error became inf"):
        net.fit(X, T, epochs=5, eta=1e10, batch_size=2, exact=False)
    np.testing.assert_array_equal(net.parameters, start)
