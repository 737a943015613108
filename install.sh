#!/usr/bin/env bash
# install.sh: builds the uis suite and installs, under a prefix (default
# ~/.local): every uis/uis-* binary in PREFIX/bin, a kubectl plugin link
# kubectl-uis_a_b -> uis-a-b for each (so `kubectl uis-a-b` works), the bash,
# zsh and fish completions, the man pages, and contrib/uis/uis-suite.bash
# (the file UIS's own CLI sources to run the suite; docs/integration/uis.md)
# in PREFIX/share/uis-suite/. It records every path it
# installed in PREFIX/share/uis/installed.txt; `--uninstall` removes exactly
# those paths and nothing else. Re-running is safe.
#
#   ./install.sh [--prefix DIR] [--no-build | --from DIR]
#   ./install.sh --uninstall [--prefix DIR]
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: ./install.sh [--prefix DIR] [--no-build | --from DIR]
       ./install.sh --uninstall [--prefix DIR]

Builds the uis suite (cargo build --release --locked) and installs its
binaries, kubectl plugin links, shell completions and man pages under PREFIX,
and PREFIX/share/uis-suite/uis-suite.bash, the file UIS's own CLI (./uis)
sources to run the suite's commands (docs/integration/uis.md).

Options:
  --prefix DIR   Install under DIR (default: ~/.local): DIR/bin, DIR/share/...
  --no-build     Install the binaries already built in the release target
                 directory ($CARGO_TARGET_DIR/release, else target/release)
  --from DIR     Install the binaries already built in DIR (e.g. target/debug)
  --uninstall    Remove everything a previous install under PREFIX installed
  -h, --help     This help
EOF
}

die() {
  echo "install.sh: error: $*" >&2
  exit 1
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
prefix="${HOME:-}/.local"
mode=install
build=1
from=""

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || die "--prefix needs a directory, e.g. --prefix ~/.local"; prefix="$2"; shift 2 ;;
    --prefix=*) prefix="${1#--prefix=}"; shift ;;
    --from) [ $# -ge 2 ] || die "--from needs a directory of built binaries, e.g. --from target/release"; from="$2"; build=0; shift 2 ;;
    --from=*) from="${1#--from=}"; build=0; shift ;;
    --no-build) build=0; shift ;;
    --uninstall) mode=uninstall; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument '$1'; run ./install.sh --help" ;;
  esac
done

[ -n "$prefix" ] || die "no prefix: HOME is not set; give one with --prefix DIR"
case "$prefix" in
  /*) ;;
  *) prefix="$PWD/$prefix" ;;
esac
prefix="${prefix%/}"
[ -n "$prefix" ] || die "refusing to use / as the prefix; give another with --prefix DIR"
manifest="$prefix/share/uis/installed.txt"

# True when $1 is a path inside the prefix (a manifest line is never trusted
# to point elsewhere).
inside_prefix() {
  case "$1" in
    "$prefix"/*) case "$1" in *"/../"* | *"/..") return 1 ;; *) return 0 ;; esac ;;
    *) return 1 ;;
  esac
}

if [ "$mode" = uninstall ]; then
  [ -f "$manifest" ] || die "nothing to uninstall: no $manifest (was the suite installed with another --prefix?)"
  removed=0
  dirs=()
  while IFS= read -r line; do
    kind="${line%% *}"
    path="${line#* }"
    [ "$kind $path" = "d $prefix" ] || inside_prefix "$path" || { echo "install.sh: warning: skipping $path: not under $prefix" >&2; continue; }
    case "$kind" in
      f) if [ -f "$path" ] || [ -L "$path" ]; then rm -f -- "$path"; removed=$((removed + 1)); fi ;;
      d) dirs+=("$path") ;;
    esac
  done <"$manifest"
  rm -f -- "$manifest"
  # Directories the install created, deepest first, only when empty.
  for ((i = ${#dirs[@]} - 1; i >= 0; i--)); do
    rmdir -- "${dirs[$i]}" 2>/dev/null || true
  done
  echo "uninstalled: removed $removed files and links from $prefix" >&2
  exit 0
fi

# The suite's binaries: one crate per binary under bins/.
names=()
for dir in "$root"/bins/*/; do
  [ -f "$dir/Cargo.toml" ] || continue
  name="$(basename "$dir")"
  case "$name" in
    uis | uis-*) names+=("$name") ;;
  esac
