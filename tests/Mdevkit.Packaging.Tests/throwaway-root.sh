#!/usr/bin/env bash
# Runs COMMAND as the root of a throw-away copy of this machine, for a test to install packages into: an overlay
# over / whose changes live in a tmpfs on SCRATCH, so they vanish with the mount namespace that unshare gave this
# script. / may itself be an overlay over a plain filesystem, as in CI's clean root (the kernel stacks overlays
# two deep, so not a throw-away root inside another one). /dev and /proc are
# the machine's, /run and /tmp are fresh, and the repository is there read-only at its own path.
# Usage: unshare --mount --propagation private -- throwaway-root.sh SCRATCH REPOSITORY COMMAND...
set -euo pipefail

scratch=$1
repository=$2
shift 2
mount -t tmpfs -o mode=0700 throwaway "$scratch"
mkdir "$scratch/upper" "$scratch/work" "$scratch/root"
root=$scratch/root
mount -t overlay throwaway -o "lowerdir=/,upperdir=$scratch/upper,workdir=$scratch/work" "$root"
mount --rbind /dev "$root/dev"
mount --rbind /proc "$root/proc"
mount -t tmpfs -o mode=0755 run "$root/run"
mount -t tmpfs -o mode=1777 tmp "$root/tmp"
mkdir -p "$root$repository"
mount --bind "$repository" "$root$repository"
mount -o remount,bind,ro "$root$repository"
exec chroot "$root" "$@"
