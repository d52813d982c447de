# bench/imaging/bench.cmake: the in-process imaging benchmark (imaging_bench.c), run by
# bench/imaging/run.sh, and a smoke test of run.sh in its quick mode (-q: one photo, one short
# run of everything), which checks only that the script runs and prints one JSON document with
# the expected fields. It asserts no number. Label "bench"; needs the corpus (fixture
# imaging_corpus of tests/imaging); skipped (77) when node or sharp is missing.
add_executable(imaging_bench ${CMAKE_CURRENT_LIST_DIR}/imaging_bench.c)
target_link_libraries(imaging_bench PRIVATE imaging Threads::Threads)

if(BUILD_TESTING)
    add_test(NAME bench.imaging.smoke COMMAND ${CMAKE_CURRENT_LIST_DIR}/smoke.sh)
    set_tests_properties(bench.imaging.smoke PROPERTIES
        ENVIRONMENT "IMAGING_BENCH=$<TARGET_FILE:imaging_bench>;IMGSVC_CORPUS_DIR=${IMGSVC_CORPUS_DIR}"
        FIXTURES_REQUIRED imaging_corpus SKIP_RETURN_CODE 77 TIMEOUT 300 LABELS bench)
endif()
