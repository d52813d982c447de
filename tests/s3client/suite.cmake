# tests/s3client/suite.cmake: the S3 client (s3/client.h) against Ceph RGW and a fault server.
#
# s3c_rgw.c holds TEST(name) cases (tests/unit/t.h); each is the ctest case s3client.<name>,
# requiring the "rgw" fixture (tests/rgw/suite.cmake, which starts RGW once) and run with the
# RGW settings. The retry cases start tests/s3client/fault_server.py themselves.
add_executable(s3c_rgw ${CMAKE_CURRENT_LIST_DIR}/s3c_rgw.c)
target_include_directories(s3c_rgw PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit)
target_link_libraries(s3c_rgw PRIVATE s3 Threads::Threads)

imgsvc_scan_cases(${CMAKE_CURRENT_LIST_DIR}/s3c_rgw.c "^TEST\\(([A-Za-z0-9_]+)\\)" _s3c_cases)
foreach(_c IN LISTS _s3c_cases)
    add_test(NAME s3client.${_c} COMMAND s3c_rgw ${_c})
    set_tests_properties(s3client.${_c} PROPERTIES
        ENVIRONMENT "${IMGSVC_TEST_ENV};${IMGSVC_RGW_ENV}"
        FIXTURES_REQUIRED rgw TIMEOUT 300 LABELS "s3client;rgw")
endforeach()
