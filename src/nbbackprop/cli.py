"""The ``nbbackprop`` command (also ``python -m nbbackprop``).

Exit status:

- 0: done; for ``gradcheck`` and ``compare``, the gradient passed.
- 1: the gradient check failed, or training diverged (one line on stderr says so).
- 2: the user's input is unusable: a usage error, an ``InputError`` (an argument, an
  array or a file that is refused), or a path that does not exist, is a directory or
  may not be read; one line on stderr names it.
- 130: Ctrl-C.
- 141: the reader of the output went away (``nbbackprop example mazur | head -1``): the
  command stops quietly with the status a shell reports for a program that SIGPIPE
  ended, so ``set -o pipefail`` sees it as it sees ``yes | head -1``.

Any other exception is a bug in nbbackprop: it is not caught, so Python prints its
traceback and exits 1.
"""

import argparse
import json
import math
import os
import sys
import textwrap
import time

import numpy as np

from . import __version__, _jit, schedules
from .activations import LOSSES, OUTPUT_ACTIVATIONS
from .data_files import check_prediction_path, check_width, read_data, write_predictions
from .datasets import split, xor
from .exceptions import InputError, InvalidValue, TrainingDiverged, TrainingInterrupted
from .monitor import has_tqdm, is_classifier
from .network import Network, load
from .storage import check_writable
from .trace import CONVENTIONS
from .worked_examples import EXAMPLES, worked_example

DESCRIPTION = "Backpropagation for fully connected networks, step by step, from the shell."


def demo(args):
    """Train a 2-2-1 sigmoid network on XOR and show the error falling."""
    X, T = xor()
    tic = time.perf_counter()
    warm = Network([2, 2, 1])  # compiles the kernels the demo uses, or loads them from the cache
    warm.fit(X, T, epochs=1)
    warm.error(X, T)
    warm.forward(X)
    compile_seconds = time.perf_counter() - tic
    if _jit.compiled:  # not loaded from the cache: say what the first run cost
        print(f"(compiled the kernels in {compile_seconds:.1f} s; later runs load them from "
              "the cache)\n")
    net = Network([2, 2, 1], activation="sigmoid", seed=args.seed)
    print(f"XOR with a 2-2-1 sigmoid network (seed {args.seed}): online SGD, "
          f"eta={args.eta}, {args.epochs} epochs")
    print(f"{'epoch':>7}  error C = (1/4) Σ_x ½ (t − y)²")
    print(f"{0:>7}  {net.error(X, T):.6f}")
    started = time.perf_counter()
    history = net.fit(X, T, epochs=args.epochs, eta=args.eta, seed=args.seed)
    seconds = time.perf_counter() - started
    shown = sorted({e for e in (1, 10, 100, 1000, 2000, 3000, 4000) if e < history.epochs}
                   | {history.epochs})
    for epoch in shown:
        print(f"{epoch:>7}  {history.errors[epoch - 1]:.6f}")
    print("\n  x1  x2   target  output")
    for x, t, y in zip(X, T, net.forward(X)):
        print(f"  {x[0]:.0f}   {x[1]:.0f}   {t[0]:.0f}       {y[0]:.4f}")
    print(f"\ntrained {history.epochs} epochs ({4 * history.epochs} samples) in {seconds:.3f} s")


