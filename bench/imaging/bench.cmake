# bench/imaging/bench.cmake: the in-process imaging benchmark (bench_imaging.c), run by
# bench/imaging/run.sh (which also compiles it directly when this file is not wired in).
add_executable(bench_imaging ${CMAKE_CURRENT_LIST_DIR}/bench_imaging.c)
target_link_libraries(bench_imaging PRIVATE imaging Threads::Threads)
