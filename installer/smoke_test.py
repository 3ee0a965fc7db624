"""Smoke test of a *built* bundle: same probabilities as the source install, the real window starts on the xcb
platform under Xvfb and shows a prediction, a DICOM sent to `listen` is scored, the bundle carries the X11
libraries its window needs, and nothing is written outside the per-user folders. Run through
installer/smoke_test.sh.

Standard library only, so any Python 3.11 can run it. The bundle is only ever run as a user would run it
(its executable, in fresh HOME / PNEUMO_DESKTOP_HOME / TMPDIR folders); its internals are not imported.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bundle_checks  # noqa: E402  (installer/bundle_checks.py, standard library only)
from smoke_common import BUNDLE, GUI_TIMEOUT_S, TOLERANCE, VERSION, Failure, stop_group  # noqa: E402
from xvfb import XvfbUnavailable, mapped_main_window, virtual_display  # noqa: E402

# The repository carries every input (samples/, tests/data/dicom/); PNEUMO_SMOKE_DATA points elsewhere.
DATA = Path(os.environ.get("PNEUMO_SMOKE_DATA", ROOT))
# One file per decoding path: Pillow JPEG, Pillow-decoded DICOM JPEG baseline, uncompressed DICOM,
# header-less ACR-NEMA, openjpeg (J2K), CharLS (JPEG-LS), and a J2K stream that openjpeg rejects so the
# gdcm fallback is tried; plus the two made below (gdcm's JPEG lossless, pylibjpeg-rle's RLE). Each is
# compared with the source install, errors included.
INPUTS = [
    "samples/NORMAL/IM-0001-0001.jpeg",
    "samples/PNEUMONIA/person1_virus_6.jpeg",
    "tests/data/dicom/cr_mono2_8bit_jpeg_baseline.dcm",
    "tests/data/dicom/dx_mono2_8bit_implicit_vr_uncompressed.dcm",
    "tests/data/dicom/cr_mono1_10bit_no_file_meta.dcm",
    "tests/data/dicom/cr_mono1_15bit_j2k_lossy.dcm",
    "tests/data/dicom/cr_mono1_15bit_jpegls_near_lossless.dcm",
    "tests/data/dicom/dx_mono1_12bit_j2k_lossless_bad_marker.dcm",
]
# No sample chest film is JPEG lossless (process 14, which only gdcm decodes) or RLE, so the smoke test
# makes both from the uncompressed DX file with the source install's gdcm and pydicom.
LOSSLESS_SOURCE = "dx_mono2_8bit_implicit_vr_uncompressed.dcm"
MAKE_LOSSLESS = """
import sys, gdcm, pydicom
from pydicom.uid import RLELossless
src, jpeg_ll, rle = sys.argv[1:4]
reader = gdcm.ImageReader(); reader.SetFileName(src)
assert reader.Read(), "gdcm could not read " + src
change = gdcm.ImageChangeTransferSyntax()
change.SetTransferSyntax(gdcm.TransferSyntax(gdcm.TransferSyntax.JPEGLosslessProcess14_1))
change.SetInput(reader.GetImage())
assert change.Change(), "gdcm could not encode JPEG lossless"
writer = gdcm.ImageWriter(); writer.SetFileName(jpeg_ll); writer.SetFile(reader.GetFile())
writer.SetImage(change.GetOutput())
assert writer.Write(), "gdcm could not write " + jpeg_ll
ds = pydicom.dcmread(src)
ds.compress(RLELossless, encoding_plugin="pydicom")
ds.save_as(rle, enforce_file_format=True)
"""
GENERATED = ("dx_jpeg_lossless_sv1_via_gdcm.dcm", "dx_rle_lossless.dcm")
# These must be scored, not merely agree with the source (a missing codec would fail both the same way).
MUST_SCORE = {"IM-0001-0001.jpeg", "cr_mono2_8bit_jpeg_baseline.dcm", LOSSLESS_SOURCE, "cr_mono1_15bit_j2k_lossy.dcm",
              "cr_mono1_15bit_jpegls_near_lossless.dcm", *GENERATED}
START_TARGET_S = 2.0


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under ``folder`` with its size and mtime (ns), to prove nothing changed."""
    found = {}
    for path in sorted(folder.rglob("*")):
        st = path.lstat()
        found[str(path.relative_to(folder))] = (st.st_size if path.is_file() else -1, st.st_mtime_ns)
    return found


