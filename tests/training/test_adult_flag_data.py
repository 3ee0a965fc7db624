"""The adult-flag's data: exclude.csv is applied before any film is read, children under 18 are not adults."""

from __future__ import annotations

from training.adult_flag import SOURCES, excluded, listed_films, read_exclusions
from training.data_root import data_root

TALO, CHEXNET = "muhammedtalo/COVID-19", "jrzech/reproduce-chexnet"


def _entry(name: str, age: int) -> dict[str, str]:
    return {"Image Index": name, "Patient ID": name[:8], "Patient Age": str(age), "Patient Gender": "F",
            "View Position": "PA"}


def test_excluded_films_and_folders_are_never_listed() -> None:
    commit = SOURCES[CHEXNET][0]
    rules = [{"repository": CHEXNET, "commit": commit, "path": "starter_images/00000493_000.png"},
             {"repository": TALO, "commit": SOURCES[TALO][0], "path": "X-Ray Image DataSet/No_findings/*"}]
    listing = {CHEXNET: ["starter_images/00000493_000.png", "starter_images/00000100_000.png"],
               TALO: ["X-Ray Image DataSet/No_findings/00001280_004.png",
                      "X-Ray Image DataSet/Pneumonia/00000061_012.png", "X-Ray Image DataSet/Covid-19/x.png"]}
    entries = {n: _entry(n, 50) for n in ("00000493_000.png", "00000100_000.png", "00001280_004.png",
                                          "00000061_012.png", "x.png")}
    films, counts = listed_films(listing, entries, rules)
    assert sorted(f.path for f in films) == ["X-Ray Image DataSet/Pneumonia/00000061_012.png",
                                             "starter_images/00000100_000.png"]
    assert counts["excluded"] == 2  # the Covid-19 folder is not a source at all


def test_under_18_is_not_an_adult() -> None:
    listing = {CHEXNET: ["starter_images/a.png", "starter_images/b.png"]}
    films, counts = listed_films(listing, {"a.png": _entry("a.png", 17), "b.png": _entry("b.png", 18)}, [])
    assert [f.path for f in films] == ["starter_images/b.png"] and counts["under_18"] == 1


def test_the_real_exclusion_list_catches_the_reserved_copies() -> None:
    root = data_root()
    if root is None or not (root / "external" / "exclude.csv").is_file():
        import pytest

        pytest.skip("exclude.csv is in the workspace data (../shared/data/external), not in the repository")
    rules = read_exclusions(root / "external" / "exclude.csv")
    assert excluded(TALO, SOURCES[TALO][0], "X-Ray Image DataSet/Covid-19/anything.png", rules)
    assert excluded(CHEXNET, SOURCES[CHEXNET][0], "starter_images/00000493_000.png", rules)
    assert not excluded(CHEXNET, SOURCES[CHEXNET][0], "starter_images/00000100_000.png", rules)


def test_the_manifest_lists_no_excluded_film() -> None:
    import csv
    from pathlib import Path

    root = data_root()
    manifest = Path(__file__).resolve().parents[2] / "training" / "adult_flag_manifest.csv"
    rows = list(csv.DictReader(manifest.open(encoding="utf-8")))
    assert len(rows) > 1000 and all(int(r["age"]) >= 18 for r in rows)
    if root is not None and (root / "external" / "exclude.csv").is_file():
        rules = read_exclusions(root / "external" / "exclude.csv")
        assert not any(excluded(r["repository"], r["commit"], r["path"], rules) for r in rows)
