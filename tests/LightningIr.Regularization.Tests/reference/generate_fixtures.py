#!/usr/bin/python3
"""Writes the golden fixtures the C# tests compare against, computed by real PyTorch.

Run with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 tests/LightningIr.Regularization.Tests/reference/generate_fixtures.py

The loss formulas below are the ones in lightning_ir.loss.regularization (L2Regularization,
L1Regularization, FLOPSRegularization), written out as the same torch calls; the thresholded FLOPS
follows sentence-transformers' FlopsLoss(threshold=...) with Lightning IR's abs(); the metrics follow
naver/splade's L0 and the index FLOPS figure; the pruning cases follow OpenSearch's prune_type rules
and the static pruning of Lassance et al. (SIGIR 2023), with ties broken by a stable sort. Every input is stored as the exact float64 value of the
tensor in its own dtype, and every output as the float64 value of PyTorch's result, so the C# side
rebuilds bit-identical inputs. CI never runs this script: it reads the committed JSON.
"""

import json
import math
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPES = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
}


# --- the reference formulas -------------------------------------------------------------------

def l2(q, d, wq, wd):
    return wq * q.norm(dim=-1).mean() + wd * d.norm(dim=-1).mean()


def l1(q, d, wq, wd):
    return wq * q.norm(p=1, dim=-1).mean() + wd * d.norm(p=1, dim=-1).mean()


def flops_side(x, threshold=None, weights=None, mask=None):
    x = torch.abs(x)
    keep = None
    if mask is not None:
        keep = mask.unsqueeze(-1)
    if threshold is not None:
        active = (x != 0).sum(dim=-1, keepdim=True) > threshold
        keep = active if keep is None else keep & active
    if keep is not None:
        x = x * keep.to(x.dtype)
    squared_means = torch.mean(x, dim=0) ** 2
    if weights is not None:
        # DF-FLOPS (Porco et al., SIGIR 2025): the term weight sits outside the square
        squared_means = squared_means * weights.to(x.dtype)
    return torch.sum(squared_means)


def df_activation(x, alpha, beta):
    """DF-FLOPS's activ(x; alpha, beta) = 1 / (1 + (x^(log_alpha 2) - 1)^beta), with the edges 0 -> 0 and 1 -> 1."""
    x = x.to(torch.float64)
    interior = 1.0 / (1.0 + (x ** (math.log(2) / math.log(alpha)) - 1.0) ** beta)
    return torch.where(x == 0, torch.zeros_like(x), torch.where(x == 1, torch.ones_like(x), interior))


def flops(q, d, wq, wd, tq=None, td=None):
    return wq * flops_side(q, tq) + wd * flops_side(d, td)


LOSSES = {"L2": l2, "L1": l1, "FLOPS": flops}


# --- inputs -----------------------------------------------------------------------------------

def make(shape, dtype, kind, gen):
    x = torch.randn(*shape, generator=gen, dtype=torch.float64)
    if kind == "splade":
        x = torch.log1p(torch.relu(x - 0.8))  # SPLADE's activation: mostly exact zeros
    elif kind == "zero-vectors":
        x = torch.relu(x)
        flat = x.view(-1, shape[-1])
        flat[::2] = 0.0  # every other vector all zero
    elif kind == "all-zero":
        x = torch.zeros(*shape, dtype=torch.float64)
    return x.to(DTYPES[dtype])


def values(t):
    return [float(v) for v in t.detach().to(torch.float64).reshape(-1).tolist()]


def tensor_record(t):
    return {"shape": list(t.shape), "values": values(t)}


def case_record(name, loss, dtype, wq, wd, q, d, total, qpart, dpart):
    """A loss case as the C# tests read it: inputs, PyTorch's value, weighted parts and gradients (after backward)."""
    return {
        "name": name,
        "loss": loss,
        "dtype": dtype,
        "queryWeight": wq,
        "docWeight": wd,
        "query": tensor_record(q),
        "doc": tensor_record(d),
        "expectedLoss": float(total.detach().to(torch.float64)),
        "expectedQueryPart": float(qpart.detach().to(torch.float64)),
        "expectedDocPart": float(dpart.detach().to(torch.float64)),
        "expectedQueryGrad": values(q.grad),
        "expectedDocGrad": values(d.grad),
    }