def changed(before: dict, after: dict) -> list[str]:
    names = set(before) | set(after)
    return sorted(n for n in names if before.get(n) != after.get(n))


def run(cmd: list[str], env: dict[str, str], cwd: Path, label: str = "bundle",
        timeout: float = 600) -> subprocess.CompletedProcess:
    started = time.monotonic()
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    shown = " ".join([Path(cmd[0]).name, *(Path(c).name if "/" in c else c for c in cmd[1:])])
    print(f"  {label:6s} $ {shown[:120]}  -> rc {done.returncode} in {time.monotonic() - started:.1f} s")
    return done


def records(stdout: str) -> dict[str, dict]:
    out = {}
    for line in stdout.splitlines():
        if line.strip():
            record = json.loads(line)
            out[Path(record["path"]).name] = record
    return out


def compare(bundle: dict[str, dict], source: dict[str, dict]) -> list[str]:
    problems = []
    if set(bundle) != set(source):
        problems.append(f"different files scored: bundle {sorted(bundle)}, source {sorted(source)}")
    for name in sorted(set(bundle) & set(source)):
        b, s = bundle[name], source[name]
        if b["model_sha256"] != s["model_sha256"]:
            problems.append(f"{name}: model differs ({b['model_sha256'][:12]} vs {s['model_sha256'][:12]})")
        pb, ps = b.get("probability"), s.get("probability")
        if (pb is None) != (ps is None):
            problems.append(f"{name}: bundle {pb!r} / {b.get('error') or b.get('rejected')!r}, "
                            f"source {ps!r} / {s.get('error') or s.get('rejected')!r}")
        elif pb is not None and abs(pb - ps) > TOLERANCE:
            problems.append(f"{name}: probability {pb:.6f} in the bundle, {ps:.6f} from source")
        if name in MUST_SCORE and pb is None:
            problems.append(f"{name}: the bundle did not score it: {b.get('error') or b.get('rejected')}")
    return problems


def bundle_model_dir(bundle: Path) -> Path:
    for candidate in (bundle / "_internal" / "models", bundle / "models",
                      bundle / "Contents" / "Resources" / "models"):
        if (candidate / "model_card.json").is_file():
            return candidate
    raise Failure(f"no models/model_card.json inside {bundle}")


