"""The bundle ships highdicom's attribute table trimmed from 22.7 to about 2 MB (installer/bundle_trim.py). These
tests prove the trim changes no answer highdicom gets: every top-level attribute question about any IOD is
answered the same, and the three results written through the trimmed table equal those written through the full
one, element for element, apart from the new UIDs and times."""

from __future__ import annotations

import importlib.util
import json
import pkgutil
from pathlib import Path

import highdicom
import pydicom
import pytest
from highdicom import _standard_utils

from pneumo_desktop.dicom_out import export_dicom_results
from tests.dicom_out.conftest import Scored

ROOT = Path(__file__).resolve().parents[2]
STANDARD = Path(highdicom.__file__).parent / "_standard"
CACHED = ("get_module_attribute_map", "get_iod_module_map", "get_sop_class_iod_map")


def _trim():
    spec = importlib.util.spec_from_file_location("bundle_trim", ROOT / "installer" / "bundle_trim.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tables() -> tuple[dict, dict]:
    return (json.loads((STANDARD / "module_attribute_map.json").read_text(encoding="utf-8")),
            json.loads((STANDARD / "iod_module_map.json").read_text(encoding="utf-8")))


def test_the_trim_is_small_and_keeps_every_top_level_attribute_of_every_iod() -> None:
    attributes, iods = _tables()
    trimmed = _trim().trimmed_module_attributes(attributes, iods)
    assert len(json.dumps(trimmed, separators=(",", ":"))) < 2_500_000
    assert (STANDARD / "module_attribute_map.json").stat().st_size > 20_000_000
    assert set(trimmed) == set(attributes)  # highdicom checks module names exist (image.py)
    for iod, modules in iods.items():
        full_top = {a["keyword"] for m in modules for a in attributes.get(m["key"], []) if not a["path"]}
        kept_top = {a["keyword"] for m in modules for a in trimmed.get(m["key"], []) if not a["path"]}
        assert full_top == kept_top, iod


def test_the_objects_we_write_and_projection_films_keep_their_modules_whole() -> None:
    attributes, iods = _tables()
    trimmed = _trim().trimmed_module_attributes(attributes, iods)
    for iod in ("encapsulated-pdf", "comprehensive-sr", "secondary-capture-image", "computed-radiography-image",
                "digital-x-ray-image", "digital-mammography-x-ray-image"):
        for module in iods[iod]:
            assert trimmed[module["key"]] == attributes[module["key"]], (iod, module["key"])


def _comparable(path: Path) -> dict:
    ds = pydicom.dcmread(path)
    changing = {"SOPInstanceUID", "SeriesInstanceUID", "MediaStorageSOPInstanceUID", "ContentDate", "ContentTime",
                "InstanceCreationDate", "InstanceCreationTime", "SeriesDate", "SeriesTime", "AcquisitionDateTime", "ContributionDateTime", "TimeOfSecondaryCapture", "DateOfSecondaryCapture",
                "UID"}

    def walk(dataset: pydicom.Dataset) -> dict:
        out = {}
        for element in dataset:
            if element.keyword in changing or element.keyword == "EncapsulatedDocument":
                continue  # the PDF embeds its own creation time
            if element.VR == "SQ":
                out[element.keyword] = [walk(item) for item in element.value]
            else:
                out[element.keyword or str(element.tag)] = str(element.value)[:200]
        return out

    return {"class": str(ds.SOPClassUID), **walk(ds)}


def test_results_written_through_the_trimmed_table_equal_the_full_ones(patient_film: Scored, tiny_predictor,
                                                                       tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "full").mkdir()
    full = export_dicom_results(tmp_path / "full", patient_film.image, patient_film.prediction, tiny_predictor.card)
    tables = _trim().write_highdicom_tables(STANDARD, tmp_path / "tables")
    real_get_data = pkgutil.get_data

    def bundled_get_data(package: str, resource: str) -> bytes | None:
        if package == "highdicom" and resource.startswith("_standard/"):
            return (tables / Path(resource).name).read_bytes()
        return real_get_data(package, resource)

    monkeypatch.setattr(pkgutil, "get_data", bundled_get_data)
    for name in CACHED:
        getattr(_standard_utils, name).cache_clear()
    try:
        assert len(_standard_utils.get_module_attribute_map()["enhanced-ct-image-multi-frame-functional-groups"]) < 20
        (tmp_path / "trimmed").mkdir()
        trimmed = export_dicom_results(tmp_path / "trimmed", patient_film.image, patient_film.prediction,
                                       tiny_predictor.card)
    finally:
        monkeypatch.undo()
        for name in CACHED:
            getattr(_standard_utils, name).cache_clear()
    assert len(full.paths) == len(trimmed.paths) == 3
    by_class = {c["class"]: c for c in map(_comparable, full.paths)}
    for path in trimmed.paths:
        made = _comparable(path)
        assert made == by_class[made["class"]]


@pytest.mark.parametrize("name", ["sop_class_iod_map.json", "iod_module_map.json", "anatomic_regions.json"])
def test_the_other_tables_are_copied_unchanged(name: str, tmp_path: Path) -> None:
    out = _trim().write_highdicom_tables(STANDARD, tmp_path)
    assert json.loads((out / name).read_text()) == json.loads((STANDARD / name).read_text())
