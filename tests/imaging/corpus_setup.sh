#!/usr/bin/env bash
# corpus_setup.sh: builds the image corpus into $IMGSVC_CORPUS_DIR once (ctest fixture).
# Exit 77 (skipped) when ../shared is absent; 0 when the corpus is already there.
set -euo pipefail
script="${IMGSVC_SHARED_DIR:-}/corpus/make-corpus.sh"
if [ ! -f "$script" ]; then
    echo "SKIP: shared corpus script not found at '$script' (../shared is absent)"
    exit 77
fi
if [ -f "$IMGSVC_CORPUS_DIR/MANIFEST" ]; then
    echo "corpus already built in $IMGSVC_CORPUS_DIR"
    exit 0
fi
bash "$script" "$IMGSVC_CORPUS_DIR"
