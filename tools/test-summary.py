#!/usr/bin/env python3
"""Reduce the test logs to the closing line CI reads: N passed, N failed.

Each argument is a JSON-lines log: meson's testlog.json (the plain and the
sanitizer build) or tools/fuzz's results. A missing log counts as a failure:
a run that never happened passed nothing.
"""

import json
import os
import sys

passed = failed = skipped = 0
for path in sys.argv[1:]:
    build = os.path.basename(os.path.dirname(os.path.dirname(path))) \
        if "meson-logs" in path else os.path.basename(os.path.dirname(path))
    if not os.path.exists(path):
        print(f"failed: no results from {build} ({path})")
        failed += 1
        continue
    with open(path) as log:
        for line in log:
            result = json.loads(line)
            status = result["result"]
            if status == "OK":
                passed += 1
            elif status == "SKIP":
                skipped += 1
            else:
                failed += 1
                print(f"failed: [{build}] {result['name']} ({status})")
            if "runs" in result:
                print(f"fuzzed: {result['name']}: {result['runs']} executions")

summary = f"{passed} passed, {failed} failed"
if skipped:
    summary += f", {skipped} skipped"
print(summary)
sys.exit(1 if failed or passed == 0 else 0)
