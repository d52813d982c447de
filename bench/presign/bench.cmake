# bench/presign/bench.cmake: the in-process presign benchmark (presign_bench.c) and a smoke
# test of bench/presign/run.sh in its quick mode (-q: one short run of everything), which
# checks only that the script runs and prints one JSON document with the expected fields.
# It asserts no number. Label "bench"; skipped (77) when wrk, node or the npm packages are
# missing.
add_executable(presign_bench ${CMAKE_CURRENT_LIST_DIR}/presign_bench.c)
target_link_libraries(presign_bench PRIVATE s3)

if(BUILD_TESTING)
    add_test(NAME bench.presign.smoke
             COMMAND ${CMAKE_CURRENT_LIST_DIR}/smoke.sh)
    set_tests_properties(bench.presign.smoke PROPERTIES
        ENVIRONMENT "IMGSVC_BIN=$<TARGET_FILE:imgsvc>;PRESIGN_BENCH=$<TARGET_FILE:presign_bench>"
        SKIP_RETURN_CODE 77 TIMEOUT 120 LABELS bench)
endif()
