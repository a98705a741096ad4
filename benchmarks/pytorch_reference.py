#!/usr/bin/python3
"""Times Lightning IR's regularizers, written exactly as lightning_ir/loss/regularization.py computes
them, on PyTorch at the same shapes and thread count as the BenchmarkDotNet project, so the README can
put PyTorch beside the TorchSharp numbers from one session on one machine.

    /usr/bin/python3 benchmarks/pytorch_reference.py            (Debian's python3-torch)
"""

import statistics
import time

import torch

torch.set_num_threads(2)
torch.manual_seed(0)

SHAPES = {"SPLADE": ((32, 1, 30522), (256, 1, 30522)), "Tiny": ((4, 8, 4), (4, 8, 4))}


def l2(q, d, wq=1e-4, wd=1e-4):
    return wq * q.norm(dim=-1).mean() + wd * d.norm(dim=-1).mean()


def l1(q, d, wq=1e-4, wd=1e-4):
    return wq * q.norm(p=1, dim=-1).mean() + wd * d.norm(p=1, dim=-1).mean()


def flops(q, d, wq=1e-4, wd=1e-4):
    return wq * torch.sum(torch.mean(torch.abs(q), dim=0) ** 2) + wd * torch.sum(torch.mean(torch.abs(d), dim=0) ** 2)


def splade_like(shape):
    return torch.log1p(torch.relu(torch.randn(*shape) - 1.5)).requires_grad_()


def measure(fn, min_seconds=1.0, min_calls=10):
    for _ in range(3):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < min_calls or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def main():
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads")
    print("| shape | loss | forward (ms) | forward+backward (ms) |")
    print("|---|---|---:|---:|")
    for shape_name, (qs, ds) in SHAPES.items():
        q, d = splade_like(qs), splade_like(ds)
        clone = measure(lambda: (q.clone(), d.clone()))
        for name, loss in (("L1", l1), ("L2", l2), ("FLOPS", flops)):

            def forward_backward():
                loss(q, d).backward()
                q.grad = None
                d.grad = None

            # Forward as the library measures it: with the autograd graph built, then dropped.
            fwd = measure(lambda: loss(q, d))
            both = measure(forward_backward)
            print(f"| {shape_name} | {name} | {fwd:.3f} | {both:.3f} |")
        print(f"| {shape_name} | clone of both tensors | {clone:.3f} | |")


if __name__ == "__main__":
    main()
