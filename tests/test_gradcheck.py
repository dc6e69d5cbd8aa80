"""nb.gradcheck, nb.compare_gradients, nb.check_function: no false failures, the right
index when something is wrong, the kernel's differences equal plain ones, and the reports.

Correct gradients come from two independent sources: the package's loops (gradcheck)
and the NumPy oracle (compare_gradients); the finite differences from the kernel.
"""

import json

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

import nbbackprop as nb
import oracle
from clear_errors import assert_clear_error
from nbbackprop import finite_differences as fd
from nbbackprop import gradient_check as gc
from nbbackprop.layout import describe as describe_parameter
from oracle import classifier_networks_and_data, networks_and_data


def network(case):
    weights, biases, activations, X, T = case
    return nb.Network.from_weights(weights, biases, activations), X, T


@st.composite
def relu_networks_at_kinks(draw):
    """ReLU networks where, for some samples, a unit's z is exactly 0: its bias is set to
    minus the weighted sum, added in the loops' order (z_j = Σ_i w_ij y_i, then + b_j)."""
    weights, biases, activations, X, T = draw(networks_and_data(activations=("relu", "linear")))
    activations[0] = "relu"
    for l, name in enumerate(activations):
        Y = X
        for m in range(l):  # the inputs of layer l, as the loops compute them
            Y = oracle.f(activations[m], forward_sums(weights[m], Y) + biases[m])
        if name != "relu":
            continue
        for j in draw(st.sets(st.integers(0, weights[l].shape[1] - 1), max_size=3)):
            s = draw(st.integers(0, len(X) - 1))
            biases[l][j] = -forward_sums(weights[l], Y)[s, j]
    return weights, biases, activations, X, T


def forward_sums(W, Y):
    """Σ_i w_ij y_i summed over i in order from 0.0, as formulas.forward_layer does."""
    Z = np.zeros((len(Y), W.shape[1]))
    for i in range(W.shape[0]):
        Z += Y[:, i : i + 1] * W[i]
    return Z


# --- no false failures -----------------------------------------------------------------------


@given(networks_and_data())
def test_the_package_gradient_passes(case):
    net, X, T = network(case)
    report = nb.gradcheck(net, X, T)
    assert report.ok, str(report)
    assert report.n_checked == net.parameters.size


@given(networks_and_data())
def test_the_oracle_gradient_passes(case):
    net, X, T = network(case)
    gw, gb = oracle.gradient(*case)
    report = nb.compare_gradients(net, X, T, gw, gb)
    assert report.ok, str(report)


@given(relu_networks_at_kinks())
# A ReLU output exactly at z = 0 with t = 0: E = ½ relu(z)² is smooth there, the oracle's
# matrix product finds z ≈ +1e-16 (on) where the loops find 0 (off); the on-branch's
# rounding is all that separates them.
@example(([np.array([[-1.5]]), np.array([[-1.9, -1.9]]), np.array([[0.375], [1.875]])],
          [np.array([0.]), np.array([0., 0.]), np.array([6.61289063])],
          ["relu", "linear", "relu"], np.array([[-1.03125]]), np.array([[0.]])))
# Two samples at kinks of different layers, moved in opposite directions by biases[0][0]:
# relu'(0) = 0 gives 0, outside the range [0.25, 0.5] of C's own one-sided derivatives.
@example(([np.array([[0.5]]), np.array([[-1.]]), np.array([[0., 1.]])],
          [np.array([0.]), np.array([0.5]), np.array([0., -1.])],
          ["relu", "relu", "linear"], np.array([[0.], [1.]]), np.zeros((2, 2))))
def test_no_false_failures_with_inputs_at_relu_kinks(case):
    net, X, T = network(case)
    for gw, gb in (net.gradient(X, T), oracle.gradient(*case)):
        for mode in ("full", "fast"):
            report = nb.compare_gradients(net, X, T, gw, gb, mode=mode, seed=0)
            assert report.ok, str(report)
    report = nb.compare_gradients(net, X, T, gw, gb)
    # A bias whose z_j is exactly 0 for some sample moves across the kink: one-sided judgement.
    W0, b0 = case[0][0], case[1][0]
    for j in np.flatnonzero((forward_sums(W0, X) + b0 == 0).any(axis=0)):
        entry = report.entries[W0.size + j]
        assert entry.name == f"biases[0][{j}]" and entry.kink


