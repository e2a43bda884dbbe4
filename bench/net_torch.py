#!/usr/bin/python3
"""PyTorch CPU column of bench/README_net.md: training samples per CPU second of td1 (2-2-1,
sigmoid/tanh, squared error, SGD lr 1, one sample per step) and the digits 64-32-10 classifier
(relu, cross-entropy, Adam, batch 32), float32, one thread, same synthetic data as net_bench.cpp."""
import time
import torch

torch.set_num_threads(1)


def synthetic(count, inputs, classes):
    state, x, y = 7, [], []
    def nxt():
        nonlocal state
        state = (state * 1664525 + 1013904223) % 2**32
        return state >> 8
    for _ in range(count * inputs):
        x.append((nxt() % 256) / 255)
    for _ in range(count):
        y.append(nxt() % classes if classes else 0.5)
    return torch.tensor(x, dtype=torch.float32).view(count, inputs), y


def speed(step, batches, batch, seconds=2.0):
    samples, k = 0, 0
    start = time.thread_time()
    while time.thread_time() - start < seconds:
        step(*batches[k % len(batches)])
        k += 1
        samples += batch
    return samples / (time.thread_time() - start)


def td1():
    x, y = synthetic(4096, 2, 0)
    y = torch.tensor(y, dtype=torch.float32).view(-1, 1)
    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Sigmoid(), torch.nn.Linear(2, 1),
                              torch.nn.Tanh())
    opt = torch.optim.SGD(net.parameters(), lr=1.0)
    def step(xb, yb):
        opt.zero_grad()
        loss = 0.5 * ((yb - net(xb)) ** 2).sum()
        loss.backward()
        opt.step()
    return speed(step, [(x[i:i + 1], y[i:i + 1]) for i in range(len(x))], 1)


def digits():
    x, y = synthetic(4096, 64, 10)
    y = torch.tensor(y, dtype=torch.long)
    net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    def step(xb, yb):
        opt.zero_grad()
        loss_fn(net(xb), yb).backward()
        opt.step()
    return speed(step, [(x[i:i + 32], y[i:i + 32]) for i in range(0, len(x), 32)], 32)


print(f"torch {torch.__version__}, {torch.get_num_threads()} thread")
print(f"td1 2-2-1 (sgd)            batch   1  torch {td1():10.4g} samples/s")
print(f"digits 64-32-10 (adam)     batch  32  torch {digits():10.4g} samples/s")
