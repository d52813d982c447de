# bench/pipeline/bench.cmake: `cmake --build <dir> --target bench_pipeline` runs
# bench/pipeline/run.sh with this build's imgsvc and prints its JSON. Nothing is built for it
# and no test is registered: the benchmark needs Ceph RGW, node and a few minutes, so it is
# never part of ctest (see docs/benchmarks.md, "Pipeline").
add_custom_target(bench_pipeline
    COMMAND ${CMAKE_COMMAND} -E env IMGSVC_BIN=$<TARGET_FILE:imgsvc>
            IMGSVC_CORPUS_DIR=${IMGSVC_CORPUS_DIR} bash ${CMAKE_CURRENT_LIST_DIR}/run.sh
    DEPENDS imgsvc USES_TERMINAL
    COMMENT "bench/pipeline/run.sh (Ceph RGW, imgsvc and the Node anchor)")
