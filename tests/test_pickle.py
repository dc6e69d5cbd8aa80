"""A Network pickles (joblib and multiprocessing send networks between processes this way)
and comes back whole: the same weights, views into its own new buffer, and the training
state, so training continues bit for bit as it would have."""

import copy
import pickle

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import nbbackprop as nb

values = st.floats(-2, 2, allow_nan=False, allow_infinity=False)


@st.composite
def trained_networks(draw):
    """(net, X, T, fit arguments): a small network after a few epochs of training."""
    sizes = draw(st.lists(st.integers(1, 5), min_size=2, max_size=4))
    net = nb.Network(sizes, draw(st.sampled_from(nb.ACTIVATIONS)), seed=draw(st.integers(0, 99)))
    n = draw(st.integers(1, 6))
    X = draw(arrays(np.float64, (n, sizes[0]), elements=values))
    T = draw(arrays(np.float64, (n, sizes[-1]), elements=st.floats(0, 1)))
    kwargs = {"eta": 0.1, "batch_size": draw(st.integers(1, n)),
              "momentum": draw(st.sampled_from([0.0, 0.9])), "shuffle": draw(st.booleans())}
    net.fit(X, T, epochs=draw(st.integers(0, 3)), **kwargs)
    return net, X, T, kwargs


@given(trained_networks(), st.sampled_from([pickle.loads, copy.deepcopy]))
def test_a_pickled_network_comes_back_whole_and_trains_on_as_the_original(case, how):
    net, X, T, kwargs = case
    same = how(pickle.dumps(net)) if how is pickle.loads else how(net)
    assert (same.sizes, same.activations, same.loss) == (net.sizes, net.activations, net.loss)
    assert np.array_equal(same.parameters, net.parameters)
    assert same.epochs_trained == net.epochs_trained
    assert not np.shares_memory(same.parameters, net.parameters)
    same.weights[0][0, 0] += 1.0  # still views into its own buffer
    assert same.parameters[0] == net.parameters[0] + 1.0
    same.weights[0][0, 0] -= 1.0
    same.parameters[...] = net.parameters  # exactly, whatever the rounding of ± 1
    net.fit(X, T, epochs=2, **kwargs)
    same.fit(X, T, epochs=2, **kwargs)
    assert np.array_equal(same.parameters, net.parameters)


schedules = st.one_of(
    st.builds(nb.schedules.step, st.floats(0.01, 1), st.floats(0.1, 1), st.integers(1, 9)),
    st.builds(nb.schedules.exponential, st.floats(0.01, 1), st.floats(0.5, 1)),
    st.builds(nb.schedules.inverse_time, st.floats(0.01, 1), st.floats(0, 1)),
    st.builds(lambda eta0, fraction, period: nb.schedules.cosine(eta0, eta0 * fraction, period),
              st.floats(0.01, 1), st.floats(0.01, 1), st.integers(1, 50)))


@given(schedules, st.integers(0, 100))
def test_a_pickled_schedule_gives_the_same_learning_rates(schedule, epoch):
    same = pickle.loads(pickle.dumps(schedule))
    assert repr(same) == repr(schedule)
    assert same(epoch) == schedule(epoch)
