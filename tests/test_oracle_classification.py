"""The oracle's classification side (softmax, cross-entropy, weight decay) proved right on
its own. No package code here: nbbackprop is never imported, so a mistake shared by the
package and the oracle cannot hide.

Three independent references for oracle.gradient, for every loss × output pair:

- central differences of oracle.error (+ (λ/2) Σ w²), with the error model of
  tests/test_gradient.py: D(h) = ∂C/∂θ + (h²/6) C''' + r, |r| ≤ ε_C/h, the truncation
  measured as |D(2h) − D(h)| (three times that of D(h)), ε_C = 100·ε·S_C with S_C the
  oracle's error scale. So |D(h) − g| ≤ |D(2h) − D(h)| + 3·ε_C/h for a correct g.
- torch autograd in float64 (skipped without torch): its own softmax, cross_entropy with
  probability targets, binary_cross_entropy_with_logits and mse_loss, compared with
  |got − want| ≤ 1e-12·scale from oracle.error_scales (the bound its docstring states).
- the closed forms δ = y − t and δ_k = y_k[(y_k − t_k) − Σ_m (y_m − t_m) y_m], which the
  oracle deliberately does not use (it goes through the Jacobian or ∂E/∂z of the lse and
  softplus forms), δ = Jᵀ ∂E/∂y for softmax cross-entropy where no y underflows, and the
  limits at saturated logits, worked out by hand.

Weight decay: the central differences and torch both differentiate C + (λ/2) Σ w², so they
check the λ·w convention; test_weight_decay_adds_lambda_w_to_weights_only checks the rest.
Mutations tried once each and caught: a diagonal-only softmax Jacobian, y − t in place of
the general form, λ/2·w, decay on the biases, a naive −Σ t ln y sigmoid cross-entropy, a
softmax without the max subtracted.
"""

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import oracle
from oracle import (
    CROSS_ENTROPY_OUTPUTS,
    OUTPUT_ACTIVATIONS,
    assert_close,
    classifier_networks_and_data,
    one_hot,
)

EPS = np.finfo(np.float64).eps
COMBINATIONS = [("squared", output) for output in OUTPUT_ACTIVATIONS] + [
    ("cross_entropy", output) for output in CROSS_ENTROPY_OUTPUTS
]
DECAY = st.one_of(st.just(0.0), st.floats(0, 2, allow_subnormal=False))


