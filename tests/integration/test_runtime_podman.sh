#!/usr/bin/env bash
# runtime: podman through a real controller and agent (the checks are in
# runtime_engine.sh, shared with docker).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../cluster.sh"
ENGINE=podman
. "$(dirname "$0")/../runtime_lib.sh"
need_containers podman
need_images
. "$(dirname "$0")/runtime_engine.sh"