@given(networks_and_data(), st.integers(0, 2**32 - 1))
# A ReLU unit at its kink below an output ReLU at z = 6.5e-48: the steps carry the output
# across its kink, so only the frozen values (E ≈ 1e-12, not the E ≈ 1e-95 at θ) are
# nonzero, and their rounding must be bounded too.
@example(([np.array([[0.]]), np.array([[-2.]])], [np.array([0.]), np.array([6.47457673e-48])],
          ["relu", "relu"], np.array([[0.]]), np.array([[0.]])), 0)
def test_fast_mode_passes_correct_gradients(case, seed):
    net, X, T = network(case)
    report = nb.gradcheck(net, X, T, mode="fast", n_directions=3, seed=seed)
    assert report.ok, str(report)
    assert report.n_checked == 3 and report.seed == seed


@given(networks_and_data())
def test_float32_gradients_are_judged_with_float32_tolerances(case):
    """The oracle run in float32 is a correct float32 gradient: it passes, as float32,
    although it is far outside the float64 tolerances."""
    weights, biases, activations, X, T = case
    net, X, T = network(case)
    as32 = [[a.astype(np.float32) for a in arrays] for arrays in (weights, biases)]
    gw, gb = oracle.gradient(*as32, activations, X.astype(np.float32), T.astype(np.float32))
    gw, gb = [w.astype(np.float32) for w in gw], [b.astype(np.float32) for b in gb]
    net32 = nb.Network.from_weights(*as32, activations)  # the weights the float32 run used
    report = nb.compare_gradients(net32, X.astype(np.float32), T.astype(np.float32), gw, gb)
    assert report.ok, str(report)
    assert report.precision == "float32" and "float32 gradients" in report.verdict()


# --- the finite differences themselves ------------------------------------------------------


@given(networks_and_data(), st.integers(0, 2**16), st.sampled_from([1.0, 1e4]))
# Tiny tanh weights and T = the network's own output: C(θ) ≈ 0, so the rounding of C at
# θ ± h (|y − t|·e_y, with y − t ≈ 1e-6) dwarfs the bound at θ.
@example(([np.array([[6e-8, -6e-8]]), np.array([[6e-8], [1e-7]])],
          [np.array([0.5, -0.25]), np.array([0.125])], ["tanh", "tanh"],
          np.array([[1.5]]), np.array([[0.12435300495672774]])), 4, 1.0)
def test_kernel_differences_equal_plain_ones(case, k, scale):
    """The kernel recomputes only what a parameter reaches; its quotient must equal the
    plain one from net.error at θ ± h, up to the rounding bounds of the four evaluations:
    ε_C(θ ± h) each for the plain ones, plus the row's EXTRA_ROUNDING / n for the kernel's
    (so each quotient is within (ε_C(θ + h) + ε_C(θ − h) [+ 2·extra]) / span of the exact
    one). Inputs scaled up make steps t·y_i too large for the polynomial-shifted
    exponentials of ``neuron_block``, which then leaves the entries to
    ``moved_sample_error``."""
    net, X, T = network(case)
    assert_kernel_difference_equals_plain_one(net, X * scale, T, k)


@given(classifier_networks_and_data(loss="cross_entropy"), st.integers(0, 2**16),
       st.sampled_from([1.0, 1e4]))
def test_kernel_differences_equal_plain_ones_with_cross_entropy(case, k, scale):
    """The same for softmax and sigmoid outputs with cross-entropy (``cross_entropy_block``:
    E' = E + ΔE with polynomial e^x − 1 and ln(1 + v))."""
    weights, biases, activations, X, T, loss = case
    net = nb.Network.from_weights(weights, biases, activations, loss=loss)
    assert_kernel_difference_equals_plain_one(net, X * scale, T, k)


def assert_kernel_difference_equals_plain_one(net, X, T, k):
    theta = net.parameters
    p = k % theta.size
    h = gc.STEP * np.maximum(1.0, np.abs(theta))
    rows = np.empty((theta.size, fd.ROW))
    fd.central_differences(theta, net.layout, X, T, h, rows, gc.LAMBDA)
    before = theta.copy()
    old = theta[p]
    eps_c = 0.0
    for sign in (1, -1):
        theta[p] = old + sign * h[p]
        eps_c += fd.error_rounding(theta, net.layout, X, T, gc.U64, gc.LAMBDA)
        if sign == 1:
            up = net.error(X, T)
    down = net.error(X, T)
    theta[p] = old
    span = (old + h[p]) - (old - h[p])  # the step the plain quotient really took
    plain = (up - down) / span
    kernel = rows[p, fd.ALL_H] / (2 * h[p] * len(X))
    extra = rows[p, fd.EXTRA_ROUNDING] / len(X)
    assert abs(kernel - plain) <= 2 * (eps_c + extra) / span + 4 * gc.EPS * abs(plain)
    np.testing.assert_array_equal(theta, before)  # θ was never written


