"""The command line: help for all, tasks and data commands, one clean error line per bad input."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from mips.cli import app
from mips.data import FORMATS, SequenceData
from mips.tasks import all_tasks, get_task

runner = CliRunner()
COMMANDS = ["tasks", "data", "train", "synth", "explain", "bench", "report"]
KEEP = "# an earlier program the failed run must leave alone\n"


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def assert_one_error_line(result, *fragments: str, code: int = 2) -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0]


def test_main_help_lists_every_command() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_command_help(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage" in result.stdout and command in result.stdout


def test_help_is_instant_and_does_not_import_torch() -> None:
    code = (
        "import sys; from mips.cli import main; sys.argv = ['mips', '--help']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert e.code == 0\n"
        "assert 'torch' not in sys.modules, 'torch imported for --help'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_python_dash_m_mips_exit_status(tmp_path: Path, make_bad_file) -> None:
    bad = make_bad_file(tmp_path, "npz random bytes")
    ok = subprocess.run([sys.executable, "-m", "mips", "--version"], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.startswith("mips ")
    run = [sys.executable, "-m", "mips", "synth", "--data", str(bad)]
    failed = subprocess.run(run, capture_output=True, text=True)
    assert failed.returncode == 2
    assert failed.stderr.splitlines() == [f"error: {bad}: not an .npz archive (no zip header)"]


def test_tasks_lists_all_62() -> None:
    result = invoke("tasks")
    assert result.exit_code == 0
    names = [t.name for t in all_tasks()]
    assert len(names) == 62
    rows = [line for line in result.stdout.splitlines() if line.startswith("│")]
    assert [row.split("│")[1].strip() for row in rows] == names
    assert "62 tasks" in result.stdout
    assert "-10..10" in result.stdout  # input ranges are shown


@pytest.mark.parametrize("suffix", FORMATS)
def test_data_writes_a_loadable_file(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"sub/parity{suffix}"
    result = invoke("data", "Parity_Last3", "--n", 7, "--seed", 3, "--length", 5, "--out", out)
    assert result.exit_code == 0, result.output
    loaded = SequenceData.load(out)
    expected = get_task("Parity_Last3").generate(7, 3, length=5)
    np.testing.assert_array_equal(loaded.x, expected.x)
    np.testing.assert_array_equal(loaded.y, expected.y)


def test_data_unknown_task_and_unknown_suffix(tmp_path: Path) -> None:
    assert_one_error_line(
        invoke("data", "Bitwise_Nott", "--out", tmp_path / "a.npz"), "Bitwise_Not"
    )
    assert_one_error_line(invoke("data", "Bitwise_Not", "--out", tmp_path / "a.txt"), "a.txt")
    assert list(tmp_path.iterdir()) == []


def test_bad_data_file_is_one_error_line_and_keeps_outputs(
    tmp_path: Path, bad_file_kind: str, make_bad_file
) -> None:
    bad = make_bad_file(tmp_path, bad_file_kind)
    program = tmp_path / "program.py"
    program.write_text(KEEP)
    network = tmp_path / "net"
    network.mkdir()
    (network / "network.json").write_text(KEEP)

    synth = invoke("synth", "--data", bad, "--out", program, "--save-network", network)
    assert_one_error_line(synth, str(bad))
    train = invoke("train", "--data", bad, "--out", network)
    assert_one_error_line(train, str(bad))
    assert program.read_text() == KEEP
    assert [p.name for p in network.iterdir()] == ["network.json"]
    assert (network / "network.json").read_text() == KEEP


def test_single_sequence_cannot_be_split(tmp_path: Path) -> None:
    one = SequenceData(np.zeros((1, 4, 1), int), np.zeros((1, 4, 1), int)).save(tmp_path / "1.npz")
    assert_one_error_line(invoke("synth", "--data", one), str(one), "at least 2")


@pytest.mark.parametrize("command", ["synth", "train"])
def test_unknown_task_and_missing_input(tmp_path: Path, command: str) -> None:
    out = ["--out", tmp_path / "o"]
    assert_one_error_line(invoke(command, "--task", "Parity_Last33", *out), "Parity_Last3")
    assert_one_error_line(invoke(command, *out), "--data")
    both = invoke(command, "--task", "Bitwise_Not", "--data", tmp_path / "d.npz", *out)
    assert_one_error_line(both, "exactly one")


def test_bench_validates_task_names_up_front(tmp_path: Path) -> None:
    result = invoke("bench", "--tasks", "Bitwise_Not,Nope", "--out", tmp_path / "b")
    assert_one_error_line(result, "Nope")
    assert not (tmp_path / "b").exists()


def test_report_needs_a_results_directory(tmp_path: Path) -> None:
    assert_one_error_line(invoke("report", tmp_path / "absent"), "absent")
    assert_one_error_line(invoke("report", tmp_path), "no results")


def test_usage_errors_exit_2() -> None:
    assert invoke("synth", "--n", "-3", "--task", "Bitwise_Not").exit_code == 2
    assert invoke("synth", "--device", "tpu", "--task", "Bitwise_Not").exit_code == 2
    assert invoke("nonsense").exit_code == 2


def _fake_synthesis(source: str | None):
    """A synthesis that failed at extract, or one whose chosen attempt emitted ``source``."""
    from types import SimpleNamespace

    from mips.reading import Attempt
    from mips.synthesis import SynthConfig, Synthesis

    if source is None:
        return Synthesis(
            config=SynthConfig(), seconds={"network": 1.0}, failed_stage="extract", reason="no fit"
        )
    program = SimpleNamespace(form="formula", state=(), state_names=())
    verification = SimpleNamespace(verified=True, summary=lambda: "stand-in")
    chosen = Attempt(
        network=None, machine=None, program=program, source=source, verification=verification
    )
    return Synthesis(config=SynthConfig(), seconds={"network": 1.0}, chosen=chosen)


def test_failed_synthesis_names_the_stage_and_keeps_out(tmp_path: Path, monkeypatch) -> None:
    import mips.pipeline

    monkeypatch.setattr(mips.pipeline, "synthesize", lambda *a, **k: _fake_synthesis(None))
    program = tmp_path / "program.py"
    program.write_text(KEEP)
    result = invoke("synth", "--task", "Bitwise_Not", "--n", 50, "--out", program)
    assert result.exit_code == 1
    assert "extract stage: no fit" in result.stderr
    assert program.read_text() == KEEP


def test_wrong_program_is_judged_wrong(tmp_path: Path, monkeypatch) -> None:
    import mips.pipeline

    identity = "def program(seq):\n    return [list(s) for s in seq]\n"
    monkeypatch.setattr(mips.pipeline, "synthesize", lambda *a, **k: _fake_synthesis(identity))
    result = invoke("synth", "--task", "Bitwise_Not", "--n", 50)
    assert result.exit_code == 1
    assert "JUDGED WRONG" in result.stderr


def test_a_word_machine_is_judged_on_its_traces(tmp_path: Path, monkeypatch) -> None:
    import mips.pipeline

    identity = "def program(seq):\n    return [list(s) for s in seq]\n"
    monkeypatch.setattr(mips.pipeline, "synthesize", lambda *a, **k: _fake_synthesis(identity))
    result = invoke("synth", "--task", "P_Ticket_Machine", "--n", 50)
    assert result.exit_code == 1
    assert "JUDGED WRONG" in result.stderr and "(state, input) pairs exercised" in result.stderr
    out = tmp_path / "ticket.jsonl"
    assert invoke("data", "P_Ticket_Machine", "--n", 20, "--out", out).exit_code == 0
    assert SequenceData.load(out).x_vocab[0].words[0] == "CANCEL"


def test_train_without_exact_network_exits_1(tmp_path: Path, monkeypatch) -> None:
    import mips.network.search as search

    def none_exact(*args, **kwargs):
        raise search.NoExactNetwork("nothing fit")

    monkeypatch.setattr(search, "search", none_exact)
    result = invoke("train", "--task", "Bitwise_Not", "--n", 50, "--out", tmp_path / "net")
    assert result.exit_code == 1
    assert "nothing fit" in result.stderr
    assert not (tmp_path / "net").exists()


def test_train_l1_reports_active_weights(tmp_path: Path, monkeypatch) -> None:
    import mips.network.search as search
    from mips.network import Architecture, TrainedNetwork

    # Bitwise_Not through a readout with one useless weight: L1 and pruning remove it.
    w = {
        "f.0.weight": np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.01]]),
        "f.0.bias": np.zeros(2),
        "g.0.weight": np.array([[-1.0], [0.01]]),
        "g.0.bias": np.array([1.0]),
    }
    net = TrainedNetwork(arch=Architecture(2), d_in=1, d_out=1, weights=w)
    monkeypatch.setattr(search, "search", lambda *a, **k: net)
    result = invoke("train", "--task", "Bitwise_Not", "--n", 50, "--l1", "1e-3", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert "11 parameters, 3 active after L1" in result.stdout
    assert TrainedNetwork.load(tmp_path).sparsity.zero_weights == 8


def test_synth_end_to_end_bitwise_not(tmp_path: Path) -> None:
    out = tmp_path / "program.py"
    result = invoke("synth", "--task", "Bitwise_Not", "--out", out)
    assert result.exit_code == 0, result.output
    assert "CORRECT" in result.stdout
    # The summary says how the states were read: a stateless machine, named by no input.
    assert "named by the last 0 inputs), 2 transitions" in result.stdout
    # And how the formula compares with its network past the data's length.
    assert "agrees with its network on 256 sequences of" in result.stdout
    namespace: dict = {}
    exec(compile(out.read_text(), str(out), "exec"), namespace)
    assert namespace["program"]([[0], [1], [1]]) == [[1], [0], [0]]
    assert (tmp_path / "program.png").read_bytes()[:4] == b"\x89PNG"


def test_tasks_lists_the_generality_suite() -> None:
    from mips.tasks import suite_tasks

    result = invoke("tasks", "--suite", "generality")
    assert result.exit_code == 0, result.output
    names = [t.name for t in suite_tasks("generality")]
    rows = [line for line in result.stdout.splitlines() if line.startswith("│")]
    assert [row.split("│")[1].strip() for row in rows] == names
    assert f"{len(names)} tasks" in result.stdout and "regular" in result.stdout


def test_unknown_suite_and_tasks_outside_the_suite_are_one_error_line(tmp_path: Path) -> None:
    out = tmp_path / "b"
    assert_one_error_line(invoke("bench", "--suite", "nope", "--out", out), "unknown suite")
    assert_one_error_line(invoke("tasks", "--suite", "nope"), "nope")
    outside = invoke("bench", "--tasks", "G_Sum_Mod_9", "--out", out)
    assert_one_error_line(outside, "G_Sum_Mod_9", "generality")
    other = invoke("bench", "--suite", "generality", "--tasks", "G_Sum_Mod_9,Sum_All", "--out", out)
    assert_one_error_line(other, "Sum_All", "benchmark")
    assert not out.exists()


def test_contradictory_labels_are_one_error_line_before_training(tmp_path: Path) -> None:
    path = tmp_path / "clash.jsonl"
    path.write_text(
        '{"x": ["a", "b", "a"], "y": [0, 1, 1]}\n{"x": ["a", "b"], "y": [0, 2]}\n'
        '{"x": ["b"], "y": [5]}\n'
    )
    result = invoke("synth", "--data", path)
    assert_one_error_line(result, "sequences 0 and 1", "step 1", "(1 vs 2)", "--max-label-errors")


def test_bad_max_label_errors_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("synth", "--task", "Bitwise_Not", "--max-label-errors", "0.7")
    assert result.exit_code == 2 and "max-label-errors" in result.output


def test_synth_with_wrong_labels_writes_the_suspects(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    x = rng.integers(0, 20, (1500, 8, 1))
    y = np.cumsum(x, axis=1)
    y[700, 6] += 7
    data = SequenceData(x, y).save(tmp_path / "noisy.npz")
    out = tmp_path / "sum.py"
    result = invoke("synth", "--data", data, "--out", out, "--max-label-errors", "0.001")
    assert result.exit_code == 0, result.output
    assert "suspect labels: 1 of 12000" in result.stdout
    assert "sequence 700 step 6" in result.stdout
    rows = (tmp_path / "sum.suspects.csv").read_text().splitlines()
    assert rows[0] == "sequence,step,label,program,distance"
    label = int(y[700, 6, 0])
    assert rows[1] == f'700,6,"{label}","{label - 7}",7.0'


@pytest.mark.slow  # the network search: about 20 CPU-seconds
def test_coffee_machine_example_replays_every_trace(tmp_path: Path) -> None:
    import json

    from mips.verify import load_program

    traces = Path(__file__).parent.parent / "examples" / "coffee" / "traces.jsonl"
    out = tmp_path / "coffee.py"
    result = invoke("synth", "--data", traces, "--out", out)
    assert result.exit_code == 0, result.output
    program = load_program(out.read_text())
    for line in traces.read_text().splitlines():
        rec = json.loads(line)
        assert program([[a] for a in rec["x"]]) == [[b] for b in rec["y"]]
    assert program([["coin"], ["button"]]) == [["nothing"], ["coffee"]]


NETWORKS = Path(__file__).parent / "explanation" / "data"


def _pairs_file(tmp_path: Path) -> Path:
    x = np.random.default_rng(1).integers(0, 3, (300, 8, 1))
    y = x + np.concatenate([np.zeros_like(x[:, :1]), x[:, :-1]], axis=1)
    return SequenceData(x, y).save(tmp_path / "pairs.npz")


def test_explain_a_faithful_network_writes_the_program_and_exits_0(tmp_path: Path) -> None:
    out = tmp_path / "pairs.py"
    result = invoke(
        "explain", "--network", NETWORKS / "lstm_pairs.safetensors",
        "--data", _pairs_file(tmp_path), "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "FAITHFUL" in result.stdout and "every sequence up to length 7" in result.stdout
    assert out.exists() and out.with_suffix(".png").exists()


def test_explain_shows_counterexamples_and_exits_1_where_the_network_differs(
    tmp_path: Path,
) -> None:
    x = np.random.default_rng(1).integers(0, 2, (300, 10, 1))
    data = SequenceData(x, np.cumsum(x, axis=1) % 2).save(tmp_path / "parity.csv")
    result = invoke("explain", "--network", NETWORKS / "gru_parity.safetensors", "--data", data)
    assert result.exit_code == 1, result.output
    assert "NOT FAITHFUL" in result.stdout and "counterexample" in result.stdout
    assert "s ^ x" in result.stdout


def test_explain_bad_inputs_are_one_error_line(tmp_path: Path) -> None:
    data = _pairs_file(tmp_path)
    out = tmp_path / "program.py"
    out.write_text(KEEP)
    pickle = tmp_path / "net.pt"
    pickle.write_bytes(b"\x80\x04K\x01.")
    for network, fragment in (
        (pickle, "never loaded"),
        (tmp_path / "absent.safetensors", "no such file"),
        (NETWORKS / "gru_parity.safetensors", "answers 1 class index"),
    ):
        wrong_shape = SequenceData(np.zeros((4, 3, 1), int), np.zeros((4, 3, 2), int))
        fed = data if network.suffix == ".pt" else wrong_shape.save(tmp_path / "two.npz")
        result = invoke("explain", "--network", network, "--data", fed, "--out", out)
        assert_one_error_line(result, fragment)
    assert out.read_text() == KEEP


def _door_logs(path: Path, n: int = 400) -> Path:
    """JSON Lines logs of a door: OPEN/OK opens it, SEND/OK while open, CLOSE/OK shuts it;
    anything else is answered ERR and changes nothing."""
    import json

    rng = np.random.default_rng(0)
    lines = []
    for _ in range(n):
        is_open, xs, ys = False, [], []
        for word in rng.choice(["OPEN", "SEND", "CLOSE"], rng.integers(1, 11)):
            ok = (word == "OPEN") != is_open if word != "SEND" else is_open
            is_open = is_open if not ok else word != "CLOSE" and (word == "OPEN" or is_open)
            xs.append(str(word))
            ys.append("OK" if ok else "ERR")
        lines.append(json.dumps({"x": xs, "y": ys}))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_synth_reads_word_logs_as_a_named_mealy_table_and_logs_its_stages(tmp_path: Path) -> None:
    logs = _door_logs(tmp_path / "door.jsonl")
    out = tmp_path / "door.py"
    result = invoke("synth", "--data", logs, "--out", out, "--unseen", "NIL")
    assert result.exit_code == 0, result.output
    source = out.read_text()
    assert "('after_OPEN', 'CLOSE'): ('start', 'OK')," in source
    assert "'NIL'" in source
    # Not a terminal: each stage event is one plain line with its time.
    assert re.search(r"^\[ *\d+\.\d s\] network: .* fits|exact", result.stderr, re.M)
    assert re.search(r"^\[ *\d+\.\d s\] program: finite/.*verified", result.stderr, re.M)
    assert "━" not in result.stderr  # the bars are for terminals
    dot = out.with_suffix(".dot").read_text()
    assert 's0 [label="start"];' in dot and 'label="OPEN/OK"' in dot


def test_synth_refuses_an_empty_unseen_value(tmp_path: Path) -> None:
    logs = _door_logs(tmp_path / "door.jsonl", 20)
    assert_one_error_line(invoke("synth", "--data", logs, "--unseen", " "), "--unseen")


def test_synth_replays_the_program_on_a_verify_file_in_its_own_words(tmp_path: Path) -> None:
    import json

    logs = _door_logs(tmp_path / "door.jsonl")
    # This file never says SEND, so its own vocabulary codes OPEN and CLOSE differently.
    more = tmp_path / "more.jsonl"
    more.write_text(json.dumps({"x": ["OPEN", "CLOSE", "CLOSE"], "y": ["OK", "OK", "ERR"]}) + "\n")
    result = invoke("synth", "--data", logs, "--verify-data", more)
    assert result.exit_code == 0, result.output
    assert "--verify-data: 1/1 sequences right" in result.stdout
    more.write_text(json.dumps({"x": ["OPEN", "CLOSE", "CLOSE"], "y": ["OK", "OK", "OK"]}) + "\n")
    result = invoke("synth", "--data", logs, "--verify-data", more)
    assert result.exit_code == 1 and "independent check" in result.stderr


def test_a_verify_file_that_does_not_fit_the_data_is_one_error_line(tmp_path: Path) -> None:
    import json

    logs = _door_logs(tmp_path / "door.jsonl", 20)
    more = tmp_path / "more.jsonl"
    more.write_text(json.dumps({"x": ["OPEN", "KNOCK"], "y": ["OK", "ERR"]}) + "\n")
    assert_one_error_line(invoke("synth", "--data", logs, "--verify-data", more), "KNOCK")
    missing = tmp_path / "missing.csv"
    assert_one_error_line(invoke("synth", "--data", logs, "--verify-data", missing), "missing")
