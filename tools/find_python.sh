#!/bin/sh
# Print the path of a Python that civic-sim supports and that really runs here: the
# newest of the versions given (default 3.13, 3.12, 3.11). Exit 1 if there is none.
#
# Every directory on PATH is tried (not only the first match: a pyenv shim earlier on
# PATH fails unless a version is selected), then pyenv's own versions. A candidate counts
# only if it starts, is the version it claims, and can make a virtual environment
# (Debian's Python needs python3-venv for that). The real binary is printed, not a shim.
versions="${*:-3.13 3.12 3.11}"
root="${PYENV_ROOT:-$HOME/.pyenv}"

try() {
    [ -x "$1" ] || return 1
    found=$("$1" -c "import sys, venv, ensurepip
assert '%d.%d' % sys.version_info[:2] == '$2'
print(sys.executable)" 2>/dev/null) || return 1
    echo "$found"
    exit 0
}

for v in $versions; do
    old_ifs=$IFS
    IFS=:
    for dir in $PATH; do
        IFS=$old_ifs
        try "$dir/python$v" "$v"
        IFS=:
    done
    IFS=$old_ifs
    for candidate in $(ls -d "$root"/versions/"$v".*/bin/"python$v" 2>/dev/null | sort -rV); do
        try "$candidate" "$v"
    done
done
exit 1
