# tests/rgw/suite.cmake: Ceph RGW, the real S3 the tests talk to (scripts/rgw.sh).
#
# - rgw.start (FIXTURES_SETUP rgw) runs `scripts/rgw.sh start`: a no-op when RGW already runs,
#   else a one-node memstore cluster on 127.0.0.1:7480 (about 15 s). It never installs packages
#   (scripts/test.sh does, through scripts/test.d/50-rgw.sh): without radosgw it FAILS with a
#   message saying so. No silent skip.
# - Any test may declare `FIXTURES_REQUIRED rgw` and add ${IMGSVC_RGW_ENV} (suites included
#   after this file) or read the same values from `scripts/rgw.sh env`: endpoint
#   http://127.0.0.1:7480, region us-east-1, bucket imgsvc-test (created at start), path-style
#   addressing, fixed test keys (IMGSVCTESTACCESSKEY0 / imgsvc-test-secret-key-0123456789abcdefgh). RGW is left running afterwards (other ctest runs may share it); stop it with
#   `scripts/rgw.sh stop`. Objects live in memory: a restart starts empty.
set(IMGSVC_RGW_SCRIPT ${CMAKE_SOURCE_DIR}/scripts/rgw.sh)
# The same values `scripts/rgw.sh env` prints, named as in the server's config table.
set(IMGSVC_RGW_ENV
    "IMGSVC_S3_ENDPOINT=http://127.0.0.1:7480"
    "IMGSVC_S3_BUCKET=imgsvc-test"
    "IMGSVC_S3_ADDRESSING=path"
    "AWS_REGION=us-east-1"
    "AWS_ACCESS_KEY_ID=IMGSVCTESTACCESSKEY0"
    "AWS_SECRET_ACCESS_KEY=imgsvc-test-secret-key-0123456789abcdefgh"
    "IMGSVC_RGW_ACCESS_KEY=IMGSVCTESTACCESSKEY0"
    "IMGSVC_RGW_SECRET_KEY=imgsvc-test-secret-key-0123456789abcdefgh")

add_test(NAME rgw.start COMMAND ${CMAKE_COMMAND} -E env IMGSVC_RGW_NO_INSTALL=1
                                bash ${IMGSVC_RGW_SCRIPT} start)
set_tests_properties(rgw.start PROPERTIES FIXTURES_SETUP rgw TIMEOUT 600 LABELS rgw)