def extended_f(name, Z):
    """y = f(z) in the dtype of Z (the output's softmax is left to the loss, from Z)."""
    if name == "sigmoid":
        return 1 / (1 + np.exp(-Z))
    if name == "tanh":
        return np.tanh(Z)
    if name == "relu":
        return np.maximum(Z, 0)
    return Z


def extended_moved_error(weights, biases, activations, X, T, l, index, step, loss="squared"):
    """C with weights[l][index] moved by step (biases[l] when index is a 1-tuple), computed in
    x87 extended precision (64-bit significand, 2^11 times finer than float64): a reference
    whose own rounding is far below the float64 bounds checked against it."""
    ws = [W.astype(np.longdouble) for W in weights]
    bs = [b.astype(np.longdouble) for b in biases]
    (ws if len(index) == 2 else bs)[l][index] += np.longdouble(step)
    Y, T = X.astype(np.longdouble), T.astype(np.longdouble)
    for W, b, name in zip(ws, bs, activations, strict=True):
        Z = Y @ W + b
        Y = extended_f(name, Z)
    if loss == "squared":
        return np.mean(0.5 * ((T - Y) ** 2).sum(axis=1))
    if activations[-1] == "softmax":  # Σ_k t_k (lse(z) − z_k), as oracle.error
        return np.mean((T * (oracle.logsumexp(Z)[:, None] - Z)).sum(axis=1))
    return np.mean((T * oracle.softplus(-Z) + (1 - T) * oracle.softplus(Z)).sum(axis=1))


@pytest.mark.skipif(np.finfo(np.longdouble).nmant < 63, reason="needs x87 extended precision")
@given(networks_and_data(activations=("sigmoid", "tanh", "relu", "linear")), st.data())
def test_incremental_evaluations_stay_within_their_rounding_bound(case, data):
    """Where the kernel evaluates E from the unperturbed pass (sigmoid, tanh, ReLU and
    linear units: polynomial-shifted exponentials, ``neuron_block``, or entry by entry,
    ``moved_sample_error``), each evaluation of C must lie within
    ε_C plus the row's EXTRA_ROUNDING / n of the exact C at the moved θ, so their difference
    at ±h within twice that of the exact difference (taken in extended precision)."""
    assert_within_extended_difference(*case, "squared", data)


@pytest.mark.skipif(np.finfo(np.longdouble).nmant < 63, reason="needs x87 extended precision")
@given(classifier_networks_and_data(loss="cross_entropy"), st.data())
def test_cross_entropy_evaluations_stay_within_their_rounding_bound(case, data):
    """The same for softmax and sigmoid outputs with cross-entropy."""
    assert_within_extended_difference(*case, data)


def assert_within_extended_difference(weights, biases, activations, X, T, loss, data):
    net = nb.Network.from_weights(weights, biases, activations, loss=loss)
    theta = net.parameters
    p = data.draw(st.integers(0, theta.size - 1), label="p")
    h = gc.STEP * np.maximum(1.0, np.abs(theta))
    rows = np.empty((theta.size, fd.ROW))
    fd.central_differences(theta, net.layout, X, T, h, rows, gc.LAMBDA)
    l, kind, i, j = describe_parameter(net.layout, p)
    index = (i, j) if kind == "w" else (j,)
    up = extended_moved_error(weights, biases, activations, X, T, l, index, h[p], loss)
    down = extended_moved_error(weights, biases, activations, X, T, l, index, -h[p], loss)
    eps_c = fd.error_rounding(theta, net.layout, X, T, gc.U64, gc.LAMBDA)
    n = len(X)
    bound = 2 * (eps_c + rows[p, fd.EXTRA_ROUNDING] / n) + 2 * gc.UNDERFLOW
    assert abs(rows[p, fd.ALL_H] / n - float(up - down)) <= bound


