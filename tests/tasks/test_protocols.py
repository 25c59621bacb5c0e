"""The protocols suite: minimal reachable machines, word traces as a log file gives them, listing."""

import re

import numpy as np
import pytest
from typer.testing import CliRunner

from mips.cli import app
from mips.data import SequenceData
from mips.tasks import DEFAULT_N, get_task, suite_n, suite_task_names, suite_tasks
from mips.tasks.mealy import MAX_TRAIN_LENGTH, MealyTask
from mips.tasks.protocols import N_TRAIN

PROTOCOLS = suite_tasks("protocols")
RANDOM = [t for t in PROTOCOLS if t.family == "random"]
WRITTEN = [t for t in PROTOCOLS if t.family == "protocol"]


def test_suite_is_a_random_size_ladder_and_machines_from_specifications():
    assert all(isinstance(t, MealyTask) for t in PROTOCOLS)
    assert len(RANDOM) >= 10 and len(WRITTEN) >= 5
    sizes = [t.n_states for t in RANDOM]
    assert sizes == sorted(sizes) and sizes[0] == 5 and sizes[-1] == 200
    for t in RANDOM:
        assert 5 <= t.n_inputs <= 30 and 3 <= t.n_outputs <= 20
        assert t.name == f"R_Mealy_{t.n_states}s_{t.n_inputs}i_{t.n_outputs}o"
    assert sum(t.n_states >= 15 for t in WRITTEN) >= 2
    for kind in ("TCP", "MQTT", "TLS", "MESI", "Ticket"):
        assert any(kind in t.name for t in WRITTEN), kind
    # Words, not numbers: a word column gets a vocabulary, a numeric one would not.
    for t in WRITTEN:
        assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*", w) for w in t.inputs + t.outputs), t.name


@pytest.mark.parametrize("task", PROTOCOLS, ids=lambda t: t.name)
def test_every_machine_is_minimal_with_every_state_reachable(task):
    assert task.reachable().all()
    assert task.is_minimal()
    assert set(task.output.reshape(-1).tolist()) == set(range(task.n_outputs))  # all words occur


def test_generation_is_ragged_words_deterministic_and_what_a_log_file_gives(tmp_path):
    task = get_task("P_TCP_Connection")
    data = task.generate(N_TRAIN, seed=3)
    again = task.generate(N_TRAIN, seed=3)
    np.testing.assert_array_equal(data.x, again.x)
    np.testing.assert_array_equal(data.lengths, again.lengths)
    assert not np.array_equal(data.x, task.generate(N_TRAIN, seed=4).x)
    assert data.n == N_TRAIN and data.length == MAX_TRAIN_LENGTH
    assert data.seq_lengths.min() == 1 and data.seq_lengths.max() == MAX_TRAIN_LENGTH
    assert set(data.x_vocab[0].words) == set(task.inputs)
    assert set(data.y_vocab[0].words) <= set(task.outputs)
    x, y = data.x_vocab[0].words, data.y_vocab[0].words
    for inputs, outputs in data.sequences()[:50]:
        assert [y[o] for (o,) in outputs] == task.respond([x[a] for (a,) in inputs])
    # The same traces written as JSON Lines and read back give the very same data.
    path = tmp_path / "tcp.jsonl"
    data.save(path)
    loaded = SequenceData.load(path)
    for field in ("x", "y", "lengths"):
        np.testing.assert_array_equal(getattr(loaded, field), getattr(data, field))
    assert loaded.x_vocab == data.x_vocab and loaded.y_vocab == data.y_vocab
    short = task.generate(5, seed=0, length=3)
    assert short.length <= 3


def test_the_protocol_machines_follow_their_specifications():
    tcp = get_task("P_TCP_Connection")
    assert tcp.respond(["LISTEN", "SYN", "ACK", "SEND", "SEND", "SEND", "SEND", "ACK", "SEND"]) == [
        "NIL", "SYN_ACK", "NIL", "DATA", "DATA", "DATA", "NIL", "NIL", "DATA",
    ]  # fmt: skip
    assert tcp.respond(["SYN", "CONNECT", "TIMEOUT", "TIMEOUT", "SEND"]) == [
        "RST", "SYN", "SYN", "NIL", "ERROR",
    ]  # fmt: skip
    tls = get_task("P_TLS_Server")
    assert tls.respond(["CLIENT_HELLO", "CLIENT_KEY_EXCHANGE", "APPLICATION_DATA"]) == [
        "SERVER_HELLO_DONE", "ALERT_UNEXPECTED_MESSAGE", "CONNECTION_CLOSED",
    ]  # fmt: skip
    mqtt = get_task("P_MQTT_Session")
    words = ["CONNECT", "SUBSCRIBE_B", "DISCONNECT", "CONNECT", "PUBLISH_B", "PUBLISH_C"]
    assert mqtt.respond(words)[-2:] == ["PUBACK_PUBLISH_B", "PUBACK"]  # subscriptions persist
    ticket = get_task("P_Ticket_Machine")
    assert ticket.respond(["DAY", "COIN_2", "SINGLE", "COIN_1", "COIN_2"]) == [
        "PRICE_4", "NIL", "BUSY", "NIL", "TICKET_CHANGE_1",
    ]  # fmt: skip
    assert "Example: x = " in ticket.doc and "-> y = " in ticket.doc


def test_suite_listing_and_training_size():
    assert suite_n("protocols") == N_TRAIN == 3000 and suite_n("benchmark") == DEFAULT_N
    assert suite_task_names("protocols") == [t.name for t in PROTOCOLS]
    with pytest.raises(ValueError, match="in suite 'protocols'"):
        suite_task_names("benchmark", "P_TCP_Connection")
    result = CliRunner().invoke(app, ["tasks", "--suite", "protocols"])
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if line.startswith("│")]
    assert [row.split("│")[1].strip() for row in rows] == [t.name for t in PROTOCOLS]
    header = next(line for line in result.stdout.splitlines() if "name" in line)
    assert all(c in header for c in ("states", "inputs", "outputs", "family"))
    tcp = next(r for r in rows if "P_TCP_Connection" in r)
    assert [c.strip() for c in tcp.split("│")[2:7]] == ["15", "11", "8", "1..20", "protocol"]
    assert f"{len(PROTOCOLS)} tasks" in result.stdout