done
[ ${#names[@]} -gt 0 ] || die "no binary crates under $root/bins; run install.sh from the uis source tree"

if [ -n "$from" ]; then
  src="$from"
else
  target="${CARGO_TARGET_DIR:-$root/target}"
  case "$target" in /*) ;; *) target="$PWD/$target" ;; esac
  src="$target/release"
  if [ "$build" = 1 ]; then
    command -v cargo >/dev/null 2>&1 || die "cargo not found; install Rust (https://rustup.rs) or install prebuilt binaries with --from DIR"
    echo "building: cargo build --release --locked (a few minutes the first time)" >&2
    cargo build --release --locked --manifest-path "$root/Cargo.toml" >&2 ||
      die "the build failed (see above); fix it, or install prebuilt binaries with --from DIR"
  fi
fi
[ -d "$src" ] || die "no directory $src; build first with: cargo build --release --locked (or give --from DIR)"
for name in "${names[@]}"; do
  if [ ! -x "$src/$name" ]; then
    if [ -n "$from" ]; then
      die "$src/$name is missing; build every binary into $src first (cargo build --workspace --bins), or drop --from"
    fi
    die "$src/$name is not built; build it with: cargo build --release --locked (or drop --no-build)"
  fi
done

# The manifest: "f PATH" for a file or link installed, "d PATH" for a
# directory this script created. Entries of an earlier install are kept.
entries=()
if [ -f "$manifest" ]; then
  while IFS= read -r line; do
    [ -n "$line" ] && entries+=("$line")
  done <"$manifest"
fi
record() {
  local e
  for e in ${entries[@]+"${entries[@]}"}; do
    [ "$e" = "$1" ] && return 0
  done
  entries+=("$1")
}

# mkdir -p, recording each directory it creates.
make_dir() {
  local d="$1" missing=()
  while [ ! -d "$d" ]; do
    missing+=("$d")
    d="$(dirname "$d")"
  done
  mkdir -p -- "$1" 2>/dev/null || die "cannot create $1; choose a writable prefix with --prefix DIR"
  local i
  for ((i = ${#missing[@]} - 1; i >= 0; i--)); do
    record "d ${missing[$i]}"
  done
}

# Copies $1 to $2 (mode $3) through a temporary file, so a running binary
# is replaced, never overwritten in place.
put() {
  local tmp="$2.tmp.$$"
  if ! { cp -- "$1" "$tmp" && chmod "$3" "$tmp" && mv -f -- "$tmp" "$2"; } 2>/dev/null; then
    rm -f -- "$tmp"
    die "cannot write $2; choose a writable prefix with --prefix DIR"
  fi
  record "f $2"
}

bindir="$prefix/bin"
bash_dir="$prefix/share/bash-completion/completions"
zsh_dir="$prefix/share/zsh/site-functions"
fish_dir="$prefix/share/fish/vendor_completions.d"
man_dir="$prefix/share/man/man1"
contrib_dir="$prefix/share/uis-suite"
for d in "$bindir" "$bash_dir" "$zsh_dir" "$fish_dir" "$man_dir" "$contrib_dir" "$(dirname "$manifest")"; do
  make_dir "$d"
done

count_bin=0 count_link=0 count_comp=0 count_man=0
for name in "${names[@]}"; do
  put "$src/$name" "$bindir/$name" 0755
  count_bin=$((count_bin + 1))
  # kubectl finds `kubectl uis-db-psql` as kubectl-uis_db_psql.
  link="$bindir/kubectl-$(printf '%s' "$name" | tr '-' '_')"
  if [ -e "$link" ] && [ ! -L "$link" ]; then
    die "$link exists and is not a link made by install.sh; remove it, then re-run"
  fi
  ln -sfn -- "$name" "$link"
  record "f $link"
  count_link=$((count_link + 1))
  for pair in "bash/$name:$bash_dir/$name" "zsh/_$name:$zsh_dir/_$name" "fish/$name.fish:$fish_dir/$name.fish"; do
    from_file="$root/completions/${pair%%:*}"
    if [ -f "$from_file" ]; then
      put "$from_file" "${pair#*:}" 0644
      count_comp=$((count_comp + 1))
    fi
  done
  if [ -f "$root/man/$name.1" ]; then
    put "$root/man/$name.1" "$man_dir/$name.1" 0644
    count_man=$((count_man + 1))
  fi
done

# The bash file UIS's CLI sources (docs/integration/uis.md); sourced, not
# run, so not executable.
[ -f "$root/contrib/uis/uis-suite.bash" ] || die "$root/contrib/uis/uis-suite.bash is missing; run install.sh from the uis source tree"
put "$root/contrib/uis/uis-suite.bash" "$contrib_dir/uis-suite.bash" 0644

record "f $manifest"
if ! { printf '%s\n' "${entries[@]}" >"$manifest.tmp.$$" && mv -f -- "$manifest.tmp.$$" "$manifest"; }; then
  die "cannot write $manifest; choose a writable prefix with --prefix DIR"
fi

echo "installed into $prefix: $count_bin binaries, $count_link kubectl plugin links, $count_comp completions, $count_man man pages, $contrib_dir/uis-suite.bash (for ./uis)" >&2
echo "  remove them with: $root/install.sh --uninstall --prefix $prefix" >&2
case ":${PATH:-}:" in
  *":$bindir:"*) ;;
  *) echo "note: $bindir is not on your PATH; add it: export PATH=\"$bindir:\$PATH\" (e.g. in ~/.bashrc or ~/.zshrc)" >&2 ;;
esac
case "${SHELL:-}" in
  */zsh) echo "note: zsh finds the completions when $zsh_dir is on fpath: fpath+=($zsh_dir) before compinit" >&2 ;;
esac
