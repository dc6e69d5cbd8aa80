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
import os
import sys
import textwrap
import time

import numpy as np

from . import __version__, _jit, schedules
from .activations import LOSSES, OUTPUT_ACTIVATIONS
from .datasets import xor
from .exceptions import InputError, InvalidValue, TrainingDiverged, TrainingInterrupted
from .network import Network, load
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
    from .interop.files import load_data

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
    X, T = load_data(args.data)
    if args.model is not None:
        net = load(args.model)
    else:
        net = Network(args.sizes, activation[0] if len(activation) == 1 else activation,
                      output_activation=args.output_activation, loss=args.loss or "squared",
                      seed=0 if args.seed is None else args.seed)
    eta = args.schedule or (0.5 if args.eta is None else args.eta)
    print(f"training {net} on {len(X)} samples for {args.epochs} epochs (Ctrl-C stops"
          f"{' and saves' if args.out else ''})", flush=True)
    outcome, code = "", 0
    try:
        history = net.fit(X, T, epochs=args.epochs, eta=eta, batch_size=args.batch_size,
                          momentum=args.momentum, seed=args.seed, target_error=args.target_error,
                          weight_decay=args.weight_decay)
        error = history.errors[-1] if history.epochs else net.error(X, T)
        reached = " (reached --target-error)" if history.stop_reason == "target_error" else ""
        classifier = net.loss == "cross_entropy" or net.activations[-1] == "softmax"
        accuracy = f", training accuracy {net.accuracy(X, T):.2%}" if classifier else ""
        print(f"trained {history.epochs} epochs{reached} in {history.seconds:.3g} s: "
              f"error C = {error:.6g}{accuracy}")
    except (TrainingInterrupted, TrainingDiverged) as stop:
        outcome = str(stop)
        code = 130 if isinstance(stop, TrainingInterrupted) else 1
    if args.out is not None:
        net.save(args.out)
        if code:
            outcome = f"{outcome.rstrip('.')}. Saved them to {args.out}."
        else:
            print(f"saved the model to {args.out}")
    if code:
        print(f"nbbackprop train: {outcome}", file=sys.stderr)
    return code


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
    tr = net.trace(x, t, eta=eta, convention=convention, train_biases=train_biases)
    if args.format == "json":
        print(json.dumps(tr.to_dict(), indent=1))
    elif args.format == "markdown":
        print(_naming("--full", tr.to_markdown, full=args.full, digits=args.digits), end="")
    else:
        print(_naming("--full", tr.to_text, full=args.full, digits=args.digits))


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
    from .interop.files import load_data

    net, (X, T) = load(args.model), load_data(args.data)
    report = gradcheck(net, X, T, mode=args.mode, n_directions=args.directions, seed=args.seed)
    return _show(report, args)


def compare_command(args):
    """Check gradients another program wrote to a file against finite differences."""
    from .gradient_check import compare_gradients
    from .interop.files import load_data, load_gradients

    net, (X, T) = load(args.model), load_data(args.data)
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
    p.add_argument("data", help="an .npz with X (n, n_in) and T (n, n_out)")
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
    d = commands.add_parser("demo", help="train XOR with a 2-2-1 network and show the error")
    d.add_argument("--epochs", type=_positive_int, default=5000, help="default: 5000")
    d.add_argument("--eta", type=_positive_float, default=0.5, help="learning rate (default 0.5)")
    d.add_argument("--seed", type=_seed, default=0, help="initial weights and order (default 0)")
    d.set_defaults(run=demo)
    t = commands.add_parser("train", help="train a network on X and T from an .npz file")
    t.add_argument("data", help=".npz file holding X of shape (n, n_in) and T of shape "
                   "(n, n_out), or integer class labels T of shape (n,)")
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
    t.add_argument("--out", help="save the trained network here (also on Ctrl-C)")
    t.set_defaults(run=train)
    tr = commands.add_parser("trace", help="one training step, every formula with its numbers")
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
    tr.set_defaults(run=trace)
    ex = commands.add_parser("example", help="worked examples from the literature, checked")
    ex.add_argument("name", nargs="?", type=_example, help="the example to show")
    ex.add_argument("--list", action="store_true", help="list the examples")
    _add_print_options(ex)
    ex.set_defaults(run=example)
    g = commands.add_parser("gradcheck", help="check nbbackprop's gradient of a model file "
                            "against finite differences (exit 0 pass, 1 fail)")
    _check_arguments(g, with_gradients=False)
    g.set_defaults(run=gradcheck_command)
    c = commands.add_parser("compare", help="check gradients written by another program "
                            "against finite differences, entry by entry (exit 0 pass, 1 fail)")
    _check_arguments(c, with_gradients=True)
    c.set_defaults(run=compare_command)
    return p


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
