"""E1's PyTorch twin (bench/e1.ts): the same model, data windows, optimizer and clipping as
`rnnblas train` with its defaults, timed per training step.

Usage: python3 torch_e1.py '<job json>'   (the Job of bench/common.ts; options.textPath is the
E1 text written by bench/e1_text.ts). Prints one line '@@BENCH_RESULT@@ {json}'.

Run it with GOMP_SPINCOUNT=0 OMP_NUM_THREADS=n OPENBLAS_NUM_THREADS=n (bench/e1.ts does); it also
calls torch.set_num_threads(n).

- Vocabulary: the text's distinct characters sorted by code point (rnnblas' charVocab).
- Windows: non-overlapping, example i reads text[64i .. 64i+64) and predicts text[64i+1 .. 64i+65)
  (rnnblas' charDataset with seqLen 64), only complete windows.
- Each step: 32 windows in a shuffled order (a fresh permutation per epoch; PyTorch's generator,
  not rnnblas', so the same windows in a different order), gathered time-major [T, B];
  opt.zero_grad(); nn.Embedding(V, 32) -> nn.RNN(32, 256, num_layers=2, tanh) -> nn.Linear(256, V);
  F.cross_entropy (mean) over the T*B predictions; loss.backward(); clip_grad_norm_(params, 5);
  Adam(lr=3e-3).step(); loss.item() (rnnblas' fit reads the loss every step too).
"""
import json
import resource
import statistics
import sys
import time

MARK = "@@BENCH_RESULT@@"


def emit(result):
    sys.stdout.write("\n%s %s\n" % (MARK, json.dumps(result)))
    sys.stdout.flush()


def main():
    job = json.loads(sys.argv[1])
    try:
        import torch
    except Exception as e:  # noqa: BLE001
        emit({"impl": "pytorch", "timings": [], "skipped": "torch not importable: %s" % e})
        return
    nn = torch.nn
    F = torch.nn.functional
    threads = int(job["threads"])
    torch.set_num_threads(threads)
    opts = job.get("options") or {}
    with open(opts["textPath"], encoding="utf-8") as f:
        text = f.read()
    chars = sorted(set(text))
    V = len(chars)
    index = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([index[c] for c in text], dtype=torch.long)
    T, B, E, H, L = 64, 32, 32, 256, 2
    N = (len(ids) - T - 1) // T + 1
    starts = torch.arange(N) * T
    offs = torch.arange(T)
    xs = ids[starts[:, None] + offs[None, :]]  # [N, T]
    ys = ids[starts[:, None] + offs[None, :] + 1]

    torch.manual_seed(1)

    class CharModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(V, E)
            self.rnn = nn.RNN(E, H, num_layers=L, nonlinearity="tanh")
            self.out = nn.Linear(H, V)

        def forward(self, x):  # x [T, B]
            y, _ = self.rnn(self.emb(x))
            return self.out(y)  # [T, B, V]

    model = CharModel()
    params = list(model.parameters())
    opt = torch.optim.Adam(params, lr=3e-3)
    gen = torch.Generator().manual_seed(1)
    state = {"order": None, "pos": N}

    def next_batch():
        if state["pos"] + B > N:
            state["order"] = torch.randperm(N, generator=gen)
            state["pos"] = 0
        idx = state["order"][state["pos"]:state["pos"] + B]
        state["pos"] += B
        return xs[idx].t().contiguous(), ys[idx].t().contiguous()  # time-major [T, B]

    losses = []

    def step():
        x, y = next_batch()
        opt.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(T * B, V), y.reshape(T * B))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()
        losses.append(loss.item())

    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    for _ in range(int(job["warmup"])):
        step()
    samples = []
    cpu = []  # CPU ms of the process per step (all threads), robust to a busy machine
    for _ in range(int(job["reps"])):
        c0 = time.process_time()
        t0 = time.perf_counter()
        step()
        samples.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    emit({
        "impl": "pytorch",
        "version": "torch %s" % torch.__version__,
        "timings": [{"workload": "E1", "threads": threads, "ms": statistics.median(samples), "minMs": min(samples), "reps": len(samples)}],
        "baseRssMB": base_rss,
        "peakRssMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "extra": {"cpuMsPerStep": statistics.median(cpu), "V": V, "windows": N, "textChars": len(text), "firstLoss": losses[0], "lastLoss": losses[-1]},
        "notes": ["samples: " + " ".join("%.1f" % s for s in samples)],
    })


if __name__ == "__main__":
    main()
