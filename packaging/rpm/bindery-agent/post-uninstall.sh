# Removing the package keeps /var/lib/bindery-agent (the machine's identity), so reinstalling is
# the same device: `bindery-agent service uninstall --purge` before removing forgets it.
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
fi
