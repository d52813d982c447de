# tests/postman/suite.cmake: the Postman collection (postman/) run by newman (tests/package.json)
# against a live imgsvc on free ports: postman.newman.<case> for plain (the embedded default),
# auth (an API key as {{token}}) and no_recovery (form-data refused). Each fails on any failed
# assertion; the newman JSON report goes to tests/artifacts/. Needs the imaging_corpus fixture;
# skips (77) without the corpus or newman, or fails under IMGSVC_TEST_STRICT=1.
foreach(_case plain auth no_recovery)
    add_test(NAME postman.newman.${_case}
             COMMAND bash ${CMAKE_SOURCE_DIR}/tests/browser/run_node.sh
                     ${CMAKE_CURRENT_LIST_DIR}/newman_test.mjs ${_case})
    set_tests_properties(postman.newman.${_case} PROPERTIES
        ENVIRONMENT "${IMGSVC_TEST_ENV}" FIXTURES_REQUIRED imaging_corpus
        SKIP_RETURN_CODE 77 TIMEOUT 300 LABELS postman)
endforeach()
