"""Renders the differential corpus with Python's Jinja2 as dbt configures it (do + loopcontrols).

Reads {"context": {...}, "templates": {name: source}, "cases": [{"name": ..., "source": ...}]} as
JSON on stdin (templates are what include / import / extends load) and writes
{name: {"out": text} | {"error": message}} as JSON on stdout.
"""
import json
import sys

import jinja2

payload = json.load(sys.stdin)
env = jinja2.Environment(
    extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"],
    loader=jinja2.DictLoader(payload.get("templates", {})),
)
results = {}
for case in payload["cases"]:
    try:
        results[case["name"]] = {"out": env.from_string(case["source"]).render(**payload["context"])}
    except Exception as exc:  # every failure is a result to compare, not a crash
        results[case["name"]] = {"error": f"{type(exc).__name__}: {exc}"}
json.dump(results, sys.stdout)
