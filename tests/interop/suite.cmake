# tests/interop/suite.cmake: presigned URLs from s3/sigv4 against the AWS SDKs.
#
# presign_tool (tests/interop/presign_tool.c) prints our URLs; interop.py makes the same with
# botocore (Debian python3-botocore) or the AWS SDK for JavaScript v3 (tests/package.json,
# through presign_js.mjs) and requires byte-identical output. One ctest case per peer and
# method: interop.botocore.PUT, interop.botocore.GET, interop.jssdk.PUT, interop.jssdk.GET.
# A missing peer skips (77) with the reason.
add_executable(presign_tool ${CMAKE_CURRENT_LIST_DIR}/presign_tool.c)
target_link_libraries(presign_tool PRIVATE s3)

foreach(_peer botocore jssdk)
    foreach(_method PUT GET)
        add_test(NAME interop.${_peer}.${_method}
                 COMMAND ${IMGSVC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/interop.py ${_peer} ${_method})
        set_tests_properties(interop.${_peer}.${_method} PROPERTIES
            ENVIRONMENT "${IMGSVC_TEST_ENV};PRESIGN_TOOL=$<TARGET_FILE:presign_tool>"
            SKIP_RETURN_CODE 77 TIMEOUT 300 LABELS interop)
    endforeach()
endforeach()