def extended_error_along(weights, biases, activations, X, T, C, A, B, step, loss):
    """C at θ + step·u for the rank-one direction (C, A, B) of ``gc._directions``, in x87
    extended precision: w_ij of layer l moves by step·c_i·a_j, b_j by step·β_j."""
    n_off = np.cumsum([0] + [W.shape[0] for W in weights] + [weights[-1].shape[1]])
    step = np.longdouble(step)
    moved_w, moved_b = [], []
    for l, (W, b) in enumerate(zip(weights, biases, strict=True)):
        c = C[n_off[l] : n_off[l + 1]].astype(np.longdouble)
        a = A[n_off[l + 1] : n_off[l + 2]].astype(np.longdouble)
        beta = B[n_off[l + 1] : n_off[l + 2]].astype(np.longdouble)
        moved_w.append(W.astype(np.longdouble) + step * np.outer(c, a))
        moved_b.append(b.astype(np.longdouble) + step * beta)
    return extended_moved_error(moved_w, moved_b, activations, X, T, 0, (0,), 0.0, loss)


@pytest.mark.skipif(np.finfo(np.longdouble).nmant < 63, reason="needs x87 extended precision")
@given(networks_and_data(activations=("sigmoid", "tanh", "relu", "linear")),
       st.integers(0, 2**32 - 1))
def test_fast_mode_evaluations_stay_within_their_rounding_bound(case, seed):
    """Fast mode evaluates C along a rank-one direction from the pass at θ
    (``fd.rank_one_differences``): its difference at ±t must lie within twice
    ε_C + EXTRA_ROUNDING / n (``fd.rank_one_rounding``) of the exact one."""
    assert_fast_within_extended_difference(*case, "squared", seed)


@pytest.mark.skipif(np.finfo(np.longdouble).nmant < 63, reason="needs x87 extended precision")
@given(classifier_networks_and_data(loss="cross_entropy"), st.integers(0, 2**32 - 1))
def test_fast_mode_evaluations_stay_within_their_rounding_bound_for_classifiers(case, seed):
    """The same for softmax and sigmoid outputs with cross-entropy."""
    assert_fast_within_extended_difference(*case, seed)


def assert_fast_within_extended_difference(weights, biases, activations, X, T, loss, seed):
    net = nb.Network.from_weights(weights, biases, activations, loss=loss)
    at_theta = gc._FastPass(net, X, T, gc.U64, np.zeros(net.parameters.size), gc.UNDERFLOW)
    C, A, B, _ = gc._directions(net, 1, seed)
    rows = np.empty((1, fd.ROW))
    fd.rank_one_differences(net.parameters, net.layout, X, T, at_theta.Z, at_theta.E, C, A, B,
                            at_theta.scale, gc.STEP, at_theta.extra, rows)
    tau = gc.STEP * at_theta.scale
    up, down = (extended_error_along(weights, biases, activations, X, T, C[0], A[0], B[0],
                                     sign * tau, loss) for sign in (1, -1))
    n = len(X)
    # The bound the check uses for each evaluation: ε_C at θ, at least the final rounding
    # of C at the moved points (where C(θ) ≈ 0), plus EXTRA_ROUNDING / n.
    bound = 2 * gc._rounding(at_theta.eps_c, rows, net, n)[0]
    assert abs(rows[0, fd.ALL_H] / n - float(up - down)) <= bound


def test_the_step_and_tolerance_are_in_the_report():
    net, (X, T) = nb.Network([2, 3, 1], "tanh", seed=1), nb.xor()
    report = nb.gradcheck(net, X, T)
    text = str(report)
    assert "ε^(1/3)·max(1, |θ|)" in text and "|D(2h) − D(h)| + 3·ε_C/h + e_g" in text
    eps_c = fd.error_rounding(net.parameters, net.layout, X, T, gc.U64, gc.LAMBDA)
    assert f"ε_C = {eps_c:.2g}" in text
    for e, theta_p in zip(report.entries, net.parameters):  # never below the rounding bound
        assert e.tol >= 3 * eps_c / (gc.STEP * max(1.0, abs(theta_p)))


# --- finding the wrong index ----------------------------------------------------------------


