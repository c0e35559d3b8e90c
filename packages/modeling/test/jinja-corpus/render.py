"""Renders the differential corpus with Python's Jinja2 as dbt configures it (do + loopcontrols).

Reads {"context": {...}, "cases": [{"name": ..., "source": ...}]} as JSON on stdin and writes
{name: {"out": text} | {"error": message}} as JSON on stdout.
"""
import json
import sys

import jinja2

payload = json.load(sys.stdin)
env = jinja2.Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])
results = {}
for case in payload["cases"]:
    try:
        results[case["name"]] = {"out": env.from_string(case["source"]).render(**payload["context"])}
    except Exception as exc:  # every failure is a result to compare, not a crash
        results[case["name"]] = {"error": f"{type(exc).__name__}: {exc}"}
json.dump(results, sys.stdout)
