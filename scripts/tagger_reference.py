#!/usr/bin/env python3
"""Reference scores of CED-Tiny for the generated signals of the tagger test.

Run once with ONNX Runtime (the model's reference runtime) with its graph optimisations off,
so that each operator is computed as the ONNX specification defines it. (With them on, it
rewrites the graph around the model's dequantised weights and its own scores move by up to
7e-3 on these signals.)

    python3 -m venv /tmp/ortenv && /tmp/ortenv/bin/pip install onnxruntime==1.32.0 numpy
    /tmp/ortenv/bin/python scripts/tagger_reference.py > tests/data/ced_tiny_reference.json

The signals are built in float64 and rounded to float32, exactly as
`src/analysis/tagger.rs` builds them in its test.
"""
import json
import math

import numpy as np
import onnxruntime as ort

RATE = 16000


def lcg(seed, n):
    state, out = seed, []
    for _ in range(n):
        state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        out.append(((state >> 40) / (1 << 24)) * 2.0 - 1.0)
    return out


def signals():
    n = RATE
    yield "noise", [0.05 * v for v in lcg(12345, n)]
    n = 2 * RATE
    noise = lcg(7, n)
    yield "chirp", [
        0.3 * math.sin(2 * math.pi * (200.0 * t + 0.5 * 1400.0 * t * t)) + 0.01 * noise[i]
        for i, t in ((i, i / RATE) for i in range(n))
    ]
    n = 3 * RATE // 2
    noise = lcg(99, n)
    yield "clicks", [(0.9 if i % 2000 == 0 else 0.0) + 0.005 * noise[i] for i in range(n)]
    n = 3 * RATE
    noise = lcg(3, n)
    yield "harmonic", [
        0.2 * sum(math.sin(2 * math.pi * 220.0 * h * i / RATE) / h for h in range(1, 9))
        + 0.005 * noise[i]
        for i in range(n)
    ]


def main():
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession("assets/models/ced-tiny.onnx", sess_options=opts)
    out = {"runtime": f"onnxruntime {ort.__version__}, graph optimisations off", "signals": {}}
    for name, x in signals():
        x = np.asarray(x, dtype=np.float64).astype(np.float32)[None, :]
        scores = session.run(None, {"waveform": x})[0][0]
        out["signals"][name] = [float(v) for v in scores]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