def loss_case(name, loss, qshape, dshape, dtype, kind, wq, wd, seed, tq=None, td=None):
    gen = torch.Generator().manual_seed(seed)
    q = make(qshape, dtype, kind, gen).requires_grad_()
    d = make(dshape, dtype, kind, gen).requires_grad_()
    if loss == "FLOPS":
        qpart, dpart = wq * flops_side(q, tq), wd * flops_side(d, td)
    elif loss == "L2":
        qpart, dpart = wq * q.norm(dim=-1).mean(), wd * d.norm(dim=-1).mean()
    else:
        qpart, dpart = wq * q.norm(p=1, dim=-1).mean(), wd * d.norm(p=1, dim=-1).mean()
    total = LOSSES[loss](q, d, wq, wd, tq, td) if loss == "FLOPS" else LOSSES[loss](q, d, wq, wd)
    assert torch.equal(total, qpart + dpart)
    total.backward()
    case = case_record(name, loss, dtype, wq, wd, q, d, total, qpart, dpart)
    if tq is not None or td is not None:
        case["queryThreshold"] = tq
        case["docThreshold"] = td
    return case


def loss_cases():
    cases = []
    seed = 1000
    for loss in LOSSES:
        specs = [
            ("upstream-4x8x4", (4, 8, 4), (4, 8, 4), "float32", "normal", 1e-4, 1e-4),
            ("2d", (3, 7), (5, 7), "float32", "normal", 0.5, 2.0),
            ("3d-float64", (2, 3, 5), (4, 3, 5), "float64", "normal", 0.25, 0.75),
            ("zero-vectors", (4, 2, 6), (6, 2, 6), "float64", "zero-vectors", 1.0, 1.0),
            ("all-zero", (2, 1, 5), (3, 1, 5), "float64", "all-zero", 1.0, 1.0),
            ("batch-of-one", (1, 6), (1, 6), "float64", "normal", 0.3, 0.7),
            ("zero-weights", (3, 4), (3, 4), "float32", "normal", 0.0, 0.3),
            ("splade", (6, 1, 64), (12, 1, 64), "float32", "splade", 3e-4, 1e-4),
            ("float16", (4, 8, 4), (4, 8, 4), "float16", "normal", 0.5, 0.25),
            ("bfloat16", (4, 8, 4), (4, 8, 4), "bfloat16", "normal", 0.5, 0.25),
            ("float16-splade", (8, 1, 32), (16, 1, 32), "float16", "splade", 1.0, 1.0),
        ]
        for name, qs, ds, dtype, kind, wq, wd in specs:
            seed += 1
            cases.append(loss_case(f"{loss}/{name}", loss, qs, ds, dtype, kind, wq, wd, seed))
    for name, qs, ds, dtype, tq, td in [
        ("threshold-3d", (6, 1, 32), (10, 1, 32), "float32", 4, 6),
        ("threshold-query-only", (6, 24), (8, 24), "float64", 5, None),
        ("threshold-zero", (5, 2, 16), (5, 2, 16), "float64", 0, 0),
        ("threshold-drops-all", (4, 16), (4, 16), "float32", 16, 16),
    ]:
        seed += 1
        cases.append(loss_case(f"FLOPS/{name}", "FLOPS", qs, ds, dtype, "splade", 1.0, 0.5, seed, tq, td))
    return cases


def weighted_cases():
    """FLOPS with per-term weights, alone and with thresholds and scoring masks."""
    cases = []
    seed = 3000
    for name, qs, ds, wshape, dtype, tq, td, masked in [
        ("weighted-2d", (6, 40), (10, 40), (40,), "float32", None, None, False),
        ("weighted-splade", (6, 1, 48), (12, 1, 48), (48,), "float32", None, None, False),
        ("weighted-3d-float64", (4, 3, 20), (6, 3, 20), (20,), "float64", None, None, False),
        ("weighted-per-position", (4, 3, 20), (6, 3, 20), (3, 20), "float64", None, None, False),
        ("weighted-threshold", (6, 1, 32), (10, 1, 32), (32,), "float32", 4, 6, False),
        ("weighted-mask-threshold", (5, 4, 24), (7, 4, 24), (24,), "float64", 3, 5, True),
        ("weighted-mask", (5, 4, 24), (7, 4, 24), (24,), "float32", None, None, True),
    ]:
        seed += 1
        gen = torch.Generator().manual_seed(seed)
        q = make(qs, dtype, "splade", gen).requires_grad_()
        d = make(ds, dtype, "splade", gen).requires_grad_()
        # weights from the DF activation of random fractions, with exact 0 and 1 among them
        fractions = torch.rand(*wshape, generator=gen, dtype=torch.float64)
        fractions.view(-1)[0] = 0.0
        fractions.view(-1)[1] = 1.0
        wq = df_activation(fractions, 0.3, 2.0).to(DTYPES[dtype])
        wd = df_activation(fractions.flip(-1), 0.1, 5.0).to(DTYPES[dtype])
        qmask = dmask = None
        if masked:
            qmask = torch.rand(*qs[:-1], generator=gen) > 0.3
            dmask = torch.rand(*ds[:-1], generator=gen) > 0.3
        lq, ld = 0.7, 0.4
        qpart = lq * flops_side(q, tq, wq, qmask)
        dpart = ld * flops_side(d, td, wd, dmask)
        total = qpart + dpart
        total.backward()
        case = case_record(f"FLOPS/{name}", "FLOPS", dtype, lq, ld, q, d, total, qpart, dpart)
        case["queryTermWeights"] = tensor_record(wq)
        case["docTermWeights"] = tensor_record(wd)
        if tq is not None or td is not None:
            case["queryThreshold"] = tq
            case["docThreshold"] = td
        if masked:
            case["queryMask"] = tensor_record(qmask)
            case["docMask"] = tensor_record(dmask)
        cases.append(case)
    return cases


