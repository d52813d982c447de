#!/usr/bin/env bash
# run_node.sh: runs a node test script (tests/browser, tests/postman); exit 77 (skipped) when
# node is missing, or 1 under IMGSVC_TEST_STRICT=1 (scripts/test.sh installs it).
if ! command -v node >/dev/null 2>&1; then
    if [ "${IMGSVC_TEST_STRICT:-}" = "1" ]; then
        echo "FAIL: node is not installed (scripts/test.sh installs it)"
        exit 1
    fi
    echo "SKIP: node is not installed; scripts/test.sh installs it"
    exit 77
fi
exec node "$@"
