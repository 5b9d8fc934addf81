"""Exports the PyTorch twin of a gated benchmark workload (L5, G5: nn.LSTM / nn.GRU, the same
module bench/torch_bench.py times, torch.manual_seed(1)) with torch.onnx.export, opset 14, for
the onnxruntime-node peer (bench/impl_ort.ts).

Usage: python3 torch_onnx_export.py '<workload json>' out.onnx

The graph input is x [T, batch, I] (batch a dynamic axis), the output y [T, batch, D*H]; the
weights are initializers. Prints one line 'exported <path> (<nodes>)'.
"""
import json
import sys

import torch

from torch_bench import make_rnn


class Wrap(torch.nn.Module):
    """Only the output sequence (as the benchmark's forward step uses)."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        return self.rnn(x)[0]


def main():
    w = json.loads(sys.argv[1])
    out = sys.argv[2]
    torch.manual_seed(1)
    model = Wrap(make_rnn(torch, w)).eval()
    x = torch.rand(w["T"], w["B"], w["I"]) * 2 - 1
    with torch.no_grad():
        torch.onnx.export(model, (x,), out, opset_version=14, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {1: "batch"}, "y": {1: "batch"}})
    nodes = "?"
    try:
        import onnx  # noqa: F401  (optional: only for the node list)
        m = onnx.load(out)
        nodes = ", ".join(n.op_type for n in m.graph.node)
    except Exception:  # noqa: BLE001
        pass
    print("exported %s (%s)" % (out, nodes))


if __name__ == "__main__":
    main()
