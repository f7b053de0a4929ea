# Sourced by the install-*-deps.sh scripts: apt_install_missing NAME PACKAGE... installs, on Debian 12,
# those of the packages not installed yet, as root or through sudo. A JDK and Maven installed some
# other way are fine: JDK and maven packages are left out when `java` and `mvn` are both on PATH.
apt_install_missing() {
  local name=$1; shift
  local sudo=
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
  local missing=() p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      if command -v java >/dev/null && command -v mvn >/dev/null; then
        case "$p" in *-jdk-headless|maven) continue ;; esac
      fi
      missing+=("$p")
    fi
  done
  [ "${#missing[@]}" -gt 0 ] || return 0
  if ! command -v apt-get >/dev/null; then
    echo "$name: needs apt-get (Debian 12); install ${missing[*]} by other means" >&2
    return 1
  fi
  echo "$name: apt-get install ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
