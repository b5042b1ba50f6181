#!/bin/sh
# A command judge: the run's final output on stdin; pass when it says "done"
# and the harness gave the run id and task name.
[ -n "$RUN_ID" ] && [ "$EVAL_TASK" = write-hello ] || { echo "no RUN_ID/EVAL_TASK"; exit 2; }
grep -q done || { echo "the answer does not say done"; exit 1; }
