#!/usr/bin/env bash
# Runs the candidate recipes of training/sweep.py side by side on one lent GPU and bundles the selected
# weights + histories under $OUT (at most 8 files come back). Usage, from the repo root on the GPU machine:
#   bash training/gpu_sweep.sh .pack/kermany224.npz "v1_orient b1221 ..." [per-candidate time limit, s]
set -uo pipefail
PACK=$1; CANDS=$2; LIMIT=${3:-420}
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
W=/tmp/sweep; mkdir -p $W "$OUT"
python3 -c "import torch; print(torch.__version__, torch.cuda.get_device_name())"
python3 -m training.sweep run --pack "$PACK" --candidate v1_orient --out $W --shifted-cache $W/shifted.npz --prepare-only
for c in $CANDS; do
  OMP_NUM_THREADS=1 timeout "$LIMIT" python3 -m training.sweep run --pack "$PACK" --candidate "$c" --out $W \
      --shifted-cache $W/shifted.npz > "$W/$c.log" 2>&1 &
done
wait
tail -n 3 $W/*.log
python3 - "$W" "$OUT" <<'PY'
import json, sys, pathlib, torch
w, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
summaries, bundle, size, part = {}, {}, 0, 0
for d in sorted(p for p in w.iterdir() if (p / "best.pt").exists()):
    state = torch.load(d / "best.pt", weights_only=True)
    n = sum(v.numel() * v.element_size() for v in state.values())
    if bundle and size + n > 15e6:
        torch.save(bundle, out / f"states{part}.pt"); bundle, size, part = {}, 0, part + 1
    bundle[d.name] = state; size += n
    if (d / "summary.json").exists():
        summaries[d.name] = json.loads((d / "summary.json").read_text())
if bundle:
    torch.save(bundle, out / f"states{part}.pt")
(out / "summaries.json").write_text(json.dumps(summaries))
PY
cat $W/*.log > "$OUT/logs.txt"
ls -la "$OUT"
