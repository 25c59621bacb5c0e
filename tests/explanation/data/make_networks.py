"""Train the two small networks the explain tests read, the way people train them elsewhere.

Usage: python tests/explanation/data/make_networks.py   (about a minute on 2 cores; seeded)

- gru_parity.safetensors: a 1-layer GRU, 16 units, answering argmax over 2 classes: whether the
  1s seen so far are odd in number (inputs 0/1).
- lstm_pairs.safetensors: a 2-layer LSTM, 8 units each, answering round(out): the sum of the
  last two inputs (0, 1, 2).
- lstm_mod3.safetensors: the same LSTM trained on the running sum of the inputs (0, 1, 2) mod 3,
  and stopped while still wrong on about 0.1% of its training steps: not quite a machine.
"""

from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

HERE = Path(__file__).parent


class Net(torch.nn.Module):
    def __init__(self, cell, d_in, hidden, layers, d_out):
        super().__init__()
        self.rnn = cell(d_in, hidden, layers, batch_first=True)
        self.head = torch.nn.Linear(hidden, d_out)

    def forward(self, x):
        return self.head(self.rnn(x)[0])


def train(net, x, y, output, steps):
    opt = torch.optim.Adam(net.parameters(), 3e-3)
    xt = torch.tensor(x, dtype=torch.float32)
    yt = torch.tensor(y)
    for _ in range(steps):
        idx = torch.randint(0, len(x), (64,))
        out = net(xt[idx])
        if output == "argmax":
            loss = torch.nn.functional.cross_entropy(
                out.reshape(-1, out.shape[-1]), yt[idx].reshape(-1)
            )
        else:
            loss = torch.nn.functional.mse_loss(out, yt[idx].float())
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        got = net(xt).argmax(-1, keepdim=True) if output == "argmax" else net(xt).round()
    return float((got.numpy() == y.reshape(got.shape)).mean())


def save(net, path, cell, d_in, hidden, layers, d_out, output):
    meta = {
        "cell": cell,
        "d_in": str(d_in),
        "hidden": str(hidden),
        "layers": str(layers),
        "d_out": str(d_out),
        "output": output,
    }
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, path, metadata=meta)


def main():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, (1000, 10, 1))
    y = np.cumsum(x, axis=1) % 2
    net = Net(torch.nn.GRU, 1, 16, 1, 2)
    print("gru parity accuracy", train(net, x, y, "argmax", 1500))
    save(net, HERE / "gru_parity.safetensors", "gru", 1, 16, 1, 2, "argmax")

    x = rng.integers(0, 3, (1000, 8, 1))
    y = x + np.concatenate([np.zeros_like(x[:, :1]), x[:, :-1]], axis=1)
    net = Net(torch.nn.LSTM, 1, 8, 2, 1)
    print("lstm pairs accuracy", train(net, x, y, "round", 2000))
    save(net, HERE / "lstm_pairs.safetensors", "lstm", 1, 8, 2, 1, "round")
    lstm_mod3(x)


def lstm_mod3(x):
    """On the pairs network's inputs, from the same initial weights."""
    torch.manual_seed(0)
    net = Net(torch.nn.LSTM, 1, 8, 2, 1)
    print("lstm mod-3 accuracy", train(net, x, np.cumsum(x, axis=1) % 3, "round", 4000))
    save(net, HERE / "lstm_mod3.safetensors", "lstm", 1, 8, 2, 1, "round")


if __name__ == "__main__":
    main()