def df_weight_cases():
    """DF-FLOPS's activation at chosen fractions, including the edges and x = alpha."""
    cases = []
    for alpha, beta in [(0.1, 1.0), (0.3, 2.0), (0.5, 0.5), (0.01, 10.0), (0.9, 3.0)]:
        x = torch.tensor([0.0, 1e-12, 1e-4, 0.01, alpha / 2, alpha, (1 + alpha) / 2, 0.5, 0.99, 1 - 1e-12, 1.0], dtype=torch.float64)
        cases.append({"alpha": alpha, "beta": beta, "fractions": values(x), "expected": values(df_activation(x, alpha, beta))})
    return cases


# --- metrics ----------------------------------------------------------------------------------

def metric_cases():
    cases = []
    seed = 5000
    for name, qs, ds, kind in [
        ("splade-2d", (8, 40), (20, 40), "splade"),
        ("splade-3d", (5, 1, 30), (9, 1, 30), "splade"),
        ("dense", (3, 10), (4, 10), "normal"),
        ("multi-vector", (3, 4, 12), (2, 5, 12), "splade"),
        ("all-zero", (2, 8), (3, 8), "all-zero"),
    ]:
        seed += 1
        gen = torch.Generator().manual_seed(seed)
        q = make(qs, "float32", kind, gen)
        d = make(ds, "float32", kind, gen)
        qv = q.reshape(-1, q.shape[-1])
        dv = d.reshape(-1, d.shape[-1])
        q_l0 = (qv != 0).sum(dim=-1).double().mean()
        d_l0 = (dv != 0).sum(dim=-1).double().mean()
        pq = (qv != 0).double().mean(dim=0)
        pd = (dv != 0).double().mean(dim=0)
        cases.append({
            "name": name,
            "query": tensor_record(q),
            "doc": tensor_record(d),
            "queryL0": float(q_l0),
            "docL0": float(d_l0),
            "querySparsityRatio": float(1 - q_l0 / q.shape[-1]),
            "docSparsityRatio": float(1 - d_l0 / d.shape[-1]),
            "flops": float((pq * pd).sum()),
        })
    return cases


# --- static pruning ---------------------------------------------------------------------------

def keep_where(x, keep, mask):
    if mask is not None:
        keep = keep & mask.unsqueeze(-1)
    return torch.where(keep, x, torch.zeros_like(x))


def prune_top_k(x, k, mask=None):
    """Each vector's k largest magnitudes; a stable descending sort keeps the lower index among equal magnitudes."""
    order = torch.sort(x.abs(), dim=-1, descending=True, stable=True).indices
    keep = torch.zeros_like(x, dtype=torch.bool).scatter(-1, order[..., :k], True)
    return keep_where(x, keep, mask)


def prune_max_ratio(x, ratio, mask=None):
    a = x.abs()
    return keep_where(x, a >= a.amax(dim=-1, keepdim=True) * ratio, mask)


def prune_weight_mass(x, mass, mask=None):
    """An entry stays while the larger entries before it (stable descending order) sum, in float64, below mass * total."""
    a = x.abs()
    if mass == 1:
        return keep_where(x, a > 0, mask)
    ordered, order = torch.sort(a, dim=-1, descending=True, stable=True)
    ordered = ordered.double()
    running = ordered.cumsum(dim=-1)
    keep_sorted = (running - ordered) < running[..., -1:] * mass
    keep = torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)
    return keep_where(x, keep, mask)


def prune_threshold(x, threshold, mask=None):
    return keep_where(x, x.abs() > threshold, mask)


def collection_threshold(x, max_kept):
    """The magnitude ranked max_kept + 1 among all non-zero entries (0 if there are no more than max_kept)."""
    a = x.abs().reshape(-1)
    nonzero = a[a != 0].double()
    ordered = torch.sort(nonzero, descending=True).values
    if max_kept >= ordered.numel():
        return {"maxKept": max_kept, "threshold": 0.0, "kept": ordered.numel(), "nonZero": ordered.numel()}
    t = float(ordered[max_kept])
    return {"maxKept": max_kept, "threshold": t, "kept": int((nonzero > t).sum()), "nonZero": ordered.numel()}