def train(args):
    """Train a network on the arrays X and T of an .npz file; save it to --out.

    Ctrl-C or divergence still save (with --out) the weights after the last completed,
    finite epoch, and say so; a later run can continue from them with --model.
    """
    if (args.sizes is None) == (args.model is None):
        raise InvalidValue("give either --sizes (a new network) or --model (continue training "
                           "one)")
    if args.model is not None:
        for flag, value in (("--activation", args.activation), ("--loss", args.loss),
                            ("--output-activation", args.output_activation)):
            if value is not None:
                raise InvalidValue(f"{flag} applies to a new network (--sizes), not to --model "
                                   "(whose file holds it)")
    if args.schedule is not None and args.eta is not None:
        raise InvalidValue("give either --eta or --schedule, not both")
    activation = args.activation or ["sigmoid"]
    if args.sizes is not None and len(activation) not in (1, len(args.sizes) - 1):
        raise InvalidValue(f"--activation must give one name, or one per layer of weights "
                           f"({len(args.sizes) - 1} for --sizes "
                           f"{','.join(map(str, args.sizes))}), got {len(activation)}: "
                           f"{','.join(activation)}")
    if args.val is not None and args.val_split is not None:
        raise InvalidValue("give either --val (validation data) or --val-split (a part of DATA "
                           "held out), not both")
    if args.patience is not None and args.val is None and args.val_split is None:
        raise InvalidValue("--patience needs --val or --val-split: early stopping watches the "
                           "validation error")
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    if progress and not has_tqdm():
        if args.progress:
            raise InvalidValue('--progress needs tqdm: pip install "nbbackprop[progress]"')
        progress = False  # the default in a terminal: no bar rather than no training
    if args.plot is not None:  # a wrong name or a missing matplotlib, before any work
        plot = _plot_module()
        plot.figure_format(args.plot, "--plot")
    for path in (args.out, args.plot):  # where the results go, before training for them
        if path is not None:
            check_writable(path)
    data = read_data(args.data, args.target)
    X, T = data.X, data.T
    validation = None
    if args.val is not None:
        val = read_data(args.val, args.target)
        validation = (val.X, val.T)
    if args.val_split is not None:  # the same rows held out for the same --seed
        X, T, *validation = split(X, T, test_size=args.val_split,
                                  seed=0 if args.seed is None else args.seed)
    if args.model is not None:
        net = load(args.model)
    else:
        net = Network(args.sizes, activation[0] if len(activation) == 1 else activation,
                      output_activation=args.output_activation, loss=args.loss or "squared",
                      seed=0 if args.seed is None else args.seed)
    X, T = net.check_data(X, T)  # before "training …": a bad file is one line, nothing else
    if validation is not None:
        try:
            validation = net.check_data(*validation)
        except InputError as err:
            raise type(err)(f"--val {args.val}: {err}") from None
    eta = args.schedule or (0.5 if args.eta is None else args.eta)
    print(f"training {net} on {len(X)} samples for {args.epochs} epochs (Ctrl-C stops"
          f"{' and saves' if args.out else ''})", flush=True)
    outcome, code, history = "", 0, None
    try:
        history = net.fit(X, T, epochs=args.epochs, eta=eta, batch_size=args.batch_size,
                          momentum=args.momentum, seed=args.seed, target_error=args.target_error,
                          weight_decay=args.weight_decay, progress=progress,
                          validation=validation, patience=args.patience)
        print(_summary(net, history, X, T, validation))
        for warning in history.warnings:
            print(f"warning: {warning}")  # stdout: stderr is for a failure's one line
    except (TrainingInterrupted, TrainingDiverged) as stop:
        outcome, history = str(stop), stop.history
        code = 130 if isinstance(stop, TrainingInterrupted) else 1
    if args.plot is not None and history is not None and history.epochs:
        plot.save(plot.learning_curve(history), args.plot)
        print(f"drew the learning curve to {args.plot}")
    if args.out is not None:
        net.save(args.out)
        if code:
            outcome = f"{outcome.rstrip('.')}. Saved them to {args.out}."
        else:
            print(f"saved the model to {args.out}")
    elif not code:
        print("the model was not saved (give --out FILE to save it)")
    if code:
        print(f"nbbackprop train: {outcome}", file=sys.stderr)
    return code


def evaluate(args):
    """Print a saved model's error on DATA and, for a classifier, its accuracy and confusion
    matrix."""
    net, data = load(args.model), read_data(args.data, args.target)
    check_width(data, net, args.model)
    print(f"{net} on {data.name}: {len(data.X)} samples")
    print(f"error C = {net.error(data.X, data.T):.6g}")
    if is_classifier(net):
        confusion = _confusion_matrix(net, data.X, data.T)
        correct, n = int(np.trace(confusion)), int(confusion.sum())
        print(f"accuracy {correct / n:.2%} ({correct} of {n})")
        print("confusion matrix (rows: true label, columns: predicted label):")
        width = len(str(max(confusion.max(), len(confusion) - 1))) + 2
        labels = range(len(confusion))
        print(" " * width + "".join(f"{k:>{width}}" for k in labels))
        for k, row in zip(labels, confusion):
            print(f"{k:>{width}}" + "".join(f"{count:>{width}}" for count in row))


