"""What the dialect tests compare a served object with: the documented example's keys."""

from __future__ import annotations


def missing_keys(example: dict, served: dict, path: str = "") -> list[str]:
    """Keys of the documented example absent from the served object, recursing into objects and
    into the first element of lists of objects."""
    out = []
    for key, value in example.items():
        if key not in served:
            out.append(path + key)
        elif isinstance(value, dict) and isinstance(served[key], dict):
            out += missing_keys(value, served[key], f"{path}{key}.")
        elif isinstance(value, list) and value and isinstance(value[0], dict) and served[key]:
            out += missing_keys(value[0], served[key][0], f"{path}{key}[].")
    return out
