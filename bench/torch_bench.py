"""Benchmark child: PyTorch (CPU) on the rnnblas workloads.

Usage: python3 torch_bench.py '<job json>'   (the Job of bench/common.ts)
Prints one line '@@BENCH_RESULT@@ {json}' (the ChildResult of bench/common.ts).

Run it with GOMP_SPINCOUNT=0 OMP_NUM_THREADS=n OPENBLAS_NUM_THREADS=n; it also
calls torch.set_num_threads(n). The train step is opt.zero_grad(), nn.RNN
(nn.LSTM / nn.GRU for the L* / G* workloads) forward, head/loss, loss.backward() (x does not require grad, so no input
gradient), SGD step; forward-only work runs under torch.inference_mode().
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


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux


def time_steps(step, warmup, reps, budget_ms, min_time_ms=0):
    start = time.perf_counter()
    for i in range(warmup):
        step()
        elapsed = (time.perf_counter() - start) * 1000
        if i == 0 and elapsed > budget_ms:
            return [elapsed], True
        if elapsed > budget_ms:
            break
    samples = []
    timed_start = time.perf_counter()
    for i in range(100 * reps):
        t0 = time.perf_counter()
        step()
        samples.append((time.perf_counter() - t0) * 1000)
        elapsed = (time.perf_counter() - timed_start) * 1000
        if elapsed > budget_ms or (i + 1 >= reps and elapsed >= min_time_ms):
            break
    return samples, False


def make_rnn(torch, w):
    """nn.RNN (tanh), nn.LSTM or nn.GRU as w["cell"] says (default RNN), PyTorch's initialisation."""
    nn = torch.nn
    cell = w.get("cell", "RNN")
    if cell == "LSTM":
        return nn.LSTM(w["I"], w["H"], num_layers=w["layers"], bidirectional=w["bidirectional"])
    if cell == "GRU":
        return nn.GRU(w["I"], w["H"], num_layers=w["layers"], bidirectional=w["bidirectional"])
    return nn.RNN(w["I"], w["H"], num_layers=w["layers"], nonlinearity="tanh", bidirectional=w["bidirectional"])


def make_step(torch, w):
    nn = torch.nn
    F = torch.nn.functional
    T, B, I, H = w["T"], w["B"], w["I"], w["H"]
    D = 2 if w["bidirectional"] else 1
    DH = D * H
    torch.manual_seed(1)
    rnn = make_rnn(torch, w)
    x = torch.rand(T, B, I) * 2 - 1
    if w["work"] == "forward":
        rnn.eval()

        def fwd():
            with torch.inference_mode():
                rnn(x)
        return fwd
    head = w["head"]
    params = list(rnn.parameters())
    if head["kind"] == "linear-ce":
        lin = nn.Linear(DH, head["classes"])
        params += list(lin.parameters())
        targets = torch.randint(0, head["classes"], (T * B,))

        def loss_fn(y):
            return F.cross_entropy(lin(y.reshape(T * B, DH)), targets)
    elif head["kind"] == "last-linear-mse":
        lin = nn.Linear(DH, head["outputs"])
        params += list(lin.parameters())
        target = torch.rand(B, head["outputs"]) * 2 - 1

        def loss_fn(y):
            return F.mse_loss(lin(y[-1]), target)
    else:
        target = torch.rand(T, B, DH) * 2 - 1

        def loss_fn(y):
            return F.mse_loss(y, target)
    opt = torch.optim.SGD(params, lr=0.01)

    def train():
        opt.zero_grad()
        y, _ = rnn(x)
        loss = loss_fn(y)
        loss.backward()
        opt.step()
    return train


def blas_name(torch):
    cfg = torch.__config__.show()
    for key in ("BLAS_INFO=", "USE_MKL"):
        i = cfg.find(key)
        if i >= 0:
            return cfg[i:].split(",")[0]
    return "unknown"


def blas_libs():
    """BLAS libraries mapped into this process (Linux), e.g. libopenblas.so.0."""
    try:
        with open("/proc/self/maps") as f:
            names = {line.split()[-1] for line in f if "blas" in line or "mkl" in line}
        return ", ".join(sorted(n for n in names if n.startswith("/"))) or "unknown"
    except OSError:
        return "unknown"


def overhead(torch):
    nn = torch.nn
    rnn = nn.RNN(64, 128)
    rnn.eval()
    x = torch.rand(1, 1, 64)
    h = torch.zeros(1, 1, 128)
    n, per = 2000, []
    with torch.inference_mode():
        for _ in range(n):
            _, h = rnn(x, h)
        for _ in range(9):
            t0 = time.perf_counter()
            for _ in range(n):
                _, h = rnn(x, h)
            per.append((time.perf_counter() - t0) * 1e6 / n)
    return statistics.median(per)


def main():
    try:
        job = json.loads(sys.argv[1])
    except Exception as e:  # noqa: BLE001
        emit({"impl": "pytorch", "timings": [], "skipped": "bad job: %s" % e})
        return
    try:
        import torch
    except Exception as e:  # noqa: BLE001
        emit({"impl": "pytorch", "timings": [], "skipped": "import torch failed: %s" % e})
        return
    n = int(job["threads"])
    torch.set_num_threads(n)
    base = peak_rss_mb()
    timings, extra = [], {}
    budget = job.get("budgetMs") or float("inf")
    try:
        for w in job["workloads"]:
            step = make_step(torch, w)
            reps = int(job["reps"])
            samples, cold = time_steps(step, int(job["warmup"]), reps, budget, float(job.get("minTimeMs") or 0))
            t = {"workload": w["id"], "threads": n, "ms": statistics.median(samples),
                 "minMs": min(samples), "reps": len(samples)}
            if cold:
                t["note"] = "one cold step (exceeded the time budget)"
            elif len(samples) < reps:
                t["note"] = "time budget: %d of %d reps" % (len(samples), reps)
            timings.append(t)
        if (job.get("options") or {}).get("overhead"):
            extra["overheadModuleUs"] = overhead(torch)
    except Exception as e:  # noqa: BLE001
        emit({"impl": "pytorch", "timings": timings, "skipped": "error: %s" % str(e).split("\n")[0]})
        return
    emit({
        "impl": "pytorch",
        "version": "torch %s (CPU, %s, mkldnn %s, loaded: %s)" % (torch.__version__, blas_name(torch),
                                                      torch.backends.mkldnn.is_available(), blas_libs()),
        "timings": timings, "baseRssMB": base, "peakRssMB": peak_rss_mb(), "extra": extra, "notes": [],
    })


if __name__ == "__main__":
    main()