def predict(args):
    """Write a saved model's outputs on DATA to --out and, for a classifier, the labels."""
    check_prediction_path(args.out)
    for name, path in (("the model file", args.model), ("DATA", args.data)):
        if os.path.exists(args.out) and os.path.exists(path) and os.path.samefile(args.out,
                                                                                   path):
            raise InvalidValue(f"--out {args.out} is {name}; predictions never overwrite it: "
                               "give another name")
    net = load(args.model)
    data = read_data(args.data, args.target, need_targets=False)
    check_width(data, net, args.model)
    outputs = net.forward(data.X)
    labels = net.predict(data.X) if is_classifier(net) else None
    write_predictions(args.out, outputs, labels)
    what = f"outputs {outputs.shape}" + ("" if labels is None else f" and labels {labels.shape}")
    print(f"wrote the {what} on {data.name} to {args.out}")


def _confusion_matrix(net, X, T):
    """counts[k, m]: the samples of true label k the network labels m. A target row's label
    is as for ``Network.accuracy``: its largest entry's index, or for one output t ≥ 0.5."""
    rows = net.check_data(X, T)[1]  # integer labels become one-hot rows
    true = rows.argmax(axis=1) if rows.shape[1] > 1 else (rows[:, 0] >= 0.5).astype(np.int64)
    n_classes = max(rows.shape[1], 2)
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (true, net.predict(X)), 1)
    return counts


def _summary(net, history, X, T, validation):
    """What training ended with: the network's error (and accuracy) on each data set."""
    how = {"target_error": " (reached --target-error)",
           "early_stopping": f" (stopped early: the validation error was best at epoch "
                             f"{history.best_epoch}, whose weights are kept)"}

    def scores(name, data):
        accuracy = f", {name} accuracy {net.accuracy(*data):.2%}" if is_classifier(net) else ""
        return f"error C = {net.error(*data):.6g}{accuracy}"

    summary = (f"trained {history.epochs} epochs{how.get(history.stop_reason, '')} in "
               f"{history.seconds:.3g} s: {scores('training', (X, T))}")
    if validation is not None:
        summary += f"\nvalidation: {scores('validation', validation)}"
    return summary


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be a fraction between 0 and 1 such as 0.2, got "
                                         f"{text}")
    return value


def _sizes(text):
    try:
        sizes = [int(n) for n in text.split(",")]
    except ValueError:
        sizes = []
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"must be at least two positive layer sizes such as "
                                         f"2,3,1, got {text}")
    return sizes


def _output_activation(text):
    if text not in OUTPUT_ACTIVATIONS:
        raise argparse.ArgumentTypeError(f"must be one of {', '.join(OUTPUT_ACTIVATIONS)}, "
                                         f"got {text}")
    return text


def _activations(text):
    names = text.split(",")
    if not all(name in OUTPUT_ACTIVATIONS for name in names):
        raise argparse.ArgumentTypeError(f"must be one of {', '.join(OUTPUT_ACTIVATIONS)}, or one "
                                         f"per layer of weights separated by commas, got {text}")
    return names


def _schedule(text):
    """``name:arguments``, e.g. step:0.5,0.1,100 → schedules.step(0.5, 0.1, 100)."""
    forms = {"step": "step:ETA0,FACTOR,EVERY", "exponential": "exponential:ETA0,GAMMA",
             "inverse_time": "inverse_time:ETA0,DECAY", "cosine": "cosine:ETA0,ETA_MIN,PERIOD"}
    name, _, rest = text.partition(":")
    if name not in forms:
        raise argparse.ArgumentTypeError(f"must be one of {', '.join(forms.values())}, "
                                         f"got {text}")
    try:
        values = [int(v) if v.strip().lstrip("-").isdigit() else float(v) for v in rest.split(",")]
        return getattr(schedules, name)(*values)
    except (ValueError, TypeError) as err:
        raise argparse.ArgumentTypeError(f"must be {forms[name]}, got {text} ({err})") from None


def _example(text):
    if text not in EXAMPLES:
        raise argparse.ArgumentTypeError(f"example must be one of {', '.join(map(repr, EXAMPLES))}"
                                         f", got {text!r}")
    return text