@given(networks_and_data(), st.data())
def test_a_corrupted_entry_is_the_one_reported(case, data):
    net, X, T = network(case)
    gw, gb = net.gradient(X, T)
    flat = np.concatenate([np.concatenate([w.ravel(), b]) for w, b in zip(gw, gb)])
    p = data.draw(st.integers(0, flat.size - 1), label="p")
    bump = data.draw(st.sampled_from([1e-3, -0.1, 10.0]), label="bump")
    clean = nb.compare_gradients(net, X, T, gw, gb)
    e = clean.entries[p]
    change = bump * max(1.0, abs(flat[p]))
    assume(abs(change) > 2 * e.tol + (e.high - e.low if e.kink else 0.0))
    flat[p] += change
    bad_w, bad_b = net.per_layer(flat)
    report = nb.compare_gradients(net, X, T, bad_w, bad_b)
    assert [e.name for e in report.failures] == [clean.entries[p].name]
    assert report.worst.name == clean.entries[p].name and not report.ok


@given(networks_and_data(), st.data())
def test_fast_mode_never_hides_one_wrong_entry_and_names_its_array(case, data):
    """Sign directions move every entry by exactly 1/√P, so one wrong entry changes every
    uᵀg by |change|/√P: each direction fails once that exceeds its tolerance (and its
    range at a kink), and of the
    arrays, only the wrong entry's fails on its own (rep.suspects)."""
    net, X, T = network(case)
    gw, gb = net.gradient(X, T)
    flat = np.concatenate([np.concatenate([w.ravel(), b]) for w, b in zip(gw, gb)])
    p = data.draw(st.integers(0, flat.size - 1), label="p")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    clean = nb.compare_gradients(net, X, T, gw, gb, mode="fast", n_directions=3, seed=seed)
    assert clean.ok, str(clean)
    change = data.draw(st.sampled_from([1e-3, -0.1, 10.0]), label="bump") * max(1.0, abs(flat[p]))
    # Beyond every direction's tolerance, and beyond its accepted range at a ReLU kink.
    assume(abs(change) / np.sqrt(flat.size)
           > max(2 * e.tol + (e.high - e.low if e.kink else 0.0) for e in clean.entries))
    flat[p] += change
    report = nb.compare_gradients(net, X, T, *net.per_layer(flat), mode="fast", n_directions=3,
                                  seed=seed)
    assert report.n_failed == 3
    l, kind, _, _ = describe_parameter(net.layout, p)
    assert report.suspects == [f"{'weights' if kind == 'w' else 'biases'}[{l}]"]


@given(classifier_networks_and_data(), st.integers(1, 70), st.integers(0, 2**32 - 1))
def test_fast_mode_judges_exactly_what_net_gradient_returns(case, n, seed):
    """Fast mode computes the gradient from its own pass at θ, BLOCK samples at a time:
    the same numbers as net.gradient bit for bit, so the same report, whatever the
    network and however many blocks the samples fill."""
    weights, biases, activations, _, _, loss = case
    net = nb.Network.from_weights(weights, biases, activations, loss=loss)
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, (n, net.sizes[0]))
    one_hot = loss == "cross_entropy" or net.activations[-1] == "softmax"
    T = (np.eye(net.sizes[-1])[rng.integers(0, net.sizes[-1], n)] if one_hot
         else rng.uniform(0, 1, (n, net.sizes[-1])))
    own = gc._FastPass(net, X, T, gc.U64, None, gc.UNDERFLOW).grad
    np.testing.assert_array_equal(own, gc._flat(*net.gradient(X, T)))
    report = nb.gradcheck(net, X, T, mode="fast", n_directions=2, seed=seed)
    supplied = nb.compare_gradients(net, X, T, *net.gradient(X, T), mode="fast",
                                    n_directions=2, seed=seed)
    assert report.to_dict(all_entries=True) == supplied.to_dict(all_entries=True)