def gui_check(exe: Path, image: Path, expected: float, env: dict[str, str], cwd: Path, home: Path,
              display: str) -> dict:
    """Start the real window on the xcb platform of ``display`` with one image (xcb loads the X11 libraries the
    bundle carries; offscreen would load none of them); wait until it is mapped and has audited the image."""
    state = home / "state"
    audit, log = state / "audit.jsonl", state / "pneumo_desktop.log"
    sha = hashlib.sha256(image.read_bytes()).hexdigest()
    gui_env = dict(env, QT_QPA_PLATFORM="xcb", DISPLAY=display)
    started = time.monotonic()
    proc = subprocess.Popen([str(exe), str(image)], env=gui_env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    shown_s = predicted_s = mapped_s = None
    line = None
    try:
        while time.monotonic() - started < GUI_TIMEOUT_S:
            if proc.poll() is not None:
                raise Failure(f"the window exited early (rc {proc.returncode}): {proc.stdout.read()[-2000:]}")
            if shown_s is None and log.is_file() and " started" in log.read_text(encoding="utf-8", errors="replace"):
                shown_s = time.monotonic() - started
            if mapped_s is None and mapped_main_window(display):
                mapped_s = time.monotonic() - started
            if line is None and audit.is_file():
                for text in audit.read_text(encoding="utf-8").splitlines():
                    entry = json.loads(text)
                    if entry.get("source") == "gui" and entry.get("file_sha256") == sha:
                        line = entry
                if line:
                    predicted_s = time.monotonic() - started
            if line is not None and mapped_s is not None:
                break
            time.sleep(0.02)
    finally:
        stop_group(proc)
        output = proc.stdout.read() if proc.stdout else ""
    if line is None:
        raise Failure(f"no GUI audit line within {GUI_TIMEOUT_S:.0f} s; output: {output[-2000:]}")
    if mapped_s is None:
        raise Failure(f"the main window was never mapped on the xcb display {display}; output: {output[-2000:]}")
    if abs(line["probability"] - expected) > TOLERANCE:
        raise Failure(f"the window showed {line['probability']:.6f}, the CLI gave {expected:.6f}")
    print(f"  window (xcb on Xvfb {display}): mapped after {mapped_s:.2f} s, 'started' logged after "
          f"{shown_s if shown_s is None else round(shown_s, 2)} s, prediction audited after {predicted_s:.2f} s "
          f"(p = {line['probability']:.4f})")
    return {"shown_s": shown_s, "predicted_s": predicted_s, "mapped_s": mapped_s}


def static_checks(bundle: Path) -> list[str]:
    problems = bundle_checks.check_bundle(bundle)
    install = bundle / "INSTALL.txt"
    if not install.is_file() or VERSION not in install.read_text(encoding="utf-8") or "@VERSION@" in \
            install.read_text(encoding="utf-8"):
        problems.append(f"no INSTALL.txt for version {VERSION} in the bundle")
    index = bundle / "LICENSES" / "THIRD_PARTY_NOTICES.txt"
    if not index.is_file():
        problems.append("no LICENSES/THIRD_PARTY_NOTICES.txt")
    else:
        named = re.findall(r"\(([^()\s]+)/\)$", index.read_text(encoding="utf-8"), flags=re.MULTILINE)
        empty = [f for f in named if not any((bundle / "LICENSES" / f).glob("*"))]
        if empty:
            problems.append(f"licence folders named in THIRD_PARTY_NOTICES.txt missing or empty: {empty}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("bundle", nargs="?", type=Path, default=BUNDLE)
    parser.add_argument("--source-cli", type=Path, default=ROOT / ".venv" / "bin" / "pneumo-desktop",
                        help="the source install's pneumo-desktop to compare with")
    parser.add_argument("--no-gui", action="store_true", help="skip the window check (not a passing smoke test "
                        "for a release: the window on xcb is part of it)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    args = parser.parse_args(argv)

    bundle = args.bundle.resolve()
    exe = bundle / "pneumo-desktop"
    if not exe.is_file():
        print(f"smoke test: no executable {exe} (build it with installer/build.sh)", file=sys.stderr)
        return 2
    if not args.source_cli.is_file():
        print(f"smoke test: no source install at {args.source_cli} (the reference the bundle is compared with). "
              "Make one with `bash scripts/test.sh` (or: python3.11 -m venv .venv && .venv/bin/pip install "
              "-c constraints/dev.txt -e '.[train,dev]'), or pass --source-cli PATH/bin/pneumo-desktop of another "
              "source install of this checkout.", file=sys.stderr)
        return 2
    models = bundle_model_dir(bundle)

    tmp = Path(tempfile.mkdtemp(prefix="pneumo-smoke-"))
    homes = {k: tmp / k for k in ("home", "app_home", "tmp", "cwd", "inputs", "out", "xdg_runtime")}
    for folder in homes.values():
        folder.mkdir(mode=0o700)
    source_home = tmp / "source_home"
    inputs = []
    for rel in INPUTS:
        src = DATA / rel
        if not src.is_file():
            print(f"smoke test: missing sample {src} (set PNEUMO_SMOKE_DATA)", file=sys.stderr)
            return 2
        inputs.append(Path(shutil.copy2(src, homes["inputs"] / src.name)))
    source_python = args.source_cli.parent / "python"
    generated = [homes["inputs"] / name for name in GENERATED]
    made = subprocess.run([str(source_python), "-c", MAKE_LOSSLESS, str(DATA / "tests" / "data" / "dicom" / LOSSLESS_SOURCE),
                           *map(str, generated)], capture_output=True, text=True, check=False)
    if made.returncode != 0:
        print(f"smoke test: could not make the lossless DICOMs with {source_python}: {made.stderr[-1500:]}",
              file=sys.stderr)
        return 2
    inputs += generated

    # A clean user: nothing inherited that could point the app elsewhere.
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("PNEUMO_DESKTOP_", "XDG_", "QT_", "PYTHON")) and k not in ("LD_LIBRARY_PATH",)}
    env = dict(base, HOME=str(homes["home"]), PNEUMO_DESKTOP_HOME=str(homes["app_home"]), TMPDIR=str(homes["tmp"]),
               XDG_RUNTIME_DIR=str(homes["xdg_runtime"]))
    source_env = dict(base, HOME=str(tmp / "source_user"), PNEUMO_DESKTOP_HOME=str(source_home),
                      PNEUMO_DESKTOP_MODELS=str(models))

    watched = {"bundle": bundle, "inputs": homes["inputs"], "home": homes["home"], "cwd": homes["cwd"],
               "tmp": homes["tmp"]}
    before = {name: snapshot(path) for name, path in watched.items()}
    problems: list[str] = []
    timings: dict = {}
    try:
        print(f"bundle: {bundle}\nmodel:  {models}")
        problems += static_checks(bundle)
        print(f"  static checks (X11 libraries carried, symlinks, INSTALL.txt, notices): "
              f"{'ok' if not problems else 'FAILED'}")
        version = run([str(exe), "--version"], env, homes["cwd"])
        if version.returncode != 0 or "model:" not in version.stdout:
            problems.append(f"--version failed: {version.stdout}{version.stderr}")
        print("  " + version.stdout.strip().replace("\n", "\n  "))

        bundle_run = run([str(exe), "predict", *map(str, inputs), "--format", "jsonl"], env, homes["cwd"])
        source_run = run([str(args.source_cli), "predict", *map(str, inputs), "--format", "jsonl"], source_env,
                         homes["cwd"], "source")
        if source_run.returncode not in (0, 1):
            raise Failure(f"the source install failed: {source_run.stderr[-2000:]}")
        bundle_records, source_records = records(bundle_run.stdout), records(source_run.stdout)
        if bundle_run.returncode not in (0, 1) or not bundle_records:
            raise Failure(f"the bundle's predict failed (rc {bundle_run.returncode}): {bundle_run.stderr[-3000:]}")
        problems += compare(bundle_records, source_records)
        for name in sorted(bundle_records):
            b, s = bundle_records[name], source_records.get(name, {})
            print(f"    {name:48s} bundle {b.get('probability')!s:>22} source {s.get('probability')!s:>22}"
                  + (f"  ({b.get('error') or b.get('rejected')})" if b.get("probability") is None else ""))
        scored = sum(r.get("probability") is not None for r in bundle_records.values())

        # Grad-CAM (autograd through the bundled torch) on a JPEG and a DICOM. With heatmaps a JPEG is decoded
        # at full size rather than DCT-scaled, which is the path the window takes too.
        heatmap_dir = homes["out"] / "heatmaps"
        cam_inputs = [inputs[0], inputs[2]]
        cam_run = run([str(exe), "predict", *map(str, cam_inputs), "--format", "jsonl", "--heatmap-dir",
                       str(heatmap_dir)], env, homes["cwd"])
        cam_source = run([str(args.source_cli), "predict", *map(str, cam_inputs), "--format", "jsonl",
                          "--heatmap-dir", str(tmp / "source_heatmaps")], source_env, homes["cwd"], "source")
        cam_records = records(cam_run.stdout)
        problems += [f"with heatmaps: {p}" for p in compare(cam_records, records(cam_source.stdout))]
        heatmaps = sorted(heatmap_dir.glob("*.png"))
        if len(heatmaps) != len(cam_inputs) or any(not h.read_bytes().startswith(b"\x89PNG") for h in heatmaps):
            problems.append(f"expected {len(cam_inputs)} heatmap PNGs, found {[h.name for h in heatmaps]}")
        scored += sum(r.get("probability") is not None for r in cam_records.values())
        audit = homes["app_home"] / "state" / "audit.jsonl"
        if not audit.is_file() or len(audit.read_text().splitlines()) != scored:
            problems.append("the CLI did not write one audit line per scored image")

        for image in (inputs[0], inputs[2]):
            pdf = homes["out"] / f"{image.stem}.pdf"
            report = run([str(exe), "report", str(image), "-o", str(pdf)], env, homes["cwd"])
            if report.returncode != 0 or not pdf.is_file() or not pdf.read_bytes().startswith(b"%PDF"):
                problems.append(f"report on {image.name} failed (rc {report.returncode}): {report.stderr[-2000:]}")
            else:
                print(f"    {pdf.name}: {pdf.stat().st_size} bytes")

        film = next(i for i in inputs if i.name == LOSSLESS_SOURCE)
        expected_film = source_records.get(film.name, {}).get("probability")
        if expected_film is None:
            raise Failure(f"the source install did not score {film.name}")
        from smoke_listen import listen_check  # installer/smoke_listen.py

        listen_check(exe, source_python, film, expected_film, env, homes["cwd"], homes["out"] / "listen")

        if not args.no_gui:
            if shutil.which("xwininfo") is None:
                raise Failure("the window check needs xwininfo (apt-get install x11-utils)")
            expected = cam_records.get(inputs[0].name, {}).get("probability")
            if expected is None:
                raise Failure(f"no CLI probability for {inputs[0].name} to compare the window with")
            try:
                with virtual_display() as display:
                    timings = gui_check(exe, inputs[0], expected, env, homes["cwd"], homes["app_home"], display)
            except XvfbUnavailable as exc:
                raise Failure(f"the window check needs Xvfb and xwininfo (apt-get install xvfb x11-utils): {exc}") \
                    from exc
            if timings["shown_s"] is None:
                problems.append("the window never logged that it started")

        after = {name: snapshot(path) for name, path in watched.items()}
        for name in watched:
            diff = changed(before[name], after[name])
            if name == "home":
                # Libraries' own per-user caches (fontconfig) are the user's cache folder; anything else is not.
                diff = [d for d in diff if not (d == ".cache" or d.startswith(".cache/"))]
            if diff:
                problems.append(f"files changed in {name} ({watched[name]}): {diff[:10]}")
        allowed = {"config", "cache", "state"}
        stray = sorted(p.name for p in homes["app_home"].iterdir() if p.name not in allowed)
        if stray:
            problems.append(f"unexpected entries in PNEUMO_DESKTOP_HOME: {stray}")
        cached = sorted(str(p.relative_to(homes["home"])) for p in (homes["home"] / ".cache").rglob("*")
                        if p.is_file()) if (homes["home"] / ".cache").is_dir() else []
        if cached:
            print(f"  note: libraries wrote {len(cached)} files under HOME/.cache (e.g. {cached[0]})")
    except Failure as exc:
        problems.append(str(exc))
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    if problems:
        print("SMOKE TEST FAILED:")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    shown = timings.get("shown_s")
    if shown is not None and shown > START_TARGET_S:
        print(f"  note: the window took {shown:.2f} s to start (target {START_TARGET_S} s)")
    print(f"SMOKE TEST PASSED: {len(INPUTS) + len(GENERATED)} files match the source install to {TOLERANCE:g}"
          + ("" if args.no_gui else ", the window showed the same prediction") + ", nothing written outside "
          "the per-user folders")
    return 0


if __name__ == "__main__":
    sys.exit(main())
