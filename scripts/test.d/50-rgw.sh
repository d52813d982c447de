# shellcheck shell=bash
# scripts/test.d/50-rgw.sh: makes Ceph RGW available to the suite (sourced by scripts/test.sh).
#
# Installs scripts/packages/apt-rgw.txt (radosgw, ceph-mon, ceph-osd, ceph-common, curl,
# uuid-runtime) when missing. The tests start RGW themselves through the ctest fixture "rgw"
# (tests/rgw/suite.cmake runs `scripts/rgw.sh start`, a no-op when it already runs). When RGW
# was not running before this run, it is stopped when test.sh exits; a developer's own RGW is
# left alone.
imgsvc_apt_install "$IMGSVC_ROOT/scripts/packages/apt-rgw.txt"
if ! "$IMGSVC_ROOT/scripts/rgw.sh" status; then
    imgsvc_on_exit "'$IMGSVC_ROOT/scripts/rgw.sh' stop"
fi
