# tests/s3client/suite.cmake: the S3 client (s3/client.h) against Ceph RGW and a fault server.
#
# - s3c_rgw.c: TEST(name) cases (tests/unit/t.h) against the real S3, each the ctest case
#   s3client.rgw.<name>, requiring the "rgw" fixture (tests/rgw/suite.cmake starts RGW once).
# - s3c_fault.c: the failure paths (503, 429, 403, timeouts, resets, chunked bodies) against
#   tests/s3client/fault_server.py, which each case starts itself; s3client.fault.<name>.
foreach(_prog rgw fault)
    add_executable(s3c_${_prog} ${CMAKE_CURRENT_LIST_DIR}/s3c_${_prog}.c)
    target_include_directories(s3c_${_prog} PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit
                                                    ${CMAKE_CURRENT_LIST_DIR})
    target_link_libraries(s3c_${_prog} PRIVATE s3 Threads::Threads)
    imgsvc_scan_cases(${CMAKE_CURRENT_LIST_DIR}/s3c_${_prog}.c "^TEST\\(([A-Za-z0-9_]+)\\)"
                      _s3c_cases)
    foreach(_c IN LISTS _s3c_cases)
        add_test(NAME s3client.${_prog}.${_c} COMMAND s3c_${_prog} ${_c})
        set_tests_properties(s3client.${_prog}.${_c} PROPERTIES
            ENVIRONMENT "${IMGSVC_TEST_ENV};${IMGSVC_RGW_ENV}" TIMEOUT 300
            LABELS "s3client")
        if(_prog STREQUAL "rgw")
            set_tests_properties(s3client.${_prog}.${_c} PROPERTIES
                FIXTURES_REQUIRED rgw LABELS "s3client;rgw")
        endif()
    endforeach()
endforeach()