@given(classifier_networks_and_data(), st.integers(1, 70), st.integers(0, 2**32 - 1))
def test_fast_mode_pass_and_sums_equal_the_per_sample_ones(case, n, seed):
    """pass_rounding (BLOCK samples at a time) gives every sample's forward pass and
    rounding bounds bit for bit, and error_rounding's ε_C; rank_one_dots gives
    Σ_i c_i (Σ_j g_ij a_j) summed in the order of i and j, as a plain loop does."""
    weights, biases, activations, _, _, loss = case
    net = nb.Network.from_weights(weights, biases, activations, loss=loss)
    theta, layout = net.parameters, net.layout
    rng = np.random.default_rng(seed)
    X = np.where(rng.random((n, net.sizes[0])) < 0.2, 0.0, rng.uniform(-2, 2, (n, net.sizes[0])))
    T = np.eye(net.sizes[-1])[rng.integers(0, net.sizes[-1], n)]
    width = int(layout.n_off[-1] + layout.sizes[-1])
    Z, Y, EZ, EY = (np.empty((n, width)) for _ in range(4))
    E, grad = np.empty(n), np.empty_like(theta)
    eps_c = fd.pass_rounding(theta, layout, X, T, gc.U64, gc.LAMBDA, Z, Y, E, EZ, EY, grad, True)
    assert eps_c == fd.error_rounding(theta, layout, X, T, gc.U64, gc.LAMBDA)
    z, y, e_z, e_y = (np.empty(width) for _ in range(4))
    for s in range(n):
        fd.forward_samples(theta, layout, X[s : s + 1], T[s : s + 1], z[None], y[None], E[:1])
        fd.forward_rounding(theta, layout, z, y, gc.U64, gc.LAMBDA, e_z, e_y)
        for mine, plain in ((Z[s], z), (Y[s], y), (EZ[s], e_z), (EY[s], e_y)):
            np.testing.assert_array_equal(mine[layout.n_off[1]:], plain[layout.n_off[1]:])
    C, A, B, _ = gc._directions(net, 3, seed)
    C[:, : net.sizes[0]][rng.random((3, net.sizes[0])) < 0.2] = 0.0  # restricted directions
    dots = np.empty((3, 2 * (len(net.sizes) - 1)))
    fd.rank_one_dots(layout, grad, C, A, B, dots)
    for d in range(3):
        for l, (gw, gb) in enumerate(zip(*net.per_layer(grad))):
            c = C[d, layout.n_off[l] : layout.n_off[l] + net.sizes[l]]
            a = A[d, layout.n_off[l + 1] : layout.n_off[l + 1] + net.sizes[l + 1]]
            beta = B[d, layout.n_off[l + 1] : layout.n_off[l + 1] + net.sizes[l + 1]]
            total, bias = 0.0, 0.0
            for i in range(net.sizes[l]):
                if c[i] != 0.0:
                    row = 0.0
                    for j in range(net.sizes[l + 1]):
                        row += float(gw[i, j]) * float(a[j])
                    total += float(c[i]) * row
            for j in range(net.sizes[l + 1]):
                bias += float(beta[j]) * float(gb[j])
            assert (dots[d, 2 * l], dots[d, 2 * l + 1]) == (total, bias)


def test_fast_mode_checks_the_gradient_a_subclass_defines():
    class Doubled(nb.Network):
        def gradient(self, X, T):
            grad_w, grad_b = super().gradient(X, T)
            return [2 * w for w in grad_w], [2 * b for b in grad_b]

    (X, T) = nb.xor()
    assert nb.gradcheck(nb.Network([2, 3, 1], "tanh", seed=0), X, T, mode="fast", seed=1).ok
    report = nb.gradcheck(Doubled([2, 3, 1], "tanh", seed=0), X, T, mode="fast", seed=1)
    assert not report.ok and report.n_failed == report.n_checked


@pytest.mark.parametrize("mode", ["full", "fast"])
def test_an_overflowing_gradient_is_a_clear_error_in_both_modes(mode):
    net = nb.Network([2, 3, 1], "linear", seed=0)
    X, T = np.array([[1e300, 1e300]]), np.array([[0.0]])
    assert_clear_error(lambda: nb.gradcheck(net, X, T, mode=mode, seed=0), nb.NonFiniteResult,
                       ["the gradient ∂C/∂θ is not finite", "largest |X| = 1e+300",
                        "scale X and T down"])


def test_nan_in_supplied_gradients_is_reported_as_a_failure():
    net, (X, T) = nb.Network([2, 3, 1], "sigmoid", seed=0), nb.xor()
    gw, gb = net.gradient(X, T)
    gw[0][1, 2] = np.nan
    gb[1][0] = np.inf
    report = nb.compare_gradients(net, X, T, gw, gb)
    assert not report.ok
    assert {e.name for e in report.failures} == {"weights[0][1, 2]", "biases[1][0]"}
    assert report.to_dict()["worst"]["analytic"] is None  # NaN and inf become null in JSON
    json.dumps(report.to_dict(all_entries=True), allow_nan=False)


