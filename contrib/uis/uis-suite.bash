#!/usr/bin/env bash
# uis-suite.bash: lets UIS's own CLI (`./uis`) run the programs of the uis
# suite. UIS's CLI has no plugin discovery: an unknown command is an error.
# Sourced by it (docs/integration/uis.md shows the few lines), this file
# defines one function, uis_suite_run, that runs `uis-WORD-WORD...` found on
# PATH for `./uis WORD WORD ... ARGS`, the longest name winning, exactly as
# the suite's own `uis` dispatcher does (`./uis db psql railway -f x.sql`
# runs `uis-db-psql railway -f x.sql`).
#
# Works with bash 3.2 (macOS's /bin/bash): no associative arrays, no
# mapfile, no ${x,,}. Defines nothing else and changes no option of the
# shell that sources it.

# uis_suite_run WORD... [ARGS...]
# Runs the longest uis-WORD[-WORD...] program on PATH with the remaining
# arguments and returns its exit code. Returns 127, printing nothing, when
# no program fits (the caller then reports its own "unknown command").
# A word is [A-Za-z0-9_]+; the first argument that is not one ends the name.
uis_suite_run() {
  local n=0 arg name i best=0 best_path=""
  local words=()
  for arg in "$@"; do
    case "$arg" in
      '' | *[!A-Za-z0-9_]*) break ;;
    esac
    words[n]=$arg
    n=$((n + 1))
  done
  i=$n
  while [ "$i" -gt 0 ]; do
    name="uis-$(uis_suite_join "$i" "${words[@]}")"
    if best_path=$(type -P -- "$name" 2>/dev/null) && [ -n "$best_path" ] && [ -x "$best_path" ]; then
      best=$i
      break
    fi
    i=$((i - 1))
  done
  if [ "$best" -eq 0 ]; then
    return 127
  fi
  shift "$best"
  "$best_path" "$@"
}

# uis_suite_join N WORD...: the first N words joined with '-'.
uis_suite_join() {
  local n=$1 out="" k=0
  shift
  while [ "$k" -lt "$n" ] && [ $# -gt 0 ]; do
    if [ -z "$out" ]; then out=$1; else out="$out-$1"; fi
    shift
    k=$((k + 1))
  done
  printf '%s' "$out"
}

# uis_suite_commands: the suite's commands found on PATH, one per line
# (`db psql`), for UIS's help text.
uis_suite_commands() {
  local dir f base IFS=:
  for dir in $PATH; do
    if [ -z "$dir" ] || [ ! -d "$dir" ]; then continue; fi
    for f in "$dir"/uis-*; do
      if [ ! -f "$f" ] || [ ! -x "$f" ]; then continue; fi
      base=${f##*/}
      base=${base#uis-}
      case "$base" in
        *[!A-Za-z0-9_-]*) continue ;;
      esac
      printf '%s\n' "$base" | tr '-' ' '
    done
  done | sort -u
}
