#!/bin/sh
# Writes seed corpora for every fuzz target into fuzz/corpus/<target>/
# (not committed: sealing is randomised, so each run makes new seeds).
set -eu
cd "$(dirname "$0")"
exec cargo run --quiet --release --bin seeds -- corpus
