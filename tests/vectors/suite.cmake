# tests/vectors/suite.cmake: the AWS SigV4 test suite (../shared/vectors/aws-signing-test-suite/v4).
#
# Every case folder found at configure time becomes two ctest cases, vectors.header.<case> and
# vectors.query.<case>, each running tests/vectors/sigv4_vector.c on that folder. Without the
# shared folder a single case, vectors.sigv4, reports skipped (77) with a clear message.
add_executable(sigv4_vector ${CMAKE_CURRENT_LIST_DIR}/sigv4_vector.c)
target_link_libraries(sigv4_vector PRIVATE s3)

set(_v4_dir ${IMGSVC_SHARED_DIR}/vectors/aws-signing-test-suite/v4)
file(GLOB _v4_cases LIST_DIRECTORIES true CONFIGURE_DEPENDS ${_v4_dir}/*)
set(_v4_count 0)
foreach(_case_dir IN LISTS _v4_cases)
    if(IS_DIRECTORY ${_case_dir} AND EXISTS ${_case_dir}/context.json)
        get_filename_component(_case ${_case_dir} NAME)
        foreach(_loc header query)
            add_test(NAME vectors.${_loc}.${_case}
                     COMMAND sigv4_vector ${_case_dir} ${_loc})
            set_tests_properties(vectors.${_loc}.${_case} PROPERTIES
                ENVIRONMENT "${IMGSVC_TEST_ENV}" SKIP_RETURN_CODE 77 TIMEOUT 60 LABELS vectors)
        endforeach()
        math(EXPR _v4_count "${_v4_count} + 1")
    endif()
endforeach()
if(_v4_count EQUAL 0)
    # The runner prints "SKIP: <dir>/request.txt not found" and exits 77.
    add_test(NAME vectors.sigv4 COMMAND sigv4_vector ${_v4_dir}/absent header)
    set_tests_properties(vectors.sigv4 PROPERTIES SKIP_RETURN_CODE 77 LABELS vectors)
endif()
