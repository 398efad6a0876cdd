"""The API's documentation as plain data for a template, from the app's own OpenAPI schema.

FastAPI's /docs and /redoc pull Swagger UI and ReDoc from a CDN; this renders the same schema as
server-side HTML, so the docs work offline."""

from __future__ import annotations

from typing import Any


def type_name(schema: dict[str, Any]) -> str:
    """A short readable type: 'integer', 'Person', 'array of HistoryPoint', 'number or null'."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(type_name(s) for s in schema["anyOf"])
    kind = schema.get("type", "any")
    if kind == "array":
        return "array of " + type_name(schema.get("items", {}))
    if schema.get("format"):
        return f"{kind} ({schema['format']})"
    return kind


def _fields(schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "type": type_name(prop),
            "required": name in required,
            "description": prop.get("description", ""),
            "refs": _refs(prop),
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def _refs(schema: dict[str, Any]) -> list[str]:
    """Names of the component schemas a field points at (to link them)."""
    if "$ref" in schema:
        return [schema["$ref"].rsplit("/", 1)[-1]]
    out = []
    for sub in schema.get("anyOf", []) + ([schema["items"]] if "items" in schema else []):
        out += _refs(sub)
    return out


def describe(spec: dict[str, Any]) -> dict[str, Any]:
    """Operations (path, method, summary, parameters, responses) and every component schema."""
    operations = []
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            responses = []
            for status, resp in op.get("responses", {}).items():
                schema = resp.get("content", {}).get("application/json", {}).get("schema", {})
                responses.append(
                    {
                        "status": status,
                        "description": resp.get("description", ""),
                        "type": type_name(schema) if schema else "",
                        "refs": _refs(schema),
                    }
                )
            operations.append(
                {
                    "path": path,
                    "method": method.upper(),
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "required": p.get("required", False),
                            "type": type_name(p.get("schema", {})),
                            "description": p.get("description", "") or p.get("schema", {}).get("description", ""),
                            "default": p.get("schema", {}).get("default"),
                        }
                        for p in op.get("parameters", [])
                    ],
                    "responses": responses,
                }
            )
    schemas = [
        {"name": name, "description": s.get("description", ""), "fields": _fields(s)}
        for name, s in sorted(spec.get("components", {}).get("schemas", {}).items())
    ]
    info = spec.get("info", {})
    return {
        "title": info.get("title", ""),
        "version": info.get("version", ""),
        "description": info.get("description", ""),
        "operations": operations,
        "schemas": schemas,
    }
