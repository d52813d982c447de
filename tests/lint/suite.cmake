# Lint suite: source checks as ctest cases lint.<check> (see lint.py for what each checks).
# They read the source tree only (IMGSVC_SOURCE_DIR), so they run in any build directory.
# A check whose tool is missing skips (77), or fails under IMGSVC_TEST_STRICT=1 (scripts/test.sh).
foreach(_check clang_format layering banned_functions openapi readme_ci)
    add_test(NAME lint.${_check}
             COMMAND ${IMGSVC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/lint.py ${_check})
    set_tests_properties(lint.${_check} PROPERTIES
        ENVIRONMENT "${IMGSVC_TEST_ENV}" SKIP_RETURN_CODE 77 TIMEOUT 300 LABELS lint)
endforeach()
