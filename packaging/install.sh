#!/bin/sh
# Installs the Bindery agent on Linux or macOS, enrolls it with a Bindery server and starts it as
# a system service. The server serves this script at /install.sh; its console shows the command
# for each policy with the enrollment token filled in:
#
#   (umask 077; printf '%s' 'bdy_enr_...' > "$HOME/.bindery-enroll-token") &&
#   curl -fsSL https://bindery.example.com/install.sh | sudo sh -s -- \
#     --server https://bindery.example.com --token-file "$HOME/.bindery-enroll-token"
#
# The token goes through a file only its owner can read (written by the shell's own printf, and
# removed once read), so it never appears in `ps` or in sudo's log as an argument would.
#
# Options:
#   --server URL      the Bindery server (required)
#   --token-file FILE a file holding a policy's enrollment token (read, then removed)
#   --token TOKEN     the token itself (visible to `ps`; or BINDERY_ENROLL_TOKEN)
#   --ca-cert FILE    trust this CA for the server too (a server with its own certificate)
#   --proxy URL       reach the server through this HTTP proxy (http://host:port), for the
#                     download and for the agent from then on; no user or password here
#   --proxy-file FILE a file holding the proxy's URL with its user and password
#                     (http://user:password@host:port): read, then removed; or BINDERY_PROXY
#   --allow-http      accept a plain-http server (tests only)
#
# The proxy, like the token, never goes on a command line: curl, wget and the agent get it in
# their environment (https_proxy, BINDERY_PROXY), which other users cannot read.
#
# An agent already installed (the bindery-agent .deb puts it in /usr/bin) is used as it is;
# otherwise this machine's build is downloaded from the server into /usr/local/bin. Enrolling
# again is safe: a machine keeps its identity (its state is in /var/lib/bindery-agent, or
# /Library/Application Support/Bindery Agent on macOS).
set -eu

die() { echo "install.sh: $*" >&2; exit 1; }
usage() { die "usage: install.sh --server URL --token-file FILE|--token TOKEN [--ca-cert FILE] [--proxy URL|--proxy-file FILE] [--allow-http]"; }

server=''
ca_cert=''
allow_http=''
token=${BINDERY_ENROLL_TOKEN:-}
proxy=${BINDERY_PROXY:-}
while [ $# -gt 0 ]; do
  case "$1" in
    --server) [ $# -ge 2 ] || usage; server=$2; shift 2 ;;
    --token) [ $# -ge 2 ] || usage; token=$2; shift 2 ;;
    --token-file) [ $# -ge 2 ] || usage
      [ -r "$2" ] || die "cannot read the token file $2"
      token=$(tr -d ' \r\n' <"$2"); rm -f "$2"; shift 2 ;;
    --ca-cert) [ $# -ge 2 ] || usage; ca_cert=$2; shift 2 ;;
    --proxy) [ $# -ge 2 ] || usage
      case "$2" in
        *@*) die "a proxy's user and password do not go on the command line: use --proxy-file FILE" ;;
      esac
      proxy=$2; shift 2 ;;
    --proxy-file) [ $# -ge 2 ] || usage
      [ -r "$2" ] || die "cannot read the proxy file $2"
      proxy=$(tr -d ' \r\n' <"$2"); rm -f "$2"; shift 2 ;;
    --allow-http) allow_http=1; shift ;;
    *) echo "install.sh: unknown option $1" >&2; usage ;;
  esac
done
if [ -z "$server" ] || [ -z "$token" ]; then usage; fi
server=${server%/}
case "$server" in
  https://*) ;;
  http://*) [ -n "$allow_http" ] || die "$server is plain http: use https, or --allow-http for a test server" ;;
  *) die "$server is not an http(s) URL" ;;
esac
[ -z "$ca_cert" ] || [ -r "$ca_cert" ] || die "cannot read the CA certificate $ca_cert"
case "$proxy" in
  '' | http://* | https://*) ;;
  *) die "the proxy is not http://host:port" ;;
esac
if [ -n "$proxy" ]; then
  # For curl and wget below; the agent gets it as BINDERY_PROXY.
  https_proxy=$proxy; http_proxy=$proxy; HTTPS_PROXY=$proxy; HTTP_PROXY=$proxy
  export https_proxy http_proxy HTTPS_PROXY HTTP_PROXY
fi
[ "$(id -u)" = 0 ] || die "run as root: curl ... | sudo sh -s -- --server URL --token-file FILE"

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=macos ;;
  *) die "this script is for Linux and macOS; on Windows use install.ps1" ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=x86_64 ;;
  aarch64 | arm64) arch=aarch64 ;;
  *) die "no agent build for $(uname -m)" ;;
esac

if [ -x /usr/bin/bindery-agent ]; then
  agent=/usr/bin/bindery-agent
else
  agent=/usr/local/bin/bindery-agent
  url="$server/downloads/bindery-agent-$os-$arch"
  mkdir -p /usr/local/bin
  tmp=$(mktemp /usr/local/bin/.bindery-agent.XXXXXX)
  trap 'rm -f "$tmp"' EXIT
  echo "Downloading $url"
  if command -v curl >/dev/null 2>&1; then
    curl -fsS ${ca_cert:+--cacert "$ca_cert"} -o "$tmp" "$url" || die "cannot download $url"
  elif command -v wget >/dev/null 2>&1; then
    wget -q ${ca_cert:+--ca-certificate="$ca_cert"} -O "$tmp" "$url" || die "cannot download $url"
  else
    die "neither curl nor wget is installed"
  fi
  # The server publishes each build's SHA-256 beside it: a download cut short or altered on the
  # way is refused.
  if command -v curl >/dev/null 2>&1; then
    published=$(curl -fsS ${ca_cert:+--cacert "$ca_cert"} "$url.sha256") || die "cannot download $url.sha256"
  else
    published=$(wget -q ${ca_cert:+--ca-certificate="$ca_cert"} -O - "$url.sha256") || die "cannot download $url.sha256"
  fi
  if command -v sha256sum >/dev/null 2>&1; then
    actual=$(sha256sum "$tmp")
  else
    actual=$(shasum -a 256 "$tmp")
  fi
  [ "${published%% *}" = "${actual%% *}" ] || die "the download of $url does not match its published SHA-256; nothing was installed"
  chmod 755 "$tmp"
  "$tmp" --version >/dev/null 2>&1 || die "$url is not an agent for this machine"
  # Replacing the file (not writing into it) is safe while an older agent runs.
  mv -f "$tmp" "$agent"
  trap - EXIT
fi

echo "Enrolling with $server${proxy:+ through a proxy}"
BINDERY_ENROLL_TOKEN=$token BINDERY_PROXY=$proxy "$agent" enroll --server "$server" \
  ${ca_cert:+--ca-cert "$ca_cert"} ${allow_http:+--allow-http}
"$agent" service install
echo "The Bindery agent is installed ($agent) and reports to $server."