def finite(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def decay_term(weights, lam):
    return lam / 2 * sum(np.sum(W * W) for W in weights)


# --- the gradient against central differences of the oracle's own cost --------------------


def relu_pattern(weights, biases, activations, X):
    layers = oracle.forward(weights, biases, activations, X)
    return [Z > 0 for (Z, _), name in zip(layers, activations) if name == "relu"]


def assert_matches_central_differences(weights, biases, activations, X, T, loss, lam):
    """Every parameter's ∂C/∂θ from oracle.gradient against D(h); returns how many were
    checked (parameters whose ±2h step flips a ReLU are skipped: C has a kink there)."""
    gw, gb = oracle.gradient(weights, biases, activations, X, T, loss=loss, weight_decay=lam)

    def cost():
        return oracle.error(weights, biases, activations, X, T, loss=loss) + decay_term(
            weights, lam)

    def difference(P, idx, h):
        old = P[idx]
        P[idx] = old + h
        up = cost()
        P[idx] = old - h
        down = cost()
        P[idx] = old  # exactly restored
        return (up - down) / ((old + h) - (old - h))  # the step actually taken

    _, se, _, _ = oracle.error_scales(weights, biases, X, T, activations=activations, loss=loss)
    s_c = se + decay_term(weights, abs(lam))
    pattern = relu_pattern(weights, biases, activations, X)
    checked = 0
    for params, grads in ((weights, gw), (biases, gb)):
        for P, G in zip(params, grads, strict=True):
            for idx in np.ndindex(P.shape):
                old = P[idx]
                h = EPS ** (1 / 3) * max(1.0, abs(old))
                kink = False
                for step in (-2 * h, 2 * h):
                    P[idx] = old + step
                    now = relu_pattern(weights, biases, activations, X)
                    kink |= any((a != b).any() for a, b in zip(pattern, now))
                P[idx] = old
                if kink:
                    continue
                d1, d2 = difference(P, idx, h), difference(P, idx, 2 * h)
                # + 1e-300: subnormal costs (targets ~1e-313) round absolutely, not by ε.
                bound = abs(d2 - d1) + 3 * 100 * EPS * s_c / h + 1e-300
                assert abs(d1 - G[idx]) <= bound, (idx, d1, G[idx], bound)
                checked += 1
    return checked


@pytest.mark.parametrize(("loss", "output"), COMBINATIONS)
@given(data=st.data())
def test_gradient_matches_central_differences(loss, output, data):
    case = data.draw(classifier_networks_and_data(loss=loss, output=output), label="case")
    lam = data.draw(DECAY, label="weight_decay")
    weights, biases, activations, X, T, loss = case
    checked = assert_matches_central_differences(weights, biases, activations, X, T, loss, lam)
    if "relu" not in activations:
        assert checked == sum(W.size + b.size for W, b in zip(weights, biases))


@given(classifier_networks_and_data(loss="cross_entropy", output="softmax"), st.data())
def test_softmax_cross_entropy_delta_is_the_general_form_for_any_targets(case, data):
    """δ_k = (Σ_m t_m) y_k − t_k is ∂/∂z_k of Σ_k t_k (lse(z) − z_k) for any t, rows summing
    to 1 or not: the central differences see no difference between the two."""
    weights, biases, activations, X, T, loss = case
    T = data.draw(arrays(np.float64, T.shape, elements=finite(-1, 2)), label="T")
    assert_matches_central_differences(weights, biases, activations, X, T, loss, 0.0)


# --- the gradient and the error against torch autograd ---------------------------------------


def torch_reference(weights, biases, activations, X, T, loss, lam):
    """(Y, C, dC/dW per layer, dC/db per layer) from torch alone, float64."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    functions = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
                 "linear": lambda z: z, "softmax": lambda z: torch.softmax(z, dim=1)}
    Ws = [torch.tensor(W, requires_grad=True) for W in weights]
    bs = [torch.tensor(b, requires_grad=True) for b in biases]
    Y, Tt, n = torch.from_numpy(X), torch.from_numpy(T), len(X)
    for W, b, name in zip(Ws, bs, activations, strict=True):
        Z = Y @ W + b
        Y = functions[name](Z)
    if loss == "squared":
        C = F.mse_loss(Y, Tt, reduction="sum") / (2 * n)
    elif activations[-1] == "softmax":
        C = F.cross_entropy(Z, Tt)  # probabilities as targets; mean over the samples
    else:
        C = F.binary_cross_entropy_with_logits(Z, Tt, reduction="sum") / n
    (C + lam / 2 * sum((W * W).sum() for W in Ws)).backward()
    return (Y.detach().numpy(), C.item(), [W.grad.numpy() for W in Ws],
            [b.grad.numpy() for b in bs])


@pytest.mark.parametrize(("loss", "output"), COMBINATIONS)
@given(data=st.data())
def test_matches_torch_autograd(loss, output, data):
    case = data.draw(classifier_networks_and_data(loss=loss, output=output), label="case")
    lam = data.draw(DECAY, label="weight_decay")
    weights, biases, activations, X, T, loss = case
    # z within rounding of 0 at a relu: either relu'(z) is right, torch may pick the other.
    assume(not oracle.relu_kink_ambiguous(weights, biases, activations, X))
    Y, C, tw, tb = torch_reference(weights, biases, activations, X, T, loss, lam)
    sy, se, sw, sb = oracle.error_scales(weights, biases, X, T, activations=activations,
                                         loss=loss, weight_decay=lam)
    assert_close(oracle.forward(weights, biases, activations, X)[-1][1], Y, sy, "Y")
    assert_close(oracle.error(weights, biases, activations, X, T, loss=loss), C, se, "C")
    gw, gb = oracle.gradient(weights, biases, activations, X, T, loss=loss, weight_decay=lam)
    for l in range(len(weights)):
        assert_close(gw[l], tw[l], sw[l], f"dC/dw layer {l}")
        assert_close(gb[l], tb[l], sb[l], f"dC/db layer {l}")


# --- the output deltas against the closed forms ---------------------------------------------


@st.composite
def logits_and_targets(draw, output, loss):
    """Z (any finite values up to ±1000, the ends often) and valid targets for the pair."""
    n, K = draw(st.integers(1, 6)), draw(st.integers(2 if output == "softmax" else 1, 8))
    z = st.one_of(st.sampled_from([-1000.0, 1000.0]), finite(-1000, 1000))
    Z = draw(arrays(np.float64, (n, K), elements=z))
    if output == "softmax":
        T = np.array([draw(oracle.distributions(K)) for _ in range(n)])
    else:
        T = draw(arrays(np.float64, (n, K), elements=finite(0, 1)))
    return Z, T


@pytest.mark.parametrize(("loss", "output"), [("squared", "softmax"), *[
    ("cross_entropy", output) for output in CROSS_ENTROPY_OUTPUTS]])
@given(data=st.data())
def test_output_delta_equals_the_closed_form(loss, output, data):
    """The oracle's δ (Jacobian product, or ∂E/∂z of the lse/softplus forms) against the
    closed forms. Both are a few roundings of quantities ≤ 2(1 + Σ|t|) (error_scales)."""
    Z, T = data.draw(logits_and_targets(output, loss), label="Z, T")
    Y = oracle.f(output, Z)
    if output == "softmax" and loss == "squared":
        want = Y * ((Y - T) - np.sum((Y - T) * Y, axis=1, keepdims=True))
    else:
        want = Y - T
    scale = 2 * (1 + np.abs(T).sum(axis=1, keepdims=True)) * np.ones_like(Z)
    assert_close(oracle.output_delta(output, loss, Z, Y, T), want, scale, f"δ {loss} {output}")


@given(st.integers(1, 6).flatmap(lambda n: st.integers(1, 8).flatmap(lambda K: st.tuples(
    arrays(np.float64, (n, K), elements=finite(-20, 20)),
    st.lists(oracle.distributions(K), min_size=n, max_size=n).map(np.array)))))
def test_softmax_cross_entropy_delta_through_the_jacobian(Z_T):
    """A third route where no y underflows (|z| ≤ 20): δ = Jᵀ ∂E/∂y with ∂E/∂y_k = −t_k/y_k.
    Each term J_mk·t_m/y_m is y_k·t_m or (1 − y_k)·t_k to a few ε, so the two agree to
    K·ε·(1 + Σ|t|), well inside 1e-12·2(1 + Σ|t|)."""
    Z, T = Z_T
    Y = oracle.softmax(Z)
    assert (Y > 0).all()
    via_jacobian = np.einsum("nmk,nm->nk", oracle.softmax_jacobian(Y), -T / Y)
    scale = 2 * (1 + np.abs(T).sum(axis=1, keepdims=True)) * np.ones_like(Z)
    assert_close(oracle.output_delta("softmax", "cross_entropy", Z, Y, T), via_jacobian, scale,
                 "δ = Jᵀ ∂E/∂y")


# --- saturated logits: finite, and equal to the limits ---------------------------------------


def one_layer(z, n_in=2):
    """A single layer whose z is exactly ``z`` for every input: zero weights, b = z."""
    z = np.asarray(z, dtype=np.float64)
    return [np.zeros((n_in, z.size))], [z]


X2 = np.array([[1.0, -2.0], [0.5, 4.0]])  # products with 0, ±1 and halves are exact


@pytest.mark.parametrize("K", [2, 3, 10])
def test_softmax_cross_entropy_right_class_saturated(K):
    """Right class at +1000, the others at −1000: y = t up to e^−2000 (below the smallest
    subnormal), so E = (K − 1)·e^−2000 rounds to 0 and δ = y − t = 0 exactly."""
    z = np.full(K, -1000.0)
    z[1] = 1000.0
    weights, biases = one_layer(z)
    T = one_hot(np.array([1, 1]), K)
    E = oracle.error(weights, biases, ["softmax"], X2, T, loss="cross_entropy")
    assert E == 0.0
    gw, gb = oracle.gradient(weights, biases, ["softmax"], X2, T, loss="cross_entropy")
    np.testing.assert_array_equal(gw[0], 0.0)
    np.testing.assert_array_equal(gb[0], 0.0)


def test_softmax_cross_entropy_wrong_class_saturated():
    """Class 0 at +1000 wins, the target is class 2 at −1000: lse = 1000, so E = 1000 −
    (−1000) = 2000 per sample; y = e_0, δ = e_0 − e_2 exactly. A soft target (¼, 0, ¾)
    gives E = ¼·0 + ¾·2000 = 1500 and δ = (¾, 0, −¾)."""
    weights, biases = one_layer([1000.0, -1000.0, -1000.0])
    for t, E_limit, delta in (([0, 0, 1], 2000.0, [1, 0, -1]),
                              ([0.25, 0, 0.75], 1500.0, [0.75, 0, -0.75])):
        T = np.array([t, t], dtype=np.float64)
        E = oracle.error(weights, biases, ["softmax"], X2, T, loss="cross_entropy")
        assert E == E_limit
        gw, gb = oracle.gradient(weights, biases, ["softmax"], X2, T, loss="cross_entropy")
        D = np.array([delta, delta], dtype=np.float64)
        np.testing.assert_array_equal(gb[0], D.mean(axis=0))
        np.testing.assert_array_equal(gw[0], X2.T @ D / 2)


def test_softmax_cross_entropy_tied_saturated_classes():
    """Two classes tied at +1000: y = (½, ½, 0), E = ln 2 for either one-hot target, up to
    the rounding of lse = 1000 + ln 2 (half an ulp of 1000, 1000·ε/2)."""
    weights, biases = one_layer([1000.0, 1000.0, -1000.0])
    T = one_hot(np.array([0, 1]), 3)
    E = oracle.error(weights, biases, ["softmax"], X2, T, loss="cross_entropy")
    assert E == pytest.approx(math.log(2), rel=0, abs=1000 * EPS)
    _, gb = oracle.gradient(weights, biases, ["softmax"], X2, T, loss="cross_entropy")
    np.testing.assert_array_equal(gb[0], [0.0, 0.0, 0.0])  # (−½, ½, 0) and (½, −½, 0)


def test_sigmoid_cross_entropy_saturated():
    """z = ±1000: −ln σ(1000) = softplus(−1000) = 0 and −ln(1 − σ(1000)) = 1000 in float64;
    δ = σ(z) − t with σ(±1000) = 1 or 0 exactly."""
    z = np.array([1000.0, -1000.0, 1000.0, -1000.0])
    t = np.array([1.0, 0.0, 0.0, 1.0])
    weights, biases = one_layer(z)
    T = np.array([t, t])
    E = oracle.error(weights, biases, ["sigmoid"], X2, T, loss="cross_entropy")
    assert E == 0 + 0 + 1000 + 1000
    gw, gb = oracle.gradient(weights, biases, ["sigmoid"], X2, T, loss="cross_entropy")
    D = np.array([[0.0, 0.0, 1.0, -1.0]] * 2)
    np.testing.assert_array_equal(gb[0], D.mean(axis=0))
    np.testing.assert_array_equal(gw[0], X2.T @ D / 2)


def test_softmax_squared_error_saturated():
    """y = e_0 exactly, so J = diag(y) − y yᵀ = 0 and the gradient vanishes (the limit),
    while E = ½ Σ (t − y)² = ½ (1 + 1) for the target e_1."""
    weights, biases = one_layer([1000.0, -1000.0, -1000.0])
    T = one_hot(np.array([1, 1]), 3)
    assert oracle.error(weights, biases, ["softmax"], X2, T) == 1.0
    gw, gb = oracle.gradient(weights, biases, ["softmax"], X2, T)
    np.testing.assert_array_equal(gw[0], 0.0)
    np.testing.assert_array_equal(gb[0], 0.0)


@pytest.mark.parametrize(("loss", "output"), COMBINATIONS)
@given(data=st.data())
def test_saturated_networks_give_finite_errors_and_gradients(loss, output, data):
    case = data.draw(classifier_networks_and_data(loss=loss, output=output, saturated=True))
    weights, biases, activations, X, T, loss = case
    # No overflow, 0·inf or log(0) on the way (underflow, exp(−1000) → 0, is the right
    # limit; sigmoid's exp(1000) = inf → 1/(1 + inf) = 0 is allowed inside oracle.f).
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        E = oracle.error(weights, biases, activations, X, T, loss=loss)
        gw, gb = oracle.gradient(weights, biases, activations, X, T, loss=loss)
    assert np.isfinite(E) and E >= 0  # every loss is ≥ 0 for valid targets
    for g in (*gw, *gb):
        assert np.isfinite(g).all()


# --- weight decay -----------------------------------------------------------------------------


@given(classifier_networks_and_data(), finite(0, 10))
def test_weight_decay_adds_lambda_w_to_weights_only(case, lam):
    """gradient(λ) − gradient(0) = λ·W: g + λw rounds once and the difference once more,
    so the error is ≤ 2ε(|g| + λ|w|); biases are untouched, bit for bit."""
    weights, biases, activations, X, T, loss = case
    gw0, gb0 = oracle.gradient(weights, biases, activations, X, T, loss=loss)
    gw, gb = oracle.gradient(weights, biases, activations, X, T, loss=loss, weight_decay=lam)
    for l in range(len(weights)):
        assert_close(gw[l] - gw0[l], lam * weights[l], np.abs(gw0[l]) + lam * np.abs(weights[l]),
                     f"dC/dw(λ) − dC/dw(0), layer {l}")
        np.testing.assert_array_equal(gb[l], gb0[l])
    explicit = oracle.gradient(weights, biases, activations, X, T, loss=loss, weight_decay=0.0)
    for a, b in zip((*gw0, *gb0), (*explicit[0], *explicit[1])):
        np.testing.assert_array_equal(a, b)  # the default is no decay


# --- softmax itself ---------------------------------------------------------------------------


@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 10)),
              elements=finite(-1e308, 1e308)))
def test_softmax_rows_are_distributions(Z):
    """For any finite z: every y_k in [0, 1], each row sums to 1 within (K + 1) roundings,
    and the largest z_k gets the largest y_k, at least 1/K."""
    Y = oracle.softmax(Z)
    K = Z.shape[1]
    assert np.isfinite(Y).all() and (Y >= 0).all() and (Y <= 1).all()
    assert (np.abs(Y.sum(axis=1) - 1) <= (K + 1) * EPS).all()
    top = Y[np.arange(len(Z)), Z.argmax(axis=1)]
    assert (top == Y.max(axis=1)).all() and (top >= 1 / K - K * EPS).all()


exact = st.integers(-(2**30), 2**30).map(lambda k: k / 1024)  # |z| ≤ 2^20, step 2^−10


@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 10)), elements=exact),
       exact.map(lambda c: c * 2**10))
def test_softmax_is_invariant_to_a_shift_exactly(Z, c):
    """z on a 2^−10 grid (|z| ≤ 2^20), c an integer (|c| ≤ 2^30): z + c and (z + c) − max
    need < 53 bits, so are exact, and softmax(z + c) must equal softmax(z) bit for bit
    (a naive exp(z)/Σ exp(z) overflows at such c)."""
    np.testing.assert_array_equal(oracle.softmax(Z + c), oracle.softmax(Z))


@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 10)),
              elements=finite(-1e3, 1e3)), finite(-1e4, 1e4))
def test_softmax_is_invariant_to_a_shift(Z, c):
    """Any shift: z + c rounds by ε(|z| + |c|), moving each z_k − max by ≤ 2ε(max|z| + |c|)
    and y_k (≤ 1) by about y_k times that, plus K roundings of its own."""
    scale = (1 + np.abs(Z).max() + abs(c)) * Z.shape[1]
    assert_close(oracle.softmax(Z + c), oracle.softmax(Z), scale, "softmax(z + c)")


@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 10)),
              elements=finite(-30, 30)))
def test_softmax_is_the_definition(Z):
    """Where exp cannot overflow, the textbook exp(z_k)/Σ_m exp(z_m) (rounding: a few ε
    relative, the sum being of positive terms)."""
    naive = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(oracle.softmax(Z), naive, rtol=1e-13, atol=0)
    np.testing.assert_array_equal(oracle.softmax(Z[0]), oracle.softmax(Z[:1])[0])  # 1-D z
    np.testing.assert_array_equal(oracle.f("softmax", Z), oracle.softmax(Z))


def test_softmax_does_not_overflow():
    """The limits, worked by hand: σ-like pairs, a winner at +1000, z at ±1e308."""
    e = math.exp(-1.0)
    np.testing.assert_allclose(oracle.softmax(np.array([710.0, 709.0])),  # exp(710) = inf
                               [1 / (1 + e), e / (1 + e)], rtol=4 * EPS)
    np.testing.assert_array_equal(oracle.softmax(np.array([1000.0, 0.0, -1000.0])), [1, 0, 0])
    np.testing.assert_array_equal(oracle.softmax(np.array([1e308, -1e308])), [1, 0])
    np.testing.assert_array_equal(oracle.softmax(np.array([1e308, 1e308])), [0.5, 0.5])


def test_softmax_has_no_elementwise_derivative():
    with pytest.raises(ValueError, match="softmax_jacobian"):
        oracle.f_prime("softmax", np.zeros(3))


# --- the strategy, one_hot and the loss checks ------------------------------------------------


@given(classifier_networks_and_data())
def test_strategy_draws_valid_cases(case):
    weights, biases, activations, X, T, loss = case
    oracle.check_loss(activations, loss)
    K = weights[-1].shape[1]
    assert T.shape == (len(X), K) and X.shape[1] == weights[0].shape[0]
    assert all(name in oracle.ACTIVATIONS for name in activations[:-1])
    if loss == "cross_entropy":
        assert activations[-1] in CROSS_ENTROPY_OUTPUTS
        assert ((T >= 0) & (T <= 1)).all()
    if activations[-1] == "softmax":
        assert K >= 2 and ((T >= 0) & (T <= 1)).all()
        assert (np.abs(T.sum(axis=1) - 1) <= K * EPS).all()


@given(st.integers(1, 10).flatmap(
    lambda K: st.tuples(st.just(K), st.lists(st.integers(0, K - 1), max_size=8))))
def test_one_hot(K_labels):
    K, labels = K_labels
    T = one_hot(np.array(labels, dtype=np.int64), K)
    assert T.shape == (len(labels), K) and T.dtype == np.float64
    assert set(np.unique(T)) <= {0.0, 1.0}
    np.testing.assert_array_equal(T.sum(axis=1), 1.0)
    np.testing.assert_array_equal(T.argmax(axis=1), labels)


@pytest.mark.parametrize("labels", [[0, 3], [-1], [0.0, 1.0], [[0]]])
def test_one_hot_refuses_bad_labels(labels):
    with pytest.raises(ValueError):
        one_hot(np.array(labels), 3)


@pytest.mark.parametrize(("activations", "loss"), [
    (["tanh"], "cross_entropy"), (["relu", "linear"], "cross_entropy"),
    (["softmax", "softmax"], "squared"), (["sigmoid"], "hinge")])
def test_invalid_loss_and_output_pairs_are_refused(activations, loss):
    weights = [np.ones((1 if l == 0 else 2, 2)) for l in range(len(activations))]
    biases = [np.zeros(2) for _ in activations]
    X, T = np.ones((1, 1)), np.array([[0.0, 1.0]])
    for function in (oracle.error, oracle.gradient):
        with pytest.raises(ValueError):
            function(weights, biases, activations, X, T, loss=loss)