def term_top_k_thresholds(x, k):
    columns = x.abs().reshape(-1, x.shape[-1])
    ordered = torch.sort(columns, dim=0, descending=True).values
    if ordered.shape[0] <= k:
        return torch.zeros(x.shape[-1], dtype=x.dtype)
    return ordered[k]


def pruning_input(kind, shape, dtype, gen):
    x = torch.randn(*shape, generator=gen, dtype=torch.float64)
    if kind == "splade":
        x = torch.log1p(torch.relu(x - 0.5))
    elif kind == "ties":
        x = torch.round(x * 2) / 2  # halves: many equal magnitudes, of both signs
    elif kind == "wide-range":
        exponents = torch.randint(-45, 38, shape, generator=gen).double()
        x = torch.relu(x) * torch.pow(10.0, exponents)  # float32 subnormals to 1e38
    return x.to(DTYPES[dtype])


def pruning_cases():
    cases = []
    seed = 7000
    for name, kind, shape, dtype, masked, k, ratio, mass, threshold, term_k in [
        ("splade-f32", "splade", (6, 50), "float32", False, 7, 0.3, 0.8, 0.2, 2),
        ("splade-f64", "splade", (8, 40), "float64", False, 5, 0.5, 0.6, 0.1, 3),
        ("ties-f32", "ties", (5, 24), "float32", False, 6, 0.5, 0.5, 0.5, 1),
        ("ties-f64", "ties", (7, 16), "float64", False, 4, 1.0, 0.7, 1.0, 2),
        ("masked-3d-f64", "ties", (3, 2, 30), "float64", True, 9, 0.25, 0.9, 0.0, 2),
        ("masked-3d-f32", "splade", (4, 3, 20), "float32", True, 20, 0.1, 1.0, 0.3, 4),
        ("wide-range-f32", "wide-range", (6, 30), "float32", False, 3, 1e-20, 0.999, 1e-30, 1),
        ("wide-range-f64", "wide-range", (6, 30), "float64", False, 30, 0.9, 0.01, 1e-40, 10),
    ]:
        seed += 1
        gen = torch.Generator().manual_seed(seed)
        x = pruning_input(kind, shape, dtype, gen)
        mask = None
        if masked:
            mask = torch.rand(shape[:-1], generator=gen) > 0.3
        if kind != "ties":  # no ties: the documented rule is torch.topk's choice too
            top = torch.topk(x.abs(), k, dim=-1).indices
            assert torch.equal(prune_top_k(x, k), torch.zeros_like(x).scatter(-1, top, x.gather(-1, top)))
        maxima = x.abs().reshape(-1, shape[-1]).amax(dim=0)
        nonzero = int((x != 0).sum())
        case = {
            "name": name,
            "dtype": dtype,
            "input": tensor_record(x),
            "k": k,
            "ratio": ratio,
            "mass": mass,
            "threshold": threshold,
            "maxPerTerm": term_k,
            "expectedTopK": values(prune_top_k(x, k, mask)),
            "expectedMaxRatio": values(prune_max_ratio(x, ratio, mask)),
            "expectedWeightMass": values(prune_weight_mass(x, mass, mask)),
            "expectedThreshold": values(prune_threshold(x, threshold, mask)),
            "expectedTermThresholds": values(term_top_k_thresholds(x, term_k)),
            "expectedTermMaxima": values(maxima),
            "expectedTermMaxRatio": values(keep_where(x, x.abs() >= maxima * ratio, mask)),
            "collection": [collection_threshold(x, n) for n in sorted({0, 1, nonzero // 10, nonzero // 3, nonzero - 1, nonzero, nonzero + 5})],
            "shares": [dict(collection_threshold(x, math.floor(share * nonzero)), share=share) for share in (0.05, 0.3, 0.5, 1.0)],
        }
        if mask is not None:
            case["mask"] = tensor_record(mask)
        cases.append(case)
    return cases


def main():
    fixtures = {
        "generator": "tests/LightningIr.Regularization.Tests/reference/generate_fixtures.py",
        "torch": torch.__version__,
        "losses": loss_cases() + weighted_cases(),
        "documentFrequencyWeights": df_weight_cases(),
        "metrics": metric_cases(),
        "pruning": pruning_cases(),
    }
    path = os.path.join(HERE, "fixtures.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(fixtures, f, indent=1)
        f.write("\n")
    print(f"wrote {len(fixtures['losses'])} loss cases and {len(fixtures['metrics'])} metric cases to {path}")


if __name__ == "__main__":
    main()
