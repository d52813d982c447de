# tests/browser/suite.cmake: the browser demo at / (handlers/demo.c, handlers/demo/).
#
# - browser.demo_assets: handlers/demo_assets.c is what scripts/gen-demo-assets.py makes from
#   handlers/demo/ (edit the page there, then run the script).
# - browser.demo_upload, browser.demo_auth: demo_test.mjs starts imgsvc on free ports, drives
#   Debian's Chromium (/usr/bin/chromium, headless) with playwright-core (tests/package.json),
#   uploads a corpus photo through the page and checks every variant <img> against the
#   manifest's sizes and the placeholder canvas against the BlurHash; the screenshot goes to
#   tests/artifacts/ (or $IMGSVC_ARTIFACTS_DIR). They need the imaging_corpus fixture; without
#   the corpus, Chromium or the npm packages they skip (77), or fail under IMGSVC_TEST_STRICT=1.
# - browser.demo_off: IMGSVC_DEMO=off serves no demo route.
add_test(NAME browser.demo_assets
         COMMAND ${IMGSVC_PYTHON} ${CMAKE_SOURCE_DIR}/scripts/gen-demo-assets.py --check)
set_tests_properties(browser.demo_assets PROPERTIES TIMEOUT 60 LABELS browser)

foreach(_case upload auth off)
    add_test(NAME browser.demo_${_case}
             COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/run_node.sh
                     ${CMAKE_CURRENT_LIST_DIR}/demo_test.mjs ${_case})
    set_tests_properties(browser.demo_${_case} PROPERTIES
        ENVIRONMENT "${IMGSVC_TEST_ENV}" SKIP_RETURN_CODE 77 TIMEOUT 300 LABELS browser)
endforeach()
set_tests_properties(browser.demo_upload browser.demo_auth PROPERTIES
    FIXTURES_REQUIRED imaging_corpus RESOURCE_LOCK chromium)