def test_fast_mode_failure_points_to_the_full_check():
    net, (X, T) = nb.Network([2, 3, 1], "tanh", seed=0), nb.xor()
    gw, gb = net.gradient(X, T)
    gw[1][0, 0] *= 2
    report = nb.compare_gradients(net, X, T, gw, gb, mode="fast", n_directions=4, seed=3)
    assert not report.ok and report.worst.kind == "direction"
    assert "mode='full'" in report.verdict()
    assert report.suspects == ["weights[1]"] and "wrong entries in weights[1]" in report.verdict()
    assert report.to_dict()["suspects"] == ["weights[1]"]
    again = nb.compare_gradients(net, X, T, gw, gb, mode="fast", n_directions=4, seed=3)
    assert [e.numeric for e in again.entries] == [e.numeric for e in report.entries]
    assert nb.compare_gradients(net, X, T, gw, gb).worst.name == "weights[1][0, 0]"


def test_a_fresh_seed_is_reported():
    net, (X, T) = nb.Network([2, 2, 1], seed=0), nb.xor()
    report = nb.gradcheck(net, X, T, mode="fast", n_directions=2)
    assert isinstance(report.seed, int)
    again = nb.gradcheck(net, X, T, mode="fast", n_directions=2, seed=report.seed)
    assert [e.numeric for e in again.entries] == [e.numeric for e in report.entries]


def test_a_loss_scaled_differently_is_recognised():
    net, (X, T) = nb.Network([2, 3, 2], "tanh", seed=0), (np.eye(2), np.eye(2)[::-1])
    gw, gb = net.gradient(X, T)
    report = nb.compare_gradients(net, X, T, [2 * w for w in gw], [2 * b for b in gb])
    assert not report.ok and "every entry is 2 ×" in report.hint
    report = nb.compare_gradients(net, X, T, [-w for w in gw], [-b for b in gb])
    assert "opposite sign" in report.hint
    assert nb.gradcheck(net, X, T).hint is None


def test_raise_on_failure_carries_the_report():
    net, (X, T) = nb.Network([2, 3, 1], seed=0), nb.xor()
    gw, gb = net.gradient(X, T)
    gb[0][1] += 1.0
    with pytest.raises(nb.GradcheckError) as info:
        nb.compare_gradients(net, X, T, gw, gb, raise_on_failure=True)
    assert info.value.report.worst.name == "biases[0][1]"
    assert "biases[0][1]" in str(info.value) and isinstance(info.value, AssertionError)
    assert nb.gradcheck(net, X, T, raise_on_failure=True).ok


def test_report_summary_and_json():
    net, (X, T) = nb.Network([2, 3, 1], "tanh", seed=0), nb.xor()
    report = nb.gradcheck(net, X, T)
    d = json.loads(json.dumps(report.to_dict(all_entries=True), allow_nan=False))
    assert d["ok"] and d["n_checked"] == 13 and d["failures"] == [] and len(d["entries"]) == 13
    assert d["max_abs_error"] == report.max_abs_error
    assert d["precision"] == "float64" and d["mode"] == "full"
    worst = max(report.entries, key=lambda e: e.abs_err / e.tol)
    assert report.worst == worst
    assert report.max_abs_error == max(e.abs_err for e in report.entries)
    assert report.max_rel_error == max(e.rel_err for e in report.entries)
    assert str(report).splitlines()[-1].startswith("PASSED: all 13 entries agree")
    assert [e.name for e in report.entries][:4] == ["weights[0][0, 0]", "weights[0][0, 1]",
                                                    "weights[0][0, 2]", "weights[0][1, 0]"]
    assert report.entries[6].name == "biases[0][0]" and report.entries[6].i is None


# --- any function ----------------------------------------------------------------------------


