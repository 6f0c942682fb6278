#!/usr/bin/env python3
"""Reduce meson's test log to the closing line CI reads: N passed, N failed."""

import json
import sys

passed = failed = skipped = 0
failures = []
with open(sys.argv[1]) as log:
    for line in log:
        result = json.loads(line)
        status = result["result"]
        if status == "OK":
            passed += 1
        elif status == "SKIP":
            skipped += 1
        else:
            failed += 1
            failures.append(f"{result['name']} ({status})")

for name in failures:
    print(f"failed: {name}")
summary = f"{passed} passed, {failed} failed"
if skipped:
    summary += f", {skipped} skipped"
print(summary)
sys.exit(1 if failed or passed == 0 else 0)