def _integer(text, minimum, maximum=None):
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < minimum or (maximum is not None and value > maximum):
        bounds = f"≥ {minimum}" + ("" if maximum is None else f" and ≤ {maximum}")
        raise argparse.ArgumentTypeError(f"must be an integer {bounds}, got {text}")
    return value


def _seed(text):
    return _integer(text, 0)


def _digits(text):
    return _integer(text, 1, 17)


def _finite_float(text):
    try:
        value = float(text)
    except ValueError:
        value = np.nan
    if not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def _momentum(text):
    value = _finite_float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1), got {text}")
    return value


def _nonnegative_float(text):
    value = _finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number ≥ 0, got {text}")
    return value


def trace(args):
    """Print one training step with every formula and number: of a saved model on the
    sample --x, --t, or of a worked example's first step."""
    if args.example is not None:
        if args.x is not None or args.t is not None:
            raise InvalidValue("--x and --t come from the example; give them with --model only")
        example = worked_example(args.example)
        net, x, t = example.network(), example.x, example.t
        eta = example.eta if args.eta is None else args.eta
        convention = args.convention or example.convention
        train_biases = example.train_biases and not args.fixed_biases
    else:
        if args.x is None or args.t is None:
            raise InvalidValue("--model needs the sample: --x X1 X2 … and --t T1 T2 …")
        net, x, t = load(args.model), args.x, args.t
        n_in, n_out = net.sizes[0], net.sizes[-1]
        if len(x) != n_in:
            raise InvalidValue(f"--x must be one sample of the model's {n_in} inputs, shape "
                               f"({n_in},), got {len(x)} numbers")
        if len(t) != n_out:
            raise InvalidValue(f"--t must be the model's {n_out} targets, shape ({n_out},), "
                               f"got {len(t)} numbers")
        eta = 0.5 if args.eta is None else args.eta
        convention = args.convention or "note"
        train_biases = not args.fixed_biases
    if args.plot is not None:  # a wrong name or a missing matplotlib, before any work
        plot = _plot_module()
        plot.figure_format(args.plot, "--plot")
    tr = net.trace(x, t, eta=eta, convention=convention, train_biases=train_biases)
    if args.plot is not None:
        plot.save(plot.network(net, tr), args.plot)
        print(f"drew the step to {args.plot}", file=sys.stderr)
    if args.format == "json":
        print(json.dumps(tr.to_dict(), indent=1))
    elif args.format == "markdown":
        print(_naming("--full", tr.to_markdown, full=args.full, digits=args.digits), end="")
    else:
        print(_naming("--full", tr.to_text, full=args.full, digits=args.digits))


def _plot_module():
    """nbbackprop.plot, once matplotlib is known to import (else a one-line error)."""
    from . import plot

    try:
        plot._matplotlib()
    except ImportError as err:
        raise InvalidValue(f"--plot {err}") from None
    return plot


