#!/bin/sh
# demo.sh BUILD -- the main job on samples/ (README command 1).
set -eu
BUILD=${1:-build}
CG="$BUILD/pipeline/cytogate"
"$CG" --version
"$CG" --help
