#!/bin/sh
# Install what the browser tests (tests/test_browser.py) need: Debian's headless Chromium,
# its driver and a Chinese font. Idempotent: does nothing when they are already present.
# Never fails the build: without root (or without apt-get) it explains and exits 0, and the
# browser tests then skip with a loud "BROWSER TESTS SKIPPED" message.
set -u

PACKAGES="chromium chromium-driver fonts-noto-cjk"

have_chromium() { [ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1; }
have_driver() { [ -x /usr/bin/chromedriver ] || command -v chromedriver >/dev/null 2>&1; }
have_cjk_font() {
    if command -v dpkg-query >/dev/null 2>&1 &&
       dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q "ok installed"; then
        return 0
    fi
    command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh family 2>/dev/null)" ]
}

if have_chromium && have_driver && have_cjk_font; then
    echo "install-browser: chromium, chromedriver and a Chinese font are present."
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    SUDO=none
elif [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    SUDO=none
fi

if [ "$SUDO" = none ]; then
    cat >&2 <<MSG
install-browser: WARNING: chromium / chromium-driver / fonts-noto-cjk missing and cannot be
installed here (needs root and apt-get). The browser tests will be SKIPPED.
To run them, as root on Debian:
    apt-get update && apt-get install -y $PACKAGES
MSG
    exit 0
fi

echo "install-browser: installing $PACKAGES ..."
if $SUDO env DEBIAN_FRONTEND=noninteractive sh -c "apt-get update -qq && apt-get install -y -qq $PACKAGES" >/dev/null; then
    echo "install-browser: done."
else
    echo "install-browser: WARNING: apt-get failed; the browser tests will be SKIPPED." >&2
fi
exit 0
