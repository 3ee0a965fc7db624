"""KNOWN_MESSAGES (tests/robustness/known_errors.py) and the loader's ``ImageLoadError(...)`` calls agree:
every message the code can raise matches a pattern, and every pattern matches a message the code raises.
So a new message in the loader fails here until it is listed, and the fuzz test's check stays exact."""

from __future__ import annotations

import ast
from pathlib import Path

import pneumo_desktop.core as core_package
from tests.robustness.known_errors import KNOWN_MESSAGES, classify

CORE = Path(core_package.__file__).parent
LOADER_MODULES = ("loader.py", "raster_reader.py", "dicom_reader.py", "image.py", "dicom_bounds.py",
                  "dicom_modality.py")
# Values tried for the {placeholders} of an f-string message (the same one for all of a message's).
PLACEHOLDER_VALUES = ("PNG", "1", "1.0", "(1, 2, 3)", "RGB", "JPEG 2000 Image Compression")


def _templates(node: ast.expr) -> list[list[str | None]]:
    """A message expression as parts: str for literal text, None for a {placeholder}."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [[node.value]]
    if isinstance(node, ast.JoinedStr):
        parts: list[str | None] = []
        for value in node.values:
            parts.append(value.value if isinstance(value, ast.Constant) else None)  # type: ignore[arg-type]
        return [parts]
    return []


def loader_messages() -> list[tuple[str, list[str | None]]]:
    """(where, template) for the first argument of every ImageLoadError call in the loader modules; a
    variable argument is followed to the string assignments to it in the same function."""
    found = []
    for module in LOADER_MODULES:
        tree = ast.parse((CORE / module).read_text(encoding="utf-8"))
        for func in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
            assigned: dict[str, list[ast.expr]] = {}
            for node in ast.walk(func):
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            assigned.setdefault(target.id, []).append(node.value)
            for node in ast.walk(func):
                if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "ImageLoadError"):
                    continue
                argument = node.args[0]
                sources = assigned.get(argument.id, []) if isinstance(argument, ast.Name) else [argument]
                for source in sources:
                    for template in _templates(source):
                        found.append((f"{module}:{node.lineno}", template))
    return found


def _samples(template: list[str | None]) -> list[str]:
    if None not in template:
        return ["".join(template)]  # type: ignore[arg-type]
    return ["".join(part if part is not None else value for part in template) for value in PLACEHOLDER_VALUES]


def test_every_loader_message_is_known() -> None:
    messages = loader_messages()
    assert len(messages) >= 20  # the walk found the loader's calls
    unknown = [(where, _samples(template)) for where, template in messages
               if not any(classify(s) for s in _samples(template))]
    assert not unknown, f"add these to KNOWN_MESSAGES: {unknown}"


def test_every_known_message_is_raised_somewhere() -> None:
    produced = {classify(s) for _, template in loader_messages() for s in _samples(template)}
    assert set(KNOWN_MESSAGES) <= produced, f"stale patterns: {set(KNOWN_MESSAGES) - produced}"


def test_patterns_match_whole_messages_only() -> None:
    reason = "DICOM has no pixel data"
    assert classify(reason) == "dicom_no_pixels"
    assert classify(reason + ", and more") is None
    assert classify("could not be read (unexpected ValueError)") is None  # read_ahead's catch-all
