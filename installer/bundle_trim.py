"""Size trims of the Linux bundle that keep behaviour identical, imported by ``pneumo_desktop.spec``.

Standard library only (it runs inside PyInstaller and in the cheap test suite).

1. highdicom's table of every DICOM module's attributes (22.7 MB of JSON) is cut to 2 MB. highdicom reads it
   (a) to copy the patient and study modules from the source film, and (b) to ask whether an IOD has a
   top-level attribute (PixelData, NumberOfFrames, TotalPixelMatrixRows, ContentDate). So every module keeps
   its top-level attributes, which answers (b) exactly for any source, and the modules of the IODs we write or
   read as projection films keep everything. The big nested ones dropped are the enhanced multi-frame
   functional groups and RT / ophthalmic tables, which no object of ours or its source touches.
2. Extension modules built with debug information and never patched by auditwheel (no RPATH/RUNPATH: strip
   can damage patchelf-edited files) lose their DWARF sections: the CharLS and OpenJPEG codecs are 12.8 MB,
   1.9 MB without it. The code and the symbol table are untouched.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

# IOD names (keys of highdicom's iod_module_map.json) whose modules keep every attribute: the objects we
# write (encapsulated PDF, SR, secondary capture) and the families a scored film comes from.
FULL_IOD_WORDS = ("x-ray", "computed-radiography-image", "digital-", "secondary-capture", "mammography",
                  "intra-oral", "-sr", "encapsulated", "radiofluoroscopic", "angiographic")


def full_modules(iod_module_map: dict[str, list[dict]]) -> set[str]:
    return {module["key"] for iod, modules in iod_module_map.items() if any(w in iod for w in FULL_IOD_WORDS)
            for module in modules}


def trimmed_module_attributes(module_attribute_map: dict[str, list[dict]],
                              iod_module_map: dict[str, list[dict]]) -> dict[str, list[dict]]:
    keep = full_modules(iod_module_map)
    return {name: attributes if name in keep else [a for a in attributes if not a["path"]]
            for name, attributes in module_attribute_map.items()}


def write_highdicom_tables(standard_dir: Path, out_dir: Path) -> Path:
    """Copies highdicom's ``_standard`` folder into ``out_dir`` with the attribute table trimmed; returns it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for source in standard_dir.glob("*.json"):
        data = json.loads(source.read_text(encoding="utf-8"))
        if source.name == "module_attribute_map.json":
            iods = json.loads((standard_dir / "iod_module_map.json").read_text(encoding="utf-8"))
            data = trimmed_module_attributes(data, iods)
        (out_dir / source.name).write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
    return out_dir


def debug_strippable(library: Path) -> bool:
    """True for an ELF file with DWARF debug sections and no RPATH/RUNPATH."""
    out = subprocess.run(["readelf", "-S", "-d", "-W", str(library)], capture_output=True, text=True,
                         check=False, timeout=60).stdout
    return bool(re.search(r"\s\.debug_info\s", out)) and not re.search(r"\((RPATH|RUNPATH)\)", out)


def strip_debug_info(entries: list[tuple[str, str, str]], work: Path,
                     only: tuple[str, ...] = (".so",)) -> list[tuple[str, str, str]]:
    """PyInstaller binary entries with debug-only sections stripped from copies in ``work``."""
    strip = shutil.which("strip")
    if strip is None or shutil.which("readelf") is None:
        print("bundle_trim: no strip/readelf on PATH; debug information is kept")
        return entries
    work.mkdir(parents=True, exist_ok=True)
    result = []
    for dest, src, typecode in entries:
        if typecode != "SYMLINK" and any(s in Path(dest).name for s in only) and debug_strippable(Path(src)):
            target = work / dest.replace("/", "__")
            subprocess.run([strip, "--strip-debug", "-o", str(target), src], check=True, timeout=120)
            print(f"bundle_trim: {dest}: debug information stripped, {Path(src).stat().st_size // 1024} KiB -> "
                  f"{target.stat().st_size // 1024} KiB")
            src = str(target)
        result.append((dest, src, typecode))
    return result