def rosenbrock(x):
    return float(np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


def rosenbrock_grad(x):
    g = np.zeros_like(x)
    g[:-1] = -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    return g


@given(st.lists(st.floats(-3, 3), min_size=2, max_size=8), st.data())
def test_check_function_passes_a_right_gradient_and_finds_a_wrong_index(x, data):
    x0 = np.array(x)
    assert nb.check_function(rosenbrock, rosenbrock_grad, x0).ok
    p = data.draw(st.integers(0, len(x) - 1))

    def wrong(x):
        g = rosenbrock_grad(x)
        g[p] += 0.01 * max(1.0, abs(g[p]))
        return g

    report = nb.check_function(rosenbrock, wrong, x0)
    assert [e.name for e in report.failures] == [f"x[{p}]"]


def test_check_function_judges_float32_gradients_as_float32():
    x0 = np.linspace(-1, 1, 5)
    grad32 = lambda x: rosenbrock_grad(x).astype(np.float32)  # noqa: E731
    report = nb.check_function(rosenbrock, grad32, x0)
    assert report.ok and report.precision == "float32"


@pytest.mark.parametrize(("call", "exception", "words"), [
    (lambda: nb.check_function("f", rosenbrock_grad, [1.0, 2.0]), TypeError, ["f", "callable"]),
    (lambda: nb.check_function(rosenbrock, None, [1.0, 2.0]), TypeError, ["grad", "callable"]),
    (lambda: nb.check_function(rosenbrock, lambda x: x[:1], [1.0, 2.0]), ValueError,
     ["grad(x0)", "(2,)", "(1,)"]),
    (lambda: nb.check_function(rosenbrock, lambda x: np.ones((2, 1)), [1.0, 2.0]), ValueError,
     ["grad(x0)", "(2,)", "(2, 1)"]),
    (lambda: nb.check_function(rosenbrock, lambda x: np.ones(2, int), [1.0, 2.0]), TypeError,
     ["grad(x0)", "floats", "int"]),
    (lambda: nb.check_function(lambda x: x, rosenbrock_grad, [1.0, 2.0]), ValueError,
     ["f(x0)", "single number", "(2,)"]),
    (lambda: nb.check_function(lambda x: "a", rosenbrock_grad, [1.0, 2.0]), TypeError,
     ["f(x0)", "real number"]),
    (lambda: nb.check_function(lambda x: np.nan, rosenbrock_grad, [1.0, 2.0]), ValueError,
     ["f(x0)", "finite", "nan"]),
    (lambda: nb.check_function(rosenbrock, rosenbrock_grad, [[1.0, 2.0]]), ValueError,
     ["x0", "1-D", "(1, 2)"]),
    (lambda: nb.check_function(rosenbrock, rosenbrock_grad, [1.0, np.inf]), ValueError,
     ["x0", "finite"]),
])
def test_check_function_bad_input(call, exception, words):
    assert_clear_error(call, exception, words)


def test_check_function_reports_nan_gradients():
    report = nb.check_function(rosenbrock, lambda x: np.array([np.nan, 0.0]), np.zeros(2))
    assert not report.ok and report.worst.name == "x[0]"


# --- bad input to the network checks ---------------------------------------------------------

NET = nb.Network([2, 3, 1], seed=0)
X, T = nb.xor()
GW, GB = NET.gradient(X, T)


@pytest.mark.parametrize(("call", "exception", "words"), [
    (lambda: nb.gradcheck("net", X, T), TypeError, ["net", "Network", "str"]),
    (lambda: nb.gradcheck(NET, X[:, :1], T), ValueError, ["X", "(n, 2)"]),
    (lambda: nb.gradcheck(NET, X, T, mode="slow"), ValueError, ["mode", "'full'", "'slow'"]),
    (lambda: nb.gradcheck(NET, X, T, mode="fast", n_directions=0), ValueError,
     ["n_directions", "≥ 1", "0"]),
    (lambda: nb.gradcheck(NET, X, T, seed=-1), ValueError, ["seed", "≥ 0"]),
    (lambda: nb.gradcheck(NET, X, T, raise_on_failure="yes"), TypeError, ["raise_on_failure"]),
    (lambda: nb.compare_gradients(NET, X, T, GW[:1], GB), ValueError,
     ["grad_w", "one array per layer", "2", "1"]),
    (lambda: nb.compare_gradients(NET, X, T, GW, GB + [GB[0]]), ValueError,
     ["grad_b", "2", "3"]),
    (lambda: nb.compare_gradients(NET, X, T, [GW[0].T, GW[1]], GB), ValueError,
     ["grad_w[0]", "weights[0]", "(2, 3)", "(3, 2)"]),
    (lambda: nb.compare_gradients(NET, X, T, GW, [GB[0], GB[1][:0]]), ValueError,
     ["grad_b[1]", "(1,)", "(0,)"]),
    (lambda: nb.compare_gradients(NET, X, T, [GW[0].astype(int), GW[1]], GB), TypeError,
     ["grad_w[0]", "floats", "int"]),
    (lambda: nb.compare_gradients(NET, X, T, GW[0], GB), TypeError, ["grad_w", "list"]),
    (lambda: nb.compare_gradients(NET, X, T, GW, [[1.0, [2.0]], GB[1]]), ValueError,
     ["grad_b[0]", "rectangular"]),
])
def test_network_checks_bad_input(call, exception, words):
    assert_clear_error(call, exception, words)