def example(args):
    """List the worked examples, or show one: the trace of its first step, then every
    number the source prints next to ours."""
    if args.list:
        if args.name is not None:
            raise InvalidValue("give either an example's name or --list, not both")
        for ex in EXAMPLES.values():
            print(f"{ex.name:<7} {ex.title}")
        return
    if args.name is None:
        raise InvalidValue(f"give an example's name ({', '.join(EXAMPLES)}) or --list")
    ex = worked_example(args.name)
    print(ex.title)
    print(textwrap.fill(f"Source: {ex.source}", width=96))
    print(textwrap.fill(ex.about, width=96))
    print()
    print(_naming("--full", ex.trace().to_text, full=args.full, digits=args.digits))
    print()
    if ex.goal is not None:
        print(f"Online epochs at η = {ex.eta} until the output first reaches {ex.goal}: "
              f"{ex.epochs_to_goal()} (computed by this package; the source gives no count)\n")
    print("The source's numbers next to ours, rounded to the digits printed "
          "(\"updates\": how many steps came before):")
    rows = [("symbol", "updates", "printed", "ours", "agrees")]
    notes = []
    for c in ex.compare():
        agrees = "yes" if c.agrees else "no"
        if c.published.note:
            notes.append(c.published.note)
            agrees += f" [{len(notes)}]"
        rows.append((c.published.symbol, str(c.steps), c.published.printed, c.rounded, agrees))
    widths = [max(len(row[col]) for row in rows) for col in range(5)]
    for row in rows:
        print("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    for n, note in enumerate(notes, 1):
        print(textwrap.fill(note, width=96, initial_indent=f"[{n}] ", subsequent_indent="    "))


def gradcheck_command(args):
    """Check nbbackprop's own gradient of a model file on a data file (exit 1 if it fails)."""
    from .gradient_check import gradcheck

    net, (X, T, _) = load(args.model), read_data(args.data, args.target)
    report = gradcheck(net, X, T, mode=args.mode, n_directions=args.directions, seed=args.seed)
    return _show(report, args)


def compare_command(args):
    """Check gradients another program wrote to a file against finite differences."""
    from .gradient_check import compare_gradients
    from .interop.files import load_gradients

    net, (X, T, _) = load(args.model), read_data(args.data, args.target)
    grad_w, grad_b = load_gradients(args.gradients, net)
    report = compare_gradients(net, X, T, grad_w, grad_b, mode=args.mode,
                               n_directions=args.directions, seed=args.seed)
    return _show(report, args)


def _show(report, args):
    if args.json:
        print(json.dumps(report.to_dict(all_entries=args.all), indent=1, ensure_ascii=False,
                         allow_nan=False))
    else:
        print(_naming("--all", report.show, limit=None if args.all else 10))
    return 0 if report.ok else 1


def _naming(flag, printer, **options):
    """printer(**options) (a report's or a trace's text), its hint at what it left out
    naming the command's flag."""
    return printer(more_hint=flag, **options)


def _check_arguments(p, with_gradients):
    p.add_argument("model", help="the network: an .npz written by Network.save (docs/api.md: "
                                 "'The model file')")
    _add_data_arguments(p)
    if with_gradients:
        p.add_argument("gradients", help="an .npz with w0 … w{L-1}, b0 … b{L-1}: ∂C/∂w_ij "
                                         "and ∂C/∂b_j shaped like the model's weights")
    p.add_argument("--mode", choices=("full", "fast"), default="full",
                   help="full: every entry (default); fast: random directional derivatives")
    p.add_argument("--directions", type=_positive_int, default=8,
                   help="directions in --mode fast (default 8)")
    p.add_argument("--seed", type=_seed, default=None, help="seed of the directions")
    p.add_argument("--json", action="store_true", help="the report as JSON")
    p.add_argument("--all", action="store_true", help="every entry, not only the worst")


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _positive_float(text):
    value = float(text)
    if not (np.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (subcommands' parsers are of this class too)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _add_print_options(p):
    p.add_argument("--full", action="store_true", help="print every neuron of large layers")
    p.add_argument("--digits", type=_digits, default=9,
                   help="significant digits printed (default 9)")


def parser():
    p = _Parser(prog="nbbackprop", description=DESCRIPTION)
    p.add_argument("--version", action="version", version=f"nbbackprop {__version__}")
    commands = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    d = _add_command(commands, "demo", "train XOR with a 2-2-1 network and show the error")
    d.add_argument("--epochs", type=_positive_int, default=5000, help="default: 5000")
    d.add_argument("--eta", type=_positive_float, default=0.5, help="learning rate (default 0.5)")
    d.add_argument("--seed", type=_seed, default=0, help="initial weights and order (default 0)")
    d.set_defaults(run=demo)
    t = _add_command(commands, "train", "train a network on DATA: an .npz or .csv file, or a "
                     "data set")
    _add_data_arguments(t)
    t.add_argument("--sizes", type=_sizes, help="a new network's layer sizes, e.g. 2,3,1")
    t.add_argument("--activation", type=_activations,
                   help="one name, or one per layer of weights: tanh,sigmoid (default sigmoid)")
    t.add_argument("--model", help="continue training the network saved in this file")
    t.add_argument("--epochs", type=_positive_int, default=1000, help="default: 1000")
    t.add_argument("--output-activation", type=_output_activation,
                   help="the output layer's activation (softmax for a classifier)")
    t.add_argument("--loss", choices=LOSSES, help="squared (default) or cross_entropy (with a "
                   "softmax or sigmoid output)")
    t.add_argument("--eta", type=_positive_float, help="learning rate (default 0.5)")
    t.add_argument("--schedule", type=_schedule, help="a learning-rate schedule instead of "
                   "--eta: step:ETA0,FACTOR,EVERY, exponential:ETA0,GAMMA, "
                   "inverse_time:ETA0,DECAY or cosine:ETA0,ETA_MIN,PERIOD")
    t.add_argument("--batch-size", type=_positive_int, default=1, help="default: 1 (online)")
    t.add_argument("--momentum", type=_momentum, default=0.0, help="in [0, 1) (default 0)")
    t.add_argument("--weight-decay", type=_nonnegative_float, default=0.0,
                   help="λ: steps use ∂C/∂w + λw on the weights (default 0)")
    t.add_argument("--seed", type=_seed, help="a new network's initial weights (default 0); "
                   "given, it also restarts the shuffle order (else training continues it)")
    t.add_argument("--target-error", type=_nonnegative_float, help="stop once C is at most this")
    t.add_argument("--val", metavar="VAL_DATA", help="validation data, in any form DATA takes "
                   "(a .csv with the same --target): its error after every epoch; the summary "
                   "gives its error and accuracy")
    t.add_argument("--val-split", metavar="FRACTION", type=_fraction, help="hold out this "
                   "fraction of DATA's samples (shuffled by --seed, default 0) as the "
                   "validation data")
    t.add_argument("--patience", type=_positive_int, help="with --val or --val-split: stop "
                   "after this many epochs without a better validation error, keeping the best "
                   "epoch's weights")
    t.add_argument("--progress", action=argparse.BooleanOptionalAction,
                   help="a progress bar on stderr (default: when stderr is a terminal; needs "
                   "tqdm)")
    t.add_argument("--out", help="save the trained network here (also on Ctrl-C)")
    t.add_argument("--plot", metavar="FILE", help="also draw the learning curve (training and "
                   "validation error per epoch) to a .png, .svg or .pdf file (needs matplotlib)")
    t.set_defaults(run=train)
    tr = _add_command(commands, "trace", "one training step, every formula with its numbers")
    source = tr.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="a model file written by Network.save")
    source.add_argument("--example", metavar="NAME", type=_example,
                        help="a worked example (see: example --list)")
    tr.add_argument("--x", type=_finite_float, nargs="+", metavar="X", help="the sample's inputs")
    tr.add_argument("--t", type=_finite_float, nargs="+", metavar="T",
                    help="the sample's targets")
    tr.add_argument("--eta", type=_positive_float, help="learning rate (default 0.5, or the "
                    "example's)")
    tr.add_argument("--convention", choices=CONVENTIONS, help="sign of δ: note, (t − y) f'(z) "
                    "(default), or gradient, ∂E/∂z (default for an example: its source's)")
    tr.add_argument("--fixed-biases", action="store_true", help="do not update the biases")
    _add_print_options(tr)
    tr.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    tr.add_argument("--plot", metavar="FILE", help="also draw the step (nodes with z, y, δ; "
                    "edges with w, Δw) to a .png, .svg or .pdf file (needs matplotlib)")
    tr.set_defaults(run=trace)
    ex = _add_command(commands, "example", "worked examples from the literature, checked")
    ex.add_argument("name", nargs="?", type=_example, help="the example to show")
    ex.add_argument("--list", action="store_true", help="list the examples")
    _add_print_options(ex)
    ex.set_defaults(run=example)
    g = _add_command(commands, "gradcheck", "check nbbackprop's gradient of a model file "
                     "against finite differences (exit 0 pass, 1 fail)")
    _check_arguments(g, with_gradients=False)
    g.set_defaults(run=gradcheck_command)
    c = _add_command(commands, "compare", "check gradients written by another program "
                     "against finite differences, entry by entry (exit 0 pass, 1 fail)")
    _check_arguments(c, with_gradients=True)
    c.set_defaults(run=compare_command)
    e = _add_command(commands, "evaluate", "a saved model's error on DATA and, for a "
                     "classifier, its accuracy and confusion matrix")
    e.add_argument("--model", required=True, help="a model file written by Network.save")
    _add_data_arguments(e)
    e.set_defaults(run=evaluate)
    pr = _add_command(commands, "predict", "write a saved model's outputs on DATA and, for a "
                      "classifier, its labels")
    pr.add_argument("--model", required=True, help="a model file written by Network.save")
    _add_data_arguments(pr, targets=" (left out of the inputs; predict does not use them)")
    pr.add_argument("--out", required=True, help="the predictions: P.npz (arrays outputs and "
                    "labels) or P.csv (columns output_0 … and label)")
    pr.set_defaults(run=predict)
    return p


TRAIN_XOR = "nbbackprop train xor --sizes 2,3,1 --epochs 2000 --out xor-model.npz"
TRAIN_SPIRALS = ("nbbackprop train spirals:200 --sizes 2,32,32,2 --activation relu "
                 "--output-activation softmax --loss cross_entropy --eta 0.05 --epochs 300 "
                 "--out spirals-model.npz")
#: Each command's --help ends with these lines, run one after the other in an empty
#: directory (tests/test_cli_help.py runs them).
EXAMPLES_RUN = {
    "demo": ["nbbackprop demo --epochs 2000"],
    "train": [TRAIN_XOR, TRAIN_SPIRALS],
    "trace": ["nbbackprop trace --example mazur", TRAIN_XOR,
              "nbbackprop trace --model xor-model.npz --x 1 0 --t 1"],
    "example": ["nbbackprop example --list", "nbbackprop example mazur"],
    "gradcheck": [TRAIN_XOR, "nbbackprop gradcheck xor-model.npz xor"],
    "compare": [TRAIN_XOR,
                "python -c \"import nbbackprop as nb, numpy as np; "
                "gw, gb = nb.load('xor-model.npz').gradient(*nb.xor()); "
                "np.savez('grads.npz', w0=gw[0], w1=gw[1], b0=gb[0], b1=gb[1])\"",
                "nbbackprop compare xor-model.npz xor grads.npz"],
    "evaluate": [TRAIN_SPIRALS, "nbbackprop evaluate --model spirals-model.npz spirals:200,1"],
    "predict": [TRAIN_SPIRALS, "nbbackprop predict --model spirals-model.npz spirals:200,1 "
                "--out predictions.csv"],
}
DATA_FORMS = ("an .npz file (X, and T or integer class labels y), a .csv file (with "
              "--target), or a data set: digits, xor, parity:BITS, symmetry:N, "
              "spirals:N[,SEED[,NOISE]]")


def _add_command(commands, name, help):
    """A subcommand whose --help ends with its runnable example (EXAMPLES_RUN), long lines
    continued with a backslash as a shell reads them."""
    lines = EXAMPLES_RUN[name]
    epilog = ("example:" if len(lines) == 1 else "example, in an empty directory:") + "".join(
        "\n  " + " \\\n      ".join(textwrap.wrap(line, 74, break_long_words=False,
                                                   break_on_hyphens=False))
        for line in lines)
    return commands.add_parser(name, help=help, epilog=epilog,
                               formatter_class=argparse.RawDescriptionHelpFormatter)


def _add_data_arguments(p, targets=""):
    p.add_argument("data", metavar="DATA", help=DATA_FORMS)
    p.add_argument("--target", metavar="COLUMNS", help=f"a .csv DATA's target columns{targets}: "
                   "names from its header, or without one positions from 1, comma-separated")


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        status = args.run(args)
        sys.stdout.flush()  # a reader that went away shows here, not in Python's exit
    except BrokenPipeError:
        _discard_output()
        return 141
    except InputError as err:  # bad input: 2, as argparse's usage errors
        return _refuse(args, err)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError) as err:
        if err.filename is None:  # not about a path the user gave: a bug
            raise
        return _refuse(args, err)
    except TrainingDiverged as err:
        print(f"nbbackprop {args.command}: {' '.join(str(err).split())}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"nbbackprop {args.command}: interrupted", file=sys.stderr)
        return 130
    return status or 0


def _refuse(args, err):
    message = " ".join(str(err).split())  # one line, whatever the message
    print(f"nbbackprop {args.command}: error: {message}", file=sys.stderr)
    return 2


def _discard_output():
    """Point stdout at the null device, so the output still buffered is dropped when Python
    exits instead of failing on the closed pipe a second time."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a file descriptor (captured output)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
