# tests/imaging/suite.cmake: imaging/ over the image corpus.
#
# - img_tool (tests/imaging/img_tool.c) drives the imaging library from the command line.
# - imaging.corpus_setup builds the corpus into ${IMGSVC_CORPUS_DIR} once (FIXTURES_SETUP),
#   with ../shared/corpus/make-corpus.sh; skipped (77) when ../shared is absent.
# - tests/imaging/test_*.py: each `def test_*` method is its own ctest case
#   (imaging.<file>.<method>), run with tests/integration/run.py; they skip (77) without the
#   corpus.
add_executable(img_tool ${CMAKE_CURRENT_LIST_DIR}/img_tool.c)
target_link_libraries(img_tool PRIVATE imaging)

add_test(NAME imaging.corpus_setup
         COMMAND ${CMAKE_COMMAND} -E env ${IMGSVC_TEST_ENV}
                 bash ${CMAKE_CURRENT_LIST_DIR}/corpus_setup.sh)
set_tests_properties(imaging.corpus_setup PROPERTIES
    FIXTURES_SETUP imaging_corpus SKIP_RETURN_CODE 77 TIMEOUT 900 LABELS imaging)

file(GLOB _img_py_tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/test_*.py)
foreach(_src IN LISTS _img_py_tests)
    get_filename_component(_name ${_src} NAME_WE)
    imgsvc_scan_cases(${_src} "^    def (test_[A-Za-z0-9_]+)\\(" _cases)
    foreach(_c IN LISTS _cases)
        add_test(NAME imaging.${_name}.${_c}
                 COMMAND ${IMGSVC_PYTHON} ${CMAKE_SOURCE_DIR}/tests/integration/run.py
                         ${_src} ${_c})
        set_tests_properties(imaging.${_name}.${_c} PROPERTIES
            ENVIRONMENT "${IMGSVC_TEST_ENV};IMG_TOOL=$<TARGET_FILE:img_tool>"
            FIXTURES_REQUIRED imaging_corpus SKIP_RETURN_CODE 77 TIMEOUT 600
            LABELS imaging)
    endforeach()
endforeach()

