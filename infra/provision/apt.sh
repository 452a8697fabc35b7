#!/usr/bin/env bash
# `apt_install PACKAGE...`: install Debian packages without recommends, as root or through sudo.
# Sourced by the provisioning scripts that need packages from Debian (browser.sh, bench-tools.sh).

apt_install() {
  local sudo=""
  if [[ "$(id -u)" != 0 ]]; then
    sudo="sudo"
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "$@"
}
