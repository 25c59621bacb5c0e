"""``mips explain``: the program inside a network trained elsewhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mips.cli.common import (
    FORMATS_HELP,
    app,
    input_data,
)
from mips.console import (
    check_out_file,
    fail,
    print_explanation,
    print_program,
    progress_bars,
    write_pictures,
    write_text,
    writing,
)


@app.command()
def explain(
    network: Annotated[
        Path,
        typer.Option(
            "--network",
            help="The trained network as .safetensors: the state_dict of a module with .rnn "
            "(torch.nn.RNN, GRU or LSTM, batch_first) and .head (Linear), with metadata cell "
            "(rnn|gru|lstm), d_in, hidden, layers, d_out and output (round|argmax); or of a "
            "mips.network.transformer.CausalTransformer, with metadata cell=transformer, d_in, "
            "d_model, heads, layers, ff, max_len, d_out and output. Pickles (.pt, .pth) are "
            "refused.",
            show_default=False,
        ),
    ],
    data: Annotated[
        Path,
        typer.Option(
            "--data",
            help=FORMATS_HELP + " Its inputs are fed to the network as floats; its labels "
            "are only compared with the network's answers.",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write the program here (a .py file), with its hidden-state picture (.png) "
            "and, for a finite machine, state graph (.dot) beside it.",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed for the split and the sequences the checks draw.")
    ] = 0,
) -> None:
    """Read the program inside a recurrent network or causal transformer trained elsewhere, and
    check it against the network on fresh, 5x longer (never past a transformer's max_len) and
    (small alphabets) every short sequence.

    Exit status: 0 the program agrees with the network on everything checked; 1 no program was
    read, or it disagrees somewhere (the counterexamples are printed); 2 bad input.
    """
    check_out_file(out)
    from mips.explanation import ExplainConfig, ExplainError, check_fit
    from mips.explanation import explain as explain_network
    from mips.network.foreign import ForeignNetworkError, load_foreign

    try:
        net = load_foreign(network)
    except ForeignNetworkError as e:
        fail(str(e))
    seqs, _ = input_data(data, None, 0, seed)
    try:
        check_fit(net, seqs)
    except ExplainError as e:
        fail(f"{network}: {e}")
    with progress_bars("explain"):
        result = explain_network(net, seqs, config=ExplainConfig(seed=seed))
    if not result.ok:
        typer.echo(f"no program read from {network}: {result.reason}", err=True)
        raise typer.Exit(1)
    print_program(result.source)
    pictures = write_pictures(net, result.machine, seqs, out) if out is not None else []
    print_explanation(result, out, pictures)
    if out is not None:
        with writing(out):
            write_text(out, result.source)
    if not result.faithful:
        raise typer.Exit(1)
