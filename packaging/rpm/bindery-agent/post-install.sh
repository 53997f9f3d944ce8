# $1: 1 on a first install, 2 or more on an upgrade. The unit is enabled; it starts once the
# machine is enrolled (ConditionPathExists), and an upgrade restarts a running agent.
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
    if [ "$1" -eq 1 ]; then
        systemctl enable bindery-agent.service >/dev/null 2>&1 || :
    else
        systemctl try-restart bindery-agent.service >/dev/null 2>&1 || :
    fi
fi
