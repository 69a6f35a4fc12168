"""Summarize a report written with --reference float64 (and --grad): the numbers behind K and the grad table.

    eqcheck run configs/ --grad --reference float64 --json reports/survey.json
    python benchmarks/attribution_survey.py reports/survey.json
"""

from __future__ import annotations

import json
import sys


def num(v):
    return v if isinstance(v, str) else f"{v:.1e}"


def main(path: str) -> None:
    document = json.load(open(path))
    ratios, grads = [], {}
    print("case | output | max|A-B| | own error per side | distance per side | max|A-B|/max(own) | dist ratio | noise")
    for case in document["cases"]:
        runs = case.get("reference", {}).get("float64_runs", {})
        refused = [label for label, status in runs.items() if status != "ok" and not label.endswith(" stand-in")]
        for out in case["outputs"]:
            if out.get("kind") == "grad" and "max_abs" in out and isinstance(out["max_abs"], float):
                spec = case["id"].split("[")[0]
                grads[spec] = max(grads.get(spec, 0.0), out["max_abs"])
            a = out.get("attribution")
            if not a:
                continue
            own = ", ".join(f"{k} {num(v)}" for k, v in a["own_error"].items()) or "-"
            dist = ", ".join(f"{k} {num(v)}" for k, v in a["distance"].items())
            nr = a["noise_ratio"]
            if nr is not None and case["status"] in ("pass", "fail") and not isinstance(nr, str):
                ratios.append((nr, case["id"], out["name"]))
            print(f"{case['id']} | {out['name']} | {num(out.get('max_abs', 0.0))} | {own} | {dist} | "
                  f"{'-' if nr is None else num(nr)} | {num(a['ratio'])} | {'yes' if a['within_noise'] else ''}"
                  f"{' (no float64: ' + ', '.join(refused) + ')' if refused else ''}")
    if ratios:
        ratios.sort()
        print(f"\nmax|A-B| / max(own error) over {len(ratios)} pass/fail outputs: min {ratios[0][0]:.2f}, "
              f"median {ratios[len(ratios) // 2][0]:.2f}, max {ratios[-1][0]:.2f} ({ratios[-1][1]} {ratios[-1][2]})")
    if grads:
        print("\nlargest gradient max_abs per spec:")
        for spec, value in sorted(grads.items()):
            print(f"  {spec}: {value:.2e}")


if __name__ == "__main__":
    main(sys.argv[1])
