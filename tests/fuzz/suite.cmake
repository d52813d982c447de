# tests/fuzz/suite.cmake: fuzz targets over the real layer libraries (see docs/security.md,
# "Fuzzing").
#
# Each tests/fuzz/fuzz_<target>.c defines LLVMFuzzerTestOneInput and becomes the executable
# fuzz_<target>:
#   - normal builds (gcc or clang, with or without IMGSVC_SANITIZE): linked with replay_main.c,
#     a standalone main that runs every file of a folder through the target. ctest case
#     fuzz.replay.<target> replays tests/fuzz/corpus/<target>/ on every run.
#   - IMGSVC_FUZZ=ON (clang only; tests/fuzz/run.sh configures build-fuzz/ so): the layer
#     libraries get coverage instrumentation (-fsanitize=fuzzer-no-link) on top of
#     IMGSVC_SANITIZE's ASan + UBSan, and each target links libFuzzer (-fsanitize=fuzzer). The
#     same ctest case then runs the libFuzzer binary over the corpus once (-runs=0: every file,
#     no mutation).
option(IMGSVC_FUZZ "Build the fuzz targets with libFuzzer (clang + IMGSVC_SANITIZE)" OFF)

set(_fuzz_dir ${CMAKE_CURRENT_LIST_DIR})
file(GLOB _fuzz_srcs CONFIGURE_DEPENDS ${_fuzz_dir}/fuzz_*.c)

if(IMGSVC_FUZZ)
    if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
        message(FATAL_ERROR "IMGSVC_FUZZ=ON needs clang (CC=clang); see tests/fuzz/run.sh")
    endif()
    if(NOT IMGSVC_SANITIZE)
        message(FATAL_ERROR "IMGSVC_FUZZ=ON needs IMGSVC_SANITIZE=ON (ASan + UBSan)")
    endif()
    foreach(_lib common s3 imaging handlers)
        get_target_property(_type ${_lib} TYPE)
        if(_type STREQUAL "STATIC_LIBRARY")
            target_compile_options(${_lib} PRIVATE -fsanitize=fuzzer-no-link)
        endif()
    endforeach()
endif()

foreach(_src IN LISTS _fuzz_srcs)
    get_filename_component(_name ${_src} NAME_WE)
    string(REGEX REPLACE "^fuzz_" "" _target ${_name})
    if(IMGSVC_FUZZ)
        add_executable(${_name} ${_src})
        target_compile_options(${_name} PRIVATE -fsanitize=fuzzer)
        target_link_options(${_name} PRIVATE -fsanitize=fuzzer)
    else()
        add_executable(${_name} ${_src} ${_fuzz_dir}/replay_main.c)
    endif()
    target_include_directories(${_name} PRIVATE ${_fuzz_dir})
    target_link_libraries(${_name} PRIVATE handlers s3 imaging common)
    set(_replay_args "")
    if(IMGSVC_FUZZ)
        set(_replay_args -runs=0)
    endif()
    add_test(NAME fuzz.replay.${_target}
             COMMAND ${_name} ${_replay_args} ${_fuzz_dir}/corpus/${_target})
    set_tests_properties(fuzz.replay.${_target} PROPERTIES
        ENVIRONMENT "${IMGSVC_TEST_ENV}" TIMEOUT 300 LABELS fuzz)
endforeach()
