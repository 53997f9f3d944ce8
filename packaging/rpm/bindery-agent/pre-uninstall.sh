# $1: 0 when the package goes (not on an upgrade): stop and disable the agent.
if [ "$1" -eq 0 ] && [ -d /run/systemd/system ]; then
    systemctl disable --now bindery-agent.service >/dev/null 2>&1 || :
fi
