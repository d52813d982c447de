# tests/load/suite.cmake: load (issue 9). Each `def test_*` of tests/load/test_load.py is the
# ctest case load.<method>, run by tests/integration/run.py (see the file's docstring for what
# each case runs and asserts):
#   load.test_presign_60s              wrk 60 s on POST /v1/uploads: all 201, RSS flat
#   load.test_resize_60s               wrk 60 s on POST /v1/resize?w=320: only 200/429, RSS flat
#   load.test_burst_1000_uploads_rgw   1,000 uploads through Ceph RGW: all ready (rgw fixture)
#   load.test_rss_rule_selftest        the "RSS flat" rule on made-up series (instant)
# Label `load`; RUN_SERIAL, so no other test competes for the 2 cores while one runs (the RSS
# and throughput figures would describe the neighbours). A missing wrk or vips skips (77), or
# fails under IMGSVC_TEST_STRICT=1.
#
# Registered only when the build has no sanitizers: under ASan + UBSan a load run measures the
# sanitizers (shadow memory, quarantine and leak bookkeeping dominate RSS, and throughput drops
# several-fold), so neither "RSS flat" nor the figures would say anything about imgsvc, and the
# sanitizer pass of scripts/test.sh would spend minutes on it for nothing.
if(NOT IMGSVC_SANITIZE)
    set(_load_src ${CMAKE_CURRENT_LIST_DIR}/test_load.py)
    imgsvc_scan_cases(${_load_src} "^    def (test_[A-Za-z0-9_]+)\\(" _load_cases)
    foreach(_c IN LISTS _load_cases)
        add_test(NAME load.${_c}
                 COMMAND ${IMGSVC_PYTHON} ${CMAKE_SOURCE_DIR}/tests/integration/run.py
                         ${_load_src} ${_c})
        set_tests_properties(load.${_c} PROPERTIES
            ENVIRONMENT "${IMGSVC_TEST_ENV}" SKIP_RETURN_CODE 77 RUN_SERIAL TRUE TIMEOUT 900
            LABELS load)
        if(_c MATCHES "_rgw$")
            set_tests_properties(load.${_c} PROPERTIES FIXTURES_REQUIRED "imaging_corpus;rgw")
        elseif(_c MATCHES "resize")
            set_tests_properties(load.${_c} PROPERTIES FIXTURES_REQUIRED imaging_corpus)
        endif()
    endforeach()
endif()
