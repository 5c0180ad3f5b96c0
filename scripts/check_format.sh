#!/bin/sh
# Every C++ file under src/ is formatted as .clang-format says (Debian 12's clang-format 14).
# Fix with: find src -name '*.cc' -o -name '*.h' | xargs clang-format -i
set -eu
cd "$(dirname "$0")/.."
find src \( -name '*.cc' -o -name '*.h' \) -print0 | sort -z | xargs -0 clang-format --dry-run --Werror
